"""A job at a local time every day (the SPF export, the absence check).

At start the job also runs for today when its hour has passed: both jobs are idempotent per day (export id per
day, one alert per FINESS and day), so a restart after the hour catches up instead of waiting for tomorrow.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)

Job = Callable[[date], Awaitable[object]]


def next_run(now: datetime, at: time, zone: ZoneInfo) -> datetime:
    """The first local `at` strictly after `now` (an aware datetime), across daylight-saving changes."""
    local = now.astimezone(zone)
    candidate = datetime.combine(local.date(), at, tzinfo=zone)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), at, tzinfo=zone)
    return candidate


async def run_daily(
    at: time,
    zone: ZoneInfo,
    job: Job,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Run `job(local day)` every day at `at`; a failing run is logged and retried at the next occasion."""
    current = now().astimezone(zone)
    if current.timetz().replace(tzinfo=None) >= at:
        await _run(job, current.date())
    while True:
        due = next_run(now(), at, zone)
        await sleep(max(0.0, (due - now()).total_seconds()))
        await _run(job, due.date())


async def _run(job: Job, day: date) -> None:
    try:
        await job(day)
    except Exception:  # the next day's run must still happen; the ledgers make a later retry safe
        log.exception("daily job failed", extra={"day": day.isoformat()})
