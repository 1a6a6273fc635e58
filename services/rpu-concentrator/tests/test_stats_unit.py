"""Transmission statistics: the monthly table and the daily counts, from plain values."""

from __future__ import annotations

from datetime import date

import pytest

from relais_rpu_concentrator.stats.model import EstablishmentMonth, MonthStats, parse_month
from relais_rpu_concentrator.stats.table import render_daily, render_month

SEPT = date(2026, 9, 1)


def steady(days: range, count: int = 80) -> dict[date, int]:
    return {date(2026, 9, d): count + d % 3 for d in days}


def test_a_collapsed_day_is_suspicious_and_a_missing_day_is_not_counted() -> None:
    daily = steady(range(1, 31)) | {date(2026, 9, 14): 3}
    del daily[date(2026, 9, 20)]
    e = EstablishmentMonth("670780055", files_integrated=28, files_rejected=1, daily=daily)
    assert e.suspicious_days() == {date(2026, 9, 14)}
    assert e.files == 29 and e.rpu == sum(daily.values())


def test_the_month_table_shows_silent_establishments_and_totals() -> None:
    stats = MonthStats(
        SEPT,
        (
            EstablishmentMonth("670780055", files_integrated=30, daily=steady(range(1, 31), 1000)),
            EstablishmentMonth("680001195"),  # an account that sent nothing: a visible gap
        ),
    )
    table = render_month(stats)
    assert "Transmissions RPU — 09/2026" in table
    [busy] = [line for line in table.splitlines() if line.startswith("670780055")]
    assert busy.split()[:3] == ["670780055", "30", "30"] and "30/30" in busy
    [silent] = [line for line in table.splitlines() if line.startswith("680001195")]
    assert silent.split() == ["680001195", "0", "0", "0", "0", "0", "0/30", "0"]
    total = table.splitlines()[-1]
    assert total.split()[0:2] == ["Total", "30"] and total.endswith(f"{stats.rpu:,}".replace(",", " "))


def test_daily_counts_mark_days_not_sent_and_suspicious_days() -> None:
    daily = steady(range(1, 29)) | {date(2026, 9, 29): 0}
    stats = MonthStats(SEPT, (EstablishmentMonth("670780055", daily=daily),))
    row = render_daily(stats).splitlines()[-1].split()
    assert row[0] == "670780055" and len(row) == 31
    assert row[29] == "0!" and row[30] == "-"


@pytest.mark.parametrize("text", ["2026-9", "09-2026", "2026-13", "x"])
def test_a_month_must_be_yyyy_mm(text: str) -> None:
    with pytest.raises(ValueError):
        parse_month(text)
