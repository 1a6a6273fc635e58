"""Change of concentrator: consecutive correct days, computed from an establishment's daily counts."""

from __future__ import annotations

from datetime import date, timedelta

from relais_rpu_concentrator.transition.model import render_transition, transition_status

AS_OF = date(2026, 11, 24)


def steady(days: int, per_day: int = 100, end: date = AS_OF) -> dict[date, int]:
    return {end - timedelta(days=i): per_day + (i % 5) for i in range(days)}


def test_seven_consecutive_correct_days_allow_the_switch() -> None:
    status = transition_status("670780055", steady(7), AS_OF)
    assert status.correct_days == 7 and status.may_switch
    assert status.first_correct_day == AS_OF - timedelta(days=6)


def test_six_days_are_not_enough() -> None:
    status = transition_status("670780055", steady(6), AS_OF)
    assert status.correct_days == 6 and not status.may_switch
    assert status.broken_on == AS_OF - timedelta(days=6)
    assert status.broken_because == "aucun fichier intégré"


def test_a_missing_day_restarts_the_count() -> None:
    daily = steady(30)
    del daily[AS_OF - timedelta(days=3)]
    status = transition_status("670780055", daily, AS_OF)
    assert status.correct_days == 3 and status.broken_on == AS_OF - timedelta(days=3)


def test_a_suspicious_day_breaks_the_streak_like_a_missing_one() -> None:
    daily = steady(30)
    daily[AS_OF - timedelta(days=2)] = 4  # far below mean − 3·SD of ~100 per day
    status = transition_status("670780055", daily, AS_OF)
    assert status.correct_days == 2 and not status.may_switch
    assert status.broken_because is not None and "volume suspect (4 RPU" in status.broken_because


def test_yesterday_missing_means_no_correct_day_yet() -> None:
    status = transition_status("670780055", steady(20, end=AS_OF - timedelta(days=1)), AS_OF)
    assert status.correct_days == 0 and status.broken_on == AS_OF
    assert transition_status("670780055", {}, AS_OF).correct_days == 0


def test_the_table_says_who_may_switch_in_french() -> None:
    text = render_transition(
        [transition_status("670780055", steady(9), AS_OF), transition_status("670000272", {}, AS_OF)]
    )
    assert "670780055      9 16/11/2026 oui" in text
    assert "670000272      0 -          non     24/11/2026 : aucun fichier intégré" in text
    assert "1 établissement(s) sur 2 peuvent basculer" in text
