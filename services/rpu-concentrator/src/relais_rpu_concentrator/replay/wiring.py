"""The replay API as a lifespan resource of the concentrator's composition root."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from relais_platform.runtime import DatabaseHandle
from relais_rpu_concentrator.replay.settings import ReplayApiSettings

__all__ = ["ReplayApiSettings", "replay_api"]


def replay_api(settings: ReplayApiSettings, db: DatabaseHandle) -> AbstractAsyncContextManager[None]:
    """Called in the lifespan after the database resource (the pool is open by then); nothing when disabled."""

    @asynccontextmanager
    async def resource() -> AsyncIterator[None]:
        if not settings.enabled:
            yield
            return
        # Imported here: the replay domain stays free of HTTP and database imports.
        from relais_rpu_concentrator.adapters.http_replay_api import serve_replay_api
        from relais_rpu_concentrator.adapters.pg_accounts import PostgresAccounts
        from relais_rpu_concentrator.adapters.pg_replay import postgres_replays

        async with serve_replay_api(settings, postgres_replays(db.pool), PostgresAccounts(db.pool)):
            yield

    return resource()
