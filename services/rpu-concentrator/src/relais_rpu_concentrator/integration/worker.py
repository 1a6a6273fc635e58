"""The integration worker process: `FileSettlement` with its own database pool and blob store.

Started by the service (`relais_platform.workers.WorkerPool`, `RELAIS_RPU_INTEGRATION_WORKER_PROCESSES`), one file at
a time per worker: reading and checking a file is Python work that holds its process's GIL, so files integrated at
once only use several cores when they are read in several processes. The service keeps the Kafka consumer, the
receipts and the outcome events; a worker only settles the file in the database and returns the ledger row.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from relais_contracts import RpuFileReceived
from relais_platform.blobstore import FileSystemBlobStore
from relais_platform.database import database_pool
from relais_platform.logging import configure_logging
from relais_platform.workers import WorkerPool
from relais_rpu_concentrator.adapters.pg_passages import PostgresPassageStore
from relais_rpu_concentrator.integration.use_case import FileSettlement, Settled

if TYPE_CHECKING:
    from relais_rpu_concentrator.settings import ConcentratorSettings

ENTRY = "relais_rpu_concentrator.integration.worker:settlement_worker"


@asynccontextmanager
async def settlement_worker(
    settings: ConcentratorSettings,
) -> AsyncIterator[Callable[[RpuFileReceived], Awaitable[Settled]]]:
    configure_logging("rpu-concentrator", settings.telemetry.relais_log_level)
    async with database_pool(settings.database) as pool:
        settlement = FileSettlement(
            store=PostgresPassageStore(pool),
            blobs=FileSystemBlobStore(settings.storage.blobs),
            batch_size=settings.integration.batch_size,
            max_window_days=settings.integration.max_window_days,
        )
        yield settlement.settle


class WorkerSettlement:
    """`Settlement` run in the pool's worker processes."""

    def __init__(self, pool: WorkerPool) -> None:
        self._pool = pool

    async def settle(self, event: RpuFileReceived) -> Settled:
        settled: Settled = await self._pool.run(event)
        return settled
