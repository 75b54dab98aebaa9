"""Open municipal layers: where to get them, how to read and normalise them, and loading them."""
