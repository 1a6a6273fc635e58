"""Writes one transformed file into PostgreSQL in one transaction.

In the same transaction: the rows (COPY into a staging table, then one upsert per table that touches only the
columns the file's source owns), the EJ aggregates of the ETs the rows touched (pg_aggregates), the record of the
ETs whose DIAMANT medico-social source rows changed (their derived tables are recomputed there too, or by the
service right after the commit, once for the files loaded meanwhile: pg_medico_social), `date_mise_a_jour_fichier_source`, and the `loaded_file` ledger row (with the reference year N the file was
transformed with). Loads of one source are serialised by an advisory lock, so "is a newer file already loaded?"
cannot race; so are the loads of sources that share tables (`locks_of`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from itertools import islice
from typing import Any, Literal

import asyncpg

from relais_contracts.rows import Mode, TableRow
from relais_diamant.definitions_medico_social import MEDICO_SOCIAL
from relais_loader.adapters.pg_aggregates import TouchedEtablissements, refresh_aggregates
from relais_loader.adapters.pg_medico_social import (
    TouchedMedicoSocial,
    record_medico_social_changes,
    refresh_medico_social,
)

Converter = Callable[[Any], Any]
LoadOutcome = Literal["loaded", "already_loaded", "superseded"]


def _to_date(value: Any) -> date | None:
    return None if value is None else value if isinstance(value, date) else date.fromisoformat(value)


def _to_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _to_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _to_bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


_CONVERTERS: dict[str, Converter] = {
    "date": _to_date,
    "integer": _to_int,
    "bigint": _to_int,
    "smallint": _to_int,
    "double precision": _to_float,
    "real": _to_float,
    "numeric": _to_float,
    "boolean": _to_bool,
}


class TableShape:
    def __init__(self, name: str, key: list[str], types: dict[str, str]) -> None:
        self.name = name
        self.key = key
        self.types = types

    def converter(self, column: str) -> Converter | None:
        """How a JSON value becomes this column's value; None when it goes as it is (text)."""
        if column not in self.types:
            raise KeyError(f"la table {self.name} n'a pas de colonne {column!r}")
        return _CONVERTERS.get(self.types[column])


async def table_shape(conn: asyncpg.Connection, table: str) -> TableShape:
    types = {
        r["column_name"]: r["data_type"]
        for r in await conn.fetch(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = $1",
            table,
        )
    }
    if not types:
        raise KeyError(f"table inconnue : {table}")
    key = [
        r["attname"]
        for r in await conn.fetch(
            """SELECT a.attname FROM pg_index i
               JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
               WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)""",
            table,
        )
    ]
    return TableShape(table, key, types)


# Rows read, grouped and converted per chunk: the loader's memory stays bounded whatever the file's size (a national
# ANN_MS_TDP_ET blob is 177 MB of JSON lines; holding it grouped in memory peaked the loader at ~800 MB).
CHUNK_ROWS = 20_000
SEQUENCE = "relais_seq"  # staging column numbering rows in file order, so that the last row of a key wins

BatchKey = tuple[str, tuple[str, ...], Mode]


class _Batch:
    """The rows of one table with the same columns and mode: one staging table, one COPY per chunk, one upsert."""

    def __init__(self, shape: TableShape, columns: tuple[str, ...], mode: Mode, staging: str) -> None:
        self.shape, self.columns, self.mode, self.staging = shape, columns, mode, staging
        self.copied = 0
        # Checked here, on the event loop, so an unknown column fails the load with its name before any COPY.
        self.plan = [
            (position, convert) for position, c in enumerate(columns) if (convert := shape.converter(c))
        ]

    def records(self, rows: list[list[Any]]) -> list[list[Any]]:
        for values in rows:
            for position, convert in self.plan:
                value = values[position]
                if value is not None:
                    values[position] = convert(value)
        return rows

    def keys_sql(self) -> str:
        """How many distinct keys the staging table holds (one row written per key)."""
        conflict = ", ".join(f'"{c}"' for c in self.shape.key)
        return f'SELECT count(*) FROM (SELECT 1 FROM "{self.staging}" GROUP BY {conflict}) AS k'

    def upsert_sql(self, *, deduplicate: bool) -> str:
        table, key, columns = self.shape.name, self.shape.key, self.columns
        quoted = ", ".join(f'"{c}"' for c in columns)
        conflict = ", ".join(f'"{c}"' for c in key)
        owned = [c for c in columns if c not in key]
        if owned and self.mode == "upsert":
            assignments = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in owned)
            changed = " OR ".join(f'"{table}"."{c}" IS DISTINCT FROM EXCLUDED."{c}"' for c in owned)
            action = f"DO UPDATE SET {assignments} WHERE {changed}"
        else:
            action = "DO NOTHING"
        # One statement cannot update a row twice: within a file the last row of a key wins (the transformer has
        # already resolved and reported duplicates; this only keeps the database safe). The latest row of each key
        # is found on the narrow (key, sequence) columns, so the wide rows are never sorted.
        latest = f' WHERE {SEQUENCE} IN (SELECT max({SEQUENCE}) FROM "{self.staging}" GROUP BY {conflict})'
        return (
            f'INSERT INTO "{table}" ({quoted}) SELECT {quoted} FROM "{self.staging}"'
            f"{latest if deduplicate else ''} ON CONFLICT ({conflict}) {action}"
        )


