import asyncpg

from relais_platform.database import apply_migrations
from relais_testing.infra import ROOT


async def test_migrations_are_versioned_and_applied_once(database_url: str) -> None:
    # The session fixture already applied everything: a second run has nothing to do.
    assert apply_migrations(database_url, ROOT / "deploy" / "postgres" / "migrations") == []
    conn = await asyncpg.connect(database_url)
    try:
        applied = await conn.fetchval("SELECT count(*) FROM _yoyo_migration")
        assert applied >= 1
        assert await conn.fetchval("SELECT to_regclass('fetched_file') IS NOT NULL")
    finally:
        await conn.close()
