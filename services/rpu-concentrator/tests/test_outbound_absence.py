"""The same-day absence rule, pure: no infrastructure."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from relais_rpu_concentrator.outbound.absence import (
    AbsenceRule,
    AlertReason,
    Establishment,
    EstablishmentActivity,
    LastFile,
    assess_absences,
)

DAY = date(2026, 11, 25)
WISSEMBOURG = Establishment("670780055", "Centre hospitalier de Wissembourg")
OTHER = Establishment("670000272", None)
RULE = AbsenceRule(history_days=28, min_history_days=7)


def steady(
    last_file_day: date = DAY, passages: int = 100, days: int = 40, override: dict[date, int] | None = None
) -> EstablishmentActivity:
    """A file every night up to `last_file_day`, `passages` ± 5 every day (a weekly pattern)."""
    counts = {DAY - timedelta(days=i): passages + (i % 7) - 3 for i in range(1, days)}
    counts.update(override or {})
    files = {DAY - timedelta(days=i): 1 for i in range(days) if DAY - timedelta(days=i) <= last_file_day}
    at = datetime.combine(last_file_day, datetime.min.time()).replace(hour=3, minute=12)
    return EstablishmentActivity(
        files, counts, LastFile(f"RPU_{WISSEMBOURG.finess}_{last_file_day:%Y%m%d}.xml", at)
    )


def test_an_establishment_that_sent_its_file_with_a_normal_volume_gets_no_alert() -> None:
    assert assess_absences(DAY, [WISSEMBOURG], {WISSEMBOURG.finess: steady()}, RULE) == []


def test_no_file_received_today_is_an_absence_naming_the_last_file_and_the_missing_days_in_french() -> None:
    [alert] = assess_absences(DAY, [WISSEMBOURG], {WISSEMBOURG.finess: steady(DAY - timedelta(days=3))}, RULE)

    assert alert.reason is AlertReason.ABSENCE
    assert alert.missing_days == (date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25))
    assert alert.message.splitlines()[:3] == [
        "L'établissement FINESS 670780055 (Centre hospitalier de Wissembourg) n'a transmis aucun fichier RPU le 25/11/2026.",
        "Dernier fichier reçu : RPU_670780055_20261122.xml, le 22/11/2026 à 03:12.",
        "Jours sans fichier (3) : 23/11/2026, 24/11/2026, 25/11/2026.",
    ]
    assert alert.subject == "[Relais RPU] absence de transmission — FINESS 670780055 — 25/11/2026"


def test_an_active_establishment_never_heard_of_gets_an_absence_over_the_whole_window() -> None:
    [alert] = assess_absences(DAY, [OTHER], {}, RULE)

    assert alert.reason is AlertReason.ABSENCE
    assert alert.last_file is None
    assert len(alert.missing_days) == RULE.history_days + RULE.volume_lag_days + 1
    assert "Aucun fichier reçu de cet établissement à ce jour." in alert.message
    assert alert.message.startswith("L'établissement FINESS 670000272 n'a transmis")


def test_a_day_count_below_mean_minus_three_sd_of_the_previous_days_is_a_volume_alert() -> None:
    low = steady(override={DAY - timedelta(days=1): 40})
    [alert] = assess_absences(DAY, [WISSEMBOURG], {WISSEMBOURG.finess: low}, RULE)

    assert alert.reason is AlertReason.VOLUME
    assert alert.day_count == 40
    assert alert.threshold is not None and 90 < alert.threshold < 97
    assert "volume anormalement bas : 40 passages le 24/11/2026" in alert.message
    assert alert.missing_days == ()


def test_a_day_count_just_above_the_threshold_is_no_alert() -> None:
    ok = steady(override={DAY - timedelta(days=1): 95})
    assert assess_absences(DAY, [WISSEMBOURG], {WISSEMBOURG.finess: ok}, RULE) == []


def test_too_short_a_history_never_gives_a_volume_alert() -> None:
    young = steady(days=5, override={DAY - timedelta(days=1): 1})
    assert assess_absences(DAY, [WISSEMBOURG], {WISSEMBOURG.finess: young}, RULE) == []


def test_each_active_establishment_is_assessed_on_its_own_in_finess_order() -> None:
    alerts = assess_absences(DAY, [WISSEMBOURG, OTHER], {WISSEMBOURG.finess: steady()}, RULE)
    assert [a.finess for a in alerts] == [OTHER.finess]
