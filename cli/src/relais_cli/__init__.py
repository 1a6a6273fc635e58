"""The `relais` operator command line."""
