"""Cell values as DIAMANT writes them: decimals in its three styles (`0.9977`, `.1197`, `2.112E-2`), negative
expenses, `KO` statuses, dd/mm/YYYY dates, empty fields; totals consistent with their parts."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from relais_synthetic.diamant.tables import Column, Kind


@dataclass(frozen=True, slots=True)
class Site:
    """An establishment as the generator sees it: its numbers, its size (1 = a median site of its sector) and
    the activities it runs (a psychiatric hospital has no obstetrics)."""

    finess: str
    finess_ej: str
    departement: str
    size: float
    families: frozenset[str]


def decimal(value: float, rng: random.Random) -> str:
    """Mostly `0.9977`; below 1 sometimes `.9977` (the leading zero dropped), below 0.1 sometimes `2.112E-2`."""
    fixed = f"{value:.4f}".rstrip("0").rstrip(".")
    if fixed in ("", "-0"):
        return "0"
    draw = rng.random()
    if draw < 0.8 or not -1 < value < 1:
        return fixed
    if draw < 0.95 or not -0.1 < value < 0.1:
        return fixed.replace("0.", ".", 1)
    mantissa, exponent = f"{value:.3E}".split("E")
    return f"{mantissa.rstrip('0').rstrip('.')}E{int(exponent)}"


def _status(rng: random.Random) -> str:
    draw = rng.random()
    return "KO" if draw < 0.07 else ("" if draw < 0.15 else "OK")


class RowBuilder:
    """Builds the cells of one row for a fixed column layout; key cells come from the caller, in column order."""

    def __init__(self, columns: Sequence[Column], null_share: float) -> None:
        self.columns = tuple(columns)
        self.labels = tuple(column.label for column in columns)
        self.null_share = null_share
        self._keys = [i for i, column in enumerate(columns) if column.kind is Kind.KEY]
        self._plain = [(i, c) for i, c in enumerate(columns) if c.kind not in (Kind.KEY, Kind.SUM)]
        position = {label: i for i, label in enumerate(self.labels)}
        self._sums = [
            (i, c, [position[part] for part in c.parts]) for i, c in enumerate(columns) if c.kind is Kind.SUM
        ]

    def index(self, label: str) -> int:
        return self.labels.index(label)

    def build(
        self, keys: Sequence[str], site: Site, year: int, rng: random.Random, scale: float = 1.0
    ) -> list[str]:
        cells = [""] * len(self.columns)
        for i, key_value in zip(self._keys, keys, strict=True):
            cells[i] = key_value
        raw: list[float | None] = [None] * len(self.columns)
        size = site.size * scale
        for i, column in self._plain:
            if column.family and column.family not in site.families:
                continue
            if rng.random() < self.null_share:
                continue
            kind = column.kind
            value: float
            if kind is Kind.COUNT:
                value = round(rng.uniform(column.low, column.high) * size)
                raw[i], cells[i] = value, str(value)
            elif kind is Kind.RATE or kind is Kind.DAYS:
                value = rng.uniform(column.low, column.high)
                raw[i], cells[i] = value, decimal(value, rng)
            elif kind is Kind.MONEY or kind is Kind.EXPENSE or kind is Kind.ETP:
                value = round(rng.uniform(column.low, column.high) * size, 2)
                if kind is Kind.EXPENSE:
                    value = -value
                raw[i], cells[i] = value, f"{value:.2f}"
            elif kind is Kind.STATUS:
                cells[i] = _status(rng)
            elif kind is Kind.DATE:
                if rng.random() < 0.6:
                    signed = rng.randint(int(column.low), max(int(column.low), year))
                    cells[i] = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{signed}"
        for i, column, parts in self._sums:
            if column.family and column.family not in site.families:
                continue
            values = [v for v in (raw[p] for p in parts) if v is not None]
            if not values:
                continue
            total = sum(values)
            first = self.columns[parts[0]].kind
            if first is Kind.COUNT:
                cells[i] = str(int(total))
            elif first is Kind.RATE:
                cells[i] = decimal(total, rng)
            else:
                cells[i] = f"{total:.2f}"
        return cells
