"""Composition root of the loader: transformed files in, one transaction each, FileLoaded out."""

from __future__ import annotations

import json
import logging

from faststream import FastStream

from relais_contracts import FileLoaded, FileTransformed, Topic
from relais_contracts.rows import read_rows
from relais_loader.adapters.pg_indicators import load_file
from relais_loader.settings import LoaderSettings
from relais_platform.runtime import Service, run

log = logging.getLogger(__name__)


def _reference_year(event: FileTransformed) -> int | None:
    """DIAMANT's N, which the transformer records in the quality report of every DIAMANT file."""
    year = event.quality_report.get("reference_year")
    return year if isinstance(year, int) else None


def create_app(settings: LoaderSettings | None = None) -> FastStream:
    settings = settings or LoaderSettings()
    service = Service("loader", settings)
    db = service.use_database()
    broker, kafka = service.broker, settings.kafka

    @broker.subscriber(
        kafka.topic(Topic.FILE_TRANSFORMED),
        group_id=kafka.group("loader"),
        auto_offset_reset="earliest",
    )
    async def on_file_transformed(event: FileTransformed) -> None:
        with service.blobs.open(event.rows) as rows:
            async with db.pool.acquire() as conn, conn.transaction():
                outcome, written = await load_file(
                    conn,
                    file_id=event.file_id,
                    source=event.source or event.file_name,
                    file_name=event.file_name,
                    extraction_date=event.extraction_date,
                    rows=read_rows(rows),
                    quality_report=json.dumps(event.quality_report, default=str),
                    reference_year=_reference_year(event),
                )
        loaded = FileLoaded(
            file_name=event.file_name,
            file_id=event.file_id,
            source=event.source,
            rows_written=written,
            outcome=outcome,
        )
        await broker.publish(loaded, kafka.topic(Topic.FILE_LOADED), key=event.file_name.encode())
        log.info("file loaded", extra={"file": event.file_name, "outcome": outcome, "rows": written})

    return service.app()


def main() -> None:
    run(create_app())
