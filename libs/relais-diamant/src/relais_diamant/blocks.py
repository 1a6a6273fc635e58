"""What each block of a definition makes of a row: whether its scope takes it, why it refuses it, and its key.

A block refuses a row whose FINESS is empty, not a number or absent from the block's referential table (ET or EJ),
whose `also_known` FINESS is filled but not a known number, or whose key cell is empty or unreadable (`Id Dépôt`).
The checks run in that order, key cells in key order, and the first broken one is the block's refusal; the
numbers' verdicts come from `rules.finess_problem` and the keys' from `rules.parse_*_key`, once per distinct cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from relais_diamant import rules
from relais_diamant.answers import Answers, answers, with_answers
from relais_diamant.cells import parse_cells
from relais_diamant.definitions import BENEFICIAIRE, Block, Kind, Level, Scope, SourceDefinition
from relais_diamant.frames import LINE
from relais_diamant.problems import Order, ProblemLog
from relais_diamant.reader import Header
from relais_diamant.row_rules import (
    MONTH,
    YEAR,
    Check,
    FinessCells,
    any_broken,
    first_broken,
    number,
    refusal,
)
from relais_diamant.rules import Referential, Rejected


@dataclass(frozen=True, slots=True)
class BlockRules:
    position: int  # in the definition: the order of a line's rows
    block: Block
    in_scope: pl.Expr
    checks: tuple[Check, ...]  # in order: the first broken one is the block's refusal
    keys: tuple[pl.Expr, ...]  # the key columns, named and typed as the table's

    @property
    def scope_column(self) -> str:
        return f"_scope:{self.position}"

    @property
    def broken_column(self) -> str:
        return f"_broken:{self.position}"

    @property
    def takes(self) -> pl.Expr:
        """Whether the block takes the row (once `offer` has marked the rows)."""
        return pl.col(self.scope_column) & ~pl.col(self.broken_column)

    @property
    def refusal(self) -> pl.Expr:
        """A refusal struct (row_rules.refusal); null when the block takes the row."""
        return first_broken(self.checks)


class BlockColumns:
    """Adds to the rows the columns the blocks' rules read (verdicts per distinct cell), once each."""

    def __init__(
        self,
        rows: pl.DataFrame,
        finess: FinessCells,
        definition: SourceDefinition,
        header: Header,
        referential: Referential,
    ) -> None:
        self.rows = rows
        self.finess = finess
        self.definition = definition
        self.header = header
        self.referential = referential
        self._verdicts: dict[str, Answers] = {}

    def rules_of(self, position: int, block: Block) -> BlockRules:
        checks = self._known(block.finess, block.level, required=True)
        for field, level in block.also_known:
            checks += self._known(field, level, required=False)
        keys: list[pl.Expr] = []
        for field, column in block.keys:
            value, key_checks = self._key(block, field)
            keys.append(value.alias(column))
            checks += key_checks
        return BlockRules(position, block, self._in_scope(block), tuple(checks), tuple(keys))

    def _label(self, field: str) -> str:
        found = self.header.fields.get(field)
        return field if found is None else found.label

    def _in_scope(self, block: Block) -> pl.Expr:
        et_field = self.definition.et_field
        if block.scope is Scope.ALL or et_field is None:
            return pl.lit(True)
        et_blank = self.finess.blank(et_field)
        return et_blank if block.scope is Scope.EJ_ROWS else ~et_blank

    def _known(self, field: str, level: Level, required: bool) -> list[Check]:
        found = pl.col(number(field))
        verdict = self._verdicts.get(f"{field}:{level.name}")
        if verdict is None:
            table = (
                self.referential.etablissements if level is Level.ET else self.referential.entites_juridiques
            )
            distinct = self.rows.get_column(number(field)).drop_nulls().unique().to_list()
            absent = pl.Series([value for value in distinct if value not in table], dtype=pl.String)

            def unknown(value: str) -> tuple[str, str]:
                problem = rules.finess_problem(value, level.value)
                return problem.rule, problem.detail

            schema = {"rule": pl.String(), "detail": pl.String()}
            verdict = answers(self.rows, number(field), unknown, schema, where=found.is_in(absent.implode()))
            self._verdicts[f"{field}:{level.name}"] = verdict
        checks = [self.finess.invalid(field)]
        if required:
            checks.append((found.is_null(), refusal(rules.FINESS_VIDE, f"« {self._label(field)} » vide")))
        return [*checks, (verdict.where("rule"), refusal(verdict.of("rule"), verdict.of("detail"), found))]

    def _key(self, block: Block, field: str) -> tuple[pl.Expr, list[Check]]:
        """A key cell's typed value, and the checks that refuse the row when it is missing or unreadable."""
        if field == self.definition.year_field:
            return pl.col(YEAR), []
        if field == self.definition.month_field:
            return pl.col(MONTH), []
        if field == BENEFICIAIRE:
            return self._beneficiaire(), []
        if field == block.finess:
            return pl.col(number(field)), []  # checked first, with the referential
        present = self.header.fields.get(field)
        kind = Kind.TEXT_KEY if present is None else present.kind
        if kind is Kind.FINESS:
            found = pl.col(number(field))
            return found, [self.finess.invalid(field), (found.is_null(), refusal(rules.FINESS_VIDE, field))]
        if kind is Kind.INTEGER:
            return self._integer_key(field)
        return self._text_key(field), []

    def _integer_key(self, field: str) -> tuple[pl.Expr, list[Check]]:
        value = f"_key:{field}"
        if value not in self.rows.columns:
            parsed = parse_cells(self.rows.lazy(), {field: Kind.INTEGER})
            self.rows = self.rows.with_columns(parsed.values.get_column(field).alias(value))
            label = self._label(field)

            def why(raw: str) -> tuple[str, str]:
                try:
                    rules.parse_integer_key(raw)
                except Rejected as rejected:
                    return rejected.rule, f"« {label} » {rejected.detail}".rstrip()
                return rules.CLE_INVALIDE, f"« {label} » {raw!r}"  # an integer beyond Int64

            schema = {"rule": pl.String(), "detail": pl.String()}
            self._verdicts[value] = answers(self.rows, field, why, schema, where=pl.col(value).is_null())
        verdict = self._verdicts[value]
        return pl.col(value), [(pl.col(value).is_null(), refusal(verdict.of("rule"), verdict.of("detail")))]

    def _text_key(self, field: str) -> pl.Expr:
        if field not in self.header.index:
            return pl.lit(rules.parse_text_key(""), pl.String)
        value = f"_key:{field}"
        if value not in self.rows.columns:
            schema = {value: pl.String()}
            self.rows = with_answers(self.rows, field, lambda raw: (rules.parse_text_key(raw),), schema)
        return pl.col(value)

    def _beneficiaire(self) -> pl.Expr:
        value = f"_key:{BENEFICIAIRE}"
        if value not in self.rows.columns:
            schema = {value: pl.String()}
            on = [number("finess"), number("finess_ej")]
            self.rows = with_answers(self.rows, on, lambda et, ej: (rules.beneficiaire(et, ej),), schema)
        return pl.col(value)


