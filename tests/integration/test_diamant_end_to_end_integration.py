"""DIAMANT end to end on the real stack (issue 3, item 8 and the second bar).

fetcher, decryptor, transformer and loader run as processes on the real Kafka and PostgreSQL; files arrive in an
inbox folder of the OpenSSH SFTP stand-in. A small synthetic FINESS referential is loaded first, then a batch of the
11 DIAMANT extracts (GnuPG-encrypted, quirks on) with broken files beside it:

- a file encrypted to another key and a truncated file (and, beyond the bar, a plain CSV named like an extract):
  rejection events naming the file and the reason, the encrypted original kept in the blob store;
- a blank `Année` and an unknown FINESS: the generator puts each on an early row of *every* extract (quirks on), so
  each health file's quality report in `loaded_file` must list them (an unknown FINESS when its row's year is in
  the window: out-of-window rows are dropped first) — and the file still loads;
- every other file of the batch loads; the health-source tables are checked against an oracle written here, from
  the spec (shared/specs/diamant.md §4–§6) alone: stdlib `csv` over the plain CSVs the generator kept, never the
  project's transform code;
- so are the medico-social Helios tables (activite_medico_social, budget_et_finances_medico_social,
  ressources_humaines_medico_social, cpom), every row and column, which combine the five medico-social files by the
  rules of spec §5 (CA against ERRD, KO statuses, ERRD deposits joined to ETs through ANN_PER_ERRD_EPRD…): the
  oracle derives them here, without the project's reference model (relais_testing.oracles.medico_social), and the batch is
  first checked to give each of those rules something to decide.

Then the replay: the same files dropped again change nothing; a newer ANN_RPU supersedes, an older one arriving
late is recorded as superseded and changes nothing.

Duplicated keys: which row wins is the pipeline's deterministic choice; the spec only requires one. The oracle
keeps, per key, the candidate rows (those naming the ET's own EJ when any does, spec §5: an ET attached to two EJs)
and requires the stored row to be one of them; the EJ aggregates are then recomputed here from the stored ET rows.
A medico-social row is derived once per combination of the candidates it reads, and must be one of those.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import shutil
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import product
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from relais_contracts import Stage, Topic
from relais_diamant.sources import DiamantSource
from relais_platform.blobstore import FileSystemBlobStore
from relais_synthetic.diamant import (
    Establishments,
    Quirks,
    establishments_from,
    referential_for,
    write_diamant_files,
)
from relais_synthetic.finess import SyntheticReferential, write_referential_files
from relais_testing.gpg import GpgKey
from relais_testing.infra import Infra, SftpServer, fresh_database
from relais_testing.pipeline import (
    Outcomes,
    delete_namespace_topics,
    fetcher_sftp_env,
    publish,
    sftp_inbox,
    wait_until,
)
from relais_testing.processes import ServiceProcesses

PIPELINE = ("fetcher", "decryptor", "transformer", "loader")
N = 2026  # DIAMANT's reference year, set on the transformer: the test does not move with the calendar
EXTRACTED = date(2026, 11, 20)
YEARS = list(range(N - 6, N + 1))  # one year more than each window on both kinds of sources
# SEED 18: its 12 medico-social sites give every medico-social rule work (MEDICO_SOCIAL_CASES); with SEED 8 no
# (ET, year) had both a CA and an ERRD, and none a re-deposit.
SEED, SANITAIRES, MEDICO_SOCIAUX = 18, 24, 12

S = DiamantSource
HEALTH = (S.MEN_PMSI_ANNUEL, S.ANN_RPU, S.ANN_SAE, S.MEN_PMSI_MENCUMU, S.QUO_SAN_FINANCE, S.MEN_HAPI)
MEDICO_SOCIAL = tuple(s for s in DiamantSource if s not in HEALTH)
ACTIVITE_MS, BUDGET_MS, RH_MS, CPOM = (
    "activite_medico_social",
    "budget_et_finances_medico_social",
    "ressources_humaines_medico_social",
    "cpom",
)
MEDICO_SOCIAL_TABLES = (ACTIVITE_MS, BUDGET_MS, RH_MS, CPOM)

# --- the oracle: spec §4 column maps ------------------------------------------------------------------------------
ET, EJ = "numero_finess_etablissement_territorial", "numero_finess_entite_juridique"
ANNUAL, MONTHLY = range(N - 5, N), range(N - 4, N + 1)  # spec §5: N−5..N−1 and N−4..N

PMSI_ANNUEL = {
    "Nombre de séjours HTP/AMBU Médecine": "nombre_sejours_partiels_medecine",
    "Nombre de séjours HTP/AMBU Obstétrique": "nombre_sejours_partiels_obstetrique",
    "Nombre de séjours HTP/AMBU Chirurgie": "nombre_sejours_partiels_chirurgie",
    "Nombre de séjours HC Médecine": "nombre_sejours_complets_medecine",
    "Nombre de séjours HC Chirurgie": "nombre_sejours_complets_chirurgie",
    "Nombre de séjours HC Obstétrique": "nombre_sejours_complets_obstetrique",
    "Nombre total de séjours HAD": "nombre_sejours_had",
    "Nombre de journées hospit complète SSR": "nombre_journees_completes_ssr",
    "Nombre de journées HTP SSR": "nombre_journees_partiels_ssr",
    "Nb journées hospit complète PSY": "nombre_journees_complete_psy",
    "Nb journées HTP PSY": "nombre_journees_partielles_psy",
    "DMS MCO Médecine": "duree_moyenne_sejour_medecine",
    "DMS MCO Chirurgie": "duree_moyenne_sejour_chirurgie",
    "DMS MCO Obstétrique": "duree_moyenne_sejour_obstetrique",
}
RPU = {"Nombre de passages aux urgences": "nombre_passages_urgences"}
SAE_ACTIVITE = {"Nombre journées USLD": "nombre_journees_usld"}
SAE_CAPACITES = {
    "Nombre de places de chirurgie": "nombre_places_chirurgie",
    "Nombre de places d'obstétrique": "nombre_places_obstetrique",
    "Nombre de places de médecine": "nombre_places_medecine",
    "Nombre de places de SSR": "nombre_places_ssr",
    "Nombre de lits de chirurgie": "nombre_lits_chirurgie",
    "Nombre de lits d'obstétrique": "nombre_lits_obstetrique",
    "Nombre de lits de médecine": "nombre_lits_medecine",
    "Nombre de lits de SSR": "nombre_lits_ssr",
    "Nombre de lits USLD": "nombre_lits_usld",
    "Nb de lits et places PSY PeC temps complet": "nombre_lits_ou_places_psy_complet",
    "Nb de places PSY PeC temps partiel hors ambu": "nombre_places_psy_partiel",
}
MENCUMU = {  # the 2025 generation, which DIAMANT writes (and the generator too) since 2025
    "Nombre de séjours mensuels Médecine": "nombre_sejours_complets_medecine",
    "Nombre de séjours mensuels Chirurgie": "nombre_sejours_complets_chirurgie",
    "Nombre de séjours mensuels Obstétrique": "nombre_sejours_complets_obstetrique",
    "Nombre de séjours mensuels HTP/AMBU Médecine": "nombre_sejours_partiels_medecine",
    "Nombre de séjours mensuels HTP/AMBU Obstétrique": "nombre_sejours_partiels_obstetrique",
    "Nombre de séjours mensuels  HTP/AMBU Chirurgie": "nombre_sejours_partiels_chirurgie",  # two spaces
    "Nombre de journées mensuelles hospit complète SSR": "nombre_journees_completes_ssr",
    "Nombre de journées mensuelles HTP SSR": "nombre_journees_partiels_ssr",
    "Nombre total de journées cumulés mensuels hospit complète PSY": "nombre_journees_completes_psy",
    "Nombre total de journées cumulés mensuels HTP PSY": "nombre_journees_partielles_psy",
    "DMS mensuel MCO Médecine": "duree_moyenne_sejour_medecine",
    "DMS mensuel MCO Chirurgie": "duree_moyenne_sejour_chirurgie",
    "DMS mensuel MCO Obstétrique": "duree_moyenne_sejour_obstetrique",
}
ROMAN = ("I", "II", "III", "IV")
# QUO_SAN_FINANCE budget: label → (ET-table column, EJ-table column); the reference schema names the EJ budget
# columns `…_budget_global` / `…_budget_h`.
QUO_BUDGET = {
    **{f"Dépenses Titre {r} Budget global": (f"depenses_titre_{r.lower()}_global", f"depenses_titre_{r.lower()}_budget_global") for r in ROMAN},
    **{f"Recettes Titre {r} Budget global": (f"recettes_titre_{r.lower()}_global", f"recettes_titre_{r.lower()}_budget_global") for r in ROMAN},
    **{f"Dépenses Titre {r} Budget H": (f"depenses_titre_{r.lower()}_h", f"depenses_titre_{r.lower()}_budget_h") for r in ROMAN},
    **{f"Recettes Titre {r} Budget H": (f"recettes_titre_{r.lower()}_h", f"recettes_titre_{r.lower()}_budget_h") for r in ROMAN[:3]},
    **{label: (column, column) for label, column in {
        "SAN Résultat net comptable": "resultat_net_comptable_san",
        "SAN Taux de CAF nette": "taux_de_caf_nette_san",
        "Ratio de dépendance financière": "ratio_dependance_financiere",
        "FRNG": "fonds_de_roulement",
        "BFR": "besoin_fonds_de_roulement",
        "Trésorerie": "tresorerie",
    }.items()},
}  # fmt: skip
QUO_BUDGET_ET = {label: columns[0] for label, columns in QUO_BUDGET.items()}
QUO_BUDGET_EJ = {label: columns[1] for label, columns in QUO_BUDGET.items()}
QUO_RH = {
    "Nombre d'ETP PM": "nombre_etp_pm",
    "Nombre d'ETP PNM": "nombre_etp_pnm",
    "Dépenses d'intérim PM": "depenses_interim_pm",
    "Jours d'absentéisme PM": "jours_absenteisme_pm",
    "Jours d'absentéisme PNM": "jours_absenteisme_pnm",
}
HAPI_KEY = ("annee", "beneficiaire", "mois_annee", "enveloppe", "sous_enveloppe", "mode_delegation")


def number(cell: str) -> float | None:
    """Spec §3: decimal point (`0.9977`, `.1197`, `2.112E-2`), empty = null."""
    return float(cell) if cell.strip() else None


def integer(cell: str) -> int | None:
    value = number(cell)
    return None if value is None else int(value)


@dataclass(frozen=True)
class Referential:
    ets: dict[str, str]  # ET → its EJ (caduc ETs never operated: not known)
    ejs: frozenset[str]

    @classmethod
    def of(cls, synthetic: SyntheticReferential) -> Referential:
        ets = {et.numero: et.numero_ej for et in synthetic.etablissements if not et.caduc}
        return cls(ets, frozenset(ej.numero for ej in synthetic.entites_juridiques))


@dataclass(frozen=True)
class Block:
    """Rows of one file for one table: which rows, which FINESS must be known, key and values of a row."""

    table: str
    values: Callable[[dict[str, str]], dict[str, Any]]
    level: str = "ET"  # the referential table the row's FINESS must be in
    finess: str = "Finess"
    takes: Callable[[dict[str, str]], bool] = lambda row: True
    also_known_et: str | None = None  # MEN_HAPI: `Finess` must be a known ET when filled
    key_values: Callable[[dict[str, str], int, int | None], tuple[Any, ...]] | None = None


def mapped(
    labels: dict[str, str], read: Callable[[str], Any] = number
) -> Callable[[dict[str, str]], dict[str, Any]]:
    return lambda row: {column: read(row[label]) for label, column in labels.items()}


def hapi_values(row: dict[str, str]) -> dict[str, Any]:
    return {
        EJ: row["Finess EJ"].strip(),
        ET: row["Finess"].strip() or None,
        "montant_notifie": number(row["HAPI - Montant Notifié"]),
    }


def hapi_key(row: dict[str, str], year: int, _month: int | None) -> tuple[Any, ...]:
    beneficiaire = row["Finess"].strip() or row["Finess EJ"].strip()  # to the ET, else to the EJ itself
    cells = ("Mois Année", "Enveloppe", "Sous Enveloppe", "Mode de Délégation")
    return (year, beneficiaire, *(row[label].strip() for label in cells))


def et_row(row: dict[str, str]) -> bool:
    return bool(row["Finess ET"].strip())


@dataclass(frozen=True)
class Source:
    year: str
    window: range
    blocks: tuple[Block, ...]
    month: str | None = None


SOURCES: dict[DiamantSource, Source] = {
    S.MEN_PMSI_ANNUEL: Source("Année", ANNUAL, (Block("activite_sanitaire", mapped(PMSI_ANNUEL)),)),
    S.ANN_RPU: Source("Année", ANNUAL, (Block("activite_sanitaire", mapped(RPU)),)),
    S.ANN_SAE: Source(
        "Année",
        ANNUAL,
        (
            Block("activite_sanitaire", mapped(SAE_ACTIVITE)),
            Block("capacite_autorisation_sanitaire", mapped(SAE_CAPACITES, integer)),
        ),
    ),
    S.MEN_PMSI_MENCUMU: Source(
        "Année",
        MONTHLY,
        (Block("activite_sanitaire_mensuel", mapped(MENCUMU)),),
        "Mois",
    ),
    S.QUO_SAN_FINANCE: Source(
        "Année",
        ANNUAL,
        (
            Block(
                "budget_et_finances_sanitaire",
                mapped(QUO_BUDGET_ET),
                finess="Finess ET",
                takes=et_row,
            ),
            Block(
                "ressources_humaines_sanitaire",
                mapped(QUO_RH),
                finess="Finess ET",
                takes=et_row,
            ),
            Block(
                "budget_et_finances_entite_juridique",
                mapped(QUO_BUDGET_EJ),
                level="EJ",
                finess="Finess EJ",
                takes=lambda row: not et_row(row),
            ),
            Block(
                "ressources_humaines_entite_juridique",
                mapped(QUO_RH),
                level="EJ",
                finess="Finess EJ",
                takes=lambda row: not et_row(row),
            ),
        ),
    ),
    S.MEN_HAPI: Source(
        "Année Campagne HAPI",
        MONTHLY,
        (
            Block(
                "allocations",
                hapi_values,
                level="EJ",
                finess="Finess EJ",
                also_known_et="Finess",
                key_values=hapi_key,
            ),
        ),
    ),
}


@dataclass
class FileExpectation:
    """What one file must give: per table and key, the candidate rows (values only); and what its report says."""

    rows_read: int = 0
    blank_years: list[int] = field(default_factory=list)  # lines
    unknown_finess: set[str] = field(default_factory=set)
    tables: dict[str, dict[tuple[Any, ...], list[dict[str, Any]]]] = field(default_factory=dict)
    duplicates: int = 0  # extra rows for a taken key, summed over tables


def expect(path: Path, source: DiamantSource, ref: Referential) -> FileExpectation:
    """Spec §5, row by row: year (blank: reported; outside the window: dropped), FINESS known in the referential
    (ET table, or EJ table for EJ rows; unknown: reported), then candidates per key."""
    spec = SOURCES[source]
    expected = FileExpectation()
    groups: dict[str, dict[tuple[Any, ...], list[dict[str, str]]]] = {
        b.table: defaultdict(list) for b in spec.blocks
    }
    with path.open(encoding="utf-8", newline="") as stream:
        reader = csv.DictReader(stream, delimiter=";")
        for row in reader:
            expected.rows_read += 1
            if not row[spec.year].strip():
                expected.blank_years.append(reader.line_num)
                continue
            year = int(row[spec.year])
            month = int(row[spec.month]) if spec.month else None
            if year not in spec.window:
                continue
            unknown: str | None = None
            taken = False
            for block in spec.blocks:
                if not block.takes(row):
                    continue
                finess = row[block.finess].strip()
                known = ref.ets if block.level == "ET" else ref.ejs
                other = row[block.also_known_et].strip() if block.also_known_et else ""
                if not finess:
                    continue  # a null key: dropped (and reported as such, not as unknown)
                if finess not in known:
                    unknown = unknown or finess
                    continue
                if other and other not in ref.ets:
                    unknown = unknown or other
                    continue
                if block.key_values is not None:
                    key = block.key_values(row, year, month)
                else:
                    key = (year, month, finess) if month is not None else (year, finess)
                groups[block.table][key].append(row)
                taken = True
            if unknown is not None and not taken:
                expected.unknown_finess.add(unknown)
    for block in spec.blocks:
        table: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        for key, rows in groups[block.table].items():
            expected.duplicates += len(rows) - 1
            if block.level == "ET" and "Finess EJ" in rows[0]:
                own = [r for r in rows if r["Finess EJ"].strip() == ref.ets[key[-1]]]
                rows = own or rows  # an ET attached to two EJs: its own EJ's row wins
            table[key] = [block.values(r) for r in rows]
        expected.tables[block.table] = table
    return expected


def aggregate(
    rows: Iterable[dict[str, Any]], ej_of: dict[str, str], periods: tuple[str, ...], weights: dict[str, str]
) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Spec §5 EJ aggregates: per period and EJ, sums (all null stays null); a DMS is the mean of the ETs' DMS
    weighted by their full-hospitalisation stays (`weights`: DMS column → stays column), never a sum."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[(*(row[p] for p in periods), ej_of[row[ET]])].append(row)
    result = {}
    for key, members in groups.items():
        columns = [c for c in members[0] if c not in (*periods, ET)]
        out: dict[str, Any] = {}
        for column in columns:
            if column in weights:
                pairs = [(m[column], m[weights[column]]) for m in members]
                pairs = [(d, w) for d, w in pairs if d is not None and w is not None]
                total = sum(w for _, w in pairs)
                out[column] = sum(d * w for d, w in pairs) / total if pairs and total else None
            else:
                present = [m[column] for m in members if m[column] is not None]
                out[column] = sum(present) if present else None
        result[key] = out
    return result


DMS_WEIGHTS = {
    "duree_moyenne_sejour_medecine": "nombre_sejours_complets_medecine",
    "duree_moyenne_sejour_chirurgie": "nombre_sejours_complets_chirurgie",
    "duree_moyenne_sejour_obstetrique": "nombre_sejours_complets_obstetrique",
}
AGGREGATES = (  # EJ table, ET table, periods
    ("activite_sanitaire_entite_juridique", "activite_sanitaire", ("annee",)),
    ("activite_sanitaire_mensuel_entite_juridique", "activite_sanitaire_mensuel", ("annee", "mois")),
    ("capacite_autorisation_entite_juridique", "capacite_autorisation_sanitaire", ("annee",)),
)
TABLES = (
    "activite_sanitaire",
    "activite_sanitaire_mensuel",
    "capacite_autorisation_sanitaire",
    "budget_et_finances_sanitaire",
    "ressources_humaines_sanitaire",
    "budget_et_finances_entite_juridique",
    "ressources_humaines_entite_juridique",
    "allocations",
    *(target for target, _, _ in AGGREGATES),
    *MEDICO_SOCIAL_TABLES,
    "date_mise_a_jour_fichier_source",
)
KEYS = {
    "activite_sanitaire_mensuel": ("annee", "mois", ET),
    "budget_et_finances_entite_juridique": ("annee", EJ),
    "ressources_humaines_entite_juridique": ("annee", EJ),
    "allocations": HAPI_KEY,
    "activite_sanitaire_entite_juridique": ("annee", EJ),
    "activite_sanitaire_mensuel_entite_juridique": ("annee", "mois", EJ),
    "capacite_autorisation_entite_juridique": ("annee", EJ),
    "date_mise_a_jour_fichier_source": ("fichier",),
    CPOM: (ET,),
}


# Per key, the candidate rows of one source for one table; per key, a table's stored row.
Candidates = dict[tuple[Any, ...], list[dict[str, Any]]]
StoredRows = dict[tuple[Any, ...], dict[str, Any]]


# --- the medico-social oracle: spec §4 labels → Helios columns, §5 rules -------------------------------------------
# The four Helios tables combine the five files, so the oracle reads each file into candidate rows per key as the
# health oracle does (year window, known FINESS, null keys dropped; per duplicated key the rows naming the ET's own
# EJ when any does), then derives each (year, ET) once per combination of its candidates: the stored row must be one
# of those derivations. Duplicates are rare: almost every key has one combination, a few have two.
# Column names are Helios's (spec §6); where the spec is silent, relais_diamant.medico_social's documented decision
# is followed (noted where it applies) but none of its code is used.
CPOM_COLUMN = "date_d_entree_en_vigueur"

TDP_ACTIVITE = {
    "Nombre moyen de journées d'absence des personnes accompagnées sur la période": "nombre_moyen_journees_absence_personnes_accompagnees",
    "Durée moyenne de séjour/d'accompagnement": "duree_moyenne_sejour_accompagnement_personnes_sorties",
    "File active des personnes accompagnées sur la période": "file_active_personnes_accompagnees",
}  # fmt: skip
# taux_realisation_activite: the first rate, else the second (typographic apostrophes, as in the real files).
REALISATION = (
    "Taux de réalisation de l’activité Tout ESMS (Hors services CAMSP et CMPP)",
    "Taux de réalisation de l’activité CAMSP et CMPP",
)
TDP_RH = {
    "Nombre de CDD de remplacement": "nombre_cdd_remplacement",
    "Taux d'ETP vacants au 31/12": "taux_etp_vacants",
    "Taux de prestations externes sur les prestations directes": "taux_prestation_externes",
    "Taux de rotation du personnel sur effectifs réels": "taux_rotation_personnel",
    "Taux d'absentéisme pour maladie ordinaire/courte durée": "taux_absenteisme_maladie_courte_duree",
    "Taux d'absentéisme pour maladie moyenne durée": "taux_absenteisme_maladie_moyenne_duree",
    "Taux d'absentéisme pour maladie longue durée": "taux_absenteisme_maladie_longue_duree",
    "Taux d'absentéisme pour maternité/paternité": "taux_absenteisme_maternite_paternite",
    "Taux d'absentéisme pour accident du travail / maladie professionnelle": "taux_absenteisme_accident_maladie_professionnelle",
    "Taux d'absentéisme pour congés spéciaux dont sans solde": "taux_absenteisme_conges_speciaux",
    "Taux d'absentéisme (hors formation)": "taux_absenteisme_hors_formation",
}  # fmt: skip
CPOM_DATE = "Date d'entrée en vigueur du CPOM"
ERRD_ONLY_OCCUPATION = {  # no CA counterpart
    "Taux d'occupation des lits autorisés en accueil de jour": "taux_occupation_accueil_de_jour",
    "Taux d'occupation des lits autorisés en hébergement temporaire": "taux_occupation_en_hebergement_temporaire",
    "Taux d'occupation des places autorisées en hébergement permanent": "taux_occupation_en_hebergement_permanent",
}  # fmt: skip
OCCUPATION = {  # column → (ERRD label, CA label): the CA value wins, the ERRD one fills its gaps
    "taux_occupation_externat": ("Taux d'occupation Externat Autres ESMS", "Taux d'occupation Externat CA"),
    "taux_occupation_semi_internat": ("Taux d'occupation Semi-internat Autres ESMS", "Taux d'occupation Semi-internat CA"),
    "taux_occupation_internat": ("Taux d'occupation Internat Autres ESMS", "Taux d'occupation Internat CA"),
    "taux_occupation_autre": ("Taux d'occupation Autre 1, 2 et 3 Autres ESMS", "Taux d'occupation Autre 1, 2 et 3 CA"),
}  # fmt: skip
SEANCES = "Taux d'occupation Séances CA"  # CA only
# Global occupancy rates beside their status (text): a rate whose status is `KO` is not used.
ERRD_GLOBAL = ("Taux d'occupation global ERRD", "Etat taux d'occupation global ERRD")
AUTRES_GLOBAL = ("Taux d'occupation global Autres ESMS", "Etat taux d'occupation global Autres ESMS")
CA_GLOBAL = ("Taux d'occupation global CA", "Etat taux d'occupation global CA")
GROUPES = {  # column → (ERRD label, CA label): depenses_groupe_i → Dépenses Groupe I ERRD | CA…
    f"{kind}_groupe_{roman.lower()}": (f"{label} Groupe {roman} ERRD", f"{label} Groupe {roman} CA")
    for kind, label in (("depenses", "Dépenses"), ("recettes", "Recettes"))
    for roman in ROMAN[:3]
}
ERRD_BUDGET = {
    "655 Quotes-parts de résultat sur opérations faites en commun": "contribution_frais_de_siege_groupement",
    **{errd: column for column, (errd, _) in GROUPES.items()},
    "MS Résultat net comptable ERRD": "resultat_net_comptable",
}
ERRD_RATES = {  # ANN_ERRD_EJ, per deposit
    "Taux de CAF ERRD": "taux_de_caf",
    "Taux vétusté Construction ERRD": "taux_de_vetuste_construction",
    "Fonds de roulement net global ERRD": "fonds_de_roulement",
}
CA_RESULT_PH, CA_RESULT_PA = "MS Résultat net comptable CA PH", "MS Résultat net comptable CA PA"
ETP_ERRD, ETP_CA = "Nombre ETP total réalisé ERRD", "Nombre ETP total réalisé CA"

Raw = dict[str, str]  # a CSV row by label
# Per key, what the derivations allow: rows of values (without the key), None when the key may have no row at all.
Possible = dict[tuple[Any, ...], list[dict[str, Any] | None]]


def cell(row: Raw | None, label: str) -> float | None:
    """A decimal cell (spec §3), null when the row is absent or the cell empty; an unreadable cell is null too (the
    pipeline reports it and keeps the row)."""
    text = row[label].strip() if row is not None else ""
    try:
        value = float(text) if text else None
    except ValueError:
        return None
    return value if value is None or math.isfinite(value) else None


def cpom_date(row: Raw) -> date | None:
    """`dd/mm/YYYY` (spec §3); anything else is null."""
    try:
        day, month, year = row[CPOM_DATE].strip().split("/")
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def is_ko(status: str) -> bool:
    """Spec §5: only a `KO` status discards its rate; an empty status is not KO. Case and spaces aside, as decided
    by the project (the spec writes `KO`; the generator writes nothing else)."""
    return status.strip().upper() == "KO"


def first(*values: Any) -> Any:
    return next((value for value in values if value is not None), None)


def errd_global(row: Raw) -> float | None:
    """Spec §5 on one ERRD row: its ERRD global rate unless KO, else its "Autres ESMS" global rate unless KO. An
    absent ERRD rate gives way to the "Autres ESMS" one whatever its status (the project's reading: there is no rate
    to prefer)."""
    rate = cell(row, ERRD_GLOBAL[0])
    if rate is not None and not is_ko(row[ERRD_GLOBAL[1]]):
        return rate
    return None if is_ko(row[AUTRES_GLOBAL[1]]) else cell(row, AUTRES_GLOBAL[0])


def ca_global(row: Raw | None) -> float | None:
    return None if row is None or is_ko(row[CA_GLOBAL[1]]) else cell(row, CA_GLOBAL[0])


def errd_values(row: Raw) -> dict[str, Any]:
    """One ERRD deposit of an ET in Helios columns; the global rate is settled from this deposit's own statuses
    before deposits are merged (a status speaks of its row's rate)."""
    values = {column: cell(row, label) for label, column in ERRD_ONLY_OCCUPATION.items()}
    values |= {column: cell(row, errd) for column, (errd, _) in OCCUPATION.items()}
    values["taux_occupation_global"] = errd_global(row)
    values |= {column: cell(row, label) for label, column in ERRD_BUDGET.items()}
    values["nombre_etp_realises"] = cell(row, ETP_ERRD)
    return values


def newest_deposit_first(deposits: dict[int, dict[str, Any]]) -> dict[str, Any] | None:
    """Spec §5: the highest deposit id is authoritative, earlier deposits fill its gaps column by column (sorted by
    id, never by file order). None without any deposit."""
    merged: dict[str, Any] = {}
    for _, values in sorted(deposits.items(), reverse=True):
        for column, value in values.items():
            if merged.get(column) is None:
                merged[column] = value
    return merged or None


def activite_ms(tdp: Raw | None, errd: dict[str, Any] | None, ca: Raw | None) -> dict[str, Any] | None:
    if tdp is None and errd is None and ca is None:
        return None
    errd = errd or {}
    row = {column: errd.get(column) for column in ERRD_ONLY_OCCUPATION.values()}
    row |= {column: first(cell(ca, label), errd.get(column)) for column, (_, label) in OCCUPATION.items()}
    row["taux_occupation_global"] = first(ca_global(ca), errd.get("taux_occupation_global"))
    row["taux_occupation_seances"] = cell(ca, SEANCES)
    row["taux_realisation_activite"] = first(*(cell(tdp, label) for label in REALISATION))
    return row | {column: cell(tdp, label) for label, column in TDP_ACTIVITE.items()}


def budget_ms(
    errd: dict[str, Any] | None, rates: dict[str, Any] | None, ca: Raw | None
) -> dict[str, Any] | None:
    """ERRD wins over CA for an (ET, year), whole row (a CA charge beside an ERRD result would describe neither). An
    ERRD deposit mapped to the ET makes an ERRD year even without an ANN_ERRD_EJ_ET row (the project's decision)."""
    if errd is not None or rates is not None:
        row = {column: (errd or {}).get(column) for column in ERRD_BUDGET.values()}
        row |= {"cadre_budgetaire": "ERRD", "charges": None, "produits": None}
        return row | (rates or dict.fromkeys(ERRD_RATES.values()))
    if ca is None:
        return None
    ph = cell(ca, CA_RESULT_PH)
    return {
        "cadre_budgetaire": "CA_PH" if ph is not None else "CA_PA",
        "contribution_frais_de_siege_groupement": None,
        **{column: cell(ca, label) for column, (_, label) in GROUPES.items()},
        "resultat_net_comptable": first(ph, cell(ca, CA_RESULT_PA)),
        "charges": cell(ca, "Charges CA PA"),
        "produits": cell(ca, "Produits CA PA"),
        "taux_de_caf": cell(ca, "Taux de CAF CA PH"),
        "taux_de_vetuste_construction": cell(ca, "Taux vétusté Construction CA"),
        "fonds_de_roulement": None,  # an ERRD rate only
    }


def rh_ms(tdp: Raw | None, errd: dict[str, Any] | None, ca: Raw | None) -> dict[str, Any] | None:
    if tdp is None and errd is None and ca is None:
        return None
    row = {column: cell(tdp, label) for label, column in TDP_RH.items()}
    return row | {"nombre_etp_realises": first((errd or {}).get("nombre_etp_realises"), cell(ca, ETP_CA))}


def ms_candidates(
    path: Path, ref: Referential, *, level: str = "ET", depot: bool = False
) -> dict[tuple[Any, ...], list[Raw]]:
    """One medico-social file's rows per key: (year, ET[, deposit]) for ET rows, (year, deposit) for ANN_ERRD_EJ's
    EJ rows. Blank or out-of-window years, empty or unknown FINESS and empty deposit ids are dropped (spec §5)."""
    finess_label, known = ("Finess", ref.ets) if level == "ET" else ("Finess EJ", ref.ejs)
    groups: dict[tuple[Any, ...], list[Raw]] = defaultdict(list)
    with path.open(encoding="utf-8", newline="") as stream:
        for row in csv.DictReader(stream, delimiter=";"):
            year, finess = row["Année"].strip(), row[finess_label].strip()
            depot_id = row["Id Dépôt"].strip() if depot else ""
            if not year or int(year) not in ANNUAL or finess not in known or (depot and not depot_id):
                continue
            ids = (int(depot_id),) if depot else ()
            groups[(int(year), finess, *ids) if level == "ET" else (int(year), *ids)].append(row)
    if level == "ET":  # an ET attached to two EJs: the rows naming its own EJ, when any does (spec §5)
        for key, rows in groups.items():
            own = [r for r in rows if r["Finess EJ"].strip() == ref.ets[key[1]]]
            groups[key] = own or rows
    return groups


def or_none(rows: list[Raw] | None) -> list[Raw | None]:
    """A key's candidate rows in one file, or None alone when the file has no row for the key."""
    return [*rows] if rows else [None]


def add_possible(possible: Possible, key: tuple[Any, ...], row: dict[str, Any] | None) -> None:
    if row not in possible[key]:
        possible[key].append(row)


@dataclass(frozen=True)
class MedicoSocialFiles:
    """The five files' candidate rows, ERRD rows and deposit rates grouped per (year, ET) and deposit id."""

    tdp: dict[tuple[Any, ...], list[Raw]]
    ca: dict[tuple[Any, ...], list[Raw]]
    errd: dict[tuple[Any, ...], dict[int, list[Raw]]]  # ANN_ERRD_EJ_ET
    rates: dict[tuple[Any, ...], dict[int, list[Raw]]]  # ANN_ERRD_EJ, through ANN_PER_ERRD_EPRD

    @classmethod
    def read(cls, plaintexts: Mapping[DiamantSource, Path], ref: Referential) -> MedicoSocialFiles:
        errd: dict[tuple[Any, ...], dict[int, list[Raw]]] = defaultdict(dict)
        for (year, et, depot), rows in ms_candidates(plaintexts[S.ANN_ERRD_EJ_ET], ref, depot=True).items():
            errd[(year, et)][depot] = rows
        deposits = ms_candidates(plaintexts[S.ANN_ERRD_EJ], ref, level="EJ", depot=True)
        # Spec §5 joins a deposit to its ETs on `Id Dépôt` alone; keyed here by (year, id), the same as long as no id
        # is listed under two years (the generator's ids carry their year).
        assert len({depot for _, depot in deposits}) == len(deposits)
        rates: dict[tuple[Any, ...], dict[int, list[Raw]]] = defaultdict(dict)
        for year, et, depot in ms_candidates(plaintexts[S.ANN_PER_ERRD_EPRD], ref, depot=True):
            if (year, depot) in deposits:  # a deposit without ANN_ERRD_EJ rates reaches no ET
                rates[(year, et)][depot] = deposits[(year, depot)]
        tdp = ms_candidates(plaintexts[S.ANN_MS_TDP_ET], ref)
        return cls(tdp, ms_candidates(plaintexts[S.ANN_CA_EJ_ET], ref), dict(errd), dict(rates))

    def keys(self) -> set[tuple[Any, ...]]:
        return set(self.tdp) | set(self.ca) | set(self.errd) | set(self.rates)

    def derivations(self, key: tuple[Any, ...]) -> Iterator[dict[str, dict[str, Any] | None]]:
        """One (year, ET)'s rows of the three yearly tables, once per combination of its candidate rows."""
        errd, rates = self.errd.get(key, {}), self.rates.get(key, {})
        errd_ids, rate_ids = sorted(errd), sorted(rates)
        single = [or_none(self.tdp.get(key)), or_none(self.ca.get(key))]
        per_deposit = [*(errd[depot] for depot in errd_ids), *(rates[depot] for depot in rate_ids)]
        for (tdp_row, ca_row), chosen in product(product(*single), product(*per_deposit)):
            merged_errd = newest_deposit_first(
                {
                    depot: errd_values(row)
                    for depot, row in zip(errd_ids, chosen[: len(errd_ids)], strict=True)
                }
            )
            merged_rates = newest_deposit_first(
                {
                    depot: {column: cell(row, label) for label, column in ERRD_RATES.items()}
                    for depot, row in zip(rate_ids, chosen[len(errd_ids) :], strict=True)
                }
            )
            yield {
                ACTIVITE_MS: activite_ms(tdp_row, merged_errd, ca_row),
                BUDGET_MS: budget_ms(merged_errd, merged_rates, ca_row),
                RH_MS: rh_ms(tdp_row, merged_errd, ca_row),
            }

    def cpom_dates(self, et: str) -> Iterator[list[date | None]]:
        """An ET's CPOM dates, newest year first, once per combination of its ANN_MS_TDP_ET candidate rows."""
        years = sorted((year for year, other in self.tdp if other == et), reverse=True)
        for rows in product(*(self.tdp[(year, et)] for year in years)):
            yield [cpom_date(row) for row in rows]


@dataclass
class MedicoSocialExpectation:
    tables: dict[str, Possible]
    exercised: Counter[str]  # how often the batch gives each rule something to decide


def expected_medico_social(
    plaintexts: Mapping[DiamantSource, Path], ref: Referential
) -> MedicoSocialExpectation:
    """Spec §4–§5 over the five plain CSVs: per table and key, every row the pipeline may store."""
    files = MedicoSocialFiles.read(plaintexts, ref)
    tables: dict[str, Possible] = {table: defaultdict(list) for table in MEDICO_SOCIAL_TABLES}
    exercised: Counter[str] = Counter()
    for key in files.keys():
        for derived in files.derivations(key):
            for table, row in derived.items():
                if row is not None:  # a table whose files have nothing for the key: no row
                    add_possible(tables[table], key, row)
        exercised.update(exercised_by(files, key))
    for et in {et for _, et in files.tdp}:
        # CPOM: per ET, the date of the newest year that has one (spec §4); no date in any year, no row.
        for dates in files.cpom_dates(et):
            newest = first(*dates)
            add_possible(tables[CPOM], (et,), None if newest is None else {CPOM_COLUMN: newest})
            exercised["cpom from an older year"] += dates[0] is None and newest is not None
    tables[CPOM] = {key: rows for key, rows in tables[CPOM].items() if rows != [None]}
    for rows in tables[BUDGET_MS].values():
        exercised.update({f"budget {row['cadre_budgetaire']}" for row in rows if row is not None})
    return MedicoSocialExpectation(tables, exercised)


def exercised_by(files: MedicoSocialFiles, key: tuple[Any, ...]) -> Counter[str]:
    """What one (year, ET) gives the §5 rules to decide (its first candidates): which of CA and ERRD it has,
    re-deposits, KO statuses, CA values winning over ERRD ones and ERRD values filling CA gaps."""
    found: Counter[str] = Counter()
    ca_row = files.ca[key][0] if key in files.ca else None
    errd_rows = {depot: rows[0] for depot, rows in files.errd.get(key, {}).items()}
    has_ca, has_errd = ca_row is not None, bool(errd_rows or key in files.rates)
    if has_ca or has_errd:
        found["CA and ERRD" if has_ca and has_errd else "CA only" if has_ca else "ERRD only"] += 1
    found["re-deposit"] += len(files.rates.get(key, {})) > 1
    for name, (rate, status), row in (
        *(("ERRD rate KO", ERRD_GLOBAL, row) for row in errd_rows.values()),
        *(("Autres ESMS rate KO", AUTRES_GLOBAL, row) for row in errd_rows.values()),
        *(("CA rate KO", CA_GLOBAL, row) for row in (ca_row,) if row is not None),
    ):
        found[name] += cell(row, rate) is not None and is_ko(row[status])
    errd = newest_deposit_first({depot: errd_values(row) for depot, row in errd_rows.items()})
    if ca_row is not None and errd is not None:
        ca_values = {column: cell(ca_row, label) for column, (_, label) in OCCUPATION.items()}
        ca_values["taux_occupation_global"] = ca_global(ca_row)
        for column, value in ca_values.items():
            if errd[column] is not None:
                found["CA wins over ERRD" if value is not None else "ERRD fills a CA gap"] += 1
    return found


# What the batch must give the medico-social rules to decide, or the oracle's agreement would prove little (how
# often each happens depends on the generator's seed).
MEDICO_SOCIAL_CASES = (
    "CA only",
    "ERRD only",
    "CA and ERRD",
    "CA wins over ERRD",
    "ERRD fills a CA gap",
    "re-deposit",
    "ERRD rate KO",
    "Autres ESMS rate KO",
    "CA rate KO",
    "budget ERRD",
    "budget CA_PH",
    "budget CA_PA",
    "cpom from an older year",
)


def assert_batch_exercises_medico_social_rules(expected: MedicoSocialExpectation) -> None:
    missing = [case for case in MEDICO_SOCIAL_CASES if not expected.exercised[case]]
    assert not missing, (
        f"SEED {SEED} leaves these medico-social cases untested",
        missing,
        expected.exercised,
    )


# --- reading the database ----------------------------------------------------------------------------------------
async def rows_by_key(conn: asyncpg.Connection, table: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    key = KEYS.get(table, ("annee", ET))
    return {tuple(r[k] for k in key): dict(r) for r in await conn.fetch(f"SELECT * FROM {table}")}


async def snapshot(conn: asyncpg.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every table this test checks, each row with its xmin: a rewritten row shows even when its values are equal."""
    return {
        t: sorted(tuple(map(str, r)) for r in await conn.fetch(f"SELECT xmin::text, * FROM {t}"))
        for t in TABLES
    }


def assert_stored_rows(
    table: str,
    stored: dict[tuple[Any, ...], dict[str, Any]],
    sources: list[Candidates],
) -> None:
    """Every stored row is expected and every expected row stored; each source's columns of it are one of that
    source's candidate rows (null where the source has no row for the key)."""
    expected_keys = set().union(*(s.keys() for s in sources))
    assert set(stored) == expected_keys, (table, sorted(set(stored) ^ expected_keys)[:10])
    for key, row in stored.items():
        for candidates in sources:
            columns = next(iter(candidates.values()))[0].keys() if candidates else ()
            actual = {c: row[c] for c in columns}
            if key in candidates:
                assert actual in candidates[key], (table, key, actual, candidates[key])
            else:
                assert all(v is None for v in actual.values()), (table, key, actual)


def assert_aggregates(
    stored_et: dict[str, StoredRows], stored_ej: dict[str, StoredRows], ej_of: dict[str, str]
) -> None:
    for target, source, periods in AGGREGATES:
        expected = aggregate(stored_et[source].values(), ej_of, periods, DMS_WEIGHTS)
        actual = stored_ej[target]
        assert set(actual) == set(expected), (target, sorted(set(actual) ^ set(expected))[:10])
        for key, values in expected.items():
            for column, value in values.items():
                got = actual[key][column]
                if value is None or got is None:
                    assert got == value, (target, key, column, got, value)
                else:
                    assert math.isclose(got, value, rel_tol=1e-9), (target, key, column, got, value)


async def check_health_tables(
    conn: asyncpg.Connection, expectations: dict[DiamantSource, FileExpectation], ej_of: dict[str, str]
) -> None:
    by_table: dict[str, list[Candidates]] = defaultdict(list)
    for source in HEALTH:
        for table, candidates in expectations[source].tables.items():
            by_table[table].append(candidates)
    stored = {table: await rows_by_key(conn, table) for table in by_table}
    for table, sources in by_table.items():
        assert_stored_rows(table, stored[table], sources)
    aggregates = {target: await rows_by_key(conn, target) for target, _, _ in AGGREGATES}
    assert_aggregates(stored, aggregates, ej_of)


def assert_possible_rows(table: str, stored: StoredRows, possible: Possible) -> None:
    """Every stored row is expected, every key whose rows are all real is stored, each stored row is one of the
    oracle's derivations for its key, and the oracle covers every column of the table."""
    required = {key for key, rows in possible.items() if None not in rows}
    assert required <= set(stored) <= set(possible), (table, sorted(set(stored) ^ required)[:10])
    key_columns = set(KEYS.get(table, ("annee", ET)))
    for key, row in stored.items():
        candidates = [r for r in possible[key] if r is not None]
        assert set(row) == key_columns | set(candidates[0]), (table, sorted(set(row) ^ set(candidates[0])))
        actual = {column: row[column] for column in candidates[0]}
        assert actual in candidates, (table, key, actual, candidates)


async def check_medico_social_tables(conn: asyncpg.Connection, expected: MedicoSocialExpectation) -> None:
    for table, possible in expected.tables.items():
        assert_possible_rows(table, await rows_by_key(conn, table), possible)


# --- the stack -----------------------------------------------------------------------------------------------------
@dataclass
class Stack:
    conn: asyncpg.Connection
    processes: ServiceProcesses
    outcomes: Outcomes
    finess_inbox: Path
    diamant_inbox: Path
    var: Path
    bootstrap: str
    namespace: str

    async def settle(self, names: Iterable[str], timeout_s: float = 45) -> None:
        await self.outcomes.wait_for(names, timeout_s, self.processes)

    async def fetched_events(self) -> int:
        """How many FILE_FETCHED events the namespace holds (the sum of its end offsets)."""
        topic = self.namespace + Topic.FILE_FETCHED.value
        consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=self.bootstrap
        )  # subscribed: its metadata is fetched
        await consumer.start()
        try:
            partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
            assert partitions, f"no topic {topic}"
            return sum((await consumer.end_offsets(partitions)).values())
        finally:
            await consumer.stop()


@pytest.fixture
async def stack(
    infra: Infra, sftp_server: SftpServer, tmp_path: Path, unique: str, platform_key: GpgKey
) -> AsyncIterator[Stack]:
    """The four services on a database, a topic namespace and SFTP inbox folders of their own (the loader's
    supersession is per source across the whole database: no other test's DIAMANT loads may count)."""
    var = tmp_path / "var"
    finess_inbox, finess_remote = sftp_inbox(sftp_server, "FINESS", f"e2e-{unique}")
    diamant_inbox, diamant_remote = sftp_inbox(sftp_server, "DIAMANT", f"e2e-{unique}")
    namespace = f"e2e{unique}."
    try:
        async with fresh_database(infra.database_url, "relais_diamant_e2e") as url:
            processes = ServiceProcesses(
                var,
                {
                    "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap,
                    "KAFKA_NAMESPACE": namespace,
                    "DATABASE_URL": url,
                    "OTEL_TRACES_EXPORTER": "none",
                    "RELAIS_DECRYPTOR_KEY_STORE": "env",
                    "RELAIS_DECRYPTOR_PRIVATE_KEY": platform_key.secret_armored.decode(),
                    "RELAIS_TRANSFORMER_REFERENCE_YEAR": str(N),
                    **fetcher_sftp_env(sftp_server, diamant_remote, finess_remote, var),
                },
            )
            conn = await asyncpg.connect(url)
            processes.start(*PIPELINE)
            try:
                await processes.wait_healthy(timeout_s=60)
                async with Outcomes(infra.kafka_bootstrap, namespace) as outcomes:
                    yield Stack(
                        conn,
                        processes,
                        outcomes,
                        finess_inbox,
                        diamant_inbox,
                        var,
                        infra.kafka_bootstrap,
                        namespace,
                    )
            finally:
                processes.stop()
                await conn.close()
                await delete_namespace_topics(infra.kafka_bootstrap, namespace)
    finally:
        shutil.rmtree(finess_inbox, ignore_errors=True)
        shutil.rmtree(diamant_inbox, ignore_errors=True)


# --- the files -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Batch:
    referential: Referential
    establishments: Establishments
    plaintexts: dict[DiamantSource, Path]
    encrypted: dict[DiamantSource, Path]
    finess_files: list[Path]


def make_batch(work: Path, key: GpgKey) -> Batch:
    """The FINESS referential and the 11 extracts of a few dozen establishments, quirks on, encrypted by GnuPG;
    the plain CSVs are kept for the oracle."""
    synthetic, entites = referential_for(SEED, SANITAIRES, MEDICO_SOCIAUX)
    chosen = establishments_from(synthetic, SEED, SANITAIRES, MEDICO_SOCIAUX)
    finess_files = write_referential_files(work / "finess", entites, SEED, EXTRACTED, False)
    written = write_diamant_files(
        chosen, work / "diamant", seed=SEED, years=YEARS, extraction_date=EXTRACTED, quirks=Quirks()
    )
    plaintexts = {generated.source: generated.path for generated in written}
    encrypted = {s: key.encrypt(p, p.with_name(p.name + ".gpg")) for s, p in plaintexts.items()}
    return Batch(Referential.of(synthetic), chosen, plaintexts, encrypted, finess_files)


def another_extract(
    work: Path, batch: Batch, key: GpgKey, source: DiamantSource, extracted: date, seed: int
) -> tuple[Path, Path]:
    """Another extract of one source for the same establishments (other values, no quirks): (plaintext, .gpg)."""
    (generated,) = write_diamant_files(
        batch.establishments,
        work / f"{source.value}-{extracted}",
        seed=seed,
        years=YEARS,
        extraction_date=extracted,
        quirks=Quirks.none(),
        sources=[source],
    )
    return generated.path, key.encrypt(generated.path, generated.path.with_name(generated.path.name + ".gpg"))


def stamp(extracted: date) -> str:
    return f"{extracted:%Y_%m_%d}"


# --- the steps ---------------------------------------------------------------------------------------------------
def assert_every_file_settled(outcomes: Outcomes, batch: Batch) -> None:
    """Every extract of the batch loaded, once, and none refused."""
    for source in DiamantSource:
        name = batch.plaintexts[source].name
        assert [e.outcome for e in outcomes.loaded.get(name, [])] == ["loaded"], (
            name,
            outcomes.rejected.get(name),
        )
        assert name not in outcomes.rejected


def assert_refused_undecryptable(
    outcomes: Outcomes, path: Path, reason: str, blobs: FileSystemBlobStore
) -> None:
    """One rejection event by the decryptor naming the file and why; the file as fetched kept, byte for byte."""
    name = path.name.removesuffix(".gpg")
    assert name not in outcomes.loaded, name
    (rejection,) = outcomes.rejected[name]
    assert rejection.stage is Stage.DECRYPT and rejection.file_name == path.name, rejection
    assert reason in rejection.reason, rejection.reason
    assert rejection.file_id == hashlib.sha256(path.read_bytes()).hexdigest()
    assert rejection.blob is not None and blobs.path(rejection.blob).read_bytes() == path.read_bytes()


async def assert_quality_reports(
    conn: asyncpg.Connection, batch: Batch, expectations: dict[DiamantSource, FileExpectation]
) -> None:
    """Each health file's report in `loaded_file`: its blank years (by line) and unknown FINESS (by number), its
    rows read, rows per table and duplicates, as the oracle counts them."""
    ledger = {
        r["file_name"]: r
        for r in await conn.fetch(
            "SELECT file_name, outcome, reference_year, quality_report FROM loaded_file"
        )
    }
    for source, expected in expectations.items():
        entry = ledger[batch.plaintexts[source].name]
        report = json.loads(entry["quality_report"])
        assert (entry["outcome"], entry["reference_year"]) == ("loaded", N)
        assert report["rows_read"] == expected.rows_read, source
        assert expected.blank_years, f"{source}: the generator's blank year went missing"
        assert report["rejected_by_reason"]["annee_vide"] == len(expected.blank_years), (source, report)
        for line in expected.blank_years:
            assert any(f"ligne {line} : année vide" in p for p in report["problems"]), (source, line)
        assert report["unknown_finess"]["numbers"] == sorted(expected.unknown_finess), source
        assert report["tables"] == {t: len(rows) for t, rows in expected.tables.items()}, source
        assert report["duplicates"]["count"] == expected.duplicates, source
    # The generator's unknown-FINESS row may fall in a year outside the window (dropped before any FINESS check);
    # in these two it does not.
    assert {s for s, e in expectations.items() if e.unknown_finess} >= {S.MEN_PMSI_ANNUEL, S.ANN_RPU}


async def update_dates(conn: asyncpg.Connection) -> dict[str, date]:
    return dict(await conn.fetch("SELECT fichier, derniere_mise_a_jour FROM date_mise_a_jour_fichier_source"))


# --- the test ------------------------------------------------------------------------------------------------------
async def test_a_diamant_batch_goes_from_sftp_to_the_tables_with_broken_files_refused_and_replays_inert(
    stack: Stack, tmp_path: Path, platform_key: GpgKey, other_key: GpgKey
) -> None:
    conn, outcomes = stack.conn, stack.outcomes
    batch = make_batch(tmp_path / "generated", platform_key)
    ref = batch.referential
    medico_social = expected_medico_social(batch.plaintexts, ref)
    assert_batch_exercises_medico_social_rules(medico_social)
    # The bar's undecryptable files, each the newest extract of its source: a refused newer file must neither hide
    # nor supersede the good one of the batch.
    later = stamp(EXTRACTED + timedelta(days=1))
    wrong_key = other_key.encrypt(
        batch.plaintexts[S.QUO_SAN_FINANCE], tmp_path / f"QUO_SAN_FINANCE_{later}.CSV.gpg"
    )
    truncated = tmp_path / f"ANN_SAE_{later}.CSV.gpg"
    whole = batch.encrypted[S.ANN_SAE].read_bytes()
    truncated.write_bytes(whole[: len(whole) // 2])
    # Beyond the bar: a plain CSV named like an extract is not DIAMANT's (no OpenPGP, no integrity): refused too.
    unencrypted = tmp_path / f"MEN_HAPI_{later}.CSV"
    shutil.copyfile(batch.plaintexts[S.MEN_HAPI], unencrypted)

    # The referential first: a DIAMANT file is checked against the referential current when it is transformed.
    publish(batch.finess_files, stack.finess_inbox)
    await stack.settle(f.name for f in batch.finess_files)
    finess_outcomes = [e.outcome for f in batch.finess_files for e in outcomes.loaded.get(f.name, [])]
    assert finess_outcomes == ["loaded"] * len(batch.finess_files), outcomes.rejected

    # 1 and 2. The batch and the broken files together.
    dropped = [*batch.encrypted.values(), wrong_key, truncated, unencrypted]
    publish(dropped, stack.diamant_inbox)
    await stack.settle(path.name.removesuffix(".gpg") for path in dropped)
    assert_every_file_settled(outcomes, batch)
    blobs = FileSystemBlobStore(stack.var / "blobs")
    assert_refused_undecryptable(outcomes, wrong_key, "mauvaise clé", blobs)
    assert_refused_undecryptable(outcomes, truncated, "tronqué", blobs)
    assert_refused_undecryptable(outcomes, unencrypted, "non chiffré", blobs)
    expectations = {source: expect(batch.plaintexts[source], source, ref) for source in HEALTH}
    await assert_quality_reports(conn, batch, expectations)
    await check_health_tables(conn, expectations, ref.ets)
    await check_medico_social_tables(conn, medico_social)
    dates = await update_dates(conn)
    assert {s: dates.get(s.value) for s in DiamantSource} == {s: EXTRACTED for s in DiamantSource}

    # 3. Replay: the same files dropped again are fetched again (their ledger rows take the new mtime) but enter the
    # pipeline no more, and change nothing.
    before, fetched_before = await snapshot(conn), await stack.fetched_events()
    loaded_files = await conn.fetchval("SELECT count(*) FROM loaded_file")
    mtimes = {path.name: int(path.stat().st_mtime) for path in publish(dropped, stack.diamant_inbox)}

    async def seen_again() -> bool:
        rows = await conn.fetch("SELECT file_name, max(remote_mtime) FROM fetched_file GROUP BY file_name")
        return all(dict(map(tuple, rows)).get(name) == mtime for name, mtime in mtimes.items())

    await wait_until(seen_again, 30, "the fetcher to look at the files dropped again", stack.processes)
    assert await stack.fetched_events() == fetched_before
    assert await conn.fetchval("SELECT count(*) FROM loaded_file") == loaded_files
    assert await snapshot(conn) == before

    # A newer ANN_RPU supersedes: it restates the source for its window (what it says replaces what the older one
    # said; a key it no longer lists would lose its RPU columns), no other source's column moves.
    newer = EXTRACTED + timedelta(days=7)
    newer_csv, newer_gpg = another_extract(
        tmp_path / "newer", batch, platform_key, S.ANN_RPU, newer, SEED + 1
    )
    publish([newer_gpg], stack.diamant_inbox)
    await stack.settle([newer_csv.name])
    assert [e.outcome for e in outcomes.loaded.get(newer_csv.name, [])] == ["loaded"], outcomes.rejected
    expectations[S.ANN_RPU].tables["activite_sanitaire"] = expect(newer_csv, S.ANN_RPU, ref).tables[
        "activite_sanitaire"
    ]
    await check_health_tables(conn, expectations, ref.ets)
    after_newer = await snapshot(conn)
    moved = {"activite_sanitaire", "activite_sanitaire_entite_juridique", "date_mise_a_jour_fichier_source"}
    assert {t for t in TABLES if after_newer[t] != before[t]} == moved
    assert (await update_dates(conn))[S.ANN_RPU.value] == newer

    # An older ANN_RPU arriving late is recorded as superseded and changes nothing.
    older = EXTRACTED - timedelta(days=7)
    older_csv, older_gpg = another_extract(
        tmp_path / "older", batch, platform_key, S.ANN_RPU, older, SEED + 2
    )
    publish([older_gpg], stack.diamant_inbox)
    await stack.settle([older_csv.name])
    assert [(e.outcome, e.rows_written) for e in outcomes.loaded.get(older_csv.name, [])] == [
        ("superseded", 0)
    ]
    ledger_row = await conn.fetchrow(
        "SELECT outcome, rows_written FROM loaded_file WHERE file_name = $1", older_csv.name
    )
    assert tuple(ledger_row) == ("superseded", 0)
    assert await snapshot(conn) == after_newer
