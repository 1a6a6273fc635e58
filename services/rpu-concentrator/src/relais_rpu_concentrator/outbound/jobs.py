"""The outbound daily jobs, ready for the composition root: `add_outbound_jobs(service, db, settings, ...)`.

Each job is a background coroutine of the service (started after the broker, cancelled on shutdown). At start the
SPF job first resumes whatever a previous process left planned or sending, then runs every day at its hour (and
at once when that hour has passed today); the absence check likewise. The sources of data the passages table
provides are passed in: without them the corresponding job is not started.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import asyncpg
from opentelemetry.trace import Tracer

from relais_platform.blobstore import BlobStore
from relais_rpu.geo import PmsiGeoCodes
from relais_rpu_concentrator.outbound.adapters.pg_alerts import PostgresAlertLedger
from relais_rpu_concentrator.outbound.adapters.pg_deliveries import PostgresDeliveryLedger
from relais_rpu_concentrator.outbound.adapters.pg_establishments import PostgresActiveEstablishments
from relais_rpu_concentrator.outbound.alerting import AbsenceCheck
from relais_rpu_concentrator.outbound.atih_export import AtihMonthlyExport
from relais_rpu_concentrator.outbound.delivery import ExportDelivery
from relais_rpu_concentrator.outbound.ports import DailyCounts, ExportSource, Notifier, RegionalPassages
from relais_rpu_concentrator.outbound.schedule import run_daily
from relais_rpu_concentrator.outbound.settings import OutboundSettings, SpfDeliverySettings
from relais_rpu_concentrator.outbound.spf_export import SpfDailyExport
from relais_rpu_concentrator.outbound.wiring import alert_notifiers, spf_destination
from relais_rpu_concentrator.replay.ports import ReplayLedger

log = logging.getLogger(__name__)


class HostService(Protocol):
    """What the jobs need of relais_platform.runtime.Service."""

    blobs: BlobStore
    tracer: Tracer

    def add_background(self, task: Callable[[], Coroutine[Any, Any, None]]) -> None: ...


class PoolHandle(Protocol):
    """relais_platform.runtime.DatabaseHandle: the pool, open once the lifespan has started."""

    @property
    def pool(self) -> asyncpg.Pool: ...


def add_outbound_jobs(
    service: HostService,
    db: PoolHandle,
    settings: OutboundSettings,
    *,
    export_source: ExportSource | None = None,
    daily_counts: DailyCounts | None = None,
    regional_passages: RegionalPassages | None = None,
    ars_export: bool = False,
    alert_events: Notifier | None = None,
    replays: Callable[[asyncpg.Pool], ReplayLedger] | None = None,
) -> None:
    """`regional_passages` starts the monthly ATIH job, `ars_export` the daily ARS job (both read PostgreSQL);
    `alert_events` is one more alert channel (the Kafka event), beside the configured mail and webhook;
    `replays` (given the open pool) lets each daily SPF export carry the replay requests whose data is in."""
    spf = settings.spf
    alert = settings.alert

    async def delivery_to(target: SpfDeliverySettings) -> tuple[ExportDelivery, PostgresDeliveryLedger, str]:
        destination = spf_destination(target)
        ledger = PostgresDeliveryLedger(db.pool)
        delivery = ExportDelivery(
            ledger=ledger,
            blobs=service.blobs,
            destinations={destination.name: destination},
            tracer=service.tracer,
            retry=target.retry,
        )
        await delivery.resume(destination.name)  # what a killed predecessor left planned or sending
        return delivery, ledger, destination.name

    async def atih_export() -> None:
        atih = settings.atih
        delivery, ledger, name = await delivery_to(atih)
        assert regional_passages is not None
        monthly = AtihMonthlyExport(
            source=regional_passages, blobs=service.blobs, delivery=delivery, ledger=ledger, destination=name,
            tracer=service.tracer, geo_code=PmsiGeoCodes(),
        )  # fmt: skip
        await run_daily(
            atih.at, ZoneInfo(atih.timezone), lambda day: monthly.run_monthly(day, atih.day_of_month)
        )

    async def ars_daily() -> None:
        # Imported here: pyarrow weighs ~70 MB of RSS, which a concentrator without the ARS export never needs.
        from relais_rpu_concentrator.outbound.ars_export import ArsDailyExport

        ars = settings.ars
        delivery, ledger, name = await delivery_to(ars)
        daily = ArsDailyExport(
            pool=lambda: db.pool, blobs=service.blobs, delivery=delivery, ledger=ledger, destination=name,
            tracer=service.tracer,
        )  # fmt: skip
        await run_daily(ars.at, ZoneInfo(ars.timezone), daily.run)

    async def spf_export() -> None:
        destination = spf_destination(spf)
        ledger = PostgresDeliveryLedger(db.pool)
        delivery = ExportDelivery(
            ledger=ledger,
            blobs=service.blobs,
            destinations={destination.name: destination},
            tracer=service.tracer,
            retry=spf.retry,
        )
        report = await delivery.resume(destination.name)  # what a killed predecessor left planned or sending
        if report.delivered or report.failed:
            log.info("deliveries resumed", extra={"delivered": report.delivered, "failed": report.failed})
        assert export_source is not None
        daily = SpfDailyExport(
            source=export_source, blobs=service.blobs, delivery=delivery, ledger=ledger,
            destination=destination.name, tracer=service.tracer, at=spf.at, zone=ZoneInfo(spf.timezone),
            replays=replays(db.pool) if replays is not None else None,
        )  # fmt: skip
        await run_daily(spf.at, ZoneInfo(spf.timezone), daily.run)

    async def absence_check() -> None:
        assert daily_counts is not None
        check = AbsenceCheck(
            establishments=PostgresActiveEstablishments(db.pool),
            counts=daily_counts,
            ledger=PostgresAlertLedger(db.pool),
            notifiers=[*alert_notifiers(alert), *([alert_events] if alert_events is not None else [])],
            tracer=service.tracer,
            rule=alert.rule,
        )
        await run_daily(alert.at, ZoneInfo(alert.timezone), check.run)

    if export_source is not None:
        service.add_background(spf_export)
    if daily_counts is not None:
        service.add_background(absence_check)
    if regional_passages is not None:
        service.add_background(atih_export)
    if ars_export:
        service.add_background(ars_daily)
