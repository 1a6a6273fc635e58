"""The same-day absence rule (pure): which active establishments get an alert for a day, and its French message.

For day D (the day of the check):
- no file received on D → alert "absence";
- otherwise, the passage count of D − `volume_lag_days` (the last complete day, the one the night's file must cover)
  below mean − `sigmas`·SD of the `history_days` days before it → alert "volume". Days without data count as 0; the
  rule needs `min_history_days` days since the establishment's first data, and is silent when the threshold is ≤ 0.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

# Establishments and ARS staff read times in metropolitan French time.
LOCAL_TIME = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class Establishment:
    finess: str
    name: str | None = None


@dataclass(frozen=True)
class LastFile:
    name: str
    received_at: datetime
    trace_parent: str | None = None  # W3C traceparent of the file's trace


@dataclass(frozen=True)
class EstablishmentActivity:
    files_per_day: Mapping[date, int] = field(default_factory=dict)  # by reception day
    passages_per_day: Mapping[date, int] = field(default_factory=dict)  # by ENTREE day
    last_file: LastFile | None = None


@dataclass(frozen=True)
class AbsenceRule:
    history_days: int = 28
    min_history_days: int = 7
    sigmas: float = 3.0
    volume_lag_days: int = 1

    def window(self, day: date) -> tuple[date, date]:
        """The days of activity the rule reads for `day`."""
        return day - timedelta(days=self.history_days + self.volume_lag_days), day


class AlertReason(StrEnum):
    ABSENCE = "absence"
    VOLUME = "volume"


@dataclass(frozen=True)
class AbsenceAlert:
    finess: str
    day: date
    reason: AlertReason
    message: str
    establishment_name: str | None = None
    last_file: LastFile | None = None
    missing_days: tuple[date, ...] = ()
    day_count: int | None = None
    threshold: float | None = None

    @property
    def subject(self) -> str:
        what = "absence de transmission" if self.reason is AlertReason.ABSENCE else "volume anormalement bas"
        return f"[Relais RPU] {what} — FINESS {self.finess} — {_d(self.day)}"


def assess_absences(
    day: date,
    establishments: Sequence[Establishment],
    activity: Mapping[str, EstablishmentActivity],
    rule: AbsenceRule | None = None,
) -> list[AbsenceAlert]:
    rule = rule or AbsenceRule()
    alerts = []
    for establishment in sorted(establishments, key=lambda e: e.finess):
        alert = assess_one(
            day, establishment, activity.get(establishment.finess, EstablishmentActivity()), rule
        )
        if alert is not None:
            alerts.append(alert)
    return alerts


def assess_one(
    day: date, establishment: Establishment, activity: EstablishmentActivity, rule: AbsenceRule
) -> AbsenceAlert | None:
    missing = missing_days(day, activity, rule)
    if activity.files_per_day.get(day, 0) == 0:
        return _alert(AlertReason.ABSENCE, day, establishment, activity, missing, rule, None, None)
    counted = day - timedelta(days=rule.volume_lag_days)
    known = [d for d, n in activity.passages_per_day.items() if n > 0 and d < counted]
    if not known:
        return None
    first_known = min(known)
    history = [
        activity.passages_per_day.get(counted - timedelta(days=i), 0)
        for i in range(1, rule.history_days + 1)
        if counted - timedelta(days=i) >= first_known
    ]
    if len(history) < max(2, rule.min_history_days):
        return None
    threshold = statistics.fmean(history) - rule.sigmas * statistics.pstdev(history)
    count = activity.passages_per_day.get(counted, 0)
    if threshold > 0 and count < threshold:
        return _alert(AlertReason.VOLUME, day, establishment, activity, missing, rule, count, threshold)
    return None


def missing_days(day: date, activity: EstablishmentActivity, rule: AbsenceRule) -> tuple[date, ...]:
    """The days without any file, from the last day with a file (excluded) to `day`, bounded by the window."""
    first, _ = rule.window(day)
    days = []
    current = day
    while current >= first and activity.files_per_day.get(current, 0) == 0:
        days.append(current)
        current -= timedelta(days=1)
    return tuple(reversed(days))


def _alert(
    reason: AlertReason,
    day: date,
    establishment: Establishment,
    activity: EstablishmentActivity,
    missing: tuple[date, ...],
    rule: AbsenceRule,
    count: int | None,
    threshold: float | None,
) -> AbsenceAlert:
    return AbsenceAlert(
        finess=establishment.finess,
        day=day,
        reason=reason,
        message=french_message(
            reason, day, establishment, activity.last_file, missing, rule, count, threshold
        ),
        establishment_name=establishment.name,
        last_file=activity.last_file,
        missing_days=missing,
        day_count=count,
        threshold=threshold,
    )


def french_message(
    reason: AlertReason,
    day: date,
    establishment: Establishment,
    last_file: LastFile | None,
    missing: Sequence[date],
    rule: AbsenceRule,
    count: int | None,
    threshold: float | None,
) -> str:
    who = f"L'établissement FINESS {establishment.finess}"
    if establishment.name:
        who += f" ({establishment.name})"
    if reason is AlertReason.ABSENCE:
        what = f"{who} n'a transmis aucun fichier RPU le {_d(day)}."
    else:
        what = (
            f"{who} a transmis un volume anormalement bas : {count} passages le "
            f"{_d(day - timedelta(days=rule.volume_lag_days))}, sous le seuil de {_n(threshold)} "
            f"(moyenne − {_n(rule.sigmas)} écarts types des {rule.history_days} jours précédents)."
        )
    if last_file is None:
        last = "Aucun fichier reçu de cet établissement à ce jour."
    else:
        at = (
            last_file.received_at.astimezone(LOCAL_TIME)
            if last_file.received_at.tzinfo
            else last_file.received_at
        )
        last = f"Dernier fichier reçu : {last_file.name}, le {_d(at.date())} à {at:%H:%M}."
    if missing:
        days = ", ".join(_d(d) for d in missing)
        gap = f"Jours sans fichier ({len(missing)}) : {days}."
    else:
        gap = "Jours sans fichier : aucun."
    advice = (
        "Si la transmission reprend sous 7 jours, les fichiers glissants couvrent la lacune ; "
        "au-delà, une reprise devra être demandée."
    )
    return "\n".join([what, last, gap, advice])


def _d(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def _n(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}".replace(".", ",")
