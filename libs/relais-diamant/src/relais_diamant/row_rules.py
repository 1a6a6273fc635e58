"""The rules of a whole row, before any block: its number of fields, its year and month (and the window), its FINESS
numbers normalised. Rows that break the first ones are rejected here; FINESS verdicts are the blocks' to use.

A rule is a *check*: a cheap condition telling whether a row breaks it, and the *refusal* it then gets, a struct of
the rule, its French detail and, for a number absent from the referential, that number. Refusals are only built
for the rows that break a check (details are mapped from the Python rules' answers to distinct cells).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from relais_diamant import rules
from relais_diamant.answers import Answers, answers
from relais_diamant.definitions import BENEFICIAIRE, Kind, SourceDefinition
from relais_diamant.frames import FIELDS, LINE
from relais_diamant.problems import DETAIL, RULE, Order, ProblemLog
from relais_diamant.reader import Header
from relais_diamant.rules import Rejected, YearWindow

YEAR = "_year"
MONTH = "_month"

Check = tuple[pl.Expr, pl.Expr]  # (whether the rule is broken, the refusal when it is)


def refusal(rule: str | pl.Expr, detail: str | pl.Expr, finess: pl.Expr | None = None) -> pl.Expr:
    def text(value: str | pl.Expr) -> pl.Expr:
        return pl.lit(value, pl.String) if isinstance(value, str) else value

    return pl.struct(
        rule=text(rule), detail=text(detail), finess=pl.lit(None, pl.String) if finess is None else finess
    )


def any_broken(checks: Sequence[Check]) -> pl.Expr:
    """Whether a row breaks one of the checks: cheap booleans, for every row."""
    return pl.any_horizontal([broken.fill_null(False) for broken, _ in checks]) if checks else pl.lit(False)


def first_broken(checks: Sequence[Check]) -> pl.Expr:
    """The refusal of the first broken check, in order; null when none is. Built for the rows that break one."""
    return pl.coalesce([pl.when(broken).then(refused) for broken, refused in checks])


def number(field: str) -> str:
    """The column of a FINESS field's normalised number: null when the cell is blank or not a number at all."""
    return f"_number:{field}"


def complete_lines(rows: pl.DataFrame, width: int, log: ProblemLog) -> pl.DataFrame:
    """The rows with as many fields as the header has labels; the others are rejected."""
    wrong = rows.filter(pl.col(FIELDS) != width).select(
        LINE,
        pl.lit(rules.NOMBRE_DE_CHAMPS).alias(RULE),
        pl.format("{} champs pour {} libellés", pl.col(FIELDS), pl.lit(width)).alias(DETAIL),
    )
    log.reject(wrong, Order.ROW)
    return rows.filter(pl.col(FIELDS) == width).drop(FIELDS)


def _verdict(parse: Callable[[str], Any]) -> Callable[[str], tuple[Any, str | None, str | None]]:
    def verdict(raw: str) -> tuple[Any, str | None, str | None]:
        try:
            return parse(raw), None, None
        except Rejected as rejected:
            return None, rejected.rule, rejected.detail

    return verdict


def with_periods(
    rows: pl.DataFrame, definition: SourceDefinition, window: YearWindow, log: ProblemLog
) -> pl.DataFrame:
    """The rows with YEAR (and MONTH for monthly sources) whose periods hold; the others are rejected: a blank or
    unreadable year, a bad month, then a year outside the window."""
    checks: list[Check] = []
    fields = [(definition.year_field, YEAR, rules.parse_year)]
    if definition.month_field is not None:
        fields.append((definition.month_field, MONTH, rules.parse_month))
    for field, column, parse in fields:
        schema = {column: pl.Int32(), "rule": pl.String(), "detail": pl.String()}
        found = answers(rows, field, _verdict(parse), schema)
        rows = rows.with_columns(found.of(column).alias(column))
        checks.append((pl.col(column).is_null(), refusal(found.of("rule"), found.of("detail"))))
    outside = ~pl.col(YEAR).is_between(window.first, window.last)
    checks.append(
        (outside, refusal(rules.HORS_FENETRE, pl.format("{} hors de {}", pl.col(YEAR), pl.lit(str(window)))))
    )
    broken = any_broken(checks)
    log.reject(
        rows.lazy()
        .filter(broken)
        .select(LINE, first_broken(checks).struct.field("rule", "detail"))
        .collect(),
        Order.ROW,
    )
    return rows.filter(~broken)


def finess_fields(definition: SourceDefinition, header: Header) -> list[str]:
    """Every FINESS field the rules may look at: those of the header, and those named by the definition (absent from
    this header, their cells are blank)."""
    named: list[str] = [name for name, field in header.fields.items() if field.kind is Kind.FINESS]
    for generation in definition.generations:
        named += [field.name for field in generation.fields if field.kind is Kind.FINESS]
    for block in definition.blocks:
        named += [block.finess, *(field for field, _ in block.also_known)]
        if any(field == BENEFICIAIRE for field, _ in block.keys):
            named += ["finess", "finess_ej"]  # rules.beneficiaire: the ET, else the EJ
    named += [f for f in (definition.ej_field, definition.et_field) if f is not None]
    return list(dict.fromkeys(named))


@dataclass(frozen=True, slots=True)
class FinessCells:
    """rules.normalise_finess's answers to the FINESS cells that are not plainly a number, per field."""

    answers: dict[str, Answers]

    def invalid(self, field: str) -> Check:
        """A cell that cannot be a number at all (finess_invalide, with normalise_finess's detail)."""
        found = self.answers.get(field)
        if found is None:
            return pl.lit(False), pl.lit(None, pl.String)
        return found.where("invalid"), refusal(rules.FINESS_INVALIDE, found.of("invalid"))

    def blank(self, field: str) -> pl.Expr:
        return pl.col(number(field)).is_null() & ~self.invalid(field)[0]


def with_finess(
    rows: pl.DataFrame, names: Iterable[str], header: Header, log: ProblemLog
) -> tuple[pl.DataFrame, FinessCells]:
    """Adds each FINESS field's number (null when blank or invalid); notes the restored leading zeros."""

    def normalise(raw: str) -> tuple[str | None, str | None, str | None]:
        try:
            found, zero_restored = rules.normalise_finess(raw)
        except Rejected as rejected:
            return None, rejected.detail, None
        return found, None, f"« {raw.strip()} » lu {found}" if zero_restored else None

    cells: dict[str, Answers] = {}
    for rank, name in enumerate(names):
        if name not in header.index:
            rows = rows.with_columns(pl.lit(None, pl.String).alias(number(name)))
            continue
        # A cell of nine digits or capitals is its own number (normalise_finess changes nothing in it): most cells.
        plain = pl.col(name).str.contains(r"^[0-9A-Z]{9}$")
        schema = {"number": pl.String(), "invalid": pl.String(), "restored": pl.String()}
        found = cells[name] = answers(rows, name, normalise, schema, where=~plain)
        rows = rows.with_columns(
            pl.when(plain).then(pl.col(name)).otherwise(found.of("number")).alias(number(name))
        )
        notes = rows.lazy().filter(found.where("restored")).select(LINE, found.of("restored").alias(DETAIL))
        log.note(rules.FINESS_COMPLETE, notes.collect(), Order.ROW + rank)
    return rows, FinessCells(cells)
