"""Fetcher: pulls source files (DIAMANT extracts first) and publishes one event per new file."""
