"""Streaming CSV writer for the synthetic extracts, and where the per-row quirks are put in.

`;` separated, UTF-8 without BOM, CRLF lines (a few LF ones when the quirk is on). The first data rows carry each
enabled quirk once (so a small file shows all of them), later rows a small random share.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from relais_diamant.sources import DiamantSource
from relais_synthetic.diamant import source_rows as rows
from relais_synthetic.diamant import tables
from relais_synthetic.diamant.source_rows import Context, Maker
from relais_synthetic.diamant.tables import Column
from relais_synthetic.diamant.values import RowBuilder

if TYPE_CHECKING:
    from relais_synthetic.diamant.extracts import Quirks

# Quirk (a Quirks field) → (share of rows, the early data row that always gets it when enabled).
_ROW_QUIRKS = {
    "duplicate_keys": (0.003, 0),
    "blank_annee": (0.001, 1),
    "unknown_finess": (0.002, 2),
    "blank_finess": (0.001, 3),
}
_LF_EVERY = 53  # with mixed line endings, data rows 1, 54, 107... end with LF alone
_PROGRESS_EVERY = 50_000
_FLUSH_EVERY = 2_000


@dataclass(frozen=True, slots=True)
class Layout:
    columns: Callable[[int], tuple[Column, ...]]  # by MEN_PMSI_MENCUMU generation (ignored by the others)
    rows: Callable[[Context, RowBuilder, random.Random], Iterator[Maker]]
    year_label: str = "Année"
    finess_labels: tuple[str, ...] = ("Finess",)  # the first non-empty one is the row's FINESS


def _fixed(columns: tuple[Column, ...]) -> Callable[[int], tuple[Column, ...]]:
    return lambda _generation: columns


def _sites(sector: str, family: str = "") -> Callable[[Context, RowBuilder, random.Random], Iterator[Maker]]:
    def make(ctx: Context, builder: RowBuilder, rng: random.Random) -> Iterator[Maker]:
        sites = ctx.sanitaires if sector == "sanitaire" else ctx.medico_sociaux
        return rows.per_site_year(sites, ctx, builder, rng, family)

    return make


LAYOUTS: dict[DiamantSource, Layout] = {
    DiamantSource.MEN_PMSI_ANNUEL: Layout(_fixed(tables.MEN_PMSI_ANNUEL), _sites("sanitaire")),
    DiamantSource.ANN_RPU: Layout(_fixed(tables.ANN_RPU), _sites("sanitaire", "URG")),
    DiamantSource.ANN_SAE: Layout(_fixed(tables.ANN_SAE), _sites("sanitaire")),
    DiamantSource.MEN_PMSI_MENCUMU: Layout(tables.men_pmsi_mencumu, rows.mencumu),
    DiamantSource.QUO_SAN_FINANCE: Layout(
        _fixed(tables.QUO_SAN_FINANCE), rows.quo_san_finance, finess_labels=("Finess ET", "Finess EJ")
    ),
    DiamantSource.MEN_HAPI: Layout(_fixed(tables.MEN_HAPI), rows.men_hapi, year_label="Année Campagne HAPI"),
    DiamantSource.ANN_MS_TDP_ET: Layout(_fixed(tables.ANN_MS_TDP_ET), _sites("medico_social")),
    DiamantSource.ANN_ERRD_EJ_ET: Layout(_fixed(tables.ANN_ERRD_EJ_ET), rows.errd_ej_et),
    DiamantSource.ANN_CA_EJ_ET: Layout(_fixed(tables.ANN_CA_EJ_ET), rows.ca_ej_et),
    DiamantSource.ANN_ERRD_EJ: Layout(_fixed(tables.ANN_ERRD_EJ), rows.errd_ej, finess_labels=("Finess EJ",)),
    DiamantSource.ANN_PER_ERRD_EPRD: Layout(_fixed(tables.ANN_PER_ERRD_EPRD), rows.per_errd_eprd),
}


class RowWriter:
    def __init__(
        self,
        labels: Sequence[str],
        layout: Layout,
        quirks: Quirks,
        rng: random.Random,
        unknown_numbers: Iterator[str],
        ejs: Sequence[str],
    ) -> None:
        self.labels = tuple(labels)
        self.quirks = quirks
        self.rng = rng
        self.unknown_numbers = unknown_numbers
        self.ejs = ejs
        self.year = self.labels.index(layout.year_label)
        self.finess = [self.labels.index(label) for label in layout.finess_labels]
        self.ej = self.labels.index("Finess EJ")
        # An empty `Finess ET` in QUO_SAN_FINANCE is an EJ-level row, not a missing key.
        self.blank_finess_allowed = layout.finess_labels[0] != "Finess ET"

    def _quirk(self, row: int) -> str:
        """Which quirk (if any) data row `row` gets: each one first on its own early row, then by chance."""
        draw = self.rng.random()
        chosen = next((name for name, (_, first) in _ROW_QUIRKS.items() if row == first), None)
        if chosen is None and row >= len(_ROW_QUIRKS):
            threshold = 0.0
            for name, (share, _) in _ROW_QUIRKS.items():
                threshold += share
                if draw < threshold:
                    chosen = name
                    break
        if chosen is None or not getattr(self.quirks, chosen):
            return ""
        if chosen == "blank_finess" and not self.blank_finess_allowed:
            return ""
        return chosen

    def _duplicate(self, make: Maker) -> list[str]:
        again = make()
        if self.ejs and self.rng.random() < 0.5:
            again[self.ej] = self.rng.choice(self.ejs)  # the same ET attached to another EJ
        return again

    def write(self, path: Path, makers: Iterator[Maker], progress: Callable[[int], None] | None) -> int:
        """Writes the header and every row; reports the row count every 50,000 rows; returns the row count."""
        lf_quirk = self.quirks.mixed_line_endings
        buffer: list[str] = [";".join(self.labels) + "\r\n"]
        count, next_report = 0, _PROGRESS_EVERY
        with path.open("w", encoding="utf-8", newline="") as out:
            emit = partial(self._emit, buffer, lf_quirk)
            for number, make in enumerate(makers):
                cells = make()
                quirk = self._quirk(number)
                if quirk == "blank_annee":
                    cells[self.year] = ""
                elif quirk == "unknown_finess":
                    target = next((i for i in self.finess if cells[i]), self.finess[0])
                    cells[target] = next(self.unknown_numbers)
                elif quirk == "blank_finess":
                    cells[self.finess[0]] = ""
                count = emit(cells, count)
                if quirk == "duplicate_keys":
                    count = emit(self._duplicate(make), count)
                if len(buffer) >= _FLUSH_EVERY:
                    out.write("".join(buffer))
                    buffer.clear()
                if progress and count >= next_report:
                    progress(count)
                    next_report += _PROGRESS_EVERY
            out.write("".join(buffer))
        return count

    @staticmethod
    def _emit(buffer: list[str], lf_quirk: bool, cells: list[str], count: int) -> int:
        count += 1
        ending = "\n" if lf_quirk and count % _LF_EVERY == 1 else "\r\n"
        buffer.append(";".join(cells) + ending)
        return count
