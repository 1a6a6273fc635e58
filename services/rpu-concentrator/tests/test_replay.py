"""Replay requested by the ARS: the assessment, the state machine on an in-memory store, and the same store
contract against PostgreSQL (rpu_day filled directly, rpu_delivery rows for the export)."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from relais_rpu_concentrator.adapters.pg_replay import PostgresReplayStore
from relais_rpu_concentrator.replay.model import (
    SYSTEM_ACTOR,
    Assessment,
    AuditEntry,
    InvalidReplayRequest,
    InvalidTransition,
    Period,
    ReplayRequest,
    ReplayState,
    advanced,
    assess,
    initial_state,
)
from relais_rpu_concentrator.replay.replays import Replays
from relais_synthetic.finess import random_finess

TODAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def a_finess() -> str:
    return random_finess(random.Random(uuid.uuid4().int))


def days(first: date, last: date) -> set[date]:
    return {first + timedelta(days=i) for i in range((last - first).days + 1)}


@dataclass
class FakeReplayStore:
    """The ReplayStore of the unit tests: the same semantics as PostgresReplayStore, in memory."""

    held: dict[str, set[date]] = field(default_factory=dict)
    delivered_exports: set[str] = field(default_factory=set)
    stored: dict[int, ReplayRequest] = field(default_factory=dict)
    audits: dict[int, list[AuditEntry]] = field(default_factory=dict)

    async def held_days(self, finess: str, first_day: date, last_day: date) -> set[date]:
        return {d for d in self.held.get(finess, set()) if first_day <= d <= last_day}

    async def find(self, period: Period) -> ReplayRequest | None:
        return next((r for r in self.stored.values() if r.period == period), None)

    async def create(self, period: Period, assessment: Assessment, by: str) -> tuple[ReplayRequest, bool]:
        existing = await self.find(period)
        if existing is not None:
            return existing, False
        state = initial_state(assessment)
        request = ReplayRequest(
            len(self.stored) + 1, period, assessment.needed, assessment.reason, assessment.missing_days,
            state, by, NOW, closed_at=NOW if state is ReplayState.CLOSED else None,
        )  # fmt: skip
        self.stored[request.request_id] = request
        self.audits[request.request_id] = [AuditEntry(NOW, by, "requested", assessment.reason)]
        if state is ReplayState.CLOSED:
            self.audits[request.request_id].append(AuditEntry(NOW, SYSTEM_ACTOR, "closed", assessment.reason))
        return request, True

    async def get(self, request_id: int) -> ReplayRequest | None:
        return self.stored.get(request_id)

    async def requests(self, *, open_only: bool = False) -> list[ReplayRequest]:
        found = sorted(self.stored.values(), key=lambda r: -r.request_id)
        return [r for r in found if not open_only or r.state is not ReplayState.CLOSED]

    async def audit(self, request_id: int) -> list[AuditEntry]:
        return list(self.audits.get(request_id, []))

    async def move(
        self, request: ReplayRequest, to: ReplayState, actor: str, detail: str, export_id: str | None = None
    ) -> ReplayRequest | None:
        if self.stored[request.request_id].state is not request.state:
            return None
        after = advanced(request, to, NOW, export_id)
        self.stored[request.request_id] = after
        self.audits[request.request_id].append(AuditEntry(NOW, actor, to.value, detail))
        return after

    async def export_delivered(self, export_id: str) -> bool:
        return export_id in self.delivered_exports


# --- the assessment ---------------------------------------------------------------------------------------------


def test_a_period_entirely_held_needs_no_replay() -> None:
    p = Period(a_finess(), date(2026, 9, 1), date(2026, 9, 30))
    result = assess(p, days(date(2026, 8, 25), date(2026, 10, 5)), TODAY)
    assert not result.needed and result.missing_days == ()
    assert "déjà reçus" in result.reason


def test_missing_days_inside_the_rolling_window_need_no_replay() -> None:
    # J−7..J−1 come with the next daily file: 18/11 .. 24/11 on 25/11
    p = Period(a_finess(), date(2026, 11, 10), date(2026, 11, 24))
    result = assess(p, days(date(2026, 11, 10), date(2026, 11, 17)), TODAY)
    assert not result.needed
    assert result.missing_days == tuple(sorted(days(date(2026, 11, 18), date(2026, 11, 24))))
    assert "fenêtre glissante" in result.reason


def test_one_missing_day_older_than_the_window_needs_a_replay() -> None:
    p = Period(a_finess(), date(2026, 11, 1), date(2026, 11, 24))
    held = days(date(2026, 11, 1), date(2026, 11, 24)) - {date(2026, 11, 17)}
    result = assess(p, held, TODAY)
    assert result.needed and result.missing_days == (date(2026, 11, 17),)
    assert "17/11/2026" in result.reason


def test_a_day_held_with_zero_passages_counts_as_held() -> None:
    # rpu_day has a row with 0 for a day a file covered without passages: "sent, and empty" is not missing
    p = Period(a_finess(), date(2026, 10, 1), date(2026, 10, 1))
    assert not assess(p, {date(2026, 10, 1)}, TODAY).needed


@pytest.mark.parametrize(
    ("finess", "first", "last", "why"),
    [
        ("123456789", date(2026, 10, 1), date(2026, 10, 2), "clé"),
        (None, date(2026, 10, 2), date(2026, 10, 1), "inversée"),
        (None, date(2026, 11, 20), TODAY, "avant aujourd'hui"),
        (None, date(2025, 1, 1), date(2026, 10, 1), "366"),
    ],
)
async def test_an_invalid_request_is_refused_with_its_reason(
    finess: str | None, first: date, last: date, why: str
) -> None:
    replays = Replays(FakeReplayStore(), clock=lambda: NOW)
    with pytest.raises(InvalidReplayRequest, match=why):
        await replays.request(finess or a_finess(), first, last, "ars.martin")


def test_a_request_moves_one_step_at_a_time() -> None:
    p = Period(a_finess(), date(2026, 10, 1), date(2026, 10, 31))
    request = ReplayRequest(1, p, True, "", (), ReplayState.REQUESTED, "ars.martin", NOW)
    with pytest.raises(InvalidTransition):
        advanced(request, ReplayState.SENT, NOW, "spf-2026-11-26")
    received = advanced(request, ReplayState.DATA_RECEIVED, NOW)
    with pytest.raises(InvalidTransition):
        advanced(received, ReplayState.SENT, NOW)  # a send names its export
    sent = advanced(received, ReplayState.SENT, NOW, "spf-2026-11-26")
    assert advanced(sent, ReplayState.CLOSED, NOW).state is ReplayState.CLOSED


# --- the state machine on the store contract (fake and PostgreSQL) ------------------------------------------------


@dataclass
class Subject:
    store: Any
    hold: Any  # async (finess, days) -> None
    deliver: Any  # async (export_id, finess) -> None


@pytest.fixture
async def replay_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=3)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture(params=["fake", pytest.param("postgres", marks=pytest.mark.integration)])
def subject(request: pytest.FixtureRequest) -> Subject:
    if request.param == "fake":
        fake = FakeReplayStore()

        async def hold_fake(finess: str, held: set[date]) -> None:
            fake.held.setdefault(finess, set()).update(held)

        async def deliver_fake(export_id: str, finess: str) -> None:
            fake.delivered_exports.add(export_id)

        return Subject(fake, hold_fake, deliver_fake)
    pool = request.getfixturevalue("replay_pool")

    async def hold_pg(finess: str, held: set[date]) -> None:
        await hold_days(pool, finess, held)

    async def deliver_pg(export_id: str, finess: str) -> None:
        await pool.execute(
            """INSERT INTO rpu_delivery (export_id, destination, file_name, seq, sha256, size, finess, state,
                   delivered_at)
               VALUES ($1, 'spf', $2, 0, repeat('a', 64), 1, $3, 'delivered', now())""",
            export_id, f"RPU_{finess}.xml", [finess],
        )  # fmt: skip

    return Subject(PostgresReplayStore(pool), hold_pg, deliver_pg)


async def hold_days(db: Any, finess: str, held: set[date], passages: int = 10) -> None:
    """rpu_day rows (and their owning rpu_file) as the integration leaves them."""
    file_id = uuid.uuid4().hex + uuid.uuid4().hex
    await db.execute(
        """INSERT INTO rpu_file (file_id, finess, account, file_name, status, blob_sha256, blob_size,
               blob_media_type, received_at, first_day, last_day, days_replaced)
           VALUES ($1, $2, $3, 'RPU.xml', 'integrated', $1, 1, 'application/xml', now(), $4, $5, $6)""",
        file_id, finess, finess, min(held), max(held), sorted(held),
    )  # fmt: skip
    await db.executemany(
        """INSERT INTO rpu_day (finess, day, file_id, extract, received_at, passages)
           VALUES ($1, $2, $3, now(), now(), $4)
           ON CONFLICT (finess, day) DO UPDATE SET file_id = excluded.file_id, passages = excluded.passages""",
        [(finess, d, file_id, passages) for d in sorted(held)],
    )


async def pending_of(replays: Replays, finess: str) -> list[ReplayRequest]:
    """This test's pending requests: the session database is shared with other tests' requests."""
    return [r for r in await replays.pending_periods() if r.period.finess == finess]


def actions(trail: Sequence[AuditEntry]) -> list[tuple[str, str]]:
    return [(e.actor, e.action) for e in trail]


async def test_a_needed_replay_goes_from_requested_to_closed_with_every_step_audited(
    subject: Subject,
) -> None:
    replays = Replays(subject.store, clock=lambda: NOW)
    finess = a_finess()
    await subject.hold(finess, days(date(2026, 9, 20), date(2026, 9, 30)))
    request, created = await replays.request(finess, date(2026, 10, 1), date(2026, 10, 31), "ars.martin")
    assert created and request.needed and request.state is ReplayState.REQUESTED
    assert len(request.missing_days) == 31

    assert await pending_of(replays, finess) == []  # nothing held yet: nothing to export
    await subject.hold(finess, days(date(2026, 10, 1), date(2026, 10, 15)))
    assert await pending_of(replays, finess) == []  # half a period is not the period
    await subject.hold(finess, days(date(2026, 10, 16), date(2026, 10, 31)))
    [pending] = await pending_of(replays, finess)
    assert pending.request_id == request.request_id and pending.state is ReplayState.DATA_RECEIVED

    # unique export ids: the session database is shared with the outbound tests, which deliver real exports
    exported, later = f"spf-replay-{uuid.uuid4().hex[:8]}", f"spf-replay-{uuid.uuid4().hex[:8]}"
    await replays.mark_sent(exported, [request.request_id])
    await replays.mark_sent(later, [request.request_id])  # again: harmless, the first export stays
    assert await pending_of(replays, finess) == []
    shown = await replays.get(request.request_id)
    assert shown is not None and shown[0].state is ReplayState.SENT and shown[0].export_id == exported

    await subject.deliver(exported, finess)
    shown = await replays.get(request.request_id)
    assert shown is not None
    closed, trail = shown
    assert closed.state is ReplayState.CLOSED and closed.closed_at is not None
    assert actions(trail) == [
        ("ars.martin", "requested"),
        (SYSTEM_ACTOR, "data_received"),
        (SYSTEM_ACTOR, "sent"),
        (SYSTEM_ACTOR, "closed"),
    ]
    assert exported in trail[2].detail
    assert [e.at for e in trail] == sorted(e.at for e in trail)


async def test_asking_twice_returns_the_same_request_and_writes_nothing(subject: Subject) -> None:
    replays = Replays(subject.store, clock=lambda: NOW)
    finess = a_finess()
    first, created = await replays.request(finess, date(2026, 9, 1), date(2026, 9, 30), "ars.martin")
    again, created_again = await replays.request(finess, date(2026, 9, 1), date(2026, 9, 30), "ars.durand")
    assert created and not created_again
    assert again == first and again.requested_by == "ars.martin"
    assert actions(await subject.store.audit(first.request_id)) == [("ars.martin", "requested")]
    assert len([r for r in await replays.requests() if r.period.finess == finess]) == 1


async def test_a_replay_not_needed_is_answered_and_closed_at_once(subject: Subject) -> None:
    replays = Replays(subject.store, clock=lambda: NOW)
    finess = a_finess()
    await subject.hold(finess, days(date(2026, 9, 1), date(2026, 9, 30)))
    request, created = await replays.request(finess, date(2026, 9, 1), date(2026, 9, 30), "ars.martin")
    assert created and not request.needed and request.state is ReplayState.CLOSED
    assert actions(await subject.store.audit(request.request_id)) == [
        ("ars.martin", "requested"),
        (SYSTEM_ACTOR, "closed"),
    ]
    assert await pending_of(replays, finess) == []


async def test_a_stale_move_writes_nothing(subject: Subject) -> None:
    replays = Replays(subject.store, clock=lambda: NOW)
    finess = a_finess()
    request, _ = await replays.request(finess, date(2026, 9, 1), date(2026, 9, 2), "ars.martin")
    moved = await subject.store.move(request, ReplayState.DATA_RECEIVED, SYSTEM_ACTOR, "one")
    assert moved is not None
    assert await subject.store.move(request, ReplayState.DATA_RECEIVED, SYSTEM_ACTOR, "two") is None
    assert actions(await subject.store.audit(request.request_id)) == [
        ("ars.martin", "requested"),
        (SYSTEM_ACTOR, "data_received"),
    ]
    stale = replace(moved, state=ReplayState.REQUESTED)
    assert await subject.store.move(stale, ReplayState.DATA_RECEIVED, SYSTEM_ACTOR, "three") is None


# --- what the daily export carries --------------------------------------------------------------------------------


def test_a_pending_replay_joins_the_export_alone_or_widens_its_establishment() -> None:
    from relais_rpu_concentrator.outbound.ports import ChangedEstablishment
    from relais_rpu_concentrator.replay.export import with_replays

    quiet, busy, other = sorted(a_finess() for _ in range(3))

    def pending(finess: str, first: date, last: date) -> ReplayRequest:
        return ReplayRequest(
            1, Period(finess, first, last), True, "", (), ReplayState.DATA_RECEIVED, "ars.martin", NOW
        )

    changed = [
        ChangedEstablishment(busy, date(2026, 11, 17), date(2026, 11, 23), ("00-trace-01",)),
        ChangedEstablishment(other, date(2026, 11, 17), date(2026, 11, 23)),
    ]
    carried = with_replays(
        changed,
        [
            pending(quiet, date(2026, 9, 1), date(2026, 9, 30)),
            pending(busy, date(2026, 10, 1), date(2026, 10, 31)),
        ],
    )
    assert carried == [
        ChangedEstablishment(quiet, date(2026, 9, 1), date(2026, 9, 30)),
        ChangedEstablishment(busy, date(2026, 10, 1), date(2026, 11, 23), ("00-trace-01",)),
        ChangedEstablishment(other, date(2026, 11, 17), date(2026, 11, 23)),
    ]
    assert with_replays(changed, []) == sorted(changed, key=lambda c: c.finess)


async def test_the_periodic_round_closes_a_sent_request_once_its_export_is_delivered() -> None:
    import asyncio
    from contextlib import suppress

    from relais_rpu_concentrator.replay.replays import keep_progressing

    store = FakeReplayStore()
    replays = Replays(store, clock=lambda: NOW)
    finess = a_finess()
    request, _ = await replays.request(finess, date(2026, 10, 1), date(2026, 10, 2), "ars.martin")
    store.held[finess] = days(date(2026, 10, 1), date(2026, 10, 2))
    [pending] = await replays.pending_periods()
    await replays.mark_sent("spf-2026-11-26", [pending.request_id])
    store.delivered_exports.add("spf-2026-11-26")
    rounds = asyncio.create_task(keep_progressing(replays, 0.01))
    try:
        async with asyncio.timeout(5):
            while store.stored[request.request_id].state is not ReplayState.CLOSED:
                await asyncio.sleep(0.01)
    finally:
        rounds.cancel()
        with suppress(asyncio.CancelledError):
            await rounds
    assert actions(store.audits[request.request_id])[-1] == (SYSTEM_ACTOR, "closed")
