"""Composition of one service process: settings → logging → tracing → broker → lifespan resources → app.

Nothing connects at import time: `Service` only builds objects; connections open in the FastStream lifespan and
close on shutdown (SIGTERM / SIGINT, with a graceful wait for in-flight handlers).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any

import asyncpg
from faststream import FastStream
from faststream.kafka import KafkaBroker, KafkaRouter
from opentelemetry.trace import Tracer

from relais_contracts import Event
from relais_platform.blobstore import FileSystemBlobStore
from relais_platform.broker import INFRASTRUCTURE_ERRORS, make_broker
from relais_platform.database import database_pool
from relais_platform.heartbeat import Probe, run_heartbeat
from relais_platform.logging import configure_logging
from relais_platform.settings import PlatformSettings
from relais_platform.stage import In, Outcome, Outputs, Route, Stage, StageSpec
from relais_platform.telemetry import setup_tracing
from relais_platform.topics import ensure_topics

Resource = Callable[[], AbstractAsyncContextManager[Any]]

log = logging.getLogger(__name__)

STARTUP_MAX_BACKOFF_S = 10.0


async def until_reachable(what: str, attempt: Callable[[], Awaitable[object]]) -> None:
    """Retry `attempt` with a capped backoff until the infrastructure answers.

    A service started while Kafka or PostgreSQL is down (a host reboot, `docker compose up` in any order, a broker
    restart) waits for it instead of exiting; SIGTERM still stops it, since the wait is a plain sleep."""
    delay = 0.5
    while True:
        try:
            await attempt()
            return
        except INFRASTRUCTURE_ERRORS as error:
            log.warning("%s unreachable, retrying in %.1f s", what, delay, extra={"error": repr(error)})
            await asyncio.sleep(delay)
            delay = min(delay * 2, STARTUP_MAX_BACKOFF_S)


class DatabaseHandle:
    """The service's asyncpg pool, available once the lifespan has opened it."""

    def __init__(self) -> None:
        self._pool: asyncpg.Pool | None = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("the database pool is opened in the service lifespan; it is not open now")
        return self._pool


class Service:
    def __init__(self, name: str, settings: PlatformSettings) -> None:
        self.name = name
        self.settings = settings
        configure_logging(name, settings.telemetry.relais_log_level)
        self.tracer_provider = setup_tracing(name, settings)
        self.tracer: Tracer = self.tracer_provider.get_tracer(f"relais.{name}")
        self.broker: KafkaBroker = make_broker(
            settings.kafka, self.tracer_provider, client_id=f"relais-{name}"
        )
        # Every topic through one router carrying the namespace prefix: no service prefixes a topic by hand.
        self.router = KafkaRouter(prefix=settings.kafka.namespace)
        self.broker.include_router(self.router)
        self.blobs = FileSystemBlobStore(settings.storage.blobs)
        self._resources: list[Resource] = []
        self._background: list[Callable[[], Coroutine[Any, Any, None]]] = []
        self._probes: dict[str, Probe] = {"kafka": self._kafka_ok}
        self._tasks: list[asyncio.Task[None]] = []

    async def _kafka_ok(self) -> bool:
        return await self.broker.ping(timeout=2.0)

    def use_database(self) -> DatabaseHandle:
        handle = DatabaseHandle()

        @asynccontextmanager
        async def open_pool() -> AsyncIterator[None]:
            async def reachable() -> None:
                conn = await asyncpg.connect(self.settings.database.database_url, timeout=5)
                await conn.close()

            await until_reachable("PostgreSQL", reachable)
            async with database_pool(self.settings.database) as pool:
                handle._pool = pool
                yield
                handle._pool = None

        async def database_ok() -> bool:
            return bool(await handle.pool.fetchval("SELECT 1"))

        self._resources.append(open_pool)
        self._probes["postgres"] = database_ok
        return handle

    def stage(self, spec: StageSpec[In], use_case: Callable[[In], Awaitable[Outcome]]) -> Stage[In]:
        """Consume `spec.consumes`, run `use_case` on each event, publish what it returns (relais_platform.stage)."""
        return Stage(self.router, self.settings.kafka, spec, use_case)

    def outputs(self, routes: dict[type[Event], Route]) -> Outputs:
        """Publishers for a service that publishes without consuming (a poller)."""
        return Outputs(self.router, routes, source=self.name)

    def add_resource(self, resource: Resource) -> None:
        self._resources.append(resource)

    def add_background(self, task: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """A coroutine run for the life of the process (pollers, schedulers); cancelled on shutdown."""
        self._background.append(task)

    @asynccontextmanager
    async def _lifespan(self) -> AsyncIterator[None]:
        kafka = self.settings.kafka
        await until_reachable("Kafka", lambda: ensure_topics(kafka.bootstrap_servers, kafka.all_topics()))
        # Connected before the resources start, not after them as FastStream would: a resource may publish as soon
        # as it runs (the RPU intake announces a file the moment an establishment has pushed it; an unconnected
        # broker's producer could not even serialise the event).
        await self.broker.connect()
        async with AsyncExitStack() as stack:
            for resource in self._resources:
                await stack.enter_async_context(resource())
            try:
                yield
            finally:
                self.tracer_provider.shutdown()

    async def _start_background(self) -> None:
        # After the broker started: pollers may publish from their first iteration.
        jobs = [*self._background, self._heartbeat]
        self._tasks = [asyncio.create_task(job()) for job in jobs]

    async def _heartbeat(self) -> None:
        await run_heartbeat(self.settings.storage.run_dir, self.name, self._probes)

    async def _stop_background(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def app(self) -> FastStream:
        app = FastStream(self.broker, lifespan=self._lifespan)
        app.after_startup(self._start_background)
        app.on_shutdown(self._stop_background)
        return app


def run(app: FastStream) -> None:
    asyncio.run(app.run())
