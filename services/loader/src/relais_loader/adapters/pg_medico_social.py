"""The Helios medico-social tables, recomputed by the loader from the DIAMANT source tables after the files that
changed them.

When. A file's transaction marks the derived tables its source feeds (`mark_derived`, table
diamant_medico_social_a_recalculer). The service then recomputes the marked tables once for the files it loaded
together (relais_loader.settling → `settle_in_parallel`), and forgets the marks it saw; `refresh_medico_social`
recomputes in the caller's own transaction instead (tests, one-file callers).

Why this shape. Five files feed four tables, and one (ET, year) of budget_et_finances_medico_social may need three of
them (ANN_ERRD_EJ_ET, ANN_PER_ERRD_EPRD → ANN_ERRD_EJ) or a fourth (ANN_CA_EJ_ET). The files arrive in any order
and any may be re-sent later, so no file can compute a derived row alone: each file replaces its own source table's
years (diamant_*, by pg_indicators), then the derived tables are recomputed from what the source tables now hold
(the SQL: pg_medico_social_sql). The result is a function of the source tables only, hence the same whatever the
arrival order; a replayed file is a no-op in the ledger and marks nothing.

Why whole tables. A national extract restates every ET's five years, so a recomputation after a weekly batch
rewrites nearly every derived row anyway; rewriting the table (pg_rewrite: filled by one INSERT … SELECT, then its
key and index built and its references checked in bulk) costs a fraction of upserting each row into the indexed,
foreign-keyed table (measured on 200k rows: 0.65 s against 2.5 s).

Why in parallel. On a national batch the recomputation is the last step before the files are announced, and one
connection does it on one core: ~4 s. `settle_in_parallel` computes the shared relations (ERRD and deposit rates,
~0.5 s each) at once on two connections into unlogged work tables, then rewrites the four derived tables at once.
Each derived table is rewritten in a transaction of its own that deletes only the marks seen when the recomputation
began: a file committed during it keeps its marks, and the next recomputation — which such a file always triggers —
brings every table to the same state of the source tables.

Concurrency: one recomputation at a time per derived table (an advisory lock per table, taken in one order), and one
parallel recomputation at a time (a session lock). Marks are only ever inserted by files and deleted by
recomputations, so a file's transaction never waits for a recomputation.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Sequence

import asyncpg

from relais_diamant import medico_social as rules
from relais_diamant.definitions_medico_social import (
    CA_TABLE,
    ERRD_EJ_TABLE,
    ERRD_ET_TABLE,
    PER_ERRD_TABLE,
    TDP_TABLE,
)
from relais_loader.adapters.pg_medico_social_sql import ET, INTERMEDIATE, NEEDS, insert_sql
from relais_loader.adapters.pg_rewrite import rewrite_table

# Which derived tables each source table feeds.
_FEEDS: dict[str, tuple[str, ...]] = {
    TDP_TABLE: (rules.ACTIVITE, rules.RESSOURCES_HUMAINES, rules.CPOM),
    ERRD_ET_TABLE: (rules.ACTIVITE, rules.BUDGET, rules.RESSOURCES_HUMAINES),
    CA_TABLE: (rules.ACTIVITE, rules.BUDGET, rules.RESSOURCES_HUMAINES),
    PER_ERRD_TABLE: (rules.BUDGET,),
    ERRD_EJ_TABLE: (rules.BUDGET,),
}
PENDING = "diamant_medico_social_a_recalculer"
# These statements sort and hash a few hundred thousand rows, which spill to disk at the default work_mem; JIT
# compilation cost more than it saved on them; and without statistics on the ranked deposits the planner merge-joined
# them, sorting every wide row again (hash joins: half the time).
_PLANNING = ("SET LOCAL work_mem = '64MB'", "SET LOCAL jit = off", "SET LOCAL enable_mergejoin = off")


def derived_from(table: str) -> tuple[str, ...]:
    """The derived tables a source table feeds (none for any other table)."""
    return _FEEDS.get(table, ())


async def lock_derived(conn: asyncpg.Connection, tables: Iterable[str]) -> None:
    """Hold the recomputation locks of `tables` until the end of the transaction (always taken in one order)."""
    for table in sorted(set(tables)):
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('diamant medico-social ' || $1))", table)


async def mark_derived(conn: asyncpg.Connection, derived: Iterable[str], source_table: str) -> None:
    """In the file's transaction: these derived tables must be recomputed."""
    await conn.execute(
        f"INSERT INTO {PENDING} (derived_table, source_table) SELECT unnest($1::text[]), $2",
        sorted(derived),
        source_table,
    )


