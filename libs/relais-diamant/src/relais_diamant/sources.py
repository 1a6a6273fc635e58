"""The 11 DIAMANT sources and their exact file names: `<PREFIX>_YYYY_MM_DD.CSV.gpg` (case-sensitive).

`ANN_ERRD_EJ` is a prefix of `ANN_ERRD_EJ_ET`: a name is matched whole, never by prefix.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum


class DiamantSource(StrEnum):
    ANN_CA_EJ_ET = "ANN_CA_EJ_ET"
    ANN_ERRD_EJ = "ANN_ERRD_EJ"
    ANN_ERRD_EJ_ET = "ANN_ERRD_EJ_ET"
    ANN_MS_TDP_ET = "ANN_MS_TDP_ET"
    ANN_PER_ERRD_EPRD = "ANN_PER_ERRD_EPRD"
    ANN_RPU = "ANN_RPU"
    ANN_SAE = "ANN_SAE"
    MEN_PMSI_ANNUEL = "MEN_PMSI_ANNUEL"
    MEN_PMSI_MENCUMU = "MEN_PMSI_MENCUMU"
    QUO_SAN_FINANCE = "QUO_SAN_FINANCE"
    MEN_HAPI = "MEN_HAPI"


_NAME = re.compile(
    r"^(?P<prefix>" + "|".join(sorted((s.value for s in DiamantSource), key=len, reverse=True)) + r")"
    r"_(?P<y>\d{4})_(?P<m>\d{2})_(?P<d>\d{2})\.CSV(?P<gpg>\.gpg)?$"
)


def match_file_name(name: str) -> tuple[DiamantSource, date] | None:
    """(source, extraction date) for an exact DIAMANT file name, encrypted (`.CSV.gpg`) or decrypted (`.CSV`)."""
    found = _NAME.match(name)
    if found is None:
        return None
    try:
        extracted = date(int(found["y"]), int(found["m"]), int(found["d"]))
    except ValueError:
        return None
    return DiamantSource(found["prefix"]), extracted
