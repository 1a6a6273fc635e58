"""EJ aggregates of the health-sector ET tables, recomputed by the loader in the transaction of the file that
changed them.

Three aggregates, per EJ of the FINESS referential (an ET's EJ is the referential's, not the file's):
- activite_sanitaire_entite_juridique (annee, EJ) from activite_sanitaire,
- activite_sanitaire_mensuel_entite_juridique (annee, mois, EJ) from activite_sanitaire_mensuel,
- capacite_autorisation_entite_juridique (annee, EJ) from capacite_autorisation_sanitaire.
Counts are summed, and a sum over ETs that are all null stays null (SQL's `sum`). Average stays (DMS) are NOT summed
(the reference implementation's defect): the EJ's DMS is the mean of its ETs' DMS weighted by their
full-hospitalisation stays of the same discipline, Σ(DMS × séjours) / Σ séjours over the ETs where both are known;
null when no ET has both.

Why tables refreshed by a hook rather than views: the Helios front end reads these names as tables with their
primary keys, and its comparison pages scan every EJ; a view would redo the join and grouping on each page, while the
hook pays once per file, in the file's own transaction (so rows, aggregates, `date_mise_a_jour_fichier_source` and
the ledger commit or roll back together). The hook is keyed by the table a file writes: a file touching
activite_sanitaire refreshes only the EJs of the ETs it touched; a FINESS referential file (etablissement_territorial)
may move an ET to another EJ, so it refreshes every EJ. A refresh rewrites only rows whose values changed and deletes
only rows whose EJ lost every ET for that period, so replaying a file changes nothing.

The SQL is composed once, at import, from the constant column lists below (identifiers only); values always travel
as bind parameters.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import asyncpg

from relais_loader.adapters.pg_rewrite import references_checked_in_bulk

ET = "numero_finess_etablissement_territorial"
EJ = "numero_finess_entite_juridique"

_SEJOURS = (
    "nombre_sejours_partiels_medecine",
    "nombre_sejours_partiels_obstetrique",
    "nombre_sejours_partiels_chirurgie",
    "nombre_sejours_complets_medecine",
    "nombre_sejours_complets_obstetrique",
    "nombre_sejours_complets_chirurgie",
)
_DMS = (
    ("duree_moyenne_sejour_medecine", "nombre_sejours_complets_medecine"),
    ("duree_moyenne_sejour_chirurgie", "nombre_sejours_complets_chirurgie"),
    ("duree_moyenne_sejour_obstetrique", "nombre_sejours_complets_obstetrique"),
)
_CAPACITES = (
    "nombre_places_chirurgie",
    "nombre_places_obstetrique",
    "nombre_places_medecine",
    "nombre_places_ssr",
    "nombre_lits_chirurgie",
    "nombre_lits_obstetrique",
    "nombre_lits_medecine",
    "nombre_lits_ssr",
    "nombre_lits_usld",
    "nombre_lits_ou_places_psy_complet",
    "nombre_places_psy_partiel",
)


@dataclass(frozen=True, slots=True)
class Aggregate:
    target: str
    source: str
    periods: tuple[str, ...]  # ("annee",) or ("annee", "mois")
    sums: tuple[str, ...]
    weighted: tuple[tuple[str, str], ...] = ()  # (average column, weight column)

    @property
    def columns(self) -> tuple[str, ...]:
        return self.sums + tuple(average for average, _ in self.weighted)

    def sql(self) -> str:
        """One statement: recompute the EJs of $1 (ET numbers; NULL = every EJ), upsert what changed, delete what
        no longer exists."""
        periods = ", ".join(f"s.{p}" for p in self.periods)
        sums = [f"sum(s.{c}) AS {c}" for c in self.sums]
        means = [
            f"sum(s.{avg} * s.{weight}) / nullif(sum(s.{weight}) FILTER (WHERE s.{avg} IS NOT NULL), 0) AS {avg}"
            for avg, weight in self.weighted
        ]
        key = (*self.periods, EJ)
        listed = ", ".join((*key, *self.columns))
        joined = " AND ".join(f"c.{k} = t.{k}" for k in key)
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in self.columns)
        old = ", ".join(f"{self.target}.{c}" for c in self.columns)
        new = ", ".join(f"EXCLUDED.{c}" for c in self.columns)
        return f"""
