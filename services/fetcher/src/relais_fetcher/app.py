"""Composition root of the fetcher: settings → platform service → SFTP source + ledger → poll loop."""

from __future__ import annotations

import asyncio
import logging

from faststream import FastStream

from relais_contracts import Event, SourceSystem, Topic
from relais_diamant.sources import DiamantSource, match_file_name
from relais_fetcher.adapters.pg_ledger import PostgresFetchLedger
from relais_fetcher.adapters.sftp_source import SftpFileSource
from relais_fetcher.fetch import InboxFetch
from relais_fetcher.settings import FetcherSettings
from relais_platform.runtime import Service, run

log = logging.getLogger(__name__)


class BrokerPublisher:
    def __init__(self, service: Service) -> None:
        self._broker = service.broker
        self._kafka = service.settings.kafka

    async def publish(self, event: Event, topic: Topic, key: str) -> None:
        await self._broker.publish(event, self._kafka.topic(topic), key=key.encode())


def _select(name: str) -> tuple[str, object] | None:
    matched = match_file_name(name)
    return None if matched is None else (matched[0].value, matched[1])


def create_app(settings: FetcherSettings | None = None) -> FastStream:
    settings = settings or FetcherSettings()
    service = Service("fetcher", settings)
    db = service.use_database()
    fetch = InboxFetch(
        source=SftpFileSource(settings.sftp),
        ledger=PostgresFetchLedger(db),
        blobs=service.blobs,
        publisher=BrokerPublisher(service),
        tracer=service.tracer,
        select=_select,  # type: ignore[arg-type]
        expected_sources=[s.value for s in DiamantSource],
        source_system=SourceSystem.DIAMANT,
        inbox=settings.sftp.inbox,
        partial_dir=settings.partial_dir,
    )

    async def poll_forever() -> None:
        while True:
            try:
                report = await fetch.poll()
                log.info(
                    "poll done",
                    extra={
                        "fetched": len(report.fetched),
                        "unchanged": len(report.unchanged),
                        "missing_sources": report.missing_sources,
                        "failed": report.failed,
                    },
                )
            except Exception:  # the inbox or the broker is down: log and try again at the next tick
                log.exception("poll failed")
            await asyncio.sleep(settings.poll_interval_s)

    service.add_background(poll_forever)
    return service.app()


def main() -> None:
    run(create_app())
