"""One block's rows → its table: the candidates it takes, one winner per key (dedup), their typed values.

An unreadable value cell of a winning row is null, and noted with its line and label; a losing row's is not noted. The first 100 duplicates of each block are listed (and logged as `doublon` problems), all counted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import polars as pl
from polars.datatypes import DataType

from relais_diamant import rules
from relais_diamant.answers import with_answers
from relais_diamant.blocks import BlockRules
from relais_diamant.cells import DTYPES
from relais_diamant.dedup import DROPPED_LINE, KEPT_LINE, Claims, settle
from relais_diamant.definitions import BENEFICIAIRE, Block, Field, Kind, Level, SourceDefinition
from relais_diamant.frames import LINE, ROW, CellsAgain
from relais_diamant.problems import DETAIL, RULE, Order, ProblemLog
from relais_diamant.reader import Header
from relais_diamant.row_rules import number
from relais_diamant.rules import Duplicate, Referential
from relais_diamant.values import RAW, ValueCells

MAX_EXAMPLES = 100
_ET, _EJ = "_et", "_ej"


@dataclass(frozen=True, slots=True)
class BlockTable:
    table: str
    position: int
    frame: pl.DataFrame  # LINE, then the table's key and value columns, by line
    duplicates: int
    examples: list[Duplicate]


def _finess(field: str) -> str:
    return f"_finess:{field}"


@dataclass(frozen=True, slots=True)
class Candidates:
    """The rows one block takes: LINE, ROW, its key columns, and what settles duplicates and types the values."""

    rules: BlockRules
    frame: pl.DataFrame
    values: list[tuple[str, str, Field]]  # (field, column, field definition) of the values in this header
    et_ej: tuple[str, str] | None


def candidates(
    rows: pl.DataFrame, rules_of_block: BlockRules, definition: SourceDefinition, header: Header
) -> Candidates:
    """`rows`: the checked rows (ROW, LINE, rule columns)."""
    block = rules_of_block.block
    values = [(name, column, header.fields[name]) for name, column in block.values if name in header.index]
    ej_field = definition.ej_field
    selected = [
        pl.col(LINE),
        pl.col(ROW),
        *rules_of_block.keys,
        *(pl.col(number(name)).alias(_finess(name)) for name, _, f in values if f.kind is Kind.FINESS),
    ]
    et_ej = None
    if block.level is Level.ET and ej_field is not None and ej_field in header.index:
        selected += [pl.col(number(block.finess)).alias(_ET), pl.col(number(ej_field)).alias(_EJ)]
        et_ej = (_ET, _EJ)
    frame = rows.lazy().filter(rules_of_block.takes).select(selected).collect()
    return Candidates(rules_of_block, frame, values, et_ej)


def block_table(
    taken: Candidates,
    values: ValueCells,
    again: CellsAgain,
    definition: SourceDefinition,
    header: Header,
    referential: Referential,
    log: ProblemLog,
) -> BlockTable:
    block, position, fields = taken.rules.block, taken.rules.position, taken.values
    names = [name for name, _, _ in fields]

    def rank_cells(rows: Sequence[int]) -> list[tuple[str, ...]]:
        return again.at(rows, names)

    settled = settle(taken.frame, Claims(block.key_columns, rank_cells, taken.et_ej, referential.ej_of_et))
    kept = [LINE, ROW, *block.key_columns, *(_finess(name) for name, _, f in fields if f.kind is Kind.FINESS)]
    winners = taken.frame.select(kept).filter(settled.kept)
    frame = (
        winners.select(LINE, *block.key_columns)
        .with_columns(_typed(winners, values, fields, position, log))
        .cast(pl.Schema(_schema(block, definition, header, fields)))
    )
    examples = _examples(block, settled.duplicates, position, log)
    return BlockTable(block.table, position, frame, settled.duplicates.height, examples)


def _typed(
    winners: pl.DataFrame,
    values: ValueCells,
    fields: list[tuple[str, str, Field]],
    position: int,
    log: ProblemLog,
) -> list[pl.Series]:
    """The value columns of the winning rows; their unreadable cells noted (a losing row's are not)."""
    at = winners.get_column(ROW)
    typed: list[pl.Series] = []
    for rank, (name, column, f) in enumerate(fields):
        if f.kind is Kind.FINESS:  # the rules' normalised number; a cell that is no number is null
            typed.append(winners.get_column(_finess(name)).alias(column))
            continue
        typed.append(values.typed.get_column(name).gather(at).alias(column))
        unreadable = values.unreadable.get(name)
        if unreadable is not None:
            bad = winners.select(ROW, LINE).join(unreadable, on=ROW).sort(LINE)
            noted = with_answers(bad, RAW, _unreadable_detail(f.label), {DETAIL: pl.String()})
            log.note(rules.VALEUR_INVALIDE, noted, Order.VALUE + position * 100 + rank)
    return typed


def _unreadable_detail(label: str) -> Callable[[str], tuple[str]]:
    return lambda raw: (f"« {label} » = {raw!r}",)


def _schema(
    block: Block, definition: SourceDefinition, header: Header, values: list[tuple[str, str, Field]]
) -> dict[str, DataType]:
    schema: dict[str, DataType] = {LINE: pl.UInt32()}
    for name, column in block.keys:
        present = header.fields.get(name)
        kind = Kind.TEXT_KEY if name == BENEFICIAIRE or present is None else present.kind
        schema[column] = DTYPES[kind]
    schema |= {column: DTYPES[f.kind] for _, column, f in values}
    return schema


def _examples(block: Block, duplicates: pl.DataFrame, position: int, log: ProblemLog) -> list[Duplicate]:
    first = duplicates.head(MAX_EXAMPLES)
    examples = [
        Duplicate(block.table, tuple(row[: len(block.keys)]), row[-2], row[-1])
        for row in first.select(*block.key_columns, KEPT_LINE, DROPPED_LINE).iter_rows()
    ]
    log.add(
        pl.DataFrame(
            {
                LINE: [d.dropped_line for d in examples],
                RULE: [rules.DOUBLON] * len(examples),
                DETAIL: [f"{block.table} {list(d.key)} : ligne {d.kept_line} préférée" for d in examples],
            },
            schema={LINE: pl.UInt32, RULE: pl.String, DETAIL: pl.String},
        ),
        Order.DUPLICATE + position,
    )
    return examples
