"""The daily Santé publique France export on a fake ExportSource (what the regional passages table will answer):
OSCOUR files that the project's own parser reads back, one per changed establishment, fixed daily windows, and
missed days caught up from the delivery ledger; sent to a recording destination."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from opentelemetry.sdk.trace import TracerProvider

from relais_platform.blobstore import FileSystemBlobStore
from relais_rpu.model import Passage
from relais_rpu.parse import open_rpu
from relais_rpu_concentrator.outbound.adapters.pg_deliveries import PostgresDeliveryLedger, format_ledger
from relais_rpu_concentrator.outbound.delivery import ExportDelivery
from relais_rpu_concentrator.outbound.model import PlannedFile
from relais_rpu_concentrator.outbound.ports import ChangedEstablishment
from relais_rpu_concentrator.outbound.spf_export import SpfDailyExport, window
from relais_synthetic.rpu import day_records, synthetic_region

PARIS = ZoneInfo("Europe/Paris")
AT = time(4, 0)
DAY = date(2026, 11, 25)
REGION = synthetic_region(seed=7, establishments=3, invalid_rate=0.0)


@dataclass
class RegionSource:
    """ExportSource of the tests: establishment i changed its days d−7..d−1 in the window of every day d."""

    asked: list[tuple[datetime, datetime]] = field(default_factory=list)
    quiet: set[str] = field(default_factory=set)

    async def changed(self, since: datetime, until: datetime) -> list[ChangedEstablishment]:
        self.asked.append((since, until))
        day = until.date()
        return [
            ChangedEstablishment(
                e.finess, day - timedelta(days=7), day - timedelta(days=1), (f"00-{'ab' * 16}-{'cd' * 8}-01",)
            )
            for e in sorted(REGION.establishments, key=lambda e: e.finess)
            if e.finess not in self.quiet
        ]

    async def passages(self, finess: str, first_day: date, last_day: date) -> AsyncIterator[Passage]:
        [establishment] = [e for e in REGION.establishments if e.finess == finess]
        for i in range((last_day - first_day).days + 1):
            for record in day_records(REGION, establishment, first_day + timedelta(days=i)):
                yield record.passage


@dataclass
class RecordingDestination:
    name: str
    sent: list[tuple[str, str, bytes]] = field(default_factory=list)

    async def send(self, export_id: str, file: PlannedFile, content: Path) -> None:
        self.sent.append((export_id, file.name, content.read_bytes()))


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    try:
        yield pool
    finally:
        await pool.close()


def daily(
    pool: asyncpg.Pool, tmp_path: Path, source: RegionSource, destination: RecordingDestination
) -> SpfDailyExport:
    blobs = FileSystemBlobStore(tmp_path / "blobs")
    ledger = PostgresDeliveryLedger(pool)
    tracer = TracerProvider().get_tracer("test")
    delivery = ExportDelivery(
        ledger=ledger, blobs=blobs, destinations={destination.name: destination}, tracer=tracer
    )
    return SpfDailyExport(
        source=source, blobs=blobs, delivery=delivery, ledger=ledger, destination=destination.name,
        tracer=tracer, at=AT, zone=PARIS,
    )  # fmt: skip


def test_the_window_of_a_day_runs_from_the_export_hour_of_the_day_before_in_local_time() -> None:
    since, until = window(date(2026, 10, 25), AT, PARIS)  # the night summer time ends
    assert until.astimezone(UTC) - since.astimezone(UTC) == timedelta(
        hours=25
    )  # same-zone subtraction is wall time
    assert (
        since.isoformat() == "2026-10-24T04:00:00+02:00" and until.isoformat() == "2026-10-25T04:00:00+01:00"
    )


@pytest.mark.integration
async def test_one_oscour_file_per_changed_establishment_that_the_parser_reads_back_with_the_manifest_last(
    pool: asyncpg.Pool, tmp_path: Path, unique: str
) -> None:
    destination = RecordingDestination(f"spf-{unique}")
    report = await daily(pool, tmp_path, RegionSource(), destination).run(DAY)

    assert report.complete
    names = [name for _, name, _ in destination.sent]
    finess = sorted(e.finess for e in REGION.establishments)
    assert names == [*(f"RPU_{f}_20261125.xml" for f in finess), "spf-2026-11-25.manifest.json"]
    first = destination.sent[0][2]
    path = tmp_path / "first.xml"
    path.write_bytes(first)
    with open_rpu(path) as parsed:
        assert parsed.header.finess == finess[0]
        assert (parsed.header.date_debut, parsed.header.date_fin) == (date(2026, 11, 18), date(2026, 11, 24))
        records = list(parsed)
    [establishment] = [e for e in REGION.establishments if e.finess == finess[0]]
    expected = [
        r.passage
        for i in range(7)
        for r in day_records(REGION, establishment, date(2026, 11, 18) + timedelta(days=i))
    ]
    assert len(records) == len(expected) > 100
    assert all(isinstance(r, Passage) for r in records)
    assert [r.entree for r in records if isinstance(r, Passage)] == [p.entree for p in expected]


@pytest.mark.integration
async def test_missed_days_are_caught_up_from_the_ledger_and_a_rerun_sends_nothing_again(
    pool: asyncpg.Pool, tmp_path: Path, unique: str
) -> None:
    source = RegionSource(quiet={e.finess for e in REGION.establishments[1:]})
    destination = RecordingDestination(f"spf-{unique}")
    export = daily(pool, tmp_path, source, destination)

    await export.run(DAY)  # the first export ever: that day only
    await export.run(DAY + timedelta(days=3))  # the service was down for two days
    await export.run(DAY + timedelta(days=3))  # and the job runs again the same day

    assert [until.date().isoformat() for _, until in source.asked] == [
        "2026-11-25",
        "2026-11-26",
        "2026-11-27",
        "2026-11-28",
    ]
    manifests = [name for _, name, _ in destination.sent if name.endswith(".json")]
    assert manifests == [f"spf-2026-11-{d}.manifest.json" for d in (25, 26, 27, 28)]
    assert len(destination.sent) == 8  # one establishment file and one manifest per day, each sent once
    entries = await PostgresDeliveryLedger(pool).entries("spf-2026-11-27", destination.name)
    print("\n" + format_ledger(entries))
