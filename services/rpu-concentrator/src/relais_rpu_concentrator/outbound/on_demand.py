"""Exports run on demand (the `relais rpu export …` commands) with the same adapters as the service's jobs: the
same delivery ledger, so a month exported by the service is not sent again by the command, and vice versa."""

from __future__ import annotations

from datetime import date

import asyncpg
from opentelemetry import trace

from relais_platform.blobstore import FileSystemBlobStore
from relais_rpu.geo import PmsiGeoCodes
from relais_rpu_concentrator.adapters.pg_exports import PostgresExportSource
from relais_rpu_concentrator.outbound.adapters.pg_deliveries import PostgresDeliveryLedger
from relais_rpu_concentrator.outbound.ars_export import ArsDailyExport
from relais_rpu_concentrator.outbound.atih_export import AtihMonthlyExport
from relais_rpu_concentrator.outbound.delivery import DeliveryReport, ExportDelivery
from relais_rpu_concentrator.outbound.settings import SpfDeliverySettings
from relais_rpu_concentrator.outbound.wiring import spf_destination


def _delivery(
    pool: asyncpg.Pool, blobs: FileSystemBlobStore, settings: SpfDeliverySettings
) -> tuple[ExportDelivery, PostgresDeliveryLedger, str]:
    destination = spf_destination(settings)
    ledger = PostgresDeliveryLedger(pool)
    delivery = ExportDelivery(
        ledger=ledger,
        blobs=blobs,
        destinations={destination.name: destination},
        tracer=trace.get_tracer("relais.rpu-concentrator"),
        retry=settings.retry,
    )
    return delivery, ledger, destination.name


async def export_atih(
    database_url: str,
    blobs: FileSystemBlobStore,
    settings: SpfDeliverySettings,
    month: date,
    revision: int = 1,
) -> DeliveryReport:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        delivery, ledger, name = _delivery(pool, blobs, settings)
        export = AtihMonthlyExport(
            source=PostgresExportSource(lambda: pool), blobs=blobs, delivery=delivery, ledger=ledger,
            destination=name, tracer=trace.get_tracer("relais.rpu-concentrator"), geo_code=PmsiGeoCodes(),
        )  # fmt: skip
        return await export.run(month, revision)
    finally:
        await pool.close()


async def export_ars(
    database_url: str, blobs: FileSystemBlobStore, settings: SpfDeliverySettings, day: date
) -> DeliveryReport:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        delivery, ledger, name = _delivery(pool, blobs, settings)
        export = ArsDailyExport(
            pool=lambda: pool, blobs=blobs, delivery=delivery, ledger=ledger, destination=name,
            tracer=trace.get_tracer("relais.rpu-concentrator"),
        )  # fmt: skip
        return await export.run(day)
    finally:
        await pool.close()
