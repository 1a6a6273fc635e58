"""Transition statuses from the regional database: rpu_day counts per establishment, active intake accounts."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from relais_rpu_concentrator.transition.model import (
    HISTORY_DAYS,
    REQUIRED_DAYS,
    TransitionStatus,
    transition_status,
)

_DAYS = "SELECT finess, day, passages FROM rpu_day WHERE day BETWEEN $1 AND $2"
_ACCOUNTS = "SELECT finess FROM rpu_account WHERE role = 'etablissement' AND active"


async def transition_statuses(
    db: Any, as_of: date, *, required_days: int = REQUIRED_DAYS, history_days: int = HISTORY_DAYS
) -> list[TransitionStatus]:
    """Every active establishment account and every establishment with data in the history, in FINESS order;
    `db`: an asyncpg connection or pool."""
    daily: dict[str, dict[date, int]] = defaultdict(dict)
    for row in await db.fetch(_DAYS, as_of - timedelta(days=history_days - 1), as_of):
        daily[row["finess"]][row["day"]] = row["passages"]
    finess = set(daily) | {row["finess"] for row in await db.fetch(_ACCOUNTS)}
    return [transition_status(f, daily.get(f, {}), as_of, required_days) for f in sorted(finess)]
