"""Synthetic RPU files as establishments send them: 7-day rolling files and monthly catch-up files.

Files are written while passages are generated (one day in memory at a time), so a region-year of several million
passages streams to disk in bounded memory.
"""

from __future__ import annotations

import calendar
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from relais_rpu.model import RpuHeader
from relais_rpu.write import Target, render_items, render_patient, write_patients
from relais_synthetic.rpu.region import SyntheticEstablishment, SyntheticRegion, day_records

ROLLING_DAYS = 7


@dataclass(frozen=True, slots=True)
class GeneratedFile:
    path: Path
    establishment: SyntheticEstablishment
    records: int  # PATIENT elements written, invalid ones included


_ENTREE_INDEX = 4  # position of ENTREE in `render_items`
_UNREADABLE_ENTREE = "<ENTREE>32/13/2024 25:61</ENTREE>"


def rolling_file_name(
    establishment: SyntheticEstablishment, day: date, extract: datetime, ordre: str = "0"
) -> str:
    """`RPU_<FINESS>_<yymmdd>.xml` (Alsace) or `O<FINESS>_<ORDRE>_<yyyyMMddHHmmss>.xml` (Île-de-France)."""
    if establishment.profile.file_naming == "alsace":
        return f"RPU_{establishment.file_finess}_{day:%y%m%d}.xml"
    return f"O{establishment.file_finess}_{ordre}_{extract:%Y%m%d%H%M%S}.xml"


def write_days(
    target: Target,
    region: SyntheticRegion,
    establishment: SyntheticEstablishment,
    first: date,
    last: date,
    header: RpuHeader,
) -> int:
    """Write the passages of days first..last (inclusive) under `header`; returns the number of PATIENT written."""
    file_rng = random.Random(f"{region.seed}/{establishment.finess}/file/{first}/{last}/{header.extract}")
    return write_patients(target, header, _patients(region, establishment, first, last, file_rng),
                          establishment.profile.layout)  # fmt: skip


def rolling_file(
    region: SyntheticRegion, establishment: SyntheticEstablishment, day: date, directory: Path
) -> Path:
    """The file sent on day J before 04:00: passages of J−7..J−1."""
    return write_rolling_file(region, establishment, day, directory).path


def write_rolling_file(
    region: SyntheticRegion, establishment: SyntheticEstablishment, day: date, directory: Path
) -> GeneratedFile:
    """`rolling_file`, with the number of PATIENT elements written."""
    first, last = day - timedelta(days=ROLLING_DAYS), day - timedelta(days=1)
    rng = random.Random(f"{region.seed}/{establishment.finess}/extract/{day}")
    extract = datetime(day.year, day.month, day.day, rng.randrange(4), rng.randrange(60), rng.randrange(60))
    window = {"exact": (first, last), "last_day": (last, last), "extract_day": (day, day)}
    debut, fin = window[establishment.profile.header_window]
    header = RpuHeader(establishment.finess, "0", extract, debut, fin)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / rolling_file_name(establishment, day, extract)
    return GeneratedFile(path, establishment, write_days(path, region, establishment, first, last, header))


def monthly_file(
    region: SyntheticRegion,
    establishment: SyntheticEstablishment,
    year: int,
    month: int,
    directory: Path,
    extract: datetime | None = None,
) -> Path:
    """A catch-up file: DATEDEBUT/DATEFIN are the month bounds and the passages are the month's."""
    return write_monthly_file(region, establishment, year, month, directory, extract).path


def write_monthly_file(
    region: SyntheticRegion,
    establishment: SyntheticEstablishment,
    year: int,
    month: int,
    directory: Path,
    extract: datetime | None = None,
) -> GeneratedFile:
    """`monthly_file`, with the number of PATIENT elements written."""
    first = date(year, month, 1)
    last = date(year, month, calendar.monthrange(year, month)[1])
    extract = extract or datetime.combine(last + timedelta(days=1), datetime.min.time()).replace(hour=3)
    header = RpuHeader(establishment.finess, "0", extract, first, last)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / rolling_file_name(establishment, extract.date(), extract)
    return GeneratedFile(path, establishment, write_days(path, region, establishment, first, last, header))


def region_month_files(region: SyntheticRegion, year: int, month: int, directory: Path) -> Iterator[Path]:
    """One catch-up file per establishment of the region (a bench input: ~2,500 passages per average ED)."""
    for establishment in region.establishments:
        yield monthly_file(region, establishment, year, month, directory)


def _patients(
    region: SyntheticRegion,
    establishment: SyntheticEstablishment,
    first: date,
    last: date,
    rng: random.Random,
) -> Iterator[str]:
    profile = establishment.profile
    day = first
    while day <= last:
        for record in day_records(region, establishment, day):
            items = render_items(record.passage, seconds=profile.layout.seconds)
            if record.defect == "missing_entree":
                del items[_ENTREE_INDEX]
            elif record.defect == "unreadable_entree":
                items[_ENTREE_INDEX] = _UNREADABLE_ENTREE
            if profile.shuffle_items:
                rng.shuffle(items)
            yield render_patient(items)
        day += timedelta(days=1)


def months_between(first: date, last: date) -> list[tuple[int, int]]:
    """The calendar months (year, month) that first..last touches, in order."""
    months, cursor = [], date(first.year, first.month, 1)
    while cursor <= last:
        months.append((cursor.year, cursor.month))
        cursor = (cursor + timedelta(days=32)).replace(day=1)
    return months


def region_files(
    region: SyntheticRegion, first: date, days: int, directory: Path, *, monthly: bool = False
) -> Iterator[GeneratedFile]:
    """What the region's establishments send over `days` days from `first`, written as it goes (one file in memory
    at a time).

    Rolling (default): every day J, each establishment's file of J−7..J−1 — overlapping files, as in real life.
    Monthly: one catch-up file per establishment and calendar month touched by the period (the replay practice).
    Files are ordered by sending time, so pushing them in order applies them in EXTRACT order.
    """
    last = first + timedelta(days=days - 1)
    if monthly:
        for year, month in months_between(first, last):
            for establishment in region.establishments:
                yield write_monthly_file(region, establishment, year, month, directory)
        return
    day = first
    while day <= last:
        for establishment in region.establishments:
            yield write_rolling_file(region, establishment, day, directory)
        day += timedelta(days=1)


def files_count(region: SyntheticRegion, first: date, days: int, *, monthly: bool = False) -> int:
    """How many files `region_files` writes (for progress reports)."""
    if monthly:
        return len(months_between(first, first + timedelta(days=days - 1))) * len(region.establishments)
    return days * len(region.establishments)
