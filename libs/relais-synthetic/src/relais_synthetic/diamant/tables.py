"""The generator's own picture of the 11 DIAMANT files: column labels (exactly as in the real extracts, see
specs/diamant.md §4) and realistic value ranges.

Deliberately independent of the parser's definitions: if both sides read one table, a typo in a label would go
unnoticed. Ranges are per establishment of median size (counts, money and ETP are scaled by the site's size);
they are plausible orders of magnitude, not statistics.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    KEY = "key"  # filled by the source's row builder (FINESS, Année, Mois, Id Dépôt...)
    COUNT = "count"  # integer, scaled by size
    DAYS = "days"  # a duration in days (DMS), decimal, not scaled
    RATE = "rate"  # 0..1 (occupancy may slightly exceed 1), decimal in the real styles
    MONEY = "money"  # euros, scaled, sign given by the range
    EXPENSE = "expense"  # euros, scaled, written negative as DIAMANT does
    ETP = "etp"  # full-time equivalents, scaled, two decimals
    STATUS = "status"  # `KO` / `OK` / empty
    DATE = "date"  # dd/mm/YYYY
    SUM = "sum"  # the sum of other columns of the row (totals, results)


@dataclass(frozen=True, slots=True)
class Column:
    label: str
    kind: Kind
    low: float = 0.0
    high: float = 0.0
    family: str = ""  # activity the value needs (MCO, PSY, PA...); empty = every site has it
    parts: tuple[str, ...] = ()  # for SUM


def key(label: str) -> Column:
    return Column(label, Kind.KEY)


# Activity families per FINESS catégorie (codes of relais_finess' synthetic referential, real FINESS codes).
HEALTH_FAMILIES: dict[str, frozenset[str]] = {
    "101": frozenset({"MCO", "OBS", "SSR", "PSY", "HAD", "USLD", "URG"}),
    "355": frozenset({"MCO", "OBS", "SSR", "USLD", "URG"}),
    "106": frozenset({"MCO", "SSR", "USLD", "URG"}),
    "292": frozenset({"PSY"}),
    "365": frozenset({"MCO", "HAD"}),
    "128": frozenset({"MCO", "OBS", "URG"}),
    "109": frozenset({"SSR"}),
    "124": frozenset({"MCO"}),
}
# Personnes âgées (EHPAD, résidences autonomie, SSIAD) file ERRDs; personnes handicapées mostly CAs. A few sites
# report activity as a CAMSP/CMPP would (the other taux de réalisation column); the rest get "ESMS".
MEDICO_SOCIAL_FAMILIES: dict[str, frozenset[str]] = {
    "500": frozenset({"PA"}),
    "202": frozenset({"PA"}),
    "354": frozenset({"PA"}),
    "183": frozenset({"PH"}),
    "246": frozenset({"PH"}),
    "255": frozenset({"PH"}),
}

_ROMAN = ("I", "II", "III", "IV")

MEN_PMSI_ANNUEL: tuple[Column, ...] = (
    key("Finess EJ"), key("Finess"), key("Année"),
    Column("Nombre de séjours HTP/AMBU Médecine", Kind.COUNT, 800, 6000, "MCO"),
    Column("Nombre de séjours HTP/AMBU Obstétrique", Kind.COUNT, 50, 900, "OBS"),
    Column("Nombre de séjours HTP/AMBU Chirurgie", Kind.COUNT, 600, 5000, "MCO"),
    Column("Nombre de séjours HC Médecine", Kind.COUNT, 2000, 14000, "MCO"),
    Column("Nombre de séjours HC Chirurgie", Kind.COUNT, 800, 7000, "MCO"),
    Column("Nombre de séjours HC Obstétrique", Kind.COUNT, 300, 3000, "OBS"),
    Column("Nombre total de séjours MCO", Kind.SUM, parts=(
        "Nombre de séjours HTP/AMBU Médecine", "Nombre de séjours HTP/AMBU Obstétrique",
        "Nombre de séjours HTP/AMBU Chirurgie", "Nombre de séjours HC Médecine",
        "Nombre de séjours HC Chirurgie", "Nombre de séjours HC Obstétrique")),
    Column("Nombre total de séjours HAD", Kind.COUNT, 100, 1500, "HAD"),
    Column("Nombre de journées hospit complète SSR", Kind.COUNT, 5000, 40000, "SSR"),
    Column("Nombre de journées HTP SSR", Kind.COUNT, 300, 6000, "SSR"),
    Column("Nb journées hospit complète PSY", Kind.COUNT, 8000, 60000, "PSY"),
    Column("Nb journées HTP PSY", Kind.COUNT, 1000, 12000, "PSY"),
    Column("DMS MCO Médecine", Kind.DAYS, 4.0, 8.5, "MCO"),
    Column("DMS MCO Chirurgie", Kind.DAYS, 2.0, 6.5, "MCO"),
    Column("DMS MCO Obstétrique", Kind.DAYS, 3.0, 5.5, "OBS"),
)  # fmt: skip

ANN_RPU: tuple[Column, ...] = (
    key("Finess EJ"), key("Finess"), key("Année"),
    Column("Nombre de passages aux urgences", Kind.COUNT, 12000, 60000, "URG"),
)  # fmt: skip

ANN_SAE: tuple[Column, ...] = (
    key("Finess EJ"), key("Finess"), key("Année"),
    Column("Nombre journées USLD", Kind.COUNT, 5000, 30000, "USLD"),
    Column("Nombre de places de chirurgie", Kind.COUNT, 4, 30, "MCO"),
    Column("Nombre de places d'obstétrique", Kind.COUNT, 1, 8, "OBS"),
    Column("Nombre de places de médecine", Kind.COUNT, 5, 40, "MCO"),
    Column("Nombre de places de SSR", Kind.COUNT, 5, 30, "SSR"),
    Column("Nombre de lits de chirurgie", Kind.COUNT, 20, 150, "MCO"),
    Column("Nombre de lits d'obstétrique", Kind.COUNT, 10, 60, "OBS"),
    Column("Nombre de lits de médecine", Kind.COUNT, 40, 300, "MCO"),
    Column("Nombre de lits de SSR", Kind.COUNT, 20, 120, "SSR"),
    Column("Nombre de lits USLD", Kind.COUNT, 20, 90, "USLD"),
    Column("Nb de lits et places PSY PeC temps complet", Kind.COUNT, 30, 250, "PSY"),
    Column("Nb de places PSY PeC temps partiel hors ambu", Kind.COUNT, 10, 80, "PSY"),
)  # fmt: skip


def men_pmsi_mencumu(generation: int) -> tuple[Column, ...]:
    """The three layouts seen in the wild: before 2024 the labels said "mensuels cumulés"; 2024 dropped the word
    (leaving two spaces in the HTP/AMBU Chirurgie label); 2025 added the PSY and DMS columns."""
    if generation not in (2023, 2024, 2025):
        raise ValueError(f"MEN_PMSI_MENCUMU generation 2023, 2024 or 2025 expected, not {generation}")
    old = generation < 2024
    sejours = "Nombre de séjours mensuels cumulés" if old else "Nombre de séjours mensuels"
    journees = "Nombre de journées mensuelles cumulées" if old else "Nombre de journées mensuelles"
    chirurgie_htp = (
        f"{sejours} HTP/AMBU Chirurgie" if old else "Nombre de séjours mensuels  HTP/AMBU Chirurgie"
    )
    columns = [
        key("Finess EJ"), key("Finess"), key("Année"), key("Mois"),
        Column(f"{sejours} Médecine", Kind.COUNT, 170, 1200, "MCO"),
        Column(f"{sejours} Chirurgie", Kind.COUNT, 70, 600, "MCO"),
        Column(f"{sejours} Obstétrique", Kind.COUNT, 25, 250, "OBS"),
        Column(f"{sejours} HTP/AMBU Médecine", Kind.COUNT, 70, 500, "MCO"),
        Column(f"{sejours} HTP/AMBU Obstétrique", Kind.COUNT, 4, 75, "OBS"),
        Column(chirurgie_htp, Kind.COUNT, 50, 420, "MCO"),
        Column(f"{journees} hospit complète SSR", Kind.COUNT, 400, 3300, "SSR"),
        Column(f"{journees} HTP SSR", Kind.COUNT, 25, 500, "SSR"),
    ]  # fmt: skip
    if generation >= 2025:
        columns += [
            Column(
                "Nombre total de journées cumulés mensuels hospit complète PSY", Kind.COUNT, 650, 5000, "PSY"
            ),
            Column("Nombre total de journées cumulés mensuels HTP PSY", Kind.COUNT, 80, 1000, "PSY"),
            Column("DMS mensuel MCO Médecine", Kind.DAYS, 3.5, 9.5, "MCO"),
            Column("DMS mensuel MCO Chirurgie", Kind.DAYS, 2.0, 7.0, "MCO"),
            Column("DMS mensuel MCO Obstétrique", Kind.DAYS, 2.5, 6.0, "OBS"),
        ]
    return tuple(columns)


_GLOBAL_DEPENSES = tuple(f"Dépenses Titre {n} Budget global" for n in _ROMAN)
_GLOBAL_RECETTES = tuple(f"Recettes Titre {n} Budget global" for n in _ROMAN)
QUO_SAN_FINANCE: tuple[Column, ...] = (
    key("Finess EJ"), key("Finess ET"), key("Année"),
    Column(_GLOBAL_DEPENSES[0], Kind.EXPENSE, 25e6, 60e6),
    Column(_GLOBAL_DEPENSES[1], Kind.EXPENSE, 5e6, 15e6),
    Column(_GLOBAL_DEPENSES[2], Kind.EXPENSE, 6e6, 14e6),
    Column(_GLOBAL_DEPENSES[3], Kind.EXPENSE, 1e6, 5e6),
    Column(_GLOBAL_RECETTES[0], Kind.MONEY, 40e6, 80e6),
    Column(_GLOBAL_RECETTES[1], Kind.MONEY, 2e6, 8e6),
    Column(_GLOBAL_RECETTES[2], Kind.MONEY, 3e6, 9e6),
    Column(_GLOBAL_RECETTES[3], Kind.MONEY, 0, 1e6),
    *(Column(f"Dépenses Titre {n} Budget H", Kind.EXPENSE, lo, hi)
      for n, lo, hi in zip(_ROMAN, (20e6, 4e6, 5e6, 1e6), (50e6, 12e6, 12e6, 4e6), strict=True)),
    *(Column(f"Recettes Titre {n} Budget H", Kind.MONEY, lo, hi)
      for n, lo, hi in zip(_ROMAN[:3], (35e6, 1e6, 2e6), (70e6, 6e6, 7e6), strict=True)),
    Column("SAN Résultat net comptable", Kind.SUM, parts=_GLOBAL_DEPENSES + _GLOBAL_RECETTES),
    Column("SAN Taux de CAF nette", Kind.RATE, -0.02, 0.08),
    Column("Ratio de dépendance financière", Kind.RATE, 0.1, 0.6),
    Column("FRNG", Kind.MONEY, -2e6, 12e6),
    Column("BFR", Kind.MONEY, -5e6, 6e6),
    Column("Trésorerie", Kind.MONEY, -1e6, 15e6),
    Column("Nombre d'ETP PM", Kind.ETP, 20, 200),
    Column("Nombre d'ETP PNM", Kind.ETP, 300, 2000),
    Column("Dépenses d'intérim PM", Kind.MONEY, 0, 2e6),
    Column("Jours d'absentéisme PM", Kind.COUNT, 200, 3000),
    Column("Jours d'absentéisme PNM", Kind.COUNT, 5000, 40000),
)  # fmt: skip

_ABSENTEISME = tuple(
    f"Taux d'absentéisme pour {reason}"
    for reason in (
        "maladie ordinaire/courte durée", "maladie moyenne durée", "maladie longue durée", "maternité/paternité",
        "accident du travail / maladie professionnelle", "congés spéciaux dont sans solde",
    )
)  # fmt: skip
ANN_MS_TDP_ET: tuple[Column, ...] = (
    key("Finess EJ"), key("Finess"), key("Année"),
    Column("Nombre moyen de journées d'absence des personnes accompagnées sur la période", Kind.DAYS, 1, 25),
    Column("Durée moyenne de séjour/d'accompagnement", Kind.DAYS, 200, 1500),
    Column("File active des personnes accompagnées sur la période", Kind.COUNT, 40, 150),
    Column("Taux de réalisation de l’activité Tout ESMS (Hors services CAMSP et CMPP)", Kind.RATE, 0.75, 1.05, "ESMS"),
    Column("Taux de réalisation de l’activité CAMSP et CMPP", Kind.RATE, 0.7, 1.1, "CAMSP"),
    Column("Nombre de CDD de remplacement", Kind.COUNT, 2, 40),
    Column("Taux d'ETP vacants au 31/12", Kind.RATE, 0, 0.15),
    Column("Taux de prestations externes sur les prestations directes", Kind.RATE, 0, 0.25),
    Column("Taux de rotation du personnel sur effectifs réels", Kind.RATE, 0.05, 0.4),
    *(Column(label, Kind.RATE, 0.001, 0.06) for label in _ABSENTEISME),
    Column("Taux d'absentéisme (hors formation)", Kind.SUM, parts=_ABSENTEISME),
    Column("Date d'entrée en vigueur du CPOM", Kind.DATE, 2017, 0),  # high 0: up to the row's year
)  # fmt: skip

_ERRD_DEPENSES = tuple(f"Dépenses Groupe {n} ERRD" for n in _ROMAN[:3])
_ERRD_RECETTES = tuple(f"Recettes Groupe {n} ERRD" for n in _ROMAN[:3])
ANN_ERRD_EJ_ET: tuple[Column, ...] = (
    key("Finess EJ"), key("Finess"), key("Année"), key("Id Dépôt"), key("Type dépot ERRD"),
    Column("Taux d'occupation des lits autorisés en accueil de jour", Kind.RATE, 0.4, 1.0, "PA"),
    Column("Taux d'occupation des lits autorisés en hébergement temporaire", Kind.RATE, 0.5, 1.0, "PA"),
    Column("Taux d'occupation des places autorisées en hébergement permanent", Kind.RATE, 0.85, 1.02, "PA"),
    Column("Taux d'occupation Externat Autres ESMS", Kind.RATE, 0.6, 1.05, "PH"),
    Column("Taux d'occupation Semi-internat Autres ESMS", Kind.RATE, 0.6, 1.05, "PH"),
    Column("Taux d'occupation Internat Autres ESMS", Kind.RATE, 0.7, 1.02, "PH"),
    Column("Taux d'occupation Autre 1, 2 et 3 Autres ESMS", Kind.RATE, 0.5, 1.0, "PH"),
    Column("Taux d'occupation global ERRD", Kind.RATE, 0.8, 1.02, "PA"),
    Column("Etat taux d'occupation global ERRD", Kind.STATUS, family="PA"),
    Column("Taux d'occupation global Autres ESMS", Kind.RATE, 0.7, 1.02, "PH"),
    Column("Etat taux d'occupation global Autres ESMS", Kind.STATUS, family="PH"),
    Column("655 Quotes-parts de résultat sur opérations faites en commun", Kind.MONEY, -50e3, 150e3),
    Column(_ERRD_DEPENSES[0], Kind.EXPENSE, 200e3, 700e3),
    Column(_ERRD_DEPENSES[1], Kind.EXPENSE, 1.5e6, 4e6),
    Column(_ERRD_DEPENSES[2], Kind.EXPENSE, 300e3, 900e3),
    Column(_ERRD_RECETTES[0], Kind.MONEY, 1.8e6, 4.8e6),
    Column(_ERRD_RECETTES[1], Kind.MONEY, 100e3, 600e3),
    Column(_ERRD_RECETTES[2], Kind.MONEY, 20e3, 200e3),
    Column("MS Résultat net comptable ERRD", Kind.SUM, parts=_ERRD_DEPENSES + _ERRD_RECETTES),
    Column("Nombre ETP total réalisé ERRD", Kind.ETP, 25, 90),
)  # fmt: skip

_CA_DEPENSES = tuple(f"Dépenses Groupe {n} CA" for n in _ROMAN[:3])
_CA_RECETTES = tuple(f"Recettes Groupe {n} CA" for n in _ROMAN[:3])
ANN_CA_EJ_ET: tuple[Column, ...] = (
    key("Finess EJ"), key("Finess"), key("Année"),
    Column("Taux d'occupation Séances CA", Kind.RATE, 0.5, 1.0, "PH"),
    Column("Taux d'occupation Externat CA", Kind.RATE, 0.6, 1.05, "PH"),
    Column("Taux d'occupation Semi-internat CA", Kind.RATE, 0.6, 1.05, "PH"),
    Column("Taux d'occupation Internat CA", Kind.RATE, 0.7, 1.02, "PH"),
    Column("Taux d'occupation Autre 1, 2 et 3 CA", Kind.RATE, 0.5, 1.0, "PH"),
    Column("Taux d'occupation global CA", Kind.RATE, 0.7, 1.02),
    Column("Etat taux d'occupation global CA", Kind.STATUS),
    Column("MS Résultat net comptable CA PH", Kind.SUM, family="PH", parts=_CA_DEPENSES + _CA_RECETTES),
    Column("MS Résultat net comptable CA PA", Kind.SUM, family="PA", parts=("Charges CA PA", "Produits CA PA")),
    Column("Taux de CAF CA PH", Kind.RATE, 0.01, 0.12, "PH"),
    Column("Taux vétusté Construction CA", Kind.RATE, 0.2, 0.8),
    Column("Charges CA PA", Kind.EXPENSE, 2e6, 5e6, "PA"),
    Column("Produits CA PA", Kind.MONEY, 2e6, 5.2e6, "PA"),
    Column(_CA_RECETTES[0], Kind.MONEY, 1.8e6, 4.5e6, "PH"),
    Column(_CA_RECETTES[1], Kind.MONEY, 50e3, 400e3, "PH"),
    Column(_CA_RECETTES[2], Kind.MONEY, 10e3, 150e3, "PH"),
    Column(_CA_DEPENSES[0], Kind.EXPENSE, 200e3, 600e3, "PH"),
    Column(_CA_DEPENSES[1], Kind.EXPENSE, 1.4e6, 3.6e6, "PH"),
    Column(_CA_DEPENSES[2], Kind.EXPENSE, 250e3, 700e3, "PH"),
    Column("Nombre ETP total réalisé CA", Kind.ETP, 20, 80),
)  # fmt: skip

ANN_ERRD_EJ: tuple[Column, ...] = (
    key("Finess EJ"), key("Id Dépôt"), key("Année"),
    Column("Taux de CAF ERRD", Kind.RATE, 0.0, 0.12),
    Column("Taux vétusté Construction ERRD", Kind.RATE, 0.2, 0.85),
    Column("Fonds de roulement net global ERRD", Kind.MONEY, -300e3, 2.5e6),
)  # fmt: skip

ANN_PER_ERRD_EPRD: tuple[Column, ...] = (key("Finess EJ"), key("Finess"), key("Année"), key("Id Dépôt"))

MEN_HAPI: tuple[Column, ...] = tuple(
    key(label)
    for label in (
        "Finess EJ", "Finess", "Année Campagne HAPI", "Mois Année", "Enveloppe", "Sous Enveloppe",
        "Mode de Délégation", "HAPI - Montant Notifié",
    )
)  # fmt: skip
# (Enveloppe, Sous Enveloppe, amount range) of the allocations a hospital is notified; modes by campaign stage.
HAPI_ALLOCATIONS: tuple[tuple[str, str, float, float], ...] = (
    ("MIGAC", "MIG", 50e3, 3e6),
    ("MIGAC", "AC", 20e3, 1.5e6),
    ("FIR", "FIR", 10e3, 800e3),
    ("DAF", "DAF SSR", 200e3, 6e6),
    ("DAF", "DAF PSY", 500e3, 15e6),
)
HAPI_MODES: tuple[str, ...] = (
    "Première circulaire",
    "Deuxième circulaire",
    "Troisième circulaire",
    "Hors circulaire",
)
