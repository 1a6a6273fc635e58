"""What the replay use cases need (ReplayStore), and what they offer the daily export (ReplayLedger)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from relais_rpu_concentrator.replay.model import (
    Assessment,
    AuditEntry,
    Period,
    ReplayRequest,
    ReplayState,
)


class ReplayStore(Protocol):
    """Requests and their audit trail, plus the one fact of the regional database replay depends on: which days
    of an establishment it holds. PostgreSQL in production (adapters/pg_replay.py), a fake in the unit tests."""

    async def held_days(self, finess: str, first_day: date, last_day: date) -> set[date]:
        """Days of the range the regional database holds for the FINESS (rpu_day: an integrated file covered it)."""
        ...

    async def find(self, period: Period) -> ReplayRequest | None: ...

    async def create(self, period: Period, assessment: Assessment, by: str) -> tuple[ReplayRequest, bool]:
        """Record the request (REQUESTED when needed, CLOSED otherwise) and its audit entries in one transaction;
        when one exists already for that FINESS × period (even created concurrently), return it untouched and
        False."""
        ...

    async def get(self, request_id: int) -> ReplayRequest | None: ...

    async def requests(self, *, open_only: bool = False) -> list[ReplayRequest]:
        """Most recent first; open = not closed."""
        ...

    async def audit(self, request_id: int) -> list[AuditEntry]:
        """In the order the actions happened."""
        ...

    async def move(
        self, request: ReplayRequest, to: ReplayState, actor: str, detail: str, export_id: str | None = None
    ) -> ReplayRequest | None:
        """Move the request from the state it has in `request` to `to` and audit it, in one transaction; None
        (nothing written) when its stored state is no longer `request.state` (another process moved it)."""
        ...

    async def export_delivered(self, export_id: str) -> bool:
        """True when every file of that export (the manifest included) is delivered to its destination."""
        ...


class ReplayLedger(Protocol):
    """What the daily Santé publique France export asks of the replays (implemented by `Replays`).

    Each daily build calls `pending_periods()` and adds every returned request's FINESS × period to the export,
    even when no file of that establishment was received in the export's window; once the export is planned in
    the delivery ledger it calls `mark_sent(export_id, [request ids])`. A crash between the two only means the
    next export carries the period again, which is harmless ("annule et remplace" per FINESS and day).
    """

    async def pending_periods(self) -> list[ReplayRequest]:
        """Requests whose data is in the regional database and not yet carried by an export (DATA_RECEIVED),
        after moving every request whose period is now fully held to that state."""
        ...

    async def mark_sent(self, export_id: str, request_ids: Sequence[int]) -> None:
        """Record that `export_id` carries these requests (DATA_RECEIVED → SENT); a request already sent is left
        as it is, so calling again is harmless."""
        ...
