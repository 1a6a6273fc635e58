"""Composition root of the RPU concentrator.

It joins the platform (broker, database, tracing, health) and runs the SFTP intake where establishments push
their RPU files; integration and the onward exports are added by the next RPU issues on this same root.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

from faststream import FastStream

from relais_platform.runtime import Service, run
from relais_rpu_concentrator.adapters.kafka_receipts import KafkaReceiptPublisher
from relais_rpu_concentrator.adapters.pg_accounts import PostgresAccounts
from relais_rpu_concentrator.intake.reception import FileReception
from relais_rpu_concentrator.intake.server import intake_server
from relais_rpu_concentrator.settings import ConcentratorSettings


def create_app(settings: ConcentratorSettings | None = None) -> FastStream:
    settings = settings or ConcentratorSettings()
    service = Service("rpu-concentrator", settings)
    db = service.use_database()
    reception = FileReception(
        intake_root=settings.intake.root,
        blobs=service.blobs,
        sink=KafkaReceiptPublisher(service.broker, settings.kafka),
    )

    def intake() -> AbstractAsyncContextManager[Any]:
        # Called in the lifespan, after the database resource: the pool is open by then.
        return intake_server(settings.intake, PostgresAccounts(db.pool), reception)

    service.add_resource(intake)
    app: FastStream = service.app()
    return app


def main() -> None:
    run(create_app())
