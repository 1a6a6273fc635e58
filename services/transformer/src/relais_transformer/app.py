"""Composition root of the transformer."""

from __future__ import annotations

import logging

from faststream import FastStream

from relais_contracts import FileDecrypted, FileTransformed, Topic
from relais_platform.runtime import Service, run
from relais_transformer.adapters.diamant import DiamantTransform
from relais_transformer.adapters.dispatch import BySource
from relais_transformer.adapters.finess import FinessTransform
from relais_transformer.adapters.pg_referential import PostgresReferential
from relais_transformer.settings import TransformerSettings
from relais_transformer.transform import TransformFile

log = logging.getLogger(__name__)


def create_app(settings: TransformerSettings | None = None) -> FastStream:
    settings = settings or TransformerSettings()
    service = Service("transformer", settings)
    db = service.use_database()
    transform = TransformFile(
        BySource(DiamantTransform(), FinessTransform()),
        PostgresReferential(db),
        service.blobs,
        settings.reference_year,
    )
    broker, kafka = service.broker, settings.kafka

    @broker.subscriber(
        kafka.topic(Topic.FILE_DECRYPTED),
        group_id=kafka.group("transformer"),
        auto_offset_reset="earliest",
    )
    async def on_file_decrypted(event: FileDecrypted) -> None:
        outcome = await transform(event)
        key = event.file_name.encode()
        if isinstance(outcome, FileTransformed):
            await broker.publish(outcome, kafka.topic(Topic.FILE_TRANSFORMED), key=key)
            log.info("file transformed", extra={"file": event.file_name, "rows": outcome.row_count})
        else:
            await broker.publish(outcome, kafka.topic(Topic.FILE_REJECTED), key=key)
            log.error("file rejected", extra={"file": event.file_name, "reason": outcome.reason})

    return service.app()


def main() -> None:
    run(create_app())
