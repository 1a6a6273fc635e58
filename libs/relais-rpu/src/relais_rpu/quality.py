"""FEDORU quality checks on one passage: code lists, single-field rules, cross-field coherence.

Each check has a stable code (stored, counted, shown to establishments) and a French message. An absent item is
not a quality failure here — absence is measured by `completeness` — except where coherence requires emptiness.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from operator import attrgetter
from types import MappingProxyType

from relais_rpu.cim10 import is_cim10_shape
from relais_rpu.codes import (
    DESTINATION,
    DESTINATION_BY_MODE_SORTIE,
    GRAVITE,
    MODE_ENTREE,
    MODE_SORTIE,
    ORIENT,
    ORIENT_BY_MODE_SORTIE,
    PROVENANCE,
    PROVENANCE_BY_MODE_ENTREE,
    SEXE,
    TRANSPORT,
    TRANSPORT_PEC,
)
from relais_rpu.model import Passage

MAX_AGE_YEARS = 120
MAX_STAY = timedelta(hours=72)

CHECKS: Mapping[str, str] = MappingProxyType(
    {
        "SEXE_CODE": "SEXE hors nomenclature (M, F, I)",
        "MODE_ENTREE_CODE": "MODE_ENTREE hors nomenclature (6, 7, 8)",
        "PROVENANCE_CODE": "PROVENANCE hors nomenclature (1 à 8)",
        "TRANSPORT_CODE": "TRANSPORT hors nomenclature (PERSO, AMBU, VSAB, SMUR, HELI, FO)",
        "TRANSPORT_PEC_CODE": "TRANSPORT_PEC hors nomenclature (MED, PARAMED, AUCUN)",
        "GRAVITE_CODE": "GRAVITE hors nomenclature CCMU (1, P, 2, 3, 4, 5, D)",
        "MODE_SORTIE_CODE": "MODE_SORTIE hors nomenclature (6, 7, 8, 9)",
        "DESTINATION_CODE": "DESTINATION hors nomenclature (1, 2, 3, 4, 6, 7)",
        "ORIENT_CODE": "ORIENT hors nomenclature",
        "NAISSANCE_FORMAT": "NAISSANCE illisible (format attendu jj/mm/aaaa)",
        "AGE_RANGE": "âge à l'entrée hors de l'intervalle 0 à 120 ans",
        "CP_FORMAT": "CP mal formé (5 caractères : code postal, département+999, 99+pays ou 99999)",
        "DP_CIM10": "DP n'a pas la forme d'un code CIM-10",
        "DA_CIM10": "un DA n'a pas la forme d'un code CIM-10",
        "ACTE_FORMAT": "un ACTE n'a pas la forme d'un code CCAM (7 caractères au moins)",
        "MOTIF_FORMAT": "MOTIF non conforme au thésaurus SFMU (doit commencer par une lettre et deux chiffres)",
        "MODE_ENTREE_PROVENANCE": "PROVENANCE incohérente avec MODE_ENTREE",
        "MODE_SORTIE_DESTINATION": "DESTINATION incohérente avec MODE_SORTIE",
        "MODE_SORTIE_ORIENT": "ORIENT incohérente avec MODE_SORTIE",
        "SORTIE_FORMAT": "SORTIE illisible (format attendu jj/mm/aaaa hh:mm)",
        "SORTIE_BEFORE_ENTREE": "SORTIE antérieure à ENTREE",
        "STAY_NOT_POSITIVE": "durée de passage nulle (SORTIE égale à ENTREE)",
        "STAY_OVER_72H": "durée de passage supérieure à 72 heures",
    }
)

_CODE_LISTS: tuple[tuple[str, Callable[[Passage], str | None], Mapping[str, str]], ...] = (
    ("SEXE_CODE", attrgetter("sexe"), SEXE),
    ("MODE_ENTREE_CODE", attrgetter("mode_entree"), MODE_ENTREE),
    ("PROVENANCE_CODE", attrgetter("provenance"), PROVENANCE),
    ("TRANSPORT_CODE", attrgetter("transport"), TRANSPORT),
    ("TRANSPORT_PEC_CODE", attrgetter("transport_pec"), TRANSPORT_PEC),
    ("GRAVITE_CODE", attrgetter("gravite"), GRAVITE),
    ("MODE_SORTIE_CODE", attrgetter("mode_sortie"), MODE_SORTIE),
    ("DESTINATION_CODE", attrgetter("destination"), DESTINATION),
    ("ORIENT_CODE", attrgetter("orient"), ORIENT),
)

# Real postcode (départements 01–95, overseas 97x/98x), dept+999, 99+INSEE country code, 99999; Corsica's
# "unknown town" form keeps the letter (2A999).
_CP = re.compile(r"(?:0[1-9]|[1-8][0-9]|9[0-9])[0-9]{3}|2[AB]999")
_MOTIF = re.compile(r"[A-Z][0-9][0-9]")
_CCAM_MIN_LENGTH = 7


def age_at_entry(passage: Passage) -> int | None:
    """Completed years at ENTREE; None without a readable NAISSANCE."""
    born = passage.naissance
    if born is None:
        return None
    entered = passage.entree
    return entered.year - born.year - ((entered.month, entered.day) < (born.month, born.day))


def check_passage(passage: Passage) -> list[str]:
    """The codes (keys of `CHECKS`) of every check this passage fails, in `CHECKS` order; empty when clean.

    Runs once per passage received (millions a day): the optional parts are guarded by a plain truth test so that
    a clean passage without lists or unreadable dates costs no generator, set or function call for them."""
    failed = [code for code, value_of, table in _CODE_LISTS if (v := value_of(passage)) and v not in table]
    unparsed = {tag for tag, _ in passage.unparsed} if passage.unparsed else ()
    if "NAISSANCE" in unparsed:
        failed.append("NAISSANCE_FORMAT")
    if passage.naissance is not None:
        age = age_at_entry(passage)
        if age is not None and not 0 <= age <= MAX_AGE_YEARS:
            failed.append("AGE_RANGE")
    if passage.cp and not _CP.fullmatch(passage.cp):
        failed.append("CP_FORMAT")
    if passage.dp and not is_cim10_shape(passage.dp):
        failed.append("DP_CIM10")
    if passage.da and not all(map(is_cim10_shape, passage.da)):
        failed.append("DA_CIM10")
    if passage.actes and any(len(acte) < _CCAM_MIN_LENGTH for acte in passage.actes):
        failed.append("ACTE_FORMAT")
    if passage.motif and not _MOTIF.match(passage.motif):
        failed.append("MOTIF_FORMAT")
    failed.extend(_coherence(passage))
    if "SORTIE" in unparsed:
        failed.append("SORTIE_FORMAT")
    if passage.sortie is not None:
        failed.extend(_stay(passage))
    return failed


def _coherence(passage: Passage) -> list[str]:
    # Only codes that exist are compared: an unknown code is already reported once by its code-list check.
    failed: list[str] = []
    allowed = PROVENANCE_BY_MODE_ENTREE.get(passage.mode_entree or "")
    if allowed is not None and passage.provenance in PROVENANCE and passage.provenance not in allowed:
        failed.append("MODE_ENTREE_PROVENANCE")
    mode = passage.mode_sortie or ""
    destinations = DESTINATION_BY_MODE_SORTIE.get(mode)
    if (
        destinations is not None
        and passage.destination in DESTINATION
        and passage.destination not in destinations
    ):
        failed.append("MODE_SORTIE_DESTINATION")
    orients = ORIENT_BY_MODE_SORTIE.get(mode)
    if orients is not None and passage.orient in ORIENT and passage.orient not in orients:
        failed.append("MODE_SORTIE_ORIENT")
    return failed


def _stay(passage: Passage) -> list[str]:
    if passage.sortie is None:
        return []
    stay = passage.sortie - passage.entree
    if stay < timedelta(0):
        return ["SORTIE_BEFORE_ENTREE"]
    if stay == timedelta(0):
        return ["STAY_NOT_POSITIVE"]
    if stay > MAX_STAY:
        return ["STAY_OVER_72H"]
    return []
