"""Writing some columns of a table that other files write too: COPY into a staging table, then one upsert.

Used for a table several sources feed (activite_sanitaire gets ANN_RPU, ANN_SAE and MEN_PMSI_ANNUEL columns: each
file sets only its own) and for the FINESS referential, which only adds and updates. Mode `upsert` inserts or
updates the file's columns, leaving a row whose values are unchanged untouched (so a replayed file rewrites nothing);
mode `ensure` inserts a row only when its key is absent.

`clear_absent` is how an extract restates its source on a shared table: for the years it speaks for, the keys it
no longer lists lose its columns (set to null), the other sources' columns staying as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from relais_contracts import WriteMode
from relais_loader.adapters.arrow_copy import ArrowRows, TableShape, copy_rows
from relais_loader.adapters.pg_rewrite import quoted

SEQUENCE = "relais_seq"  # staging column numbering rows in file order, so that the last row of a key wins


@dataclass(frozen=True, slots=True)
class Staged:
    """A file's rows for one table, copied into a temporary table of the same shape."""

    shape: TableShape
    columns: tuple[str, ...]
    name: str
    copied: int

    @property
    def values(self) -> list[str]:
        return [c for c in self.columns if c not in self.shape.key]


async def stage(conn: asyncpg.Connection, rows: ArrowRows, shape: TableShape, index: int) -> Staged:
    name = f"staging_{index}_{shape.name}"[:63]
    await conn.execute(
        f'CREATE TEMP TABLE IF NOT EXISTS "{name}" (LIKE "{shape.name}" INCLUDING DEFAULTS, {SEQUENCE} bigserial) '
        "ON COMMIT DROP"
    )
    await conn.execute(f'TRUNCATE "{name}"')
    missing = [k for k in shape.key if k not in rows.columns]
    if missing:
        raise KeyError(f"{shape.name} : colonnes de clé absentes des lignes : {', '.join(missing)}")
    copied = await copy_rows(conn, rows, name, shape)
    return Staged(shape, tuple(rows.columns), name, copied)


async def upsert(conn: asyncpg.Connection, staged: Staged, mode: WriteMode) -> int:
    """Write the staged rows into their table; returns the number of distinct keys written (one row each)."""
    table, key, columns = staged.shape.name, staged.shape.key, staged.columns
    conflict = quoted(key)
    keys = await conn.fetchval(
        f'SELECT count(*) FROM (SELECT 1 FROM "{staged.name}" GROUP BY {conflict}) AS k'
    )
    if staged.values and mode == "upsert":
        assignments = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in staged.values)
        changed = " OR ".join(f'"{table}"."{c}" IS DISTINCT FROM EXCLUDED."{c}"' for c in staged.values)
        action = f"DO UPDATE SET {assignments} WHERE {changed}"
    else:
        action = "DO NOTHING"
    # One statement cannot update a row twice: within a file the last row of a key wins (the transformer has
    # already resolved and reported duplicates; this only keeps the database safe). The latest row of each key is
    # found on the narrow (key, sequence) columns, so the wide rows are never sorted.
    latest = (
        f' WHERE {SEQUENCE} IN (SELECT max({SEQUENCE}) FROM "{staged.name}" GROUP BY {conflict})'
        if keys < staged.copied
        else ""
    )
    await conn.execute(
        f'INSERT INTO "{table}" ({quoted(columns)}) SELECT {quoted(columns)} FROM "{staged.name}"{latest} '
        f"ON CONFLICT ({conflict}) {action}"
    )
    return int(keys)


async def clear_absent(
    conn: asyncpg.Connection, staged: Staged, years: tuple[int, int], returning: str | None = None
) -> list[object]:
    """Null the staged columns of the rows of `years` whose key the staging table lacks; returns the `returning`
    column of the rows changed (the ETs whose aggregates move), or nothing."""
    if not staged.values:
        return []
    table, key = staged.shape.name, staged.shape.key
    matched = " AND ".join(f's."{k}" = t."{k}"' for k in key)
    filled = " OR ".join(f't."{c}" IS NOT NULL' for c in staged.values)
    cleared = ", ".join(f'"{c}" = NULL' for c in staged.values)
    rows = await conn.fetch(
        f'UPDATE "{table}" t SET {cleared} WHERE t.annee BETWEEN $1 AND $2 AND ({filled}) '
        f'AND NOT EXISTS (SELECT 1 FROM "{staged.name}" s WHERE {matched})'
        + (f' RETURNING t."{returning}"' if returning else ""),
        *years,
    )
    return [r[0] for r in rows] if returning else []
