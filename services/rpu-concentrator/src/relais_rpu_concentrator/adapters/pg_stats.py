"""Transmission statistics read from the regional database (rpu_file, rpu_day, rpu_account)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from relais_rpu_concentrator.stats.model import EstablishmentMonth, MonthStats, month_days

# Files by reception month in local time; every active establishment account is listed, so an establishment
# that sent nothing shows as a row of zeros rather than not at all.
_FILES = """
    SELECT finess, status, count(*)::int AS n FROM rpu_file
    WHERE (received_at AT TIME ZONE 'Europe/Paris') >= $1 AND (received_at AT TIME ZONE 'Europe/Paris') < $2
    GROUP BY finess, status
"""
_DAYS = "SELECT finess, day, passages FROM rpu_day WHERE day >= $1 AND day < $2"
_ACCOUNTS = "SELECT finess FROM rpu_account WHERE role = 'etablissement' AND active"


async def month_stats(db: Any, month: date) -> MonthStats:
    """`db`: an asyncpg connection or pool."""
    start = month.replace(day=1)
    end = month_days(start)[-1] + timedelta(days=1)
    files: dict[str, dict[str, int]] = defaultdict(dict)
    for row in await db.fetch(_FILES, start, end):
        files[row["finess"]][row["status"]] = row["n"]
    daily: dict[str, dict[date, int]] = defaultdict(dict)
    for row in await db.fetch(_DAYS, start, end):
        daily[row["finess"]][row["day"]] = row["passages"]
    finesses = set(files) | set(daily) | {row["finess"] for row in await db.fetch(_ACCOUNTS)}
    return MonthStats(
        start,
        tuple(
            EstablishmentMonth(
                finess,
                files_integrated=files[finess].get("integrated", 0),
                files_rejected=files[finess].get("rejected", 0),
                files_superseded=files[finess].get("superseded", 0),
                daily=daily.get(finess, {}),
            )
            for finess in sorted(finesses)
        ),
    )
