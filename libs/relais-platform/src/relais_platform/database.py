"""PostgreSQL: the asyncpg pool lifecycle and versioned schema migrations (yoyo-migrations, plain SQL files)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from relais_platform.settings import DatabaseSettings

log = logging.getLogger(__name__)

DEFAULT_MIGRATIONS = Path("deploy/postgres/migrations")


@asynccontextmanager
async def database_pool(settings: DatabaseSettings) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(
        settings.database_url, min_size=1, max_size=settings.database_pool_max_size
    )
    try:
        yield pool
    finally:
        await pool.close()


def _yoyo_url(database_url: str) -> str:
    scheme, rest = database_url.split("://", 1)
    return f"postgresql+psycopg://{rest}" if scheme in {"postgres", "postgresql"} else database_url


def apply_migrations(database_url: str, migrations_dir: Path = DEFAULT_MIGRATIONS) -> list[str]:
    """Apply every pending migration in one lock; returns the ids applied (empty when already up to date)."""
    from yoyo import get_backend, read_migrations

    backend = get_backend(_yoyo_url(database_url))
    migrations = read_migrations(str(migrations_dir))
    with backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    applied = [m.id for m in pending]
    if applied:
        log.info("migrations applied", extra={"migrations": applied})
    return applied
