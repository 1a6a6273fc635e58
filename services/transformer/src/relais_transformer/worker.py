"""The transform worker process: a file in, its table blobs and quality report out.

Started by the service (`relais_platform.workers.WorkerPool`, `RELAIS_TRANSFORMER_WORKER_PROCESSES`), one file at a
time per worker: parsing and checking a DIAMANT file is Python work that holds its process's GIL, so files
transformed at once only use several cores when they are transformed in several processes. The service keeps the
Kafka consumer, reads the FINESS referential and publishes the outcome; a worker only reads the plaintext blob and
writes the table blobs (the same blob store, on the same disk).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from relais_platform.blobstore import FileSystemBlobStore
from relais_platform.logging import configure_logging
from relais_platform.workers import WorkerPool
from relais_transformer.adapters.diamant import DiamantTransform
from relais_transformer.adapters.dispatch import BySource
from relais_transformer.adapters.finess import FinessTransform
from relais_transformer.transform import TransformJob, Written, write_table_blobs

if TYPE_CHECKING:
    from relais_transformer.settings import TransformerSettings

ENTRY = "relais_transformer.worker:transform_worker"


@asynccontextmanager
async def transform_worker(
    settings: TransformerSettings,
) -> AsyncIterator[Callable[[TransformJob], Awaitable[Written]]]:
    configure_logging("transformer", settings.telemetry.relais_log_level)
    transform = BySource(DiamantTransform(), FinessTransform())
    blobs = FileSystemBlobStore(settings.storage.blobs)

    async def run(job: TransformJob) -> Written:  # the pool pauses the cyclic collector around each job
        return write_table_blobs(transform, blobs, job)

    yield run


class WorkerTransform:
    """`TransformFile`'s runner in the pool's worker processes."""

    def __init__(self, pool: WorkerPool) -> None:
        self._pool = pool

    async def __call__(self, job: TransformJob) -> Written:
        written: Written = await self._pool.run(job)
        return written
