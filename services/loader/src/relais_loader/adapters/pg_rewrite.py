"""Writing many rows into an indexed, foreign-keyed table at bulk speed, inside the caller's transaction.

Why: every row inserted into an indexed table with a foreign key costs an index insertion and a foreign-key check,
and the check (a query per row that locks the referenced row) is the dearer part. Measured on 200k rows of
activite_medico_social (primary key, foreign key, one index): 2.5 s inserted as they are, 0.65 s into the bare
table whose key and index are then built in bulk and whose references are then checked by one anti-join. A DIAMANT
extract restates its source for five years, so its load rewrites most of its tables' rows anyway.

Two tools:
- `references_checked_in_bulk`: around writes to a table, PostgreSQL's per-row foreign-key checks are suspended
  (`session_replication_role = replica`, which the loader's role must be allowed to set: superuser, or
  `GRANT SET ON PARAMETER session_replication_role` on PostgreSQL 15+; without it the per-row checks simply run).
  Afterwards every foreign key of the table is checked at once, the referenced table locked in SHARE mode until
  commit (its writers wait, its readers do not): nothing can delete a referenced row meanwhile, and a missing
  reference fails the load naming the table, the columns and examples. The foreign keys stay declared.
- `rewrite_table`: the table emptied (TRUNCATE), its key, unique constraints and indexes dropped, refilled by the
  caller, then those rebuilt in bulk under their own names, and its references checked in bulk.

Locks: the rewritten table is held in ACCESS EXCLUSIVE mode from the TRUNCATE to the commit (its readers wait for
the rest of the load); the referenced tables in SHARE mode from the check to the commit, which readers and other
DIAMANT loads do not wait for, and the referential's own loads do (a DIAMANT file is loaded against one state of
the referential). A table with triggers is refused (replica mode would skip them); one whose key
other tables reference cannot lose its key, and the DROP CONSTRAINT fails naming them.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg


class NotRewritable(Exception):
    """The table has something a rewrite would lose."""


class ReferenceMissing(Exception):
    """Rows written refer to rows that do not exist (what a foreign key would have refused)."""


@dataclass(frozen=True, slots=True)
class _ForeignKey:
    name: str
    columns: tuple[str, ...]
    referenced: str
    referenced_columns: tuple[str, ...]


def quoted(names: Iterable[str]) -> str:
    """Identifiers as a column list: `"a", "b"`."""
    return ", ".join(f'"{n}"' for n in names)


async def _foreign_keys(conn: asyncpg.Connection, table: str) -> list[_ForeignKey]:
    rows = await conn.fetch(
        """SELECT c.conname AS name, c.confrelid::regclass::text AS referenced,
                  array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i) AS columns,
                  array(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
                        JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i) AS refs
           FROM pg_constraint c WHERE c.conrelid = $1::regclass AND c.contype = 'f' ORDER BY c.conname""",
        table,
    )
    return [_ForeignKey(r["name"], tuple(r["columns"]), r["referenced"], tuple(r["refs"])) for r in rows]


async def _check_references(conn: asyncpg.Connection, table: str) -> None:
    for fk in await _foreign_keys(conn, table):
        # Until commit nothing may change the referenced table (its own loads wait; readers do not): no referenced
        # row can vanish between this check and the commit. Stronger than the row locks per-row checks take, and
        # one lock instead of one per referenced row (tens of thousands, each a write to the referential's pages).
        await conn.execute(f"LOCK TABLE {fk.referenced} IN SHARE MODE")
        used = " AND ".join(f'"{c}" IS NOT NULL' for c in fk.columns)
        pairs = " AND ".join(
            f'r."{r}" = u."{c}"' for c, r in zip(fk.columns, fk.referenced_columns, strict=True)
        )
        missing = await conn.fetch(
            f'SELECT {quoted(fk.columns)} FROM (SELECT DISTINCT {quoted(fk.columns)} FROM "{table}" WHERE {used}) u '
            f"WHERE NOT EXISTS (SELECT 1 FROM {fk.referenced} r WHERE {pairs}) LIMIT 5"
        )
        if missing:
            examples = ", ".join("/".join(str(v) for v in tuple(row)) for row in missing)
            raise ReferenceMissing(
                f"{table} ({', '.join(fk.columns)}) : valeurs absentes de {fk.referenced}, par exemple {examples} "
                f"(clé étrangère {fk.name})"
            )


async def _suspend_row_checks(conn: asyncpg.Connection) -> bool:
    """Suspend per-row foreign-key checks if this role may; whether it could."""
    try:
        async with conn.transaction():  # a savepoint: a refusal must not abort the caller's transaction
            await conn.execute("SET session_replication_role = replica")
    except asyncpg.InsufficientPrivilegeError:
        return False
    return True


@asynccontextmanager
async def references_checked_in_bulk(conn: asyncpg.Connection, table: str) -> AsyncIterator[None]:
    """Write to `table` inside; its foreign keys are checked once, when the block ends without error. (On error the
    setting goes with the caller's transaction, which must then roll back.)"""
    suspended = await _suspend_row_checks(conn)
    yield
    if suspended:
        await conn.execute("RESET session_replication_role")
        await _check_references(conn, table)


async def _refuse_what_would_be_lost(conn: asyncpg.Connection, table: str) -> None:
    if await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal)", table
    ):
        raise NotRewritable(f"la table {table} ne peut pas être réécrite en bloc : elle a des déclencheurs")


async def rewrite_table(conn: asyncpg.Connection, table: str, fill: Callable[[], Awaitable[object]]) -> None:
    """Empty `table`, let `fill()` write its new rows, rebuild its key, unique constraints and indexes, check its
    references. Call inside a transaction: until it commits nothing of this is visible, and a failure leaves the
    table as it was. Whatever must survive (rows of other years…) the caller copies aside before."""
    await _refuse_what_would_be_lost(conn, table)
    constraints = await conn.fetch(
        """SELECT conname AS name, pg_get_constraintdef(oid) AS definition FROM pg_constraint
           WHERE conrelid = $1::regclass AND contype IN ('p', 'u', 'x') ORDER BY contype, conname""",
        table,
    )
    indexes = await conn.fetch(
        """SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition
           FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
           WHERE i.indrelid = $1::regclass
             AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = i.indrelid AND k.conindid = i.indexrelid)
           ORDER BY c.relname""",
        table,
    )
    await conn.execute(f'TRUNCATE "{table}"')
    for constraint in constraints:
        await conn.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{constraint["name"]}"')
    for index in indexes:
        await conn.execute(f'DROP INDEX "{index["name"]}"')
    async with references_checked_in_bulk(conn, table):
        await fill()
    for constraint in constraints:
        await conn.execute(
            f'ALTER TABLE "{table}" ADD CONSTRAINT "{constraint["name"]}" {constraint["definition"]}'
        )
    for index in indexes:
        await conn.execute(index["definition"])
    # No ANALYZE here: autovacuum analyzes a table so rewritten within its next minute, and until then the planner
    # knows its size from its pages (an ANALYZE per table cost ~5% of a national batch).


def aside(table: str) -> str:
    """A name for a temporary copy of some of `table`'s rows."""
    return "relais_aside_" + hashlib.md5(table.encode()).hexdigest()[:16]  # a name, not a secret
