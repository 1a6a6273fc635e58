"""A rule written in Python, applied to a column once per *distinct* cell and mapped back onto the rows.

A national file holds ~40k distinct FINESS numbers and a handful of years for ~200k rows: the rules of `rules` stay
written once, in Python, and cost one call per distinct cell.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from polars.datatypes import DataType

Rule = Callable[..., Sequence[Any]]


@dataclass(frozen=True, slots=True)
class Answers:
    """A Python rule's answers to some distinct cells of one column, mapped onto rows by expressions: an answer is
    only spread over the rows that read it (a refusal's detail, say, only over the refused rows)."""

    column: str
    table: pl.DataFrame  # the cells asked (column `column`), then the rule's answers

    def of(self, name: str) -> pl.Expr:
        """The answer `name` to each row's cell (null where the cell was not asked)."""
        cells, found = self.table.get_column(self.column), self.table.get_column(name)
        return pl.col(self.column).replace_strict(cells, found, default=None, return_dtype=found.dtype)

    def where(self, name: str) -> pl.Expr:
        """Whether the answer `name` to the row's cell is not null: a cheap membership test."""
        cells = self.table.filter(pl.col(name).is_not_null()).get_column(self.column)
        return pl.col(self.column).is_in(cells.implode())


def answers(
    frame: pl.DataFrame,
    column: str,
    rule: Rule,
    schema: Mapping[str, DataType],
    where: pl.Expr | None = None,
) -> Answers:
    """The answers of `rule` (a tuple matching `schema`) to each distinct cell of `column` (of the rows `where`
    selects: the others cost no call)."""
    asked = frame.lazy() if where is None else frame.lazy().filter(where)
    distinct = asked.select(pl.col(column).drop_nulls().unique()).collect().to_series()
    found = pl.DataFrame(
        [tuple(rule(cell)) for cell in distinct.to_list()], schema=dict(schema), orient="row"
    )
    return Answers(column, found.insert_column(0, distinct))


def with_answers(
    frame: pl.DataFrame,
    on: str | Sequence[str],
    rule: Rule,
    schema: Mapping[str, DataType],
    where: pl.Expr | None = None,
) -> pl.DataFrame:
    """`frame` with the answer of `rule` (a tuple matching `schema`) to the cells `on` of each row, computed once
    per distinct combination of them; rows that `where` leaves out get nulls (and cost no call)."""
    if isinstance(on, str):
        found = answers(frame, on, rule, schema, where)
        return frame.with_columns(found.of(name).alias(name) for name in schema)
    asked = frame.select(on) if where is None else frame.lazy().filter(where).select(on).collect()
    distinct = asked.unique()
    table = pl.DataFrame(
        [tuple(rule(*row)) for row in distinct.iter_rows()], schema=dict(schema), orient="row"
    )
    table = pl.concat([distinct, table], how="horizontal")
    return frame.join(table, on=list(on), how="left", maintain_order="left", nulls_equal=True)
