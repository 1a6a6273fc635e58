"""Composition root of the loader: transformed files in, one transaction each, FileLoaded out."""

from __future__ import annotations

import json
import logging
from contextlib import nullcontext

from faststream import AckPolicy, FastStream

from relais_contracts import FileLoaded, FileTransformed, Topic
from relais_diamant.definitions_medico_social import MEDICO_SOCIAL
from relais_loader.adapters.pg_indicators import TableFile, load_file, mark_announced, unannounced_files
from relais_loader.adapters.pg_medico_social import settle_in_parallel
from relais_loader.settings import LoaderSettings
from relais_loader.settling import Settling
from relais_platform.runtime import Service, run

log = logging.getLogger(__name__)

_MEDICO_SOCIAL_SOURCES = frozenset(definition.source.value for definition in MEDICO_SOCIAL)


def _reference_year(event: FileTransformed) -> int | None:
    """DIAMANT's N, which the transformer records in the quality report of every DIAMANT file."""
    year = event.quality_report.get("reference_year")
    return year if isinstance(year, int) else None


def create_app(settings: LoaderSettings | None = None) -> FastStream:
    settings = settings or LoaderSettings()
    service = Service("loader", settings)
    db = service.use_database()
    broker, kafka = service.broker, settings.kafka

    async def settle() -> None:
        """The derived medico-social tables marked by committed files."""
        with service.tracer.start_as_current_span("settle medico-social") as span:
            span.set_attribute("relais.derived_tables", await settle_in_parallel(db.pool))

    async def announce(files: list[FileLoaded]) -> None:
        for loaded in files:
            await publish_loaded(loaded)
        async with db.pool.acquire() as conn:
            await mark_announced(conn, [loaded.file_id for loaded in files])

    async def publish_loaded(loaded: FileLoaded) -> None:
        await broker.publish(loaded, kafka.topic(Topic.FILE_LOADED), key=loaded.file_name.encode())
        log.info(
            "file loaded",
            extra={"file": loaded.file_name, "outcome": loaded.outcome, "rows": loaded.rows_written},
        )

    async def unannounced() -> list[FileLoaded]:
        async with db.pool.acquire() as conn:
            rows = await unannounced_files(conn)
        return [
            FileLoaded(
                file_name=r["file_name"],
                file_id=r["file_id"],
                source=r["source"],
                rows_written=r["rows_written"],
                outcome=r["outcome"],
            )
            for r in rows
        ]

    settling = Settling(settle, announce)

    async def settle_forever() -> None:
        await settling.recover(
            unannounced
        )  # what a stopped loader committed but did not recompute or announce
        await settling.run()

    service.add_background(settle_forever)

    @broker.subscriber(
        kafka.topic(Topic.FILE_TRANSFORMED),
        group_id=kafka.group("loader"),
        auto_offset_reset="earliest",
        # Files load at once, one per consumer (each committing its partitions' offsets after the handler): most of a
        # load is PostgreSQL's work, which then uses more than one core.
        max_workers=settings.concurrent_files,
        ack_policy=AckPolicy.NACK_ON_ERROR,
    )
    async def on_file_transformed(event: FileTransformed) -> None:
        medico_social = event.source in _MEDICO_SOCIAL_SOURCES
        tables = [TableFile(t.table, service.blobs.path(t.blob), t.mode) for t in event.tables]
        async with settling.loading() if medico_social else nullcontext():
            async with db.pool.acquire() as conn, conn.transaction():
                outcome, written = await load_file(
                    conn,
                    file_id=event.file_id,
                    source=event.source or event.file_name,
                    file_name=event.file_name,
                    extraction_date=event.extraction_date,
                    tables=tables,
                    years=event.years,
                    quality_report=json.dumps(event.quality_report, default=str),
                    reference_year=_reference_year(event),
                    settle_medico_social=False,
                )
        loaded = FileLoaded(
            file_name=event.file_name,
            file_id=event.file_id,
            source=event.source,
            rows_written=written,
            outcome=outcome,
        )
        if medico_social:  # announced by the settler once its derived rows are committed
            settling.leave(loaded)
        else:
            await publish_loaded(loaded)

    return service.app()


def main() -> None:
    run(create_app())
