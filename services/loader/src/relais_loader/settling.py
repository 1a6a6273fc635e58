"""When the loader recomputes the derived medico-social tables, and announces the medico-social files: once for the
files loaded together, after the last of them.

A medico-social file's transaction only records the ETs it changed (pg_medico_social); the recomputation, which
rewrites the derived rows of those ETs (~200k rows per table for a national file), comes after. A national weekly
batch brings five medico-social files close together, and each recomputed on its own would rewrite the same rows
five times. So the handler of such a file returns once the file is committed (its consumer takes the next file at
once) and leaves the file here; the settler waits until no medico-social load is in flight and none began or ended
for `quiet_s` (at most `max_wait_s` after the first file left), recomputes once for all of them, then announces them
(`pipeline.file.loaded.v1`): a file is announced only once its derived rows are committed.

Nothing is lost if the loader stops in between: the ETs to recompute and the ledger's `announced` flag committed with
the file, and `recover()` settles and announces what is left at the next start. A failed recomputation or announcement
is retried until it succeeds (the database or the broker may be down for a while).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from relais_contracts import FileLoaded

log = logging.getLogger(__name__)


class Settling:
    def __init__(
        self,
        settle: Callable[[], Awaitable[None]],
        announce: Callable[[list[FileLoaded]], Awaitable[None]],
        *,
        quiet_s: float = 0.5,
        max_wait_s: float = 60.0,
        retry_s: float = 5.0,
    ) -> None:
        self._settle = settle
        self._announce = announce
        self._quiet_s, self._max_wait_s, self._retry_s = quiet_s, max_wait_s, retry_s
        self._loading = 0
        self._last_change = time.monotonic()
        self._left: list[FileLoaded] = []
        self._changed = asyncio.Event()

    def _touch(self) -> None:
        self._last_change = time.monotonic()
        self._changed.set()

    @asynccontextmanager
    async def loading(self) -> AsyncIterator[None]:
        """Around a medico-social file's transaction."""
        self._loading += 1
        self._touch()
        try:
            yield
        finally:
            self._loading -= 1
            self._touch()

    def leave(self, loaded: FileLoaded) -> None:
        """A medico-social file committed: announce it once its derived rows are."""
        self._left.append(loaded)
        self._touch()

    async def _linger(self) -> None:
        first = time.monotonic()
        while True:
            now = time.monotonic()
            waited, still = now - first, now - self._last_change
            if waited >= self._max_wait_s or (not self._loading and still >= self._quiet_s):
                return
            self._changed.clear()
            timeout = self._max_wait_s - waited
            if not self._loading:
                timeout = min(timeout, self._quiet_s - still)
            try:
                await asyncio.wait_for(self._changed.wait(), timeout)
            except TimeoutError:
                pass

    async def _settle_and_announce(self, files: list[FileLoaded]) -> None:
        while True:
            try:
                await self._settle()
                await self._announce(files)
                return
            except Exception:
                log.exception("medico-social recomputation or announcement failed, will retry")
                await asyncio.sleep(self._retry_s)

    async def run(self) -> None:
        """For the life of the service."""
        while True:
            await self._changed.wait()
            self._changed.clear()
            if not self._left:
                continue
            await self._linger()
            files, self._left = self._left, []
            await self._settle_and_announce(files)

    async def recover(self, unannounced: Callable[[], Awaitable[list[FileLoaded]]]) -> None:
        """At start: the files a stopped loader committed but did not announce. Listed before recomputing, so each
        was committed, with its ETs, before the recomputation reads them."""
        while True:
            try:
                files = await unannounced()
                break
            except Exception:
                log.exception("could not list the files left unannounced, will retry")
                await asyncio.sleep(self._retry_s)
        await self._settle_and_announce(files)
