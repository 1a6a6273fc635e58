"""What each DIAMANT source holds, row by row: which establishments, which years and months, which keys.

Every source is a generator of row makers (a maker builds the cells of one key; calling it twice gives two rows
with the same key and different values, which is how duplicates are made). Choices that several files must agree
on (deposit ids, ERRD or CA) come from `stable_unit`, not from a file's random stream.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial

from relais_synthetic.diamant.tables import HAPI_ALLOCATIONS, HAPI_MODES
from relais_synthetic.diamant.values import RowBuilder, Site

Maker = Callable[[], list[str]]


def stable_unit(seed: int, *parts: object) -> float:
    """A number in [0, 1) fixed by its arguments: the same in every file and every run."""
    return zlib.crc32("|".join(map(str, (seed, *parts))).encode()) / 2**32


@dataclass(frozen=True, slots=True)
class Context:
    seed: int
    years: tuple[int, ...]
    extraction_date: date
    sanitaires: tuple[Site, ...]
    medico_sociaux: tuple[Site, ...]
    quo_san_et_rows_first: bool  # the pitfall-1 order: some ET rows before their EJ row

    def files_errd(self, site: Site, year: int) -> bool:
        share = 0.95 if "PA" in site.families else 0.45
        return stable_unit(self.seed, "errd", site.finess, year) < share

    def files_ca(self, site: Site, year: int) -> bool:
        # Mostly the complement of ERRD, with some overlap so that the CA-wins/ERRD-fills merge has work.
        return not self.files_errd(site, year) or stable_unit(self.seed, "ca", site.finess, year) < 0.1

    def deposits(self, ej_rank: int, ej: str, year: int) -> tuple[int, ...]:
        """An EJ's ERRD deposit ids for a year, oldest first; a few EJs re-deposit a corrected ERRD."""
        first = (year - 2000) * 1_000_000 + 2 * ej_rank + 1
        return (first, first + 1) if stable_unit(self.seed, "redepot", ej, year) < 0.08 else (first,)

    def months(self, year: int) -> range:
        """Months already consolidated at extraction: all of a past year, up to two months back this year."""
        if year < self.extraction_date.year:
            return range(1, 13)
        if year == self.extraction_date.year:
            return range(1, max(self.extraction_date.month - 1, 1))
        return range(1, 1)


def _by_ej(sites: Sequence[Site]) -> dict[str, list[Site]]:
    groups: dict[str, list[Site]] = {}
    for site in sites:
        groups.setdefault(site.finess_ej, []).append(site)
    return groups


def per_site_year(
    sites: Sequence[Site], ctx: Context, builder: RowBuilder, rng: random.Random, family: str = ""
) -> Iterator[Maker]:
    """One row per (site, year): MEN_PMSI_ANNUEL, ANN_RPU, ANN_SAE, ANN_MS_TDP_ET."""
    for site in sites:
        if family and family not in site.families:
            continue
        for year in ctx.years:
            keys = (site.finess_ej, site.finess, str(year))
            yield partial(builder.build, keys, site, year, rng)


def mencumu(ctx: Context, builder: RowBuilder, rng: random.Random) -> Iterator[Maker]:
    for site in ctx.sanitaires:
        for year in ctx.years:
            for month in ctx.months(year):
                keys = (site.finess_ej, site.finess, str(year), str(month))
                yield partial(builder.build, keys, site, year, rng)


def quo_san_finance(ctx: Context, builder: RowBuilder, rng: random.Random) -> Iterator[Maker]:
    """EJ-level rows (empty `Finess ET`) and the ET rows of the same EJ; the EJ row may come after its ETs."""
    for ej, sites in _by_ej(ctx.sanitaires).items():
        whole = Site(ej, ej, sites[0].departement, sum(s.size for s in sites), frozenset())
        for year in ctx.years:
            ej_row: Maker = partial(builder.build, (ej, "", str(year)), whole, year, rng)
            et_first = ctx.quo_san_et_rows_first and rng.random() < 0.35
            if not et_first:
                yield ej_row
            for site in sites:
                keys = (ej, site.finess, str(year))
                yield partial(builder.build, keys, site, year, rng)
            if et_first:
                yield ej_row


def errd_ej_et(ctx: Context, builder: RowBuilder, rng: random.Random) -> Iterator[Maker]:
    for rank, (ej, sites) in enumerate(_by_ej(ctx.medico_sociaux).items()):
        for site in sites:
            for year in ctx.years:
                if ctx.files_errd(site, year):
                    last = ctx.deposits(rank, ej, year)[-1]
                    keys = (ej, site.finess, str(year), str(last), "ERRD")
                    yield partial(builder.build, keys, site, year, rng)


def per_errd_eprd(ctx: Context, builder: RowBuilder, rng: random.Random) -> Iterator[Maker]:
    for rank, (ej, sites) in enumerate(_by_ej(ctx.medico_sociaux).items()):
        for site in sites:
            for year in ctx.years:
                if ctx.files_errd(site, year):
                    for depot in ctx.deposits(rank, ej, year):
                        keys = (ej, site.finess, str(year), str(depot))
                        yield partial(builder.build, keys, site, year, rng)


def errd_ej(ctx: Context, builder: RowBuilder, rng: random.Random) -> Iterator[Maker]:
    for rank, (ej, sites) in enumerate(_by_ej(ctx.medico_sociaux).items()):
        whole = Site(ej, ej, sites[0].departement, sum(s.size for s in sites), frozenset())
        for year in ctx.years:
            if any(ctx.files_errd(site, year) for site in sites):
                for depot in ctx.deposits(rank, ej, year):
                    keys = (ej, str(depot), str(year))
                    yield partial(builder.build, keys, whole, year, rng)


def ca_ej_et(ctx: Context, builder: RowBuilder, rng: random.Random) -> Iterator[Maker]:
    for site in ctx.medico_sociaux:
        for year in ctx.years:
            if ctx.files_ca(site, year):
                keys = (site.finess_ej, site.finess, str(year))
                yield partial(builder.build, keys, site, year, rng)


def men_hapi(ctx: Context, builder: RowBuilder, rng: random.Random) -> Iterator[Maker]:
    """Allocations notified to hospitals per campaign, one row per (envelope, delegation stage)."""
    eligible = {"MIG": "MCO", "AC": "MCO", "FIR": "", "DAF SSR": "SSR", "DAF PSY": "PSY"}

    def allocation(site: Site, year: int, enveloppe: str, sous: str, low: float, high: float) -> list[str]:
        month = rng.randint(2, 12)
        amount = rng.uniform(low, high) * site.size * (-0.2 if rng.random() < 0.03 else 1.0)
        mode = rng.choice(HAPI_MODES)
        return [
            site.finess_ej,
            site.finess,
            str(year),
            f"{month:02d}/{year}",
            enveloppe,
            sous,
            mode,
            f"{amount:.2f}",
        ]

    for site in ctx.sanitaires:
        for year in ctx.years:
            for enveloppe, sous, low, high in HAPI_ALLOCATIONS:
                family = eligible[sous]
                if (family and family not in site.families) or stable_unit(ctx.seed, sous, site.finess) < 0.3:
                    continue
                yield partial(allocation, site, year, enveloppe, sous, low, high)
