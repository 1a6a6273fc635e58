"""RPU files for the integration tests, and the passages the regional database must hold afterwards, computed
from the synthetic generator alone (never from the pipeline under test).

Each `Sent` file draws its passages from its own variant of the region (`version`): two files covering the same
day carry different passages, so the tests can tell which one won the day.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path

from relais_rpu.model import RpuHeader
from relais_rpu.synthetic import SyntheticEstablishment, SyntheticRegion, day_records, synthetic_region
from relais_rpu.synthetic_files import write_days

ENTREE_DEFECTS = {"missing_entree", "unreadable_entree"}
Fingerprint = tuple[datetime, object, object, object]


def small_establishment(
    seed: int, invalid_rate: float = 0.0
) -> tuple[SyntheticRegion, SyntheticEstablishment]:
    """About 5 passages a day: enough to tell days and files apart, small enough for fast tests."""
    region = synthetic_region(seed, 1, invalid_rate=invalid_rate)
    est = dataclasses.replace(region.establishments[0], annual_passages=1_800)
    return dataclasses.replace(region, establishments=(est,)), est


@dataclasses.dataclass(frozen=True)
class Sent:
    """A file as an establishment sends it: passages of first..last, EXTRACT, and its header window."""

    version: int
    first: date
    last: date
    extract: datetime
    window: tuple[date | None, date | None] | None = None  # None: the passages' own range

    def region(self, base: SyntheticRegion) -> SyntheticRegion:
        return dataclasses.replace(base, seed=base.seed * 1000 + self.version)

    def header(self, est: SyntheticEstablishment) -> RpuHeader:
        debut, fin = self.window if self.window is not None else (self.first, self.last)
        return RpuHeader(est.finess, "0", self.extract, debut, fin)

    def write(self, base: SyntheticRegion, est: SyntheticEstablishment, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"RPU_{est.finess}_{self.extract:%y%m%d%H%M%S}_{self.version}.xml"
        write_days(path, self.region(base), est, self.first, self.last, self.header(est))
        return path

    def days(self) -> set[date]:
        covered = _span(self.first, self.last)
        if self.window is not None:
            debut, fin = self.window
            covered |= _span(debut or fin, fin or debut)
        return covered


def _span(first: date | None, last: date | None) -> set[date]:
    if first is None or last is None:
        return set()
    return {first + timedelta(days=n) for n in range((last - first).days + 1)}


def fingerprint(entree: datetime, naissance: object, sexe: object, gravite: object) -> Fingerprint:
    return (entree, naissance, sexe, gravite)


def expected_by_day(
    base: SyntheticRegion, est: SyntheticEstablishment, integrated: Iterable[Sent]
) -> dict[date, list[Fingerprint]]:
    """Each day holds the passages of the newest EXTRACT among the integrated files covering it."""
    owner: dict[date, Sent] = {}
    for sent in integrated:
        for day in sent.days():
            if day not in owner or sent.extract > owner[day].extract:
                owner[day] = sent
    expected: dict[date, list[Fingerprint]] = {}
    for day, sent in owner.items():
        records = day_records(sent.region(base), est, day) if sent.first <= day <= sent.last else []
        expected[day] = sorted(
            fingerprint(r.passage.entree, r.passage.naissance, r.passage.sexe, r.passage.gravite)
            for r in records
            if r.defect not in ENTREE_DEFECTS
        )
    return expected
