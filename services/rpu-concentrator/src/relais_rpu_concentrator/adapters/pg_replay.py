"""Replay requests and their audit trail in PostgreSQL (migration 0024), and the days rpu_day holds (0021).

Works on an asyncpg pool (the service) or one connection (the CLI). Every change of a request and its audit row
are written in one transaction; a move is a compare-and-set on the state, so two processes progressing the same
request write one step and one audit row.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from relais_rpu_concentrator.replay.model import (
    SYSTEM_ACTOR,
    Assessment,
    AuditEntry,
    Period,
    ReplayRequest,
    ReplayState,
    initial_state,
)
from relais_rpu_concentrator.replay.replays import Replays

_COLUMNS = """request_id, finess, first_day, last_day, needed, reason, missing_days, state, requested_by,
    requested_at, data_received_at, export_id, sent_at, closed_at"""
_AUDIT = "INSERT INTO rpu_replay_audit (request_id, actor, action, detail) VALUES ($1, $2, $3, $4)"
_TIME_OF = {
    ReplayState.DATA_RECEIVED: "data_received_at",
    ReplayState.SENT: "sent_at",
    ReplayState.CLOSED: "closed_at",
}


def _request(row: Any) -> ReplayRequest:
    return ReplayRequest(
        request_id=row["request_id"],
        period=Period(row["finess"], row["first_day"], row["last_day"]),
        needed=row["needed"],
        reason=row["reason"],
        missing_days=tuple(row["missing_days"]),
        state=ReplayState(row["state"]),
        requested_by=row["requested_by"],
        requested_at=row["requested_at"],
        data_received_at=row["data_received_at"],
        export_id=row["export_id"],
        sent_at=row["sent_at"],
        closed_at=row["closed_at"],
    )


class _Transaction:
    """A transaction on a pool (acquire a connection) or on a connection (use it)."""

    def __init__(self, db: Any) -> None:
        self._db = db
        self._conn: Any = None
        self._acquired = False

    async def __aenter__(self) -> Any:
        if hasattr(self._db, "acquire"):
            self._conn = await self._db.acquire()
            self._acquired = True
        else:
            self._conn = self._db
        self._tx = self._conn.transaction()
        await self._tx.start()
        return self._conn

    async def __aexit__(self, kind: object, error: object, tb: object) -> None:
        try:
            if error is None:
                await self._tx.commit()
            else:
                await self._tx.rollback()
        finally:
            if self._acquired:
                await self._db.release(self._conn)


class PostgresReplayStore:
    def __init__(self, db: Any) -> None:
        self._db = db

    async def held_days(self, finess: str, first_day: date, last_day: date) -> set[date]:
        rows = await self._db.fetch(
            "SELECT day FROM rpu_day WHERE finess = $1 AND day BETWEEN $2 AND $3", finess, first_day, last_day
        )
        return {row["day"] for row in rows}

    async def find(self, period: Period) -> ReplayRequest | None:
        row = await self._db.fetchrow(
            f"""SELECT {_COLUMNS} FROM rpu_replay_request
                WHERE finess = $1 AND first_day = $2 AND last_day = $3""",
            period.finess,
            period.first_day,
            period.last_day,
        )
        return None if row is None else _request(row)

    async def create(self, period: Period, assessment: Assessment, by: str) -> tuple[ReplayRequest, bool]:
        state = initial_state(assessment)
        async with _Transaction(self._db) as conn:
            row = await conn.fetchrow(
                f"""INSERT INTO rpu_replay_request
                        (finess, first_day, last_day, needed, reason, missing_days, state, requested_by, closed_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $7 = 'closed' THEN now() END)
                    ON CONFLICT (finess, first_day, last_day) DO NOTHING
                    RETURNING {_COLUMNS}""",
                period.finess,
                period.first_day,
                period.last_day,
                assessment.needed,
                assessment.reason,
                list(assessment.missing_days),
                state.value,
                by,
            )
            if row is not None:
                request_id = row["request_id"]
                what = f"{period.finess} du {period.first_day:%d/%m/%Y} au {period.last_day:%d/%m/%Y}"
                await conn.execute(_AUDIT, request_id, by, "requested", f"{what} — {assessment.reason}")
                if state is ReplayState.CLOSED:
                    await conn.execute(_AUDIT, request_id, SYSTEM_ACTOR, "closed", assessment.reason)
                return _request(row), True
        existing = await self.find(period)
        assert existing is not None  # the conflicting row exists and requests are never deleted
        return existing, False

    async def get(self, request_id: int) -> ReplayRequest | None:
        row = await self._db.fetchrow(
            f"SELECT {_COLUMNS} FROM rpu_replay_request WHERE request_id = $1", request_id
        )
        return None if row is None else _request(row)

    async def requests(self, *, open_only: bool = False) -> list[ReplayRequest]:
        where = "WHERE state <> 'closed'" if open_only else ""
        rows = await self._db.fetch(
            f"SELECT {_COLUMNS} FROM rpu_replay_request {where} ORDER BY request_id DESC"
        )
        return [_request(row) for row in rows]

    async def audit(self, request_id: int) -> list[AuditEntry]:
        rows = await self._db.fetch(
            "SELECT at, actor, action, detail FROM rpu_replay_audit WHERE request_id = $1 ORDER BY audit_id",
            request_id,
        )
        return [AuditEntry(row["at"], row["actor"], row["action"], row["detail"]) for row in rows]

    async def move(
        self, request: ReplayRequest, to: ReplayState, actor: str, detail: str, export_id: str | None = None
    ) -> ReplayRequest | None:
        async with _Transaction(self._db) as conn:
            row = await conn.fetchrow(
                f"""UPDATE rpu_replay_request
                    SET state = $3, {_TIME_OF[to]} = now(), export_id = coalesce($4, export_id)
                    WHERE request_id = $1 AND state = $2
                    RETURNING {_COLUMNS}""",
                request.request_id,
                request.state.value,
                to.value,
                export_id,
            )
            if row is None:
                return None
            await conn.execute(_AUDIT, request.request_id, actor, to.value, detail)
            return _request(row)

    async def export_delivered(self, export_id: str) -> bool:
        row = await self._db.fetchrow(
            """SELECT count(*) > 0 AND count(*) FILTER (WHERE state <> 'delivered') = 0 AS delivered
               FROM rpu_delivery WHERE export_id = $1""",
            export_id,
        )
        return bool(row["delivered"])


def postgres_replays(db: Any) -> Replays:
    """The replay desk on PostgreSQL: what the API, the CLI and the daily export use (a ReplayLedger)."""
    return Replays(PostgresReplayStore(db))
