"""The ATIH and ARS jobs as the service starts them (add_outbound_jobs, real PostgreSQL, a real local HTTP
receiver): with their hour passed they run at once, the ATIH one for the previous month (from its day of month)."""

from __future__ import annotations

import asyncio
import threading
import time as clock
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from opentelemetry.sdk.trace import TracerProvider

from relais_platform.blobstore import FileSystemBlobStore
from relais_rpu_concentrator.adapters.pg_exports import PostgresExportSource
from relais_rpu_concentrator.outbound.atih_export import export_id as atih_export_id
from relais_rpu_concentrator.outbound.atih_export import previous_month
from relais_rpu_concentrator.outbound.jobs import add_outbound_jobs
from relais_rpu_concentrator.outbound.settings import (
    ArsDeliverySettings,
    ArsHttpSettings,
    AtihDeliverySettings,
    AtihHttpSettings,
    OutboundSettings,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def posts() -> Iterator[tuple[str, list[str]]]:
    received: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            received.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
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


async def test_started_atih_and_ars_jobs_send_the_previous_month_and_todays_extract(
    database_url: str, tmp_path: Path, unique: str, posts: tuple[str, list[str]]
) -> None:
    url, received = posts
    settings = OutboundSettings(
        atih=AtihDeliverySettings(
            transport="https", destination=f"atih-{unique}", at=time(0, 0), day_of_month=1,
            http=AtihHttpSettings(url=f"{url}/atih"),
        ),
        ars=ArsDeliverySettings(
            transport="https", destination=f"ars-{unique}", at=time(0, 0), http=ArsHttpSettings(url=f"{url}/ars")
        ),
    )  # fmt: skip
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    service = StubService(FileSystemBlobStore(tmp_path / "blobs"), TracerProvider().get_tracer("test"))
    add_outbound_jobs(
        service, SimpleNamespace(pool=pool), settings,
        regional_passages=PostgresExportSource(lambda: pool), ars_export=True,
    )  # fmt: skip
    assert len(service.background) == 2
    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    expected = {
        f"/atih/{atih_export_id(previous_month(today))}.manifest.json",
        f"/ars/ars-{today.isoformat()}.manifest.json",
    }
    tasks = [asyncio.create_task(job()) for job in service.background]
    try:
        deadline = clock.monotonic() + 30
        while clock.monotonic() < deadline and not expected <= set(received):
            await asyncio.sleep(0.05)
        assert expected <= set(received)
        assert f"/ars/rpu_ars_{today:%Y%m%d}.parquet" in received
        assert f"/atih/{atih_export_id(previous_month(today))}.counts.csv" in received
        assert previous_month(date(2026, 1, 15)) == date(2025, 12, 1)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await pool.close()
