"""Shared test fixtures (registered as a pytest plugin by the root conftest.py)."""
