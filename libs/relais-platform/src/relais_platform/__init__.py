"""Runtime platform shared by every Relais service."""
