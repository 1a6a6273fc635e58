"""FINESS numbers (Fichier National des Établissements Sanitaires et Sociaux)."""

from relais_finess.number import (
    FinessCheck,
    InvalidFiness,
    check,
    compute_key,
    from_snds,
    is_valid,
    random_finess,
    to_snds,
)

__all__ = [
    "FinessCheck",
    "InvalidFiness",
    "check",
    "compute_key",
    "from_snds",
    "is_valid",
    "random_finess",
    "to_snds",
]
