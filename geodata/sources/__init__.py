"""One small module per dataset: where it comes from, its field mapping, licence and attribution."""
