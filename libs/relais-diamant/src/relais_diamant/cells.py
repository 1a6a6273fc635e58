"""Columns of raw value cells → typed columns, with the parsers of `rules` as the only judge of what a cell means.

Value cells are mostly distinct, so decimals and integers are cast by polars, but only where the cell is a plain
decimal (`-12.5`, `.1197`, `2.112E-2`, `12.0`) that polars reads to a finite number: both sides read such text to
the same correctly rounded double. Every other non-empty cell (`1,5`, `KO`, `nan`, `1_000`, ` 3.5`, `12.5` for an
integer…) goes to `rules.parse_float` / `parse_integer` once per distinct value, so accepted and refused cells are
exactly theirs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl
from polars.datatypes import DataType

from relais_diamant import rules
from relais_diamant.definitions import Kind

_PLAIN_DECIMAL = r"^-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"
_INT64_LIMIT = 2.0**63
_NUMBERS = (Kind.FLOAT, Kind.INTEGER)

DTYPES: Mapping[Kind, DataType] = {
    Kind.FINESS: pl.String(),
    Kind.YEAR: pl.Int32(),
    Kind.MONTH: pl.Int32(),
    Kind.FLOAT: pl.Float64(),
    Kind.INTEGER: pl.Int64(),
    Kind.TEXT: pl.String(),
    Kind.TEXT_KEY: pl.String(),
    Kind.DATE: pl.Date(),
}


@dataclass(frozen=True, slots=True)
class Parsed:
    values: pl.DataFrame  # per column, typed as DTYPES[kind]: null where the cell is empty or unreadable
    # Per column with unreadable cells: their INDEX (row position) and RAW text.
    refused: dict[str, pl.DataFrame]


INDEX = "_index"
RAW = "raw"


def parse_cells(cells: pl.LazyFrame, kinds: Mapping[str, Kind]) -> Parsed:
    """Columns of value cells (`kinds`: column → kind) read as `rules.VALUE_PARSERS` reads each cell."""
    return finish_parsing(cells.select(first_reading(kinds)).collect(), cells, kinds)


def first_reading(kinds: Mapping[str, Kind]) -> list[pl.Expr]:
    """What one pass over the cells says of them: decimals and integers typed by polars where plain (with which
    cells are left to Python), the other kinds' raw text (their distinct values are few)."""
    return [
        expression
        for column, kind in kinds.items()
        for expression in (_plain_reading(column, kind) if kind in _NUMBERS else (pl.col(column),))
    ]


def finish_parsing(first: pl.DataFrame, cells: pl.LazyFrame, kinds: Mapping[str, Kind]) -> Parsed:
    """Completes a first reading: Python reads the text kinds once per distinct cell, and the decimals and integers
    polars left, whose raw text a second pass over `cells` fetches (only those rows: they are few)."""
    numbers = [column for column, kind in kinds.items() if kind in _NUMBERS]
    values: dict[str, pl.Series] = {}
    refused: dict[str, pl.DataFrame] = {}
    for column, kind in kinds.items():
        if column in numbers:
            values[column] = first.get_column(column)
            continue
        raw = first.get_column(column)
        values[column], refused_here = _python_reading(raw, kind)
        if refused_here.any():
            refused[column] = pl.DataFrame(
                [refused_here.arg_true().alias(INDEX), raw.filter(refused_here).alias(RAW)]
            )
    pending = first.select(pl.any_horizontal(_pending(column) for column in numbers)) if numbers else None
    if pending is not None and pending.to_series().any():
        rows = pending.to_series().arg_true()
        raw_rows = (
            cells.with_row_index(INDEX).filter(pl.col(INDEX).is_in(rows.implode())).select(INDEX, *numbers)
        ).collect(engine="streaming")
        for column in numbers:
            asked = first.get_column(_pending(column)).gather(raw_rows.get_column(INDEX))
            at, raw = raw_rows.get_column(INDEX).filter(asked), raw_rows.get_column(column).filter(asked)
            found, refused_here = _python_reading(raw, kinds[column])
            values[column] = values[column].scatter(at, found)
            if refused_here.any():
                refused[column] = pl.DataFrame([at.filter(refused_here), raw.filter(refused_here).alias(RAW)])
    return Parsed(pl.DataFrame([values[column].alias(column) for column in kinds]), refused)


def _pending(column: str) -> str:
    return f"_pending:{column}"


def _plain_reading(column: str, kind: Kind) -> tuple[pl.Expr, pl.Expr]:
    """The value of a plain decimal as polars reads it (null otherwise), and whether the cell is left to Python: not
    empty, and not a plain decimal (nor, for an integer, an integral one)."""
    cell = pl.col(column)
    number = cell.cast(pl.Float64, strict=False)
    plain = cell.str.contains(_PLAIN_DECIMAL) & number.is_finite()
    if kind is Kind.INTEGER:  # parse_integer: 12.0 is 12; 12.5 refused (by Python, which says so)
        plain = plain & (number == number.floor()) & (number.abs() < _INT64_LIMIT)
        value = pl.when(plain).then(number.cast(pl.Int64))
    else:
        value = pl.when(plain).then(number)
    return value.alias(column), (~plain.fill_null(False) & (cell != "")).alias(_pending(column))


def _python_reading(raw: pl.Series, kind: Kind) -> tuple[pl.Series, pl.Series]:
    """The parser's value of each cell (null when refused) and whether it refuses it, once per distinct cell."""
    parse = rules.VALUE_PARSERS[kind]
    distinct = raw.unique()
    readings = [_attempt(parse, cell) for cell in distinct.to_list()]
    dtype = DTYPES[kind]
    found = pl.Series([value for value, _ in readings], dtype=dtype)
    refused = distinct.filter(pl.Series([bad for _, bad in readings], dtype=pl.Boolean))
    value = raw.replace_strict(distinct, found, default=None, return_dtype=dtype)
    return value, raw.is_in(refused.implode())


def _attempt(parse: Callable[[str], Any], cell: str) -> tuple[Any, bool]:
    try:
        value = parse(cell)
    except (ValueError, OverflowError):  # OverflowError: a date with an absurd day or month
        return None, True
    if isinstance(value, int) and not -_INT64_LIMIT <= value < _INT64_LIMIT:
        return None, True  # an integer no Int64 (nor a bigint column) holds
    return value, False
