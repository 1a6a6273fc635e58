"""The Helios medico-social tables, recomputed by the loader from the DIAMANT source tables in the transaction of the
file that changed them.

Why this shape. Five files feed four tables, and one (ET, year) of budget_et_finances_medico_social may need three of
them (ANN_ERRD_EJ_ET, ANN_PER_ERRD_EPRD → ANN_ERRD_EJ) or a fourth (ANN_CA_EJ_ET). The files arrive in any order
and any may be re-sent later, so no file can compute a derived row alone: each file writes its own source table
(diamant_*, plain upserts by pg_indicators), then this hook recomputes every derived row of the ETs it touched from
what the source tables now hold. The result is a function of the source tables only, hence the same whatever the
arrival order; replaying a file changes no source row and so no derived row.

The rules themselves are pure Python (relais_diamant.medico_social), tested without a database; this module only
reads source rows, calls them and writes what changed. The unit recomputed is the ET (every year of it): the CPOM
rule spans years, and an ET has at most a handful of rows per source. ETs are handled in chunks, so a national file
(~40,000 ETs) never holds more than one chunk's rows in memory.

Which ETs a file touches: the ET of each row of diamant_ms_tdp_et, diamant_errd_ej_et, diamant_ca_ej_et and
diamant_per_errd_eprd; for diamant_errd_ej (keyed by deposit, an EJ's), the ETs ANN_PER_ERRD_EPRD maps its deposits
to. A deposit's rates reach an ET through the mapping on `Id Dépôt`; when a deposit id appears under several years
in ANN_ERRD_EJ (not expected), the row of the mapping's year is taken, else the newest.

Writes: each derived table gets its chunk's rows through a staging table; rows whose values are unchanged are not
rewritten, rows of the chunk's ETs that are no longer derived are deleted. SQL is composed from constant column
lists (identifiers only); values travel as bind parameters or COPY.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import asyncpg

from relais_contracts.rows import TableRow
from relais_diamant import medico_social as rules
from relais_diamant.definitions_medico_social import (
    CA_TABLE,
    ERRD_EJ_TABLE,
    ERRD_ET_TABLE,
    PER_ERRD_TABLE,
    TDP_TABLE,
)
from relais_diamant.medico_social import ET, EtablissementSources

CHUNK = 2_000
_ET_TABLES = frozenset({TDP_TABLE, ERRD_ET_TABLE, CA_TABLE, PER_ERRD_TABLE})


class TouchedMedicoSocial:
    """Watches a file's rows on their way to the database: the ETs and ERRD deposits they concern."""

    def __init__(self) -> None:
        self.etablissements: set[str] = set()
        self.depots: set[int] = set()

    def watch(self, rows: Iterable[TableRow]) -> Iterator[TableRow]:
        for item in rows:
            table = item[0]
            if table in _ET_TABLES:
                self.etablissements.add(item[1][ET])
            elif table == ERRD_EJ_TABLE:
                self.depots.add(int(item[1]["id_depot"]))
            yield item

    def __bool__(self) -> bool:
        return bool(self.etablissements or self.depots)


_RATES_SQL = f"""
SELECT DISTINCT ON (p.annee, p.{ET}, p.id_depot)
       p.annee, p.{ET}, p.id_depot, {", ".join(f"e.{c}" for c in rules.ERRD_RATES)}
FROM {PER_ERRD_TABLE} p JOIN {ERRD_EJ_TABLE} e ON e.id_depot = p.id_depot
WHERE p.{ET} = ANY($1::varchar[])
ORDER BY p.annee, p.{ET}, p.id_depot, (e.annee = p.annee) DESC, e.annee DESC
"""


async def _sources(conn: asyncpg.Connection, ets: Sequence[str]) -> list[EtablissementSources]:
    found = {et: EtablissementSources(et) for et in ets}
    for row in await conn.fetch(f"SELECT * FROM {TDP_TABLE} WHERE {ET} = ANY($1::varchar[])", ets):
        found[row[ET]].tdp[row["annee"]] = dict(row)
    for row in await conn.fetch(f"SELECT * FROM {CA_TABLE} WHERE {ET} = ANY($1::varchar[])", ets):
        found[row[ET]].ca[row["annee"]] = dict(row)
    for row in await conn.fetch(f"SELECT * FROM {ERRD_ET_TABLE} WHERE {ET} = ANY($1::varchar[])", ets):
        found[row[ET]].errd[row["annee"]].append(dict(row))
    for row in await conn.fetch(_RATES_SQL, ets):
        found[row[ET]].rates[row["annee"]].append(dict(row))
    return list(found.values())


def _write_sql(table: str) -> tuple[str, str, str, tuple[str, ...]]:
    """(staging DDL, upsert, delete of what is no longer derived, column order) for one derived table."""
    key, values = rules.KEYS[table], rules.COLUMNS[table]
    columns = (*key, *values)
    staging = f"medico_social_staging_{table}"
    listed = ", ".join(columns)
    create = f'CREATE TEMP TABLE IF NOT EXISTS "{staging}" (LIKE "{table}" INCLUDING DEFAULTS) ON COMMIT DROP'
    old = ", ".join(f"t.{c}" for c in values)
    new = ", ".join(f"EXCLUDED.{c}" for c in values)
    upsert = f"""
INSERT INTO {table} AS t ({listed}) SELECT {listed} FROM "{staging}"
ON CONFLICT ({", ".join(key)}) DO UPDATE SET {", ".join(f"{c} = EXCLUDED.{c}" for c in values)}
WHERE ({old}) IS DISTINCT FROM ({new})"""
    matched = " AND ".join(f"s.{k} = t.{k}" for k in key)
    delete = f"""
DELETE FROM {table} t WHERE t.{ET} = ANY($1::varchar[])
  AND NOT EXISTS (SELECT 1 FROM "{staging}" s WHERE {matched})"""
    return create, upsert, delete, columns


_WRITES = {table: _write_sql(table) for table in rules.COLUMNS}


async def _write(
    conn: asyncpg.Connection, table: str, ets: Sequence[str], rows: list[dict[str, Any]]
) -> None:
    create, upsert, delete, columns = _WRITES[table]
    staging = f"medico_social_staging_{table}"
    await conn.execute(create)
    await conn.execute(f'TRUNCATE "{staging}"')
    if rows:
        records = [tuple(row[c] for c in columns) for row in rows]
        await conn.copy_records_to_table(staging, records=records, columns=list(columns))
    await conn.execute(upsert)
    await conn.execute(delete, ets)


async def refresh_medico_social(conn: asyncpg.Connection, touched: TouchedMedicoSocial) -> int:
    """Recompute the derived medico-social rows of the ETs a file touched; returns how many ETs. Call inside the
    file's transaction, after its rows are written."""
    if not touched:
        return 0
    ets = set(touched.etablissements)
    if touched.depots:
        ets.update(
            r[ET]
            for r in await conn.fetch(
                f"SELECT DISTINCT {ET} FROM {PER_ERRD_TABLE} WHERE id_depot = ANY($1::bigint[])",
                sorted(touched.depots),
            )
        )
    ordered = sorted(ets)
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        derived: dict[str, list[dict[str, Any]]] = {table: [] for table in rules.COLUMNS}
        for sources in await _sources(conn, chunk):
            for table, rows in rules.derive(sources).items():
                derived[table].extend(rows)
        for table, rows in derived.items():
            await _write(conn, table, chunk, rows)
    return len(ordered)
