"""In-memory implementations of the integration ports, with the same semantics as the real adapters
(a transaction is all or nothing; one establishment's integrations are serialised)."""

from __future__ import annotations

import asyncio
import copy
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date

from relais_contracts import RpuFileIntegrated, RpuFileRejected
from relais_rpu_concentrator.integration.ports import FileRecord
from relais_rpu_concentrator.integration.reading import DAY_COLUMN, PassageRow, RejectedRow
from relais_rpu_concentrator.integration.rules import OrderKey


@dataclass
class Tables:
    files: dict[tuple[str, str], FileRecord] = field(default_factory=dict)
    days: dict[tuple[str, date], tuple[str, OrderKey, int]] = field(default_factory=dict)
    passages: dict[tuple[str, date], list[PassageRow]] = field(default_factory=dict)
    rejected: dict[tuple[str, str, int], RejectedRow] = field(default_factory=dict)


class FakeTransaction:
    def __init__(self, tables: Tables) -> None:
        self._t = tables
        self.staged: list[PassageRow] = []
        self.batches = 0

    async def find_file(self, finess: str, file_id: str) -> FileRecord | None:
        return self._t.files.get((finess, file_id))

    async def stage_passages(self, rows: Sequence[PassageRow]) -> None:
        self.batches += 1
        self.staged.extend(rows)

    async def add_rejected(self, rows: Sequence[RejectedRow]) -> None:
        for row in rows:
            self._t.rejected[(row[0], row[1], row[2])] = row

    async def newer_days(self, finess: str, days: Sequence[date], key: OrderKey) -> set[date]:
        return {d for d in days if (owner := self._t.days.get((finess, d))) and owner[1] > key}

    async def replace_days(
        self, finess: str, days: Sequence[date], *, discard: Sequence[date], file_id: str, key: OrderKey
    ) -> dict[date, int]:
        by_day: dict[date, list[PassageRow]] = defaultdict(list)
        for row in self.staged:
            by_day[row[DAY_COLUMN]].append(row)  # type: ignore[index]
        stored = {}
        for day in days:
            self._t.passages[(finess, day)] = by_day.get(day, [])
            stored[day] = len(by_day.get(day, []))
            self._t.days[(finess, day)] = (file_id, key, stored[day])
        return stored

    async def record_file(self, record: FileRecord) -> None:
        key = (record.finess, record.file_id)
        assert key not in self._t.files, "ledger primary key"
        self._t.files[key] = record


class FakePassageStore:
    def __init__(self) -> None:
        self.tables = Tables()
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.last: FakeTransaction | None = None

    @asynccontextmanager
    async def transaction(self, finess: str) -> AsyncIterator[FakeTransaction]:
        async with self._locks[finess]:
            saved = copy.deepcopy(self.tables)
            self.last = FakeTransaction(self.tables)
            try:
                yield self.last
            except BaseException:
                self.tables.__dict__.update(saved.__dict__)
                raise

    def passages(self, finess: str) -> dict[date, list[PassageRow]]:
        return {day: rows for (f, day), rows in self.tables.passages.items() if f == finess}


@dataclass
class FakeReceipts:
    written: dict[tuple[str, str], str] = field(default_factory=dict)
    writes: int = 0

    async def write(self, finess: str, name: str, text: str) -> None:
        self.writes += 1
        self.written[(finess, name)] = text


@dataclass
class FakeEvents:
    integrated_events: list[RpuFileIntegrated] = field(default_factory=list)
    rejected_events: list[RpuFileRejected] = field(default_factory=list)

    async def integrated(self, event: RpuFileIntegrated) -> None:
        self.integrated_events.append(event)

    async def rejected(self, event: RpuFileRejected) -> None:
        self.rejected_events.append(event)
