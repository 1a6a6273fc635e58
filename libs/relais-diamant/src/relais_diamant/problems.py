"""The problems of one file, gathered as frames until the report takes the first ones.

A file broken on every line yields a frame of problems, not one object per line; the report counts them all and lists
the first `max_problems` by line, in the order the rules ran within a line (`Order`).
"""

from __future__ import annotations

from enum import IntEnum

import polars as pl

from relais_diamant import rules
from relais_diamant.frames import LINE
from relais_diamant.rules import Problem, QualityReport

RULE = "rule"
DETAIL = "detail"
_ORDER = "_order"
_SCHEMA = {LINE: pl.UInt32(), RULE: pl.String(), DETAIL: pl.String(), _ORDER: pl.Int64()}


class Order(IntEnum):
    """Where a problem comes within its line (a problem's order is one of these plus a small rank)."""

    ROW = 0  # the row's own rules: field count, year and month; restored FINESS (rank = field)
    REFUSAL = 1_000  # the refusal of a row no block takes
    DUPLICATE = 2_000  # rank = block
    VALUE = 3_000  # rank = 100 × block + value cell


class ProblemLog:
    def __init__(self, report: QualityReport) -> None:
        self.report = report
        self._frames: list[pl.DataFrame] = []

    def add(self, problems: pl.DataFrame, order: int) -> None:
        """Problems given as a frame of LINE, RULE and DETAIL."""
        if not problems.is_empty():
            frame = problems.select(LINE, RULE, DETAIL).with_columns(pl.lit(order, pl.Int64).alias(_ORDER))
            self._frames.append(frame.cast(pl.Schema(_SCHEMA)))

    def reject(self, rows: pl.DataFrame, order: int) -> None:
        """Rows not kept (LINE, RULE, DETAIL): counted by rule; the year window is a filter, counted only."""
        for rule, count in rows.group_by(RULE).len().iter_rows():
            self.report.rejected[rule] += count
        self.add(rows.filter(pl.col(RULE) != rules.HORS_FENETRE), order)

    def note(self, rule: str, cells: pl.DataFrame, order: int) -> None:
        """Cells kept despite a rule (LINE, DETAIL): counted and listed."""
        if not cells.is_empty():
            self.report.notes[rule] += cells.height
            self.add(cells.with_columns(pl.lit(rule).alias(RULE)), order)

    def close(self) -> None:
        """Counts every problem and lists the first ones by line."""
        if not self._frames:
            return
        problems = pl.concat(self._frames)
        report = self.report
        report.problem_count += problems.height
        room = max(report.max_problems - len(report.problems), 0)
        first = problems.sort([LINE, _ORDER], maintain_order=True).head(room)
        report.problems += [
            Problem(report.file, line, rule, detail or "")
            for line, rule, detail in first.select(LINE, RULE, DETAIL).iter_rows()
        ]
        self._frames = []
