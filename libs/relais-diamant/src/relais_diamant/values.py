"""The value cells of every line, typed as their field says while the file is read.

Their raw text is never all held: the first reading is done as the file streams (frames.read_cells) and the few
cells it leaves to Python are read again. Later, only two things need text, both rare: the unreadable cells (kept
here with their ROW, to report them) and the cells that rank duplicated keys (read again, frames.CellsAgain).
FINESS values are not typed here: the rules normalise every FINESS cell anyway.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from relais_diamant.cells import INDEX, RAW, finish_parsing
from relais_diamant.definitions import Kind
from relais_diamant.frames import ROW
from relais_diamant.reader import Header

__all__ = ["RAW", "ValueCells", "type_values", "value_kinds"]


@dataclass(frozen=True, slots=True)
class ValueCells:
    typed: pl.DataFrame  # one column per value field, by ROW (typed as cells.DTYPES says)
    unreadable: dict[str, pl.DataFrame]  # field → ROW and RAW text of its cells the parser refuses


def value_kinds(names: Sequence[str], header: Header) -> dict[str, Kind]:
    """The value fields typed here (FINESS ones are the rules')."""
    return {name: header.fields[name].kind for name in names if header.fields[name].kind is not Kind.FINESS}


def type_values(first: pl.DataFrame, cells: pl.LazyFrame, kinds: Mapping[str, Kind]) -> ValueCells:
    """`first`: cells.first_reading(kinds) over every line (read with the file); `cells`: the raw cells again."""
    parsed = finish_parsing(first, cells, kinds)
    unreadable = {name: bad.rename({INDEX: ROW}) for name, bad in parsed.refused.items()}
    return ValueCells(parsed.values, unreadable)
