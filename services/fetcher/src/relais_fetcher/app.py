"""Composition root of the fetcher: settings → platform service → one InboxFetch per feed → poll loop."""

from __future__ import annotations

import asyncio
import logging
from datetime import date

from faststream import FastStream

from relais_contracts import Event, SourceSystem, Topic
from relais_diamant.definitions_medico_social import MEDICO_SOCIAL
from relais_diamant.sources import DiamantSource, match_file_name
from relais_fetcher.adapters.http_source import HttpFileSource
from relais_fetcher.adapters.pg_ledger import PostgresFetchLedger
from relais_fetcher.adapters.sftp_source import SftpFileSource
from relais_fetcher.fetch import InboxFetch, Selector
from relais_fetcher.ports import FileSource
from relais_fetcher.settings import FetcherSettings
from relais_finess.files import match_finess_file
from relais_platform.runtime import Service, run

log = logging.getLogger(__name__)


class BrokerPublisher:
    def __init__(self, service: Service) -> None:
        self._broker = service.broker
        self._kafka = service.settings.kafka

    async def publish(self, event: Event, topic: Topic, key: str) -> None:
        await self._broker.publish(event, self._kafka.topic(topic), key=key.encode())


def select_diamant(name: str) -> tuple[str, date] | None:
    matched = match_file_name(name)
    return None if matched is None else (matched[0].value, matched[1])


def select_finess(name: str) -> tuple[str, date] | None:
    matched = match_finess_file(name)
    return None if matched is None else (matched[0].value, matched[1])


def create_app(settings: FetcherSettings | None = None) -> FastStream:
    settings = settings or FetcherSettings()
    service = Service("fetcher", settings)
    db = service.use_database()
    ledger, publisher = PostgresFetchLedger(db), BrokerPublisher(service)

    def feed(
        source: FileSource,
        select: Selector,
        expected: list[str],
        system: SourceSystem,
        inbox: str,
        first: frozenset[str] = frozenset(),
    ) -> InboxFetch:
        return InboxFetch(
            source=source, ledger=ledger, blobs=service.blobs, publisher=publisher, tracer=service.tracer,
            select=select, expected_sources=expected, source_system=system, inbox=inbox,
            partial_dir=settings.partial_dir, first_sources=first,
        )  # fmt: skip

    # The medico-social files first: the loader recomputes the tables derived from them once for the files it loads
    # together (relais_loader.settling), so they had better reach it close together.
    medico_social = frozenset(definition.source.value for definition in MEDICO_SOCIAL)

    diamant = [s.value for s in DiamantSource]
    feeds = [
        feed(
            SftpFileSource(settings.sftp),
            select_diamant,
            diamant,
            SourceSystem.DIAMANT,
            settings.sftp.inbox,
            medico_social,
        )
    ]
    # The referential changes rarely: its absence at a poll is normal, so no source is "expected" there.
    if settings.finess_urls:
        urls = HttpFileSource(settings.finess_urls)
        feeds.append(feed(urls, select_finess, [], SourceSystem.FINESS, ", ".join(settings.finess_urls)))
    elif settings.finess_inbox:
        folder = SftpFileSource(settings.sftp, inbox=settings.finess_inbox)
        feeds.append(feed(folder, select_finess, [], SourceSystem.FINESS, settings.finess_inbox))

    async def poll_forever() -> None:
        while True:
            for feed in feeds:
                try:
                    report = await feed.poll()
                    log.info(
                        "poll done",
                        extra={
                            "feed": feed.source_system.value,
                            "fetched": len(report.fetched),
                            "unchanged": len(report.unchanged),
                            "missing_sources": report.missing_sources,
                            "failed": report.failed,
                        },
                    )
                except Exception:  # the inbox or the broker is down: log and try again at the next tick
                    log.exception("poll failed", extra={"feed": feed.source_system.value})
            await asyncio.sleep(settings.poll_interval_s)

    service.add_background(poll_forever)
    return service.app()


def main() -> None:
    run(create_app())
