"""A synthetic FINESS referential (valid numbers, real catégories, closed and caduc structures) and its files in
the published formats (the ministry's XML flux, the open-data CSV)."""

from relais_synthetic.finess.files import (
    write_entites_juridiques_csv,
    write_entites_juridiques_xml_gz,
    write_etablissements_csv,
    write_etablissements_xml_gz,
    write_referential_files,
)
from relais_synthetic.finess.number import random_finess
from relais_synthetic.finess.referential import SyntheticReferential, generate_referential

__all__ = [
    "SyntheticReferential",
    "generate_referential",
    "random_finess",
    "write_entites_juridiques_csv",
    "write_entites_juridiques_xml_gz",
    "write_etablissements_csv",
    "write_etablissements_xml_gz",
    "write_referential_files",
]