def _read_chunk(
    rows: Iterator[TableRow], size: int, canonical: dict[tuple[str, ...], tuple[str, ...]]
) -> dict[BatchKey, list[list[Any]]]:
    """The next `size` rows, grouped by batch in order of first appearance, as value lists in the batch's column
    order (sorted names, so the same columns in another order are the same batch). Runs in a worker thread."""
    chunk: dict[BatchKey, list[list[Any]]] = {}
    for item in islice(rows, size):
        row = item[1]
        names = tuple(row)
        columns = canonical.get(names)
        if columns is None:
            columns = canonical[names] = tuple(sorted(names))
        mode: Mode = item[2] if len(item) == 3 else "upsert"
        values = list(row.values()) if columns == names else [row[c] for c in columns]
        batch = chunk.get((item[0], columns, mode))
        if batch is None:
            chunk[(item[0], columns, mode)] = [values]
        else:
            batch.append(values)
    return chunk


async def upsert_rows(
    conn: asyncpg.Connection, rows: Iterable[TableRow], *, chunk_rows: int = CHUNK_ROWS
) -> int:
    """Write partial rows; rows of one table with the same columns and mode go in one staging table + INSERT, batches
    in the order they first appear (so `ensure` rows of a parent written first precede the rows referencing them).

    The rows are consumed `chunk_rows` at a time in a worker thread (parsing and converting is CPU work that must not
    stall the event loop, whose Kafka heartbeats keep the consumer in its group) and copied as they come."""
    source = iter(rows)
    canonical: dict[tuple[str, ...], tuple[str, ...]] = {}
    batches: dict[BatchKey, _Batch] = {}
    shapes: dict[str, TableShape] = {}

    def read() -> asyncio.Future[dict[BatchKey, list[list[Any]]]]:
        return asyncio.ensure_future(asyncio.to_thread(_read_chunk, source, chunk_rows, canonical))

    # The next chunk is read while the current one is copied (PostgreSQL works on the COPY meanwhile).
    pending = read()
    try:
        while chunk := await pending:
            pending = read()
            for key, values in chunk.items():
                batch = batches.get(key)
                if batch is None:
                    batch = batches[key] = await _open_batch(conn, key, shapes, len(batches))
                records = await asyncio.to_thread(batch.records, values)
                await conn.copy_records_to_table(batch.staging, records=records, columns=list(batch.columns))
                batch.copied += len(records)
    finally:
        # A failed COPY leaves a read in flight: let it finish before the caller closes the rows' source.
        await asyncio.gather(pending, return_exceptions=True)
    written = 0
    for batch in batches.values():
        keys = await conn.fetchval(batch.keys_sql())
        await conn.execute(batch.upsert_sql(deduplicate=keys < batch.copied))
        written += keys
    return written


async def _open_batch(
    conn: asyncpg.Connection, key: BatchKey, shapes: dict[str, TableShape], index: int
) -> _Batch:
    table, columns, mode = key
    shape = shapes.get(table) or await table_shape(conn, table)
    shapes[table] = shape
    batch = _Batch(shape, columns, mode, f"staging_{index}_{table}"[:63])
    await conn.execute(
        f'CREATE TEMP TABLE IF NOT EXISTS "{batch.staging}" (LIKE "{table}" INCLUDING DEFAULTS, {SEQUENCE} bigserial) '
        "ON COMMIT DROP"
    )
    await conn.execute(f'TRUNCATE "{batch.staging}"')
    return batch


# Loads whose tables overlap are serialised by an advisory lock (upserting the same rows from two transactions in
# different orders could deadlock); the others run at once. The medico-social sources each write a table of their own
# (diamant_*); the health sources write these families of tables and their EJ aggregates; a referential file (or any
# other) may touch every EJ aggregate, so it takes every health family's lock, in order.
_OWN_TABLES = frozenset(definition.source.value for definition in MEDICO_SOCIAL)
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
    rows: Iterable[TableRow],
    quality_report: str,
    reference_year: int | None = None,
    settle_medico_social: bool = True,
) -> tuple[LoadOutcome, int]:
    """Apply one file atomically; returns (outcome, rows written). Call inside a transaction.

    With `settle_medico_social=False` the derived medico-social tables are not recomputed here: the ETs the file
    changed are only recorded, for the caller to settle right after the commit (pg_medico_social), together with any
    other file committed meanwhile."""
    for lock in locks_of(source):
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('relais loader ' || $1))", lock)
    if await conn.fetchval("SELECT 1 FROM loaded_file WHERE file_id = $1", file_id):
        return "already_loaded", 0
    newest = await conn.fetchval(
        "SELECT max(extraction_date) FROM loaded_file WHERE source = $1 AND outcome = 'loaded'", source
    )
    outcome: LoadOutcome
    if newest is not None and extraction_date is not None and extraction_date < newest:
        outcome, written = "superseded", 0  # an older extract arriving late never overwrites newer data
    else:
        touched, medico_social = TouchedEtablissements(), TouchedMedicoSocial()
        outcome, written = "loaded", await upsert_rows(conn, medico_social.watch(touched.watch(rows)))
        await refresh_aggregates(conn, touched)
        if settle_medico_social:
            await refresh_medico_social(conn, medico_social)
        else:
            await record_medico_social_changes(conn, medico_social)
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
    return await conn.fetch(
        "SELECT file_id, source, file_name, outcome, rows_written FROM loaded_file WHERE NOT announced"
    )


async def mark_announced(conn: asyncpg.Connection, file_ids: list[str]) -> None:
    await conn.execute(
        "UPDATE loaded_file SET announced = true WHERE file_id = ANY($1::char(64)[])", file_ids
    )
