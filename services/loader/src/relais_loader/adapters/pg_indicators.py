"""Writes one transformed file into PostgreSQL in one transaction.

A DIAMANT extract restates its source for the years of its window (`years`): once loaded, the tables say for those
years what the newest extract says — a key it no longer lists is gone, years before the window stay as they were.
- A table only this source writes (most of them: activite_sanitaire_mensuel, the medico-social source tables…) is
  rewritten: its rows outside the window, then the file's rows, its key and indexes rebuilt in bulk (pg_rewrite).
  Columns the file does not carry (an older header generation) keep their values for the keys it lists. A file that brings no
  row at all for a table leaves the table as it is (an empty extract is far likelier a fault upstream than the end of
  every establishment's activity; the quality report says what was rejected).
- A table several sources write (activite_sanitaire) gets the file's columns upserted, and for the window's keys
  the file no longer lists, those columns cleared (pg_upsert).
- The FINESS referential (no window) is upserted, and `ensure` rows only inserted when absent.

In the same transaction: the EJ aggregates of the ETs written or removed (pg_aggregates), the record of which derived
medico-social tables must be recomputed (pg_medico_social; done right after the commit, once for the files loaded
together), `date_mise_a_jour_fichier_source`, and the `loaded_file` ledger row (with the reference year N the file
was transformed with). A file already in the ledger changes nothing; an older extract of a source arriving after a
newer one is recorded as superseded and changes nothing. Loads whose tables overlap are serialised by advisory locks
(`locks_of`), so "is a newer file already loaded?" cannot race.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Literal

import asyncpg

from relais_contracts import WriteMode
from relais_diamant.definitions import definition
from relais_diamant.definitions_medico_social import MEDICO_SOCIAL
from relais_diamant.sources import DiamantSource
from relais_loader.adapters.arrow_copy import ArrowRows, TableShape, copy_rows, table_shape
from relais_loader.adapters.pg_aggregates import (
    AGGREGATED_TABLES,
    REFERENTIAL_TABLE,
    TouchedEtablissements,
    refresh_aggregates,
)
from relais_loader.adapters.pg_medico_social import (
    derived_from,
    lock_derived,
    mark_derived,
    refresh_medico_social,
)
from relais_loader.adapters.pg_rewrite import aside, quoted, references_checked_in_bulk, rewrite_table
from relais_loader.adapters.pg_upsert import clear_absent, stage, upsert

log = logging.getLogger(__name__)

LoadOutcome = Literal["loaded", "already_loaded", "superseded"]
ET = "numero_finess_etablissement_territorial"


@dataclass(frozen=True, slots=True)
class TableFile:
    """One target table's rows of a file: the Arrow IPC file the transformer stored."""

    table: str
    path: Path
    mode: WriteMode = "upsert"


@cache
def writers(table: str) -> frozenset[str]:
    """The DIAMANT sources whose files write `table`."""
    return frozenset(
        source.value
        for source in DiamantSource
        if (found := definition(source)) is not None and table in found.tables
    )


async def _replace_years(
    conn: asyncpg.Connection,
    rows: ArrowRows,
    shape: TableShape,
    years: tuple[int, int],
    touched: TouchedEtablissements,
) -> int:
    table, kept = shape.name, aside(shape.name)
    window = "annee BETWEEN $1 AND $2"
    # What must survive the rewrite, copied aside first: the years before the window, and for the window's keys the
    # columns this file does not carry (an older header generation says nothing about them).
    carried = set(rows.columns)
    uncarried = [c for c in shape.types if c not in carried]
    await conn.execute(f'DROP TABLE IF EXISTS "{kept}", "{kept}_values"')
    await conn.execute(
        f'CREATE TEMP TABLE "{kept}" ON COMMIT DROP AS SELECT * FROM "{table}" WHERE NOT ({window})', *years
    )
    if uncarried:
        listed = quoted((*shape.key, *uncarried))
        await conn.execute(
            f'CREATE TEMP TABLE "{kept}_values" ON COMMIT DROP AS SELECT {listed} FROM "{table}" WHERE {window}',
            *years,
        )
    if table in AGGREGATED_TABLES:  # the ETs of the window before (some the file drops) and after the rewrite
        touched.add(table, await _ets(conn, table, window, *years))
    written = 0

    async def fill() -> None:
        nonlocal written
        await conn.execute(f'INSERT INTO "{table}" SELECT * FROM "{kept}"')
        written = await copy_rows(conn, rows, table, shape)
        if uncarried:
            matched = " AND ".join(f'n."{k}" = o."{k}"' for k in shape.key)
            assignments = ", ".join(f'"{c}" = o."{c}"' for c in uncarried)
            await conn.execute(f'UPDATE "{table}" n SET {assignments} FROM "{kept}_values" o WHERE {matched}')

    await rewrite_table(conn, table, fill)
    if table in AGGREGATED_TABLES:
        touched.add(table, await _ets(conn, table, window, *years))
    return written


async def _ets(conn: asyncpg.Connection, relation: str, where: str = "true", *args: object) -> list[str]:
    """The ETs of `relation`'s rows that match `where`: the ones whose EJs' aggregates a write moves."""
    rows = await conn.fetch(f'SELECT DISTINCT "{ET}" FROM "{relation}" WHERE {where}', *args)
    return [r[0] for r in rows]


