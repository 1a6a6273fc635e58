"""The daily jobs as the service runs them: registered on the real platform Service, then run as background tasks
against PostgreSQL and real local HTTP receivers (an export and an alert webhook) until their first effect."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time as clock
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import asyncpg
import pytest
from opentelemetry.sdk.trace import TracerProvider

from relais_platform.blobstore import FileSystemBlobStore
from relais_platform.runtime import Service
from relais_platform.settings import PlatformSettings, StorageSettings, TelemetrySettings
from relais_rpu.model import Passage
from relais_rpu_concentrator.outbound.absence import EstablishmentActivity
from relais_rpu_concentrator.outbound.jobs import add_outbound_jobs
from relais_rpu_concentrator.outbound.ports import ChangedEstablishment
from relais_rpu_concentrator.outbound.settings import (
    AlertSettings,
    HttpDestinationSettings,
    OutboundSettings,
    SpfDeliverySettings,
    WebhookSettings,
)
from relais_synthetic.finess import random_finess

pytestmark = pytest.mark.integration


@dataclass
class Receiver:
    url: str
    posts: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    received: list[tuple[str, dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(
                (self.path, dict(self.headers), self.rfile.read(int(self.headers["Content-Length"])))
            )
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield Receiver(f"http://127.0.0.1:{server.server_address[1]}", received)
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class StubService:
    blobs: FileSystemBlobStore
    tracer: Any
    background: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)

    def add_background(self, task: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self.background.append(task)


class OneEstablishment:
    """ExportSource and DailyCounts of the test: one establishment, changed every day, silent in the counts."""

    def __init__(self, finess: str) -> None:
        self.finess = finess

    async def changed(self, since: datetime, until: datetime) -> list[ChangedEstablishment]:
        day = until.date()
        return [ChangedEstablishment(self.finess, day - timedelta(days=1), day - timedelta(days=1))]

    async def passages(self, finess: str, first_day: date, last_day: date) -> AsyncIterator[Passage]:
        yield Passage(entree=datetime.combine(first_day, time(10, 5)), sexe="F", gravite="2")

    async def activity(
        self, finess: Sequence[str], first_day: date, last_day: date
    ) -> Mapping[str, EstablishmentActivity]:
        return {}


def settings(receiver: Receiver, unique: str) -> OutboundSettings:
    # Hours at midnight: "the hour has passed today", so each job runs at once.
    return OutboundSettings(
        spf=SpfDeliverySettings(
            transport="https", destination=f"spf-{unique}", at=time(0, 0),
            http=HttpDestinationSettings(url=f"{receiver.url}/oscour"),
        ),
        alert=AlertSettings(at=time(0, 0), webhook=WebhookSettings(url=f"{receiver.url}/alertes")),
    )  # fmt: skip


def test_the_jobs_register_on_the_real_platform_service(tmp_path: Path, unique: str) -> None:
    platform = PlatformSettings(
        storage=StorageSettings(var_dir=tmp_path),
        telemetry=TelemetrySettings(relais_trace_dir=tmp_path / "t"),
    )
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level  # Service configures process-wide logging: put it back
    try:
        service = Service("rpu-concentrator", platform)
        source = OneEstablishment("670780055")
        before = len(service._background)
        add_outbound_jobs(
            service, service.use_database(), settings(Receiver("http://127.0.0.1:9"), unique),
            export_source=source, daily_counts=source,
        )  # fmt: skip
        assert len(service._background) == before + 2
        service.tracer_provider.shutdown()
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


async def test_started_jobs_export_today_and_alert_an_active_silent_establishment_at_once(
    database_url: str, tmp_path: Path, unique: str, receiver: Receiver
) -> None:
    import random
    import uuid

    finess = random_finess(random.Random(uuid.uuid4().int))
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    await pool.execute(
        "INSERT INTO rpu_account (account, role, finess) VALUES ($1::text, 'etablissement', $1)", finess
    )
    service = StubService(FileSystemBlobStore(tmp_path / "blobs"), TracerProvider().get_tracer("test"))
    source = OneEstablishment(finess)
    add_outbound_jobs(
        service,
        SimpleNamespace(pool=pool),
        settings(receiver, unique),
        export_source=source,
        daily_counts=source,
    )
    tasks = [asyncio.create_task(job()) for job in service.background]
    try:
        deadline = clock.monotonic() + 15
        while clock.monotonic() < deadline:
            paths = [path for path, _, _ in receiver.posts]
            alerted = [json.loads(body) for path, _, body in receiver.posts if path == "/alertes"]
            if any(p.endswith(".manifest.json") for p in paths) and any(
                a["finess"] == finess for a in alerted
            ):
                break
            await asyncio.sleep(0.05)
        paths = [path for path, _, _ in receiver.posts]
        assert any(p.startswith(f"/oscour/RPU_{finess}_") for p in paths)
        assert any(p.endswith(".manifest.json") for p in paths)
        assert [a["motif"] for a in alerted if a["finess"] == finess] == ["absence"]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await pool.close()