WITH affected AS (
    SELECT DISTINCT {EJ} AS ej FROM etablissement_territorial
    WHERE $1::varchar[] IS NULL OR {ET} = ANY($1::varchar[])
), computed AS (
    SELECT {periods}, et.{EJ}, {", ".join(sums + means)}
    FROM {self.source} s JOIN etablissement_territorial et ON et.{ET} = s.{ET}
    WHERE et.{EJ} IN (SELECT ej FROM affected)
    GROUP BY {periods}, et.{EJ}
), removed AS (
    DELETE FROM {self.target} t
    WHERE ($1::varchar[] IS NULL OR t.{EJ} IN (SELECT ej FROM affected))
      AND NOT EXISTS (SELECT 1 FROM computed c WHERE {joined})
)
INSERT INTO {self.target} ({listed})
SELECT {listed} FROM computed
ON CONFLICT ({", ".join(key)}) DO UPDATE SET {updates}
WHERE ({old}) IS DISTINCT FROM ({new})
"""


ACTIVITE = Aggregate(
    target="activite_sanitaire_entite_juridique",
    source="activite_sanitaire",
    periods=("annee",),
    sums=(
        *_SEJOURS,
        "nombre_sejours_had",
        "nombre_journees_completes_ssr",
        "nombre_journees_partiels_ssr",
        "nombre_journees_complete_psy",
        "nombre_journees_partielles_psy",
        "nombre_passages_urgences",
        "nombre_journees_usld",
    ),
    weighted=_DMS,
)
ACTIVITE_MENSUELLE = Aggregate(
    target="activite_sanitaire_mensuel_entite_juridique",
    source="activite_sanitaire_mensuel",
    periods=("annee", "mois"),
    sums=(
        *_SEJOURS,
        "nombre_journees_completes_ssr",
        "nombre_journees_partiels_ssr",
        "nombre_journees_completes_psy",
        "nombre_journees_partielles_psy",
    ),
    weighted=_DMS,
)
CAPACITES = Aggregate(
    target="capacite_autorisation_entite_juridique",
    source="capacite_autorisation_sanitaire",
    periods=("annee",),
    sums=_CAPACITES,
)
AGGREGATES = (ACTIVITE, ACTIVITE_MENSUELLE, CAPACITES)
_SQL = {aggregate.target: aggregate.sql() for aggregate in AGGREGATES}
_BY_SOURCE = {aggregate.source: aggregate for aggregate in AGGREGATES}
REFERENTIAL_TABLE = "etablissement_territorial"


AGGREGATED_TABLES = frozenset(_BY_SOURCE)


class TouchedEtablissements:
    """The ETs a file wrote or removed, per aggregated table; a referential file may move any ET to another EJ."""

    def __init__(self) -> None:
        self.by_table: dict[str, set[str]] = defaultdict(set)
        self.referential = False

    def add(self, table: str, ets: Iterable[object]) -> None:
        if table == REFERENTIAL_TABLE:
            self.referential = True
        elif table in _BY_SOURCE:
            self.by_table[table].update(str(et) for et in ets if et is not None)


async def refresh_aggregates(conn: asyncpg.Connection, touched: TouchedEtablissements) -> dict[str, str]:
    """Recompute the aggregates a file affects; returns each refreshed table's command status. Call inside the
    file's transaction. A national file touches every EJ: the EJ references are checked once per table, not per
    row (pg_rewrite)."""
    done: dict[str, str] = {}
    for aggregate in AGGREGATES:
        ets: list[str] | None
        if touched.referential:
            ets = None
        elif found := touched.by_table.get(aggregate.source):
            ets = sorted(found)
        else:
            continue
        async with references_checked_in_bulk(conn, aggregate.target):
            done[aggregate.target] = await conn.execute(_SQL[aggregate.target], ets)
    return done
