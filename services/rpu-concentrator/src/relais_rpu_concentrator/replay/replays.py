"""Replay use cases: the ARS asks, the regional database fills, the daily export carries, the delivery closes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from relais_rpu_concentrator.replay.model import (
    SYSTEM_ACTOR,
    AuditEntry,
    InvalidReplayRequest,
    ReplayRequest,
    ReplayState,
    assess,
    period,
)
from relais_rpu_concentrator.replay.ports import ReplayStore

PARIS = ZoneInfo("Europe/Paris")
log = logging.getLogger(__name__)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Replays:
    """The replay desk. Implements ReplayLedger for the daily export."""

    def __init__(
        self, store: ReplayStore, *, clock: Callable[[], datetime] = _utc_now, zone: ZoneInfo = PARIS
    ) -> None:
        self._store = store
        self._clock = clock
        self._zone = zone

    def today(self) -> date:
        return self._clock().astimezone(self._zone).date()

    async def request(
        self, finess: str, first_day: date, last_day: date, by: str
    ) -> tuple[ReplayRequest, bool]:
        """The request for that FINESS × period and whether it was created now. Asking again for the same
        FINESS × period returns the existing request and writes nothing (neither state nor audit)."""
        if not by.strip():
            raise InvalidReplayRequest("le demandeur doit être nommé")
        p = period(finess, first_day, last_day, self.today())
        existing = await self._store.find(p)
        if existing is not None:
            return existing, False
        held = await self._store.held_days(p.finess, p.first_day, p.last_day)
        return await self._store.create(p, assess(p, held, self.today()), by.strip())

    async def get(self, request_id: int) -> tuple[ReplayRequest, list[AuditEntry]] | None:
        await self.progress()
        request = await self._store.get(request_id)
        if request is None:
            return None
        return request, await self._store.audit(request_id)

    async def requests(self, *, open_only: bool = False) -> list[ReplayRequest]:
        await self.progress()
        return await self._store.requests(open_only=open_only)

    async def progress(self) -> list[ReplayRequest]:
        """Move open requests forward where the facts allow: REQUESTED → DATA_RECEIVED once every day of the
        period is held; SENT → CLOSED once the export carrying it is delivered. Returns the requests moved."""
        moved: list[ReplayRequest] = []
        for request in await self._store.requests(open_only=True):
            p = request.period
            if request.state is ReplayState.REQUESTED:
                held = await self._store.held_days(p.finess, p.first_day, p.last_day)
                if len(held) == len(p.days()):
                    detail = "tous les jours de la période sont reçus et intégrés"
                    after = await self._store.move(request, ReplayState.DATA_RECEIVED, SYSTEM_ACTOR, detail)
                    moved += [after] if after else []
            elif request.state is ReplayState.SENT and request.export_id:
                if await self._store.export_delivered(request.export_id):
                    detail = f"export {request.export_id} livré à Santé publique France"
                    after = await self._store.move(request, ReplayState.CLOSED, SYSTEM_ACTOR, detail)
                    moved += [after] if after else []
        return moved

    async def pending_periods(self) -> list[ReplayRequest]:
        await self.progress()
        return [r for r in await self._store.requests(open_only=True) if r.state is ReplayState.DATA_RECEIVED]

    async def mark_sent(self, export_id: str, request_ids: Sequence[int]) -> None:
        for request_id in request_ids:
            request = await self._store.get(request_id)
            if request is None or request.state is not ReplayState.DATA_RECEIVED:
                continue
            await self._store.move(
                request, ReplayState.SENT, SYSTEM_ACTOR, f"inclus dans l'export {export_id}", export_id
            )


async def keep_progressing(replays: Replays, interval_s: float) -> None:
    """Until cancelled: move open requests forward every `interval_s`, so that a request reaches `closed` once its
    export is delivered even when nobody reads it. A failed round (database away) is logged and tried again."""
    while True:
        try:
            await replays.progress()
        except Exception:
            log.exception("replay progress failed; next try in %.0f s", interval_s)
        await asyncio.sleep(interval_s)
