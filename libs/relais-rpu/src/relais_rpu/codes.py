"""RPU code lists (RPU 2006 specification, FEDORU guide), as tables: code → French label.

The coherence tables say which codes may follow which: they are the FEDORU cross-field rules, kept as data so that
a change of doctrine is a one-line edit.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

SEXE: Mapping[str, str] = MappingProxyType({"M": "masculin", "F": "féminin", "I": "indéterminé"})

MODE_ENTREE: Mapping[str, str] = MappingProxyType({"6": "mutation", "7": "transfert", "8": "domicile"})

PROVENANCE: Mapping[str, str] = MappingProxyType(
    {
        "1": "MCO",
        "2": "SSR",
        "3": "SLD",
        "4": "psychiatrie",
        "5": "urgences, depuis le domicile",
        "6": "hospitalisation à domicile",
        "7": "structure d'hébergement médico-sociale",
        "8": "domicile, hors urgences",
    }
)

TRANSPORT: Mapping[str, str] = MappingProxyType(
    {
        "PERSO": "moyens personnels",
        "AMBU": "ambulance privée",
        "VSAB": "véhicule de secours (pompiers)",
        "SMUR": "SMUR",
        "HELI": "hélicoptère",
        "FO": "forces de l'ordre",
    }
)

TRANSPORT_PEC: Mapping[str, str] = MappingProxyType(
    {"MED": "médicalisée", "PARAMED": "paramédicalisée", "AUCUN": "sans prise en charge"}
)

GRAVITE: Mapping[str, str] = MappingProxyType(
    {
        "1": "CCMU 1 : état stable, pas d'acte complémentaire",
        "P": "CCMU P : problème psychologique ou psychiatrique dominant",
        "2": "CCMU 2 : état stable, actes complémentaires",
        "3": "CCMU 3 : état susceptible de s'aggraver",
        "4": "CCMU 4 : pronostic vital engagé, sans réanimation",
        "5": "CCMU 5 : pronostic vital engagé, avec réanimation",
        "D": "CCMU D : décédé à l'arrivée",
    }
)

MODE_SORTIE: Mapping[str, str] = MappingProxyType(
    {"6": "mutation", "7": "transfert", "8": "domicile", "9": "décès"}
)

DESTINATION: Mapping[str, str] = MappingProxyType(
    {
        "1": "MCO",
        "2": "SSR",
        "3": "SLD",
        "4": "psychiatrie",
        "6": "hospitalisation à domicile",
        "7": "structure d'hébergement médico-sociale",
    }
)

ORIENT: Mapping[str, str] = MappingProxyType(
    {
        "HDT": "hospitalisation à la demande d'un tiers",
        "HO": "hospitalisation d'office",
        "SC": "surveillance continue",
        "SI": "soins intensifs",
        "REA": "réanimation",
        "UHCD": "unité d'hospitalisation de courte durée",
        "MED": "médecine",
        "CHIR": "chirurgie",
        "OBST": "obstétrique",
        "FUGUE": "fugue",
        "SCAM": "sortie contre avis médical",
        "PSA": "parti sans attendre",
        "REO": "réorientation",
    }
)

HOSPITALISED = frozenset({"6", "7"})
"""MODE_SORTIE values meaning the patient stays in hospital (mutation, transfert)."""

ORIENT_WITHOUT_DIAGNOSIS = frozenset({"FUGUE", "PSA", "SCAM", "REO"})
"""Patients who left before being seen: DP completeness does not count them."""

# Which PROVENANCE may follow a MODE_ENTREE. The spec lists HAD (6) and médico-social (7) next to the home codes, as
# it does for DESTINATION after MODE_SORTIE 8, so both count as "from home" here.
PROVENANCE_BY_MODE_ENTREE: Mapping[str, frozenset[str]] = MappingProxyType(
    {"6": frozenset("1234"), "7": frozenset("1234"), "8": frozenset("5678")}
)

# Which DESTINATION / ORIENT may follow a MODE_SORTIE; an empty set means the item must stay empty (décès).
DESTINATION_BY_MODE_SORTIE: Mapping[str, frozenset[str]] = MappingProxyType(
    {"6": frozenset("1234"), "7": frozenset("1234"), "8": frozenset("67"), "9": frozenset()}
)
_ORIENT_HOSPITAL = frozenset({"HDT", "HO", "SC", "SI", "REA", "UHCD", "MED", "CHIR", "OBST"})
ORIENT_BY_MODE_SORTIE: Mapping[str, frozenset[str]] = MappingProxyType(
    {"6": _ORIENT_HOSPITAL, "7": _ORIENT_HOSPITAL, "8": ORIENT_WITHOUT_DIAGNOSIS, "9": frozenset()}
)