async def _write_table(
    conn: asyncpg.Connection,
    source: str,
    item: TableFile,
    index: int,
    years: tuple[int, int] | None,
    touched: TouchedEtablissements,
) -> int:
    shape = await table_shape(conn, item.table)
    rows = ArrowRows(item.path)
    if years is not None and item.mode == "upsert" and writers(item.table) == {source}:
        if rows.count == 0:
            log.warning("no row for a table: left as it is", extra={"table": item.table, "source": source})
            return 0
        return await _replace_years(conn, rows, shape, years, touched)
    staged = await stage(conn, rows, shape, index)
    if years is None:  # the referential: its own rows' references checked one by one
        written = await upsert(conn, staged, item.mode)
    else:
        async with references_checked_in_bulk(conn, item.table):
            written = await upsert(conn, staged, item.mode)
    if item.table in AGGREGATED_TABLES:
        touched.add(item.table, await _ets(conn, staged.name))
    elif item.table == REFERENTIAL_TABLE:  # an ET may have moved to another EJ: every aggregate
        touched.add(item.table, ())
    if years is not None and item.mode == "upsert":
        cleared = await clear_absent(conn, staged, years, ET if item.table in AGGREGATED_TABLES else None)
        touched.add(item.table, cleared)
    return written


_OWN_TABLES = frozenset(d.source.value for d in MEDICO_SOCIAL)
# Loads whose tables overlap are serialised (writing the same rows from two transactions in different orders could
# deadlock, and a rewrite must not race another write of its table); the others run at once. The medico-social
# sources each write a table of their own (diamant_*); the health sources write these families of tables and their
# EJ aggregates; a referential file (or any other) may touch every EJ aggregate, so it takes every health family's
# lock, in order.
_FAMILIES = {
    "ANN_RPU": "activite_sanitaire",
    "ANN_SAE": "activite_sanitaire",
    "MEN_PMSI_ANNUEL": "activite_sanitaire",
    "MEN_PMSI_MENCUMU": "activite_sanitaire_mensuel",
    "QUO_SAN_FINANCE": "finances_sanitaires",
    "MEN_HAPI": "allocations",
}


def locks_of(source: str) -> list[str]:
    if source in _OWN_TABLES:
        return [source]
    if source in _FAMILIES:
        return [_FAMILIES[source]]
    return sorted(set(_FAMILIES.values()))


async def load_file(
    conn: asyncpg.Connection,
    *,
    file_id: str,
    source: str,
    file_name: str,
    extraction_date: date | None,
    tables: Sequence[TableFile],
    years: tuple[int, int] | None = None,
    quality_report: str,
    reference_year: int | None = None,
    settle_medico_social: bool = True,
) -> tuple[LoadOutcome, int]:
    """Apply one file atomically; returns (outcome, rows written). Call inside a transaction.

    With `settle_medico_social=False` the derived medico-social tables are not recomputed here: they are only marked
    for the caller to recompute right after the commit (pg_medico_social), together with any other file committed
    meanwhile."""
    for lock in locks_of(source):
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('relais loader ' || $1))", lock)
    # A national file's statements sort and hash a few hundred thousand rows, which spill to disk at the default
    # work_mem; JIT compilation of their many expressions costs more than it saves.
    await conn.execute("SET LOCAL work_mem = '64MB'")
    await conn.execute("SET LOCAL jit = off")
    if await conn.fetchval("SELECT 1 FROM loaded_file WHERE file_id = $1", file_id):
        return "already_loaded", 0
    newest = await conn.fetchval(
        "SELECT max(extraction_date) FROM loaded_file WHERE source = $1 AND outcome = 'loaded'", source
    )
    outcome: LoadOutcome
    written = 0
    if newest is not None and extraction_date is not None and extraction_date < newest:
        outcome = "superseded"  # an older extract arriving late never overwrites newer data
    else:
        outcome = "loaded"
        feeding = [item.table for item in tables if derived_from(item.table)]
        if feeding and settle_medico_social:
            await lock_derived(conn, (d for table in feeding for d in derived_from(table)))
        for table in feeding:
            await mark_derived(conn, derived_from(table), table)
        touched = TouchedEtablissements()
        for index, item in enumerate(tables):
            written += await _write_table(conn, source, item, index, years, touched)
        await refresh_aggregates(conn, touched)
        if feeding and settle_medico_social:
            await refresh_medico_social(conn)
        if extraction_date is not None:
            await conn.execute(
                """INSERT INTO date_mise_a_jour_fichier_source (fichier, derniere_mise_a_jour) VALUES ($1, $2)
                   ON CONFLICT (fichier) DO UPDATE SET derniere_mise_a_jour = EXCLUDED.derniere_mise_a_jour""",
                source,
                extraction_date,
            )
    await conn.execute(
        """INSERT INTO loaded_file (file_id, source, file_name, extraction_date, outcome, rows_written, quality_report,
                                    reference_year, announced)
           VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9)""",
        file_id,
        source,
        file_name,
        extraction_date,
        outcome,
        written,
        quality_report,
        reference_year,
        settle_medico_social or source not in _OWN_TABLES,
    )
    return outcome, written


async def unannounced_files(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Ledger rows of files loaded but not yet announced (their derived tables were being recomputed)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT file_id, source, file_name, outcome, rows_written FROM loaded_file WHERE NOT announced"
    )
    return rows


async def mark_announced(conn: asyncpg.Connection, file_ids: list[str]) -> None:
    await conn.execute(
        "UPDATE loaded_file SET announced = true WHERE file_id = ANY($1::char(64)[])", file_ids
    )
