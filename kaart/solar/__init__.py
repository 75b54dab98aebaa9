"""Rooftop solar potential for energy co-operatives (pvlib model, roofs, storage)."""
