"""The replay API as a lifespan resource of the concentrator's composition root."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress

from relais_platform.runtime import DatabaseHandle
from relais_rpu_concentrator.replay.replays import keep_progressing
from relais_rpu_concentrator.replay.settings import ReplayApiSettings

__all__ = ["ReplayApiSettings", "replay_api"]


def replay_api(settings: ReplayApiSettings, db: DatabaseHandle) -> AbstractAsyncContextManager[None]:
    """Called in the lifespan after the database resource (the pool is open by then). Open requests progress
    every `progress_interval_s` in any case; the HTTP API is served only when enabled."""

    @asynccontextmanager
    async def resource() -> AsyncIterator[None]:
        # Imported here: the replay domain stays free of HTTP and database imports.
        from relais_rpu_concentrator.adapters.pg_replay import postgres_replays

        replays = postgres_replays(db.pool)
        progressing = asyncio.create_task(keep_progressing(replays, settings.progress_interval_s))
        try:
            if not settings.enabled:
                yield
                return
            from relais_rpu_concentrator.adapters.http_replay_api import serve_replay_api
            from relais_rpu_concentrator.adapters.pg_accounts import PostgresAccounts

            async with serve_replay_api(settings, replays, PostgresAccounts(db.pool)):
                yield
        finally:
            progressing.cancel()
            with suppress(asyncio.CancelledError):
                await progressing

    return resource()
