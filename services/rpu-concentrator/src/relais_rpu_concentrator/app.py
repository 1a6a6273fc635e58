"""Composition root of the RPU concentrator.

It joins the platform (broker, database, tracing, health), runs the SFTP intake where establishments push their
RPU files, and integrates every received file into the regional database (consumer group
`relais-rpu-concentrator` on rpu.file.received.v1, at-least-once; effects idempotent on file_id).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

from faststream import AckPolicy, FastStream
from opentelemetry import trace

from relais_contracts import RpuFileReceived, Topic
from relais_platform.runtime import Service, run
from relais_platform.workers import WorkerPool, running
from relais_rpu_concentrator.adapters.fs_receipts import FileSystemReceipts
from relais_rpu_concentrator.adapters.kafka_integration import KafkaIntegrationEvents
from relais_rpu_concentrator.adapters.kafka_receipts import KafkaReceiptPublisher
from relais_rpu_concentrator.adapters.pg_accounts import PostgresAccounts
from relais_rpu_concentrator.adapters.pg_exports import (
    PostgresDailyCounts,
    PostgresExportSource,
    record_trace_parent,
)
from relais_rpu_concentrator.adapters.pg_passages import PostgresPassageStore
from relais_rpu_concentrator.adapters.pg_replay import postgres_replays
from relais_rpu_concentrator.intake.reception import FileReception
from relais_rpu_concentrator.intake.server import intake_server
from relais_rpu_concentrator.integration.use_case import FileSettlement, RpuIntegration, Settlement
from relais_rpu_concentrator.integration.worker import ENTRY, WorkerSettlement
from relais_rpu_concentrator.outbound.adapters.kafka_alerts import KafkaAlertEvents
from relais_rpu_concentrator.outbound.jobs import add_outbound_jobs
from relais_rpu_concentrator.outbound.tracing import trace_parent_of
from relais_rpu_concentrator.replay.wiring import ReplayApiSettings, replay_api
from relais_rpu_concentrator.settings import ConcentratorSettings


def create_app(settings: ConcentratorSettings | None = None) -> FastStream:
    settings = settings or ConcentratorSettings()
    service = Service("rpu-concentrator", settings)
    db = service.use_database()
    broker, kafka = service.broker, settings.kafka
    reception = FileReception(
        intake_root=settings.intake.root,
        blobs=service.blobs,
        sink=KafkaReceiptPublisher(broker, kafka),
    )

    def intake() -> AbstractAsyncContextManager[Any]:
        # Called in the lifespan, after the database resource: the pool is open by then.
        return intake_server(settings.intake, PostgresAccounts(db.pool), reception)

    service.add_resource(intake)
    service.add_resource(lambda: replay_api(ReplayApiSettings(), db))  # the ARS replay API, when enabled
    workers: WorkerPool | None = None
    if settings.integration.worker_processes:
        workers = WorkerPool(
            ENTRY, settings, size=settings.integration.worker_processes, name="rpu-integration"
        )
        service.add_resource(lambda: running(workers))
    receipts = FileSystemReceipts(settings.intake.root)
    integration_events = KafkaIntegrationEvents(broker, kafka)

    def settlement() -> Settlement:
        if workers is not None:
            return WorkerSettlement(workers)
        return FileSettlement(
            store=PostgresPassageStore(db.pool),
            blobs=service.blobs,
            batch_size=settings.integration.batch_size,
            max_window_days=settings.integration.max_window_days,
        )

    @broker.subscriber(
        kafka.topic(Topic.RPU_FILE_RECEIVED),
        group_id=kafka.group("rpu-concentrator"),
        auto_offset_reset="earliest",
        # One consumer per worker in the group, each committing its partitions' offsets after the handler: still
        # at-least-once and in order per establishment (AckPolicy explicit, or faststream would ack first).
        max_workers=settings.integration.concurrent_files,
        ack_policy=AckPolicy.NACK_ON_ERROR,
    )
    async def on_rpu_file_received(event: RpuFileReceived) -> None:
        integration = RpuIntegration(settlement=settlement(), receipts=receipts, events=integration_events)
        await integration.integrate(event)
        # The file's trace, for the deliveries and alerts that will concern it (outbound/tracing.py).
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            await record_trace_parent(db.pool, event.finess, event.file_id, trace_parent_of(span))

    outbound = settings.outbound
    add_outbound_jobs(
        service,
        db,
        outbound,
        export_source=PostgresExportSource(lambda: db.pool) if outbound.spf.enabled else None,
        daily_counts=PostgresDailyCounts(lambda: db.pool) if outbound.alert.enabled else None,
        regional_passages=PostgresExportSource(lambda: db.pool) if outbound.atih.enabled else None,
        ars_export=outbound.ars.enabled,
        alert_events=KafkaAlertEvents(broker, kafka),
        replays=postgres_replays,
    )

    app: FastStream = service.app()
    return app


def main() -> None:
    run(create_app())
