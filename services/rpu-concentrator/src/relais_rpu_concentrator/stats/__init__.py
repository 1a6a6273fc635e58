"""Transmission statistics: what each establishment sent in a month, and how many RPU each day holds."""
