"""Synthetic DIAMANT extracts: the 11 sources with their real labels and quirks, on the sites of a synthetic FINESS
referential, plain or encrypted to a platform key as DIAMANT sends them."""

from relais_synthetic.diamant.encrypt import ExtractEncryptor, encrypt_extracts, encrypted_name
from relais_synthetic.diamant.extracts import (
    Establishments,
    GeneratedFile,
    Progress,
    Quirks,
    establishments_from,
    file_name,
    mencumu_generation_for,
    referential_for,
    write_diamant_extracts,
    write_diamant_files,
)
from relais_synthetic.diamant.source_rows import stable_unit

__all__ = [
    "Establishments",
    "ExtractEncryptor",
    "GeneratedFile",
    "Progress",
    "Quirks",
    "encrypt_extracts",
    "encrypted_name",
    "establishments_from",
    "file_name",
    "mencumu_generation_for",
    "referential_for",
    "stable_unit",
    "write_diamant_extracts",
    "write_diamant_files",
]