def offer(rows: pl.DataFrame, blocks: list[BlockRules], log: ProblemLog) -> tuple[pl.DataFrame, int]:
    """Marks which rows each block takes (BlockRules.takes); rejects the rows no block takes, with the refusal of the
    first block in scope (an unknown number counted). The marked rows and the number offered to some block."""
    rows = rows.with_columns(
        *(b.in_scope.alias(b.scope_column) for b in blocks),
        *(any_broken(b.checks).alias(b.broken_column) for b in blocks),
    )
    offered = pl.any_horizontal([b.takes for b in blocks])
    refused_somewhere = pl.any_horizontal([pl.col(b.scope_column) & pl.col(b.broken_column) for b in blocks])
    first_refusal = pl.coalesce([pl.when(pl.col(b.scope_column)).then(b.refusal) for b in blocks])
    refused = (  # refusals are built for the refused rows only
        rows.lazy()
        .filter(~offered & refused_somewhere)
        .select(LINE, first_refusal.struct.field("rule", "detail", "finess"))
        .collect()
    )
    for found, count in refused.drop_nulls("finess").group_by("finess").len().iter_rows():
        log.report.unknown_finess[found] += count
    log.reject(refused, Order.REFUSAL)
    return rows, int(rows.select(offered.sum()).item())
