"""The alert ledger in PostgreSQL (tables rpu_absence_alert and rpu_absence_notification, migration 0022)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from typing import Any

import asyncpg

from relais_rpu_concentrator.outbound.absence import AbsenceAlert, AlertReason, LastFile
from relais_rpu_concentrator.outbound.ports import Notifier

log = logging.getLogger(__name__)


def _alert(row: Any) -> AbsenceAlert:
    last = None
    if row["last_file"] is not None:
        last = LastFile(row["last_file"], row["last_file_at"], row["last_trace"])
    return AbsenceAlert(
        finess=row["finess"],
        day=row["day"],
        reason=AlertReason(row["reason"]),
        message=row["message"],
        establishment_name=row["establishment"],
        last_file=last,
        missing_days=tuple(row["missing_days"]),
        day_count=row["day_count"],
        threshold=row["threshold"],
    )


class PostgresAlertLedger:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def record(self, alerts: Sequence[AbsenceAlert]) -> list[AbsenceAlert]:
        new = []
        async with self._pool.acquire() as conn:
            for a in alerts:
                last = a.last_file
                inserted = await conn.fetchval(
                    """INSERT INTO rpu_absence_alert (finess, day, reason, message, establishment, last_file,
                                                      last_file_at, last_trace, missing_days, day_count, threshold)
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                       ON CONFLICT (finess, day) DO NOTHING RETURNING 1""",
                    a.finess, a.day, a.reason.value, a.message, a.establishment_name,
                    last.name if last else None, last.received_at if last else None,
                    last.trace_parent if last else None, list(a.missing_days), a.day_count, a.threshold,
                )  # fmt: skip
                if inserted:
                    new.append(a)
        return new

    async def notify_pending(self, day: date, channel: str, send: Notifier) -> list[AbsenceAlert]:
        await self._pool.execute(
            """INSERT INTO rpu_absence_notification (finess, day, channel)
               SELECT finess, day, $2 FROM rpu_absence_alert WHERE day = $1
               ON CONFLICT DO NOTHING""",
            day,
            channel,
        )
        pending = await self._pool.fetch(
            """SELECT finess FROM rpu_absence_notification
               WHERE day = $1 AND channel = $2 AND notified_at IS NULL ORDER BY finess""",
            day,
            channel,
        )
        sent = []
        for (finess,) in pending:
            # Row lock held while sending: a concurrent check skips this alert instead of sending it too.
            async with self._pool.acquire() as conn, conn.transaction():
                row = await conn.fetchrow(
                    """SELECT a.* FROM rpu_absence_notification n JOIN rpu_absence_alert a USING (finess, day)
                       WHERE n.finess = $1 AND n.day = $2 AND n.channel = $3 AND n.notified_at IS NULL
                       FOR UPDATE OF n SKIP LOCKED""",
                    finess,
                    day,
                    channel,
                )
                if row is None:
                    continue
                alert = _alert(row)
                try:
                    await send.notify(alert)
                except Exception as error:  # any channel failure is kept and retried by the next check
                    log.error("alert notification failed", extra={"finess": finess, "channel": channel})
                    await conn.execute(
                        """UPDATE rpu_absence_notification SET attempts = attempts + 1, last_error = $4
                           WHERE finess = $1 AND day = $2 AND channel = $3""",
                        finess, day, channel, f"{type(error).__name__}: {error}"[:2000],
                    )  # fmt: skip
                    continue
                await conn.execute(
                    """UPDATE rpu_absence_notification
                       SET attempts = attempts + 1, last_error = NULL, notified_at = now()
                       WHERE finess = $1 AND day = $2 AND channel = $3""",
                    finess,
                    day,
                    channel,
                )
                sent.append(alert)
        return sent
