"""FINESS numbers (Fichier National des Établissements Sanitaires et Sociaux) and the EJ/ET referential.

File readers live in their modules (opendata, flux) so that importing the number helpers stays light.
"""

from relais_finess.number import (
    FinessCheck,
    InvalidFiness,
    check,
    compute_key,
    from_snds,
    is_valid,
    to_snds,
)
from relais_finess.referential import (
    EntiteJuridique,
    EtablissementTerritorial,
    Geolocalisation,
    Structure,
    is_active,
)
from relais_finess.territory import Territory, territory_of

__all__ = [
    "EntiteJuridique",
    "EtablissementTerritorial",
    "FinessCheck",
    "Geolocalisation",
    "InvalidFiness",
    "Structure",
    "Territory",
    "check",
    "compute_key",
    "from_snds",
    "is_active",
    "is_valid",
    "territory_of",
    "to_snds",
]