async def pending_medico_social(conn: asyncpg.Connection) -> list[str]:
    """The derived tables marked by committed files (or by this transaction)."""
    found = {
        row["derived_table"] for row in await conn.fetch(f"SELECT DISTINCT derived_table FROM {PENDING}")
    }
    return [table for table in rules.COLUMNS if table in found]


def _ordered(tables: Iterable[str]) -> list[str]:
    wanted = set(tables)
    return [table for table in rules.COLUMNS if table in wanted]


async def _build(conn: asyncpg.Connection, name: str, into: str, kind: str) -> None:
    await conn.execute(f"DROP TABLE IF EXISTS {into}")
    await conn.execute(f"CREATE {kind} TABLE {into} AS {INTERMEDIATE[name]}")
    # Statistics on the join keys only: what the plans of the joins need, for a fraction of a full ANALYZE.
    await conn.execute(f"ANALYZE {into} (annee, {ET})")


async def _rewrite(conn: asyncpg.Connection, table: str, relation: dict[str, str]) -> None:
    async def fill() -> None:
        await conn.execute(insert_sql(table, relation.__getitem__))

    await rewrite_table(conn, table, fill)


async def settle_medico_social(conn: asyncpg.Connection, tables: Iterable[str] = rules.COLUMNS) -> list[str]:
    """Recompute the marked tables among `tables` in the current transaction, one after another, and forget their
    marks; returns the tables recomputed."""
    wanted = sorted(set(tables))
    await lock_derived(conn, wanted)
    marked = await conn.fetch(
        f"DELETE FROM {PENDING} WHERE derived_table = ANY($1::text[]) RETURNING derived_table", wanted
    )
    derived = _ordered(r["derived_table"] for r in marked)
    if not derived:
        return []
    for setting in _PLANNING:
        await conn.execute(setting)
    relation = {name: f"medico_social_{name}" for name in INTERMEDIATE}
    for name in sorted({n for table in derived for n in NEEDS[table]} & set(INTERMEDIATE)):
        await _build(conn, name, relation[name], "TEMP")
    for table in derived:
        await _rewrite(conn, table, relation)
    return derived


async def refresh_medico_social(conn: asyncpg.Connection) -> list[str]:
    """Recompute every marked derived table in the current transaction (tests, and one-file callers: such a caller
    takes the recomputation locks before writing its source table — `lock_derived` — or two of them loading at once
    could each wait for the other)."""
    return await settle_medico_social(conn)


async def settle_in_parallel(pool: asyncpg.Pool) -> list[str]:
    """Recompute every marked derived table (the service's way, after the files' transactions committed): the
    shared relations at once, then the derived tables at once, each on a connection of `pool`; returns the tables
    recomputed."""
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock(hashtext('diamant medico-social recomputation'))")
        try:
            marks = await conn.fetch(f"SELECT id, derived_table FROM {PENDING}")
            derived = _ordered(r["derived_table"] for r in marks)
            if not derived:
                return []
            run = uuid.uuid4().hex[:12]
            relation = {name: f"medico_social_{name}_{run}" for name in INTERMEDIATE}
            needed = sorted({n for table in derived for n in NEEDS[table]} & set(INTERMEDIATE))
            try:
                await asyncio.gather(*(_build_apart(pool, name, relation[name]) for name in needed))
                await asyncio.gather(
                    *(
                        _rewrite_apart(
                            pool, table, relation, [r["id"] for r in marks if r["derived_table"] == table]
                        )
                        for table in derived
                    )
                )
            finally:
                await conn.execute(f"DROP TABLE IF EXISTS {', '.join(relation.values())}")
            return derived
        finally:
            await conn.execute("SELECT pg_advisory_unlock(hashtext('diamant medico-social recomputation'))")


async def _build_apart(pool: asyncpg.Pool, name: str, into: str) -> None:
    """A shared relation in an unlogged work table: visible to the other connections once committed, never written
    to the WAL (it is rebuilt by any recomputation that needs it)."""
    async with pool.acquire() as conn, conn.transaction():
        for setting in _PLANNING:
            await conn.execute(setting)
        await _build(conn, name, into, "UNLOGGED")


async def _rewrite_apart(
    pool: asyncpg.Pool, table: str, relation: dict[str, str], marks: Sequence[int]
) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await lock_derived(conn, [table])
        for setting in _PLANNING:
            await conn.execute(setting)
        await _rewrite(conn, table, relation)
        await conn.execute(f"DELETE FROM {PENDING} WHERE id = ANY($1::bigint[])", list(marks))
