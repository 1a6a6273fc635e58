"""The replay request, its assessment and its state machine. Pure: no database, no HTTP.

Spec §4: each establishment's daily file carries J−7..J−1, so an interruption solved within 7 days needs no replay
(the rolling files cover it). Days still missing once they have left that window can only come back by a replay:
the ARS names the FINESS and the period, the establishment re-sends (in practice one catch-up file per month), and
the next daily export to Santé publique France carries the period.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from relais_finess import check

ROLLING_WINDOW_DAYS = 7  # J−7..J−1 in every daily file
MAX_PERIOD_DAYS = 366
SYSTEM_ACTOR = "relais"  # the actor of automatic steps in the audit trail


class InvalidReplayRequest(ValueError):
    """A request that cannot be recorded as asked; the message says why, in French (it is shown to ARS staff)."""


class InvalidTransition(ValueError):
    pass


class ReplayState(StrEnum):
    REQUESTED = "requested"  # waiting for the establishment's files
    DATA_RECEIVED = "data_received"  # the regional database holds every day of the period
    SENT = "sent"  # a daily Santé publique France export carries the period
    CLOSED = "closed"  # that export was delivered, or no replay was needed


# The only moves a request makes, each one step forward.
NEXT: dict[ReplayState, ReplayState] = {
    ReplayState.REQUESTED: ReplayState.DATA_RECEIVED,
    ReplayState.DATA_RECEIVED: ReplayState.SENT,
    ReplayState.SENT: ReplayState.CLOSED,
}


@dataclass(frozen=True, slots=True)
class Period:
    """A FINESS × inclusive range of days (ENTREE dates, local time)."""

    finess: str
    first_day: date
    last_day: date

    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=i) for i in range((self.last_day - self.first_day).days + 1)]


def period(finess: str, first_day: date, last_day: date, today: date) -> Period:
    """A valid period to replay, or InvalidReplayRequest: a real FINESS, first ≤ last, entirely before today."""
    finess = finess.strip().upper()
    result = check(finess)
    if not result.valid:
        raise InvalidReplayRequest(f"FINESS {finess!r} invalide : {result.reason}")
    if first_day > last_day:
        raise InvalidReplayRequest(f"période inversée : du {first_day:%d/%m/%Y} au {last_day:%d/%m/%Y}")
    if last_day >= today:
        raise InvalidReplayRequest(
            f"la période doit s'achever avant aujourd'hui ({today:%d/%m/%Y}) : la journée en cours n'est pas close"
        )
    if (last_day - first_day).days + 1 > MAX_PERIOD_DAYS:
        raise InvalidReplayRequest(f"période de plus de {MAX_PERIOD_DAYS} jours : la découper")
    return Period(finess, first_day, last_day)


@dataclass(frozen=True, slots=True)
class Assessment:
    needed: bool
    reason: str  # French, as answered to the ARS
    missing_days: tuple[date, ...] = ()


def _days(days: Collection[date]) -> str:
    ordered = sorted(days)
    shown = ", ".join(f"{d:%d/%m/%Y}" for d in ordered[:10])
    return shown + (f" … ({len(ordered)} jours)" if len(ordered) > 10 else "")


def assess(p: Period, held_days: Collection[date], today: date) -> Assessment:
    """Whether the period needs a replay, given the days of it the regional database holds (an integrated file
    covered them, even with 0 passages) on `today`.

    Not needed when every day is held (whatever file brought it, the daily export already carried it), nor when the
    missing days are all within the rolling window J−7..J−1 (the establishment's next daily files cover them).
    Needed as soon as one missing day is older than that window.
    """
    held = set(held_days)
    missing = [d for d in p.days() if d not in held]
    if not missing:
        return Assessment(
            False,
            "reprise inutile : tous les jours de la période sont déjà reçus et intégrés "
            "(transmis à Santé publique France par l'export quotidien)",
        )
    window_start = today - timedelta(days=ROLLING_WINDOW_DAYS)
    old = [d for d in missing if d < window_start]
    if not old:
        return Assessment(
            False,
            f"reprise inutile : les jours manquants ({_days(missing)}) sont dans la fenêtre glissante de "
            f"{ROLLING_WINDOW_DAYS} jours, les prochains fichiers quotidiens les couvriront",
            tuple(missing),
        )
    return Assessment(
        True,
        f"reprise nécessaire : {len(old)} jour(s) manquant(s) antérieur(s) à la fenêtre glissante de "
        f"{ROLLING_WINDOW_DAYS} jours ({_days(old)})",
        tuple(missing),
    )


@dataclass(frozen=True, slots=True)
class ReplayRequest:
    request_id: int
    period: Period
    needed: bool
    reason: str
    missing_days: tuple[date, ...]
    state: ReplayState
    requested_by: str
    requested_at: datetime
    data_received_at: datetime | None = None
    export_id: str | None = None
    sent_at: datetime | None = None
    closed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str  # requested, data_received, sent, closed
    detail: str = ""


def initial_state(assessment: Assessment) -> ReplayState:
    return ReplayState.REQUESTED if assessment.needed else ReplayState.CLOSED


def advanced(
    request: ReplayRequest, to: ReplayState, at: datetime, export_id: str | None = None
) -> ReplayRequest:
    """The request moved one step forward to `to`, or InvalidTransition."""
    if NEXT.get(request.state) is not to:
        raise InvalidTransition(f"demande {request.request_id} : {request.state} → {to} impossible")
    if to is ReplayState.DATA_RECEIVED:
        return replace(request, state=to, data_received_at=at)
    if to is ReplayState.SENT:
        if not export_id:
            raise InvalidTransition("un envoi nomme l'export qui porte la période")
        return replace(request, state=to, export_id=export_id, sent_at=at)
    return replace(request, state=to, closed_at=at)
