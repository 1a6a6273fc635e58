"""One contract for the delivery ledger, run against an in-memory fake and PostgreSQL; the fake then lets the
delivery use case be tested without infrastructure (retries, backoff, ordering, refusal)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from opentelemetry.sdk.trace import TracerProvider

from relais_platform.blobstore import FileSystemBlobStore
from relais_rpu_concentrator.outbound.adapters.pg_deliveries import PostgresDeliveryLedger
from relais_rpu_concentrator.outbound.delivery import ExportDelivery
from relais_rpu_concentrator.outbound.model import (
    DeliveryEntry,
    DeliveryState,
    Export,
    ExportFile,
    PlannedFile,
)
from relais_rpu_concentrator.outbound.ports import DeliveryError, DeliveryLedger, DeliveryRefused
from relais_rpu_concentrator.outbound.retry import RetryPolicy


@dataclass
class MemoryDeliveryLedger:
    rows: dict[tuple[str, str, str], DeliveryEntry] = field(default_factory=dict)

    async def plan(self, export_id: str, destination: str, files: Sequence[PlannedFile]) -> None:
        if any(k[0] == export_id and k[1] == destination for k in self.rows):
            return
        for f in files:
            self.rows[(export_id, destination, f.name)] = DeliveryEntry(
                export_id, destination, f, DeliveryState.PLANNED
            )

    async def pending(self, destination: str, export_id: str | None = None) -> list[DeliveryEntry]:
        found = [
            e for (x, d, _), e in self.rows.items()
            if d == destination and e.state is not DeliveryState.DELIVERED and export_id in (None, x)
        ]  # fmt: skip
        return sorted(found, key=lambda e: (e.export_id, e.file.seq))

    async def mark_sending(self, entry: DeliveryEntry) -> DeliveryEntry:
        key = (entry.export_id, entry.destination, entry.file.name)
        current = self.rows[key]
        if current.state is DeliveryState.DELIVERED:
            raise RuntimeError("already delivered")
        self.rows[key] = dataclasses.replace(
            current, state=DeliveryState.SENDING, attempts=current.attempts + 1
        )
        return self.rows[key]

    async def mark_delivered(self, entry: DeliveryEntry) -> None:
        key = (entry.export_id, entry.destination, entry.file.name)
        self.rows[key] = dataclasses.replace(
            self.rows[key], state=DeliveryState.DELIVERED, last_error=None, delivered_at=datetime.now(UTC)
        )

    async def mark_failed(self, entry: DeliveryEntry, error: str) -> None:
        key = (entry.export_id, entry.destination, entry.file.name)
        if self.rows[key].state is not DeliveryState.DELIVERED:
            self.rows[key] = dataclasses.replace(
                self.rows[key], state=DeliveryState.PLANNED, last_error=error
            )

    async def entries(self, export_id: str, destination: str | None = None) -> list[DeliveryEntry]:
        found = [e for (x, d, _), e in self.rows.items() if x == export_id and destination in (None, d)]
        return sorted(found, key=lambda e: (e.destination, e.file.seq))

    async def exports(self, destination: str, prefix: str) -> list[str]:
        return sorted({x for (x, d, _) in self.rows if d == destination and x.startswith(prefix)})

    @asynccontextmanager
    async def exclusive(self, destination: str) -> AsyncIterator[None]:
        yield


@pytest.fixture(params=["memory", pytest.param("postgres", marks=pytest.mark.integration)])
def ledger(request: pytest.FixtureRequest) -> DeliveryLedger:
    if request.param == "memory":
        return MemoryDeliveryLedger()
    return PostgresDeliveryLedger(request.getfixturevalue("pool"))


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    try:
        yield pool
    finally:
        await pool.close()


def files(n: int, tag: str = "") -> list[PlannedFile]:
    return [PlannedFile(f"f{i}{tag}.xml", f"{i:064x}", 10 + i, i, finess=("670780055",)) for i in range(n)]


async def test_a_plan_is_recorded_once_and_pending_follows_export_then_send_order(
    ledger: DeliveryLedger, unique: str
) -> None:
    await ledger.plan(f"b-{unique}", unique, files(2))
    await ledger.plan(f"a-{unique}", unique, files(3))
    await ledger.plan(
        f"a-{unique}", unique, files(1, "-other")
    )  # a second plan of the same export changes nothing

    pending = await ledger.pending(unique)
    assert [(e.export_id, e.file.name) for e in pending] == [
        *((f"a-{unique}", f"f{i}.xml") for i in range(3)), *((f"b-{unique}", f"f{i}.xml") for i in range(2)),
    ]  # fmt: skip
    assert all(e.state is DeliveryState.PLANNED and e.attempts == 0 for e in pending)
    assert await ledger.exports(unique, "a-") == [f"a-{unique}"]
    assert pending[0].file == files(3)[0]


async def test_sending_counts_attempts_failure_goes_back_to_planned_and_delivered_leaves_pending(
    ledger: DeliveryLedger, unique: str
) -> None:
    await ledger.plan(unique, "spf", files(2))
    first = (await ledger.pending("spf", unique))[0]

    first = await ledger.mark_sending(first)
    assert (first.state, first.attempts) == (DeliveryState.SENDING, 1)
    await ledger.mark_failed(first, "DeliveryError: refused")
    first = await ledger.mark_sending((await ledger.pending("spf", unique))[0])
    assert first.attempts == 2
    await ledger.mark_delivered(first)

    [entry, other] = await ledger.entries(unique)
    assert (entry.state, entry.attempts, entry.last_error) == (DeliveryState.DELIVERED, 2, None)
    assert entry.delivered_at is not None
    assert [e.file.name for e in await ledger.pending("spf", unique)] == [other.file.name]
    with pytest.raises(RuntimeError):
        await ledger.mark_sending(entry)  # a delivered file is never sent again


# ---------------------------------------------------------------------------------------------- use case on fakes


@dataclass
class FlakyDestination:
    name: str = "spf"
    failures: dict[str, int] = field(default_factory=dict)  # file name → failures before success
    refuse: set[str] = field(default_factory=set)
    sent: list[str] = field(default_factory=list)

    async def send(self, export_id: str, file: PlannedFile, content: Path) -> None:
        if file.name in self.refuse:
            raise DeliveryRefused("HTTP 400")
        if self.failures.get(file.name, 0) > 0:
            self.failures[file.name] -= 1
            raise DeliveryError("connection refused")
        self.sent.append(file.name)


def export_of(blobs: FileSystemBlobStore, n: int) -> Export:
    return Export(
        "spf-x",
        tuple(ExportFile(f"f{i}.xml", blobs.put_bytes(b"<x/>%d" % i), {"670780055": i}) for i in range(n)),
    )


async def test_backoff_doubles_up_to_its_cap_and_the_manifest_goes_last(tmp_path: Path) -> None:
    blobs = FileSystemBlobStore(tmp_path)
    destination = FlakyDestination(failures={"f0.xml": 4})
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    delivery = ExportDelivery(
        ledger=MemoryDeliveryLedger(), blobs=blobs, destinations={"spf": destination},
        tracer=TracerProvider().get_tracer("t"), retry=RetryPolicy(max_attempts=6, base_s=1, cap_s=5), sleep=sleep,
    )  # fmt: skip
    report = await delivery.deliver(export_of(blobs, 2), "spf")

    assert report.complete
    assert waits == [1, 2, 4, 5]
    assert destination.sent == ["f0.xml", "f1.xml", "spf-x.manifest.json"]


async def test_a_refused_file_is_not_retried_and_holds_back_the_rest_of_its_export(tmp_path: Path) -> None:
    blobs = FileSystemBlobStore(tmp_path)
    destination = FlakyDestination(refuse={"f1.xml"})
    ledger = MemoryDeliveryLedger()
    delivery = ExportDelivery(
        ledger=ledger, blobs=blobs, destinations={"spf": destination}, tracer=TracerProvider().get_tracer("t")
    )
    report = await delivery.deliver(export_of(blobs, 3), "spf")

    assert destination.sent == ["f0.xml"]
    assert set(report.failed) == {"spf-x/f1.xml", "spf-x/f2.xml", "spf-x/spf-x.manifest.json"}
    entries = {e.file.name: e for e in await ledger.entries("spf-x")}
    assert entries["f1.xml"].attempts == 1 and entries["f1.xml"].last_error == "DeliveryRefused: HTTP 400"
    assert entries["f2.xml"].attempts == 0
