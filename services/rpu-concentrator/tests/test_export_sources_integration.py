"""The PostgreSQL answers to the outbound ports (ExportSource, DailyCounts), on files integrated by the real
integration use case into the real regional database: what changed in a window, the current passages of those
days, per-day activity for the absence rule, and the SPF export built from them read back by the parser."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from relais_contracts import RpuFileReceived
from relais_platform.blobstore import FileSystemBlobStore
from relais_rpu.parse import open_rpu
from relais_rpu_concentrator.adapters.pg_exports import (
    PostgresDailyCounts,
    PostgresExportSource,
    record_trace_parent,
)
from relais_rpu_concentrator.adapters.pg_passages import PostgresPassageStore
from relais_rpu_concentrator.integration.use_case import FileSettlement, RpuIntegration
from relais_synthetic.rpu import SyntheticEstablishment, SyntheticRegion

from .conftest import (
    FakeEvents,
    FakeReceipts,
    Sent,
    expected_by_day,
    fingerprint,
    rolling,
    small_establishment,
)

pytestmark = pytest.mark.integration

PARIS = ZoneInfo("Europe/Paris")
D = date(2026, 9, 10)
TRACE = f"00-{'12' * 16}-{'34' * 8}-01"


@dataclasses.dataclass
class Region:
    pool: asyncpg.Pool
    blobs: FileSystemBlobStore
    files: Path
    integration: RpuIntegration

    async def push(
        self, base: SyntheticRegion, est: SyntheticEstablishment, sent: Sent, received: datetime
    ) -> RpuFileReceived:
        path = sent.write(base, est, self.files)
        ref = self.blobs.put_file(path, "application/xml")
        event = RpuFileReceived(
            finess=est.finess, account=est.finess, file_name=path.name, file_id=ref.sha256, blob=ref,
            received_at=received,
        )  # fmt: skip
        await self.integration.integrate(event)
        return event


@pytest.fixture
async def region(database_url: str, tmp_path: Path) -> AsyncIterator[Region]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=3)
    blobs = FileSystemBlobStore(tmp_path / "blobs")
    integration = RpuIntegration(
        settlement=FileSettlement(store=PostgresPassageStore(pool), blobs=blobs),
        receipts=FakeReceipts(),
        events=FakeEvents(),
    )
    try:
        yield Region(pool, blobs, tmp_path / "files", integration)
    finally:
        await pool.close()


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)


async def test_changed_lists_each_establishment_once_with_the_days_its_window_files_replaced(
    region: Region, unique: str
) -> None:
    seed = int(unique, 16) % 1_000_003
    base_a, a = small_establishment(seed)
    base_b, b = small_establishment(seed + 1)
    before = datetime.now(UTC)
    first, second = rolling(1, D), rolling(2, D + timedelta(days=1))
    older = Sent(3, D - timedelta(days=3), D - timedelta(days=2), datetime(2026, 9, 1, 3))  # superseded
    e1 = await region.push(base_a, a, first, local(D, 3))
    await region.push(base_a, a, second, local(D + timedelta(days=1), 3))
    await region.push(base_a, a, older, local(D + timedelta(days=1), 4))
    await region.push(base_b, b, rolling(1, D), local(D, 3))
    await record_trace_parent(region.pool, a.finess, e1.file_id, TRACE)
    after = datetime.now(UTC) + timedelta(seconds=1)

    source = PostgresExportSource(lambda: region.pool)
    changed = {c.finess: c for c in await source.changed(before, after) if c.finess in (a.finess, b.finess)}
    assert sorted(changed) == sorted([a.finess, b.finess])
    assert (changed[a.finess].first_day, changed[a.finess].last_day) == (D - timedelta(days=7), D)
    assert changed[a.finess].trace_parents == (TRACE,)
    assert changed[b.finess].trace_parents == ()
    assert not [c for c in await source.changed(after, after + timedelta(hours=1)) if c.finess == a.finess]

    # The passages streamed are exactly what the regional database holds for those days (newest extract wins).
    expected = expected_by_day(base_a, a, [first, second, older])
    streamed = [
        fingerprint(p.entree, p.naissance, p.sexe, p.gravite)
        async for p in source.passages(a.finess, D - timedelta(days=7), D)
    ]
    assert sorted(streamed) == sorted(f for day in sorted(expected) for f in expected[day])
    assert len(streamed) > 20


async def test_spf_file_built_from_postgres_reads_back_with_every_current_passage_of_its_days(
    region: Region, unique: str, tmp_path: Path
) -> None:
    from opentelemetry.sdk.trace import TracerProvider

    from relais_rpu_concentrator.outbound.adapters.pg_deliveries import PostgresDeliveryLedger
    from relais_rpu_concentrator.outbound.delivery import ExportDelivery
    from relais_rpu_concentrator.outbound.spf_export import SpfDailyExport

    base, est = small_establishment(int(unique, 16) % 1_000_003 + 7)
    before = datetime.now(UTC)
    sent = rolling(1, D)
    await region.push(base, est, sent, local(D, 3))
    source = PostgresExportSource(lambda: region.pool, prefetch=7)  # several cursor round trips
    [mine] = [c for c in await source.changed(before, datetime.now(UTC)) if c.finess == est.finess]

    class Nowhere:
        name = f"nowhere-{unique}"

        async def send(self, *args: object) -> None:
            raise AssertionError("not sent in this test")

    ledger = PostgresDeliveryLedger(region.pool)
    tracer = TracerProvider().get_tracer("test")
    delivery = ExportDelivery(
        ledger=ledger, blobs=region.blobs, destinations={Nowhere.name: Nowhere()}, tracer=tracer
    )
    export = SpfDailyExport(
        source=source, blobs=region.blobs, delivery=delivery, ledger=ledger, destination=Nowhere.name,
        tracer=tracer, at=time(4), zone=PARIS,
    )  # fmt: skip
    written = await export._write(D, local(D, 4), mine)
    assert written.rpu_per_finess == {
        est.finess: sum(len(v) for v in expected_by_day(base, est, [sent]).values())
    }
    with open_rpu(region.blobs.path(written.blob)) as parsed:
        assert parsed.header.finess == est.finess
        assert (parsed.header.date_debut, parsed.header.date_fin) == (sent.first, sent.last)
        records = list(parsed)
    expected = expected_by_day(base, est, [sent])
    assert sorted(fingerprint(p.entree, p.naissance, p.sexe, p.gravite) for p in records) == sorted(
        f for v in expected.values() for f in v
    )


async def test_daily_counts_give_files_per_local_reception_day_passages_per_day_and_the_last_file(
    region: Region, unique: str
) -> None:
    base, est = small_establishment(int(unique, 16) % 1_000_003 + 3)
    await region.push(base, est, rolling(1, D), local(D, 3))
    await region.push(base, est, rolling(2, D + timedelta(days=1)), local(D + timedelta(days=1), 0, 30))
    last = await region.push(
        base, est, rolling(3, D + timedelta(days=2)), local(D + timedelta(days=2), 23, 50)
    )
    await record_trace_parent(region.pool, est.finess, last.file_id, TRACE)
    await region.integration.integrate(last)  # a redelivery adds no file

    counts = PostgresDailyCounts(lambda: region.pool)
    activity = await counts.activity([est.finess, "999999999"], D - timedelta(days=10), D + timedelta(days=3))
    assert set(activity) == {est.finess}
    mine = activity[est.finess]
    # 00:30 and 23:50 local are the same UTC-shifted days in Paris, not the UTC ones.
    assert mine.files_per_day == {D: 1, D + timedelta(days=1): 1, D + timedelta(days=2): 1}
    owned = await region.pool.fetch("SELECT day, passages FROM rpu_day WHERE finess = $1", est.finess)
    assert mine.passages_per_day == {r["day"]: r["passages"] for r in owned}
    assert mine.last_file is not None and mine.last_file.name == last.file_name
    assert mine.last_file.trace_parent == TRACE
    # Asked as of D + 1, the later files do not exist yet.
    early = await counts.activity([est.finess], D - timedelta(days=10), D)
    assert early[est.finess].files_per_day == {D: 1}
    assert early[est.finess].last_file is not None and early[est.finess].last_file.name != last.file_name
