"""The dev dataset: build it from the full data, check it still represents it."""
