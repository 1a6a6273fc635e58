"""Changing concentrator (spec §5): per establishment, its consecutive days of correct operation here."""
