"""One contract, two stores: the in-memory fake the unit tests use and PostgreSQL behave the same."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest

from relais_contracts import BlobRef
from relais_rpu_concentrator.adapters.pg_passages import PostgresPassageStore
from relais_rpu_concentrator.integration.ports import FileRecord, FileStatus, PassageStore
from relais_rpu_concentrator.integration.reading import PASSAGE_COLUMNS, PassageRow
from relais_rpu_concentrator.integration.rules import OrderKey

from .conftest import FakePassageStore

pytestmark = pytest.mark.integration

D = date(2026, 9, 1)
RECEIVED = datetime(2026, 9, 30, tzinfo=UTC)


def row(finess: str, file_id: str, day: date, number: int) -> PassageRow:
    values: dict[str, object] = dict.fromkeys(PASSAGE_COLUMNS)
    values |= {"finess": finess, "day": day, "file_id": file_id, "record_number": number,
               "entree": datetime(day.year, day.month, day.day, 10), "da": [], "actes": [], "checks": []}  # fmt: skip
    return tuple(values[c] for c in PASSAGE_COLUMNS)


def record(finess: str, file_id: str, status: FileStatus = FileStatus.INTEGRATED) -> FileRecord:
    return FileRecord(
        file_id=file_id, finess=finess, account=finess, file_name="f.xml",
        blob=BlobRef(sha256=file_id, size=1), received_at=RECEIVED, status=status,
        error="x" if status is FileStatus.REJECTED else None, quality={"checks": {}},
    )  # fmt: skip


@pytest.fixture(params=["fake", "postgres"])
async def store(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[PassageStore]:
    if request.param == "fake":
        yield FakePassageStore()
        return
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        yield PostgresPassageStore(pool)
    finally:
        await pool.close()


async def test_replacing_days_takes_them_from_older_owners_and_reports_counts(
    store: PassageStore, unique: str
) -> None:
    finess, a, b = "670780055", unique.ljust(64, "a"), unique.ljust(64, "b")
    old, new = OrderKey(datetime(2026, 9, 8, 3), RECEIVED), OrderKey(datetime(2026, 9, 9, 3), RECEIVED)
    days = [D + timedelta(days=n) for n in range(3)]
    async with store.transaction(finess) as tx:
        await tx.stage_passages([row(finess, b, days[1], 1), row(finess, b, days[1], 2)])
        assert await tx.replace_days(finess, days[1:], discard=[], file_id=b, key=new) == {
            days[1]: 2,
            days[2]: 0,
        }
        await tx.record_file(record(finess, b))
    async with store.transaction(finess) as tx:
        assert await tx.newer_days(finess, days, old) == {days[1], days[2]}
        assert (
            await tx.newer_days(finess, days, OrderKey(new.extract, RECEIVED + timedelta(seconds=1))) == set()
        )
        await tx.stage_passages([row(finess, a, days[0], 1), row(finess, a, days[1], 2)])
        assert await tx.replace_days(finess, [days[0]], discard=[days[1]], file_id=a, key=old) == {days[0]: 1}
        await tx.record_file(record(finess, a))
        found = await tx.find_file(finess, a)
        assert found is not None and found.status is FileStatus.INTEGRATED and found.quality == {"checks": {}}
        assert await tx.find_file("750712184", a) is None


async def test_a_failed_transaction_leaves_nothing_behind(store: PassageStore, unique: str) -> None:
    finess, file_id = "670780063", unique.ljust(64, "c")
    with pytest.raises(RuntimeError):
        async with store.transaction(finess) as tx:
            await tx.stage_passages([row(finess, file_id, D, 1)])
            await tx.replace_days(
                finess, [D], discard=[], file_id=file_id, key=OrderKey(datetime(2026, 9, 2), RECEIVED)
            )
            await tx.add_rejected([(finess, file_id, 2, "ENTREE absente", "[]")])
            await tx.record_file(record(finess, file_id))
            raise RuntimeError("XML cassé plus loin")
    async with store.transaction(finess) as tx:
        assert await tx.find_file(finess, file_id) is None
        assert await tx.newer_days(finess, [D], OrderKey(datetime(2000, 1, 1), RECEIVED)) == set()
