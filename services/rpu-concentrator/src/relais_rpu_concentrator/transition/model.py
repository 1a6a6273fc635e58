"""Whether an establishment may switch to this concentrator. Pure: built from its daily counts.

Spec §5: during a change of concentrator both run at once, and an establishment switches after 7 consecutive days
of correct operation on the new one. A day is correct when the regional database holds it (an integrated file
covered it) and its count is not suspicious (FEDORU: below mean − 3·SD of the establishment's days, the rule the
transmission statistics apply). The streak ends on `as_of` (by default yesterday: today's file comes tomorrow) and
runs backwards until the first day that is not correct.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from relais_rpu_concentrator.stats.model import EstablishmentMonth

REQUIRED_DAYS = 7
HISTORY_DAYS = 90  # the days the suspicious threshold is computed over


@dataclass(frozen=True, slots=True)
class TransitionStatus:
    finess: str
    as_of: date
    correct_days: int  # consecutive correct days ending on as_of
    required_days: int
    broken_on: date | None = None  # the day that ended the streak
    broken_because: str | None = None  # why, in French

    @property
    def may_switch(self) -> bool:
        return self.correct_days >= self.required_days

    @property
    def first_correct_day(self) -> date | None:
        return self.as_of - timedelta(days=self.correct_days - 1) if self.correct_days else None


def transition_status(
    finess: str, daily: Mapping[date, int], as_of: date, required_days: int = REQUIRED_DAYS
) -> TransitionStatus:
    """`daily`: the establishment's passages per day held (a day covered empty counts 0), over the history up to
    `as_of`; days after `as_of` are ignored."""
    history = {d: n for d, n in daily.items() if d <= as_of}
    suspicious = EstablishmentMonth(finess, daily=history).suspicious_days()
    streak, day = 0, as_of
    while True:  # ends: `history` is finite
        if day not in history:
            return TransitionStatus(finess, as_of, streak, required_days, day, "aucun fichier intégré")
        if day in suspicious:
            why = f"volume suspect ({history[day]} RPU, sous moyenne − 3 écarts-types)"
            return TransitionStatus(finess, as_of, streak, required_days, day, why)
        streak += 1
        day -= timedelta(days=1)


def render_transition(statuses: list[TransitionStatus]) -> str:
    """The table `relais rpu transition` prints for ARS staff (French)."""
    if not statuses:
        return "aucun établissement\n"
    as_of, required = statuses[0].as_of, statuses[0].required_days
    lines = [
        f"Bascule de concentrateur — jours consécutifs de fonctionnement correct au {as_of:%d/%m/%Y} "
        f"(bascule possible à partir de {required} jours)",
        "",
        f"{'FINESS':<10} {'jours':>5} {'depuis':<10} {'bascule':<7} interruption",
    ]
    for s in statuses:
        since = f"{s.first_correct_day:%d/%m/%Y}" if s.first_correct_day else "-"
        broken = f"{s.broken_on:%d/%m/%Y} : {s.broken_because}" if s.broken_on else ""
        lines.append(
            f"{s.finess:<10} {s.correct_days:>5} {since:<10} {'oui' if s.may_switch else 'non':<7} {broken}"
        )
    ready = sum(s.may_switch for s in statuses)
    lines.append(f"\n{ready} établissement(s) sur {len(statuses)} peuvent basculer")
    return "\n".join(lines) + "\n"
