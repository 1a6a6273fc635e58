"""The monthly transmission table the regional teams watch (spec §3: files and RPU per establishment and month)
and the daily counts behind it. Pure: built from plain rows by the PostgreSQL adapter, rendered by the CLI."""

from __future__ import annotations

import calendar
import statistics
from dataclasses import dataclass, field
from datetime import date


def month_days(month: date) -> list[date]:
    last = calendar.monthrange(month.year, month.month)[1]
    return [date(month.year, month.month, d) for d in range(1, last + 1)]


@dataclass(frozen=True, slots=True)
class EstablishmentMonth:
    """One row of the table. Files are counted by their reception in the month; RPU are the passages the
    regional database holds for days of the month (after every replacement)."""

    finess: str
    files_integrated: int = 0
    files_rejected: int = 0
    files_superseded: int = 0
    daily: dict[date, int] = field(default_factory=dict)  # days transmitted (a day sent empty counts 0)

    @property
    def files(self) -> int:
        return self.files_integrated + self.files_rejected + self.files_superseded

    @property
    def rpu(self) -> int:
        return sum(self.daily.values())

    def suspicious_days(self) -> set[date]:
        """Days whose count is below mean − 3·SD of the establishment's days (FEDORU), among days transmitted."""
        counts = list(self.daily.values())
        if len(counts) < 3:
            return set()
        floor = statistics.fmean(counts) - 3 * statistics.pstdev(counts)
        return {day for day, n in self.daily.items() if n < floor}


@dataclass(frozen=True, slots=True)
class MonthStats:
    month: date  # first day
    establishments: tuple[EstablishmentMonth, ...]

    @property
    def days(self) -> list[date]:
        return month_days(self.month)

    @property
    def files(self) -> int:
        return sum(e.files for e in self.establishments)

    @property
    def rpu(self) -> int:
        return sum(e.rpu for e in self.establishments)


def parse_month(text: str) -> date:
    """`YYYY-MM` → the month's first day; ValueError otherwise."""
    year, _, month = text.partition("-")
    if len(year) != 4 or len(month) != 2 or not (year + month).isdigit():
        raise ValueError(f"mois attendu sous la forme AAAA-MM : {text!r}")
    return date(int(year), int(month), 1)
