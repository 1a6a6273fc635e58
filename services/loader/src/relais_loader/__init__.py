"""Loader: writes transformed files atomically into PostgreSQL."""
