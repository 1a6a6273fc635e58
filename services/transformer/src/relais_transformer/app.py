"""Composition root of the transformer."""

from __future__ import annotations

import logging

from faststream import AckPolicy, FastStream

from relais_contracts import FileDecrypted, FileTransformed, Topic
from relais_platform.runtime import Service, run
from relais_platform.topics import PARTITIONS
from relais_platform.workers import WorkerPool, running
from relais_transformer.adapters.diamant import DiamantTransform
from relais_transformer.adapters.dispatch import BySource
from relais_transformer.adapters.finess import FinessTransform
from relais_transformer.adapters.pg_referential import PostgresReferential
from relais_transformer.partitions import InTurn
from relais_transformer.settings import TransformerSettings
from relais_transformer.transform import Runner, TransformFile
from relais_transformer.worker import ENTRY, WorkerTransform

log = logging.getLogger(__name__)


def create_app(settings: TransformerSettings | None = None) -> FastStream:
    settings = settings or TransformerSettings()
    service = Service("transformer", settings)
    db = service.use_database()
    runner: Runner | None = None
    if settings.worker_processes:
        workers = WorkerPool(ENTRY, settings, size=settings.worker_processes, name="transformer")
        service.add_resource(lambda: running(workers))
        runner = WorkerTransform(workers)
    transform = TransformFile(
        BySource(DiamantTransform(), FinessTransform()),
        PostgresReferential(db),
        service.blobs,
        settings.reference_year,
        runner,
    )
    broker, kafka = service.broker, settings.kafka
    next_partition = InTurn(PARTITIONS)

    @broker.subscriber(
        kafka.topic(Topic.FILE_DECRYPTED),
        group_id=kafka.group("transformer"),
        auto_offset_reset="earliest",
        # One consumer per file at once, each committing its partitions' offsets after the handler: still
        # at-least-once (AckPolicy explicit, or faststream would ack first).
        max_workers=settings.concurrent_files,
        ack_policy=AckPolicy.NACK_ON_ERROR,
    )
    async def on_file_decrypted(event: FileDecrypted) -> None:
        outcome = await transform(event)
        key = event.file_name.encode()
        if isinstance(outcome, FileTransformed):
            await broker.publish(
                outcome, kafka.topic(Topic.FILE_TRANSFORMED), key=key, partition=next_partition()
            )
            log.info("file transformed", extra={"file": event.file_name, "rows": outcome.row_count})
        else:
            await broker.publish(outcome, kafka.topic(Topic.FILE_REJECTED), key=key)
            log.error("file rejected", extra={"file": event.file_name, "reason": outcome.reason})

    return service.app()


def main() -> None:
    run(create_app())
