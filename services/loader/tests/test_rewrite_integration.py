"""A table rewritten in bulk on the real PostgreSQL keeps everything it had — key, indexes, constraints under their
own names, storage parameters, privileges — and holds what the fill wrote; its references are checked in bulk as a
foreign key would check them (a missing one fails the load, naming it; the rows referenced are locked until commit);
a failed rewrite leaves the table as it was; a table with triggers is refused."""

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from relais_loader.adapters import pg_rewrite
from relais_loader.adapters.pg_rewrite import NotRewritable, ReferenceMissing, rewrite_table

pytestmark = pytest.mark.integration

SHAPE = """
    SELECT
      (SELECT array_agg(indexdef ORDER BY indexname) FROM pg_indexes WHERE tablename = $1),
      (SELECT array_agg(conname || ' ' || pg_get_constraintdef(oid) ORDER BY conname)
         FROM pg_constraint WHERE conrelid = $1::regclass),
      (SELECT reloptions FROM pg_class WHERE oid = $1::regclass),
      (SELECT array_agg(grantee || ' ' || privilege_type ORDER BY grantee, privilege_type)
         FROM information_schema.role_table_grants WHERE table_name = $1 AND grantee = 'PUBLIC')"""


@pytest.fixture
async def conn(database_url: str, unique: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url)
    await connection.execute(f"""
        CREATE TABLE parent_{unique} (code text PRIMARY KEY);
        INSERT INTO parent_{unique} VALUES ('a'), ('b');
        CREATE TABLE rewritten_{unique} (
            annee integer NOT NULL CHECK (annee > 2000),
            code text NOT NULL REFERENCES parent_{unique} (code),
            label text DEFAULT 'none',
            rank integer UNIQUE,
            PRIMARY KEY (annee, code)
        ) WITH (fillfactor = 70);
        CREATE INDEX rewritten_{unique}_by_code ON rewritten_{unique} (code) WHERE label IS NOT NULL;
        GRANT SELECT ON rewritten_{unique} TO PUBLIC;
        INSERT INTO rewritten_{unique} VALUES (2020, 'a', 'old', 1);""")  # fmt: skip
    try:
        yield connection
    finally:
        await connection.execute(f"DROP TABLE IF EXISTS rewritten_{unique}; DROP TABLE parent_{unique}")
        await connection.close()


async def test_a_rewritten_table_keeps_its_indexes_constraints_options_and_grants(
    conn: asyncpg.Connection, unique: str
) -> None:
    table = f"rewritten_{unique}"
    before = await conn.fetchrow(SHAPE, table)
    assert before[0] and len(before[1]) == 4

    async def fill() -> None:
        await conn.execute(f"INSERT INTO {table} (annee, code, rank) VALUES (2024, 'b', 2), (2025, 'a', 3)")

    async with conn.transaction():
        await rewrite_table(conn, table, fill)
    assert tuple(await conn.fetchrow(SHAPE, table)) == tuple(before)
    rows = await conn.fetch(f"SELECT annee, code, label, rank FROM {table} ORDER BY 1")
    assert [tuple(r) for r in rows] == [(2024, "b", "none", 2), (2025, "a", "none", 3)]
    # The constraints hold afterwards: a duplicate key and an unknown code are refused row by row again.
    with pytest.raises(asyncpg.UniqueViolationError):
        await conn.execute(f"INSERT INTO {table} (annee, code) VALUES (2024, 'b')")
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await conn.execute(f"INSERT INTO {table} (annee, code) VALUES (2026, 'z')")


async def test_a_missing_reference_fails_the_rewrite_naming_it_and_leaves_the_table_as_it_was(
    conn: asyncpg.Connection, unique: str
) -> None:
    table = f"rewritten_{unique}"

    async def fill() -> None:
        await conn.execute(
            f"INSERT INTO {table} (annee, code) VALUES (2024, 'z'), (2024, 'a')"
        )  # no parent 'z'

    with pytest.raises((ReferenceMissing, asyncpg.ForeignKeyViolationError), match="z"):
        async with conn.transaction():
            await rewrite_table(conn, table, fill)
    assert [tuple(r) for r in await conn.fetch(f"SELECT annee, code FROM {table}")] == [(2020, "a")]


async def test_without_the_privilege_the_rows_are_checked_one_by_one(
    conn: asyncpg.Connection, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refused(_: asyncpg.Connection) -> bool:
        return False

    monkeypatch.setattr(pg_rewrite, "_suspend_row_checks", refused)
    table = f"rewritten_{unique}"

    async def fill() -> None:
        await conn.execute(f"INSERT INTO {table} (annee, code) VALUES (2024, 'z')")

    with pytest.raises(asyncpg.ForeignKeyViolationError):
        async with conn.transaction():
            await rewrite_table(conn, table, fill)


async def test_the_rows_referenced_stay_locked_until_the_rewrite_commits(
    conn: asyncpg.Connection, database_url: str, unique: str
) -> None:
    """What the per-row checks guarantee, the bulk check does too: a referenced row cannot vanish before commit
    (the referenced table's writers wait; its readers do not)."""
    table = f"rewritten_{unique}"
    other = await asyncpg.connect(database_url)
    try:

        async def fill() -> None:
            await conn.execute(f"INSERT INTO {table} (annee, code) VALUES (2024, 'b')")

        transaction = conn.transaction()
        await transaction.start()
        await rewrite_table(conn, table, fill)
        assert await other.fetchval(f"SELECT count(*) FROM parent_{unique}") == 2
        deleting = asyncio.create_task(other.execute(f"DELETE FROM parent_{unique} WHERE code = 'b'"))
        await asyncio.sleep(0.3)
        assert not deleting.done()  # waits for the rewrite's lock
        await transaction.commit()
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await deleting
    finally:
        await other.close()


async def test_a_table_with_a_trigger_is_refused(conn: asyncpg.Connection, unique: str) -> None:
    table = f"rewritten_{unique}"
    await conn.execute(f"""
        CREATE FUNCTION noop_{unique}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
        CREATE TRIGGER t_{unique} BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION noop_{unique}()""")

    async def fill() -> None:
        raise AssertionError("never filled")

    try:
        with pytest.raises(NotRewritable, match="déclencheurs"):
            async with conn.transaction():
                await rewrite_table(conn, table, fill)
    finally:
        await conn.execute(f"DROP TRIGGER t_{unique} ON {table}; DROP FUNCTION noop_{unique}()")
