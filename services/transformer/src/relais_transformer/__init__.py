"""Transformer: parses and normalises DIAMANT files into the indicator schema."""
