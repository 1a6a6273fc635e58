"""A DIAMANT file → one DataFrame per target table and a quality report, column by column with polars.

The file streams through polars (frames): each line's field count, the cells the rules read, and the value cells
typed on the way (values, cells). The row rules run as expressions, with the Python rules of `rules` applied once per
distinct cell (answers): field count, year and month (and the window), FINESS numbers normalised (row_rules); then
each block says which rows it takes and why it refuses the others (blocks). A row is offered to every block whose
scope takes it — QUO_SAN_FINANCE's EJ rows (empty `Finess ET`) and ET rows are separated *before* any deduplication
(spec §7.1) — and a row no block takes is rejected with its first refusal. Each block then settles its duplicated
keys whatever the row order (dedup) and gathers its winners' values, unreadable ones null and noted (tables).

Memory: a file's raw cells are never all held (a national ANN_MS_TDP_ET: ~200k lines, 26 MB); the rules read a
narrow frame of the few cells they need, filtered as rows fall, and the winners' values are gathered by their ROW.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from relais_diamant import rules
from relais_diamant.blocks import BlockColumns, offer
from relais_diamant.cells import first_reading
from relais_diamant.definitions import Kind, SourceDefinition
from relais_diamant.frames import FIELDS, LINE, ROW, CellsAgain, read_cells
from relais_diamant.problems import ProblemLog
from relais_diamant.reader import DiamantFile
from relais_diamant.row_rules import complete_lines, finess_fields, with_finess, with_periods
from relais_diamant.rules import QualityReport, Referential
from relais_diamant.tables import MAX_EXAMPLES, BlockTable, block_table, candidates
from relais_diamant.values import ValueCells, type_values, value_kinds

TableRow = tuple[str, dict[str, Any]]


@dataclass(slots=True)
class Transformation:
    """The rows of each target table (key columns, then value columns) and the file's complete quality report."""

    tables: dict[str, pl.DataFrame]
    report: QualityReport
    # The table of each row in the order the streaming transform emitted them (file order of the winning lines,
    # blocks in definition order within a line); each table's frame holds its rows in that same order.
    _emission: pl.Series | None = field(default=None, repr=False)

    def rows(self) -> Iterator[TableRow]:
        """(table, {column: Python value}) one row at a time, in emission order: for tests and small callers."""
        cursors = {table: frame.iter_rows(named=True) for table, frame in self.tables.items()}
        order = self._emission if self._emission is not None else _table_by_table(self.tables)
        for table in order:
            yield table, next(cursors[table])


def transform_file(
    path: Path,
    definition: SourceDefinition,
    referential: Referential,
    reference_year: int,
    file_name: str | None = None,
) -> Transformation:
    """UnreadableFile when the whole file cannot be used (missing header label, not UTF-8…)."""
    file = DiamantFile(path, definition, file_name)
    header = file.header
    window = rules.year_window(definition.period, reference_year)
    report = QualityReport(
        file=file.name,
        source=definition.source.value,
        reference_year=reference_year,
        window=window,
        generation=header.generation.name,
        unused_labels=list(header.unused_labels),
    )
    log = ProblemLog(report)
    values, again, rows = _read(file, definition)
    report.rows_read = rows.height
    rows = with_periods(complete_lines(rows, header.width, log), definition, window, log)
    rows, finess = with_finess(rows, finess_fields(definition, header), header, log)
    columns = BlockColumns(rows, finess, definition, header, referential)
    blocks = [columns.rules_of(position, block) for position, block in enumerate(definition.blocks)]
    rows, offered = offer(columns.rows, blocks, log)
    taken = [candidates(rows, block, definition, header) for block in blocks]
    del rows, columns  # the rules' frame: the candidates hold what the blocks still need
    built = [block_table(block, values, again, definition, header, referential, log) for block in taken]
    _count(report, offered, built)
    log.close()
    return Transformation(_tables(built), report, _emission_order(built))


def _read(file: DiamantFile, definition: SourceDefinition) -> tuple[ValueCells, CellsAgain, pl.DataFrame]:
    """The typed values of every line (by ROW), the way back to raw cells, and the narrow frame of ROW, LINE, FIELDS
    and the cells the rules read."""
    header = file.header
    values = list(
        dict.fromkeys(name for b in definition.blocks for name, _ in b.values if name in header.index)
    )
    # The rules read every field but those only ever a value (FINESS values are checked as numbers).
    read = [name for name, f in header.fields.items() if name not in values or f.kind is Kind.FINESS]
    kinds = value_kinds(values, header)
    lines = read_cells(file, [*(pl.col(name) for name in read), *first_reading(kinds)])
    rows = pl.concat([lines.numbers, lines.asked.select(read)], how="horizontal").with_row_index(ROW)
    typed = type_values(lines.asked.drop(read), lines.again.cells, kinds)
    return typed, lines.again, rows.filter(pl.col(FIELDS) > 0)  # a blank line is skipped, not read


def _count(report: QualityReport, offered: int, built: list[BlockTable]) -> None:
    kept = pl.concat([b.frame.select(LINE) for b in built]).unique() if built else pl.DataFrame()
    report.rows_kept = kept.height
    if offered > kept.height:
        report.rejected[rules.DOUBLON] += offered - kept.height
    for b in built:
        report.tables[b.table] = report.tables.get(b.table, 0) + b.frame.height
        report.duplicates += b.duplicates
        room = MAX_EXAMPLES - len(report.duplicate_examples)
        report.duplicate_examples += b.examples[: max(room, 0)]


def _tables(built: list[BlockTable]) -> dict[str, pl.DataFrame]:
    """Each block's rows without their line; two blocks of one table share its frame, in emission order."""
    tables: dict[str, list[BlockTable]] = {}
    for b in built:
        tables.setdefault(b.table, []).append(b)
    return {table: _merged(parts).drop(LINE) for table, parts in tables.items()}


def _merged(parts: list[BlockTable]) -> pl.DataFrame:
    if len(parts) == 1:
        return parts[0].frame  # already in line order
    frames = [b.frame.with_columns(pl.lit(b.position).alias("_position")) for b in parts]
    return pl.concat(frames, how="diagonal_relaxed").sort(LINE, "_position").drop("_position")


def _emission_order(built: list[BlockTable]) -> pl.Series:
    if not built:
        return pl.Series("table", [], pl.String)
    order = pl.concat(
        b.frame.select(LINE, pl.lit(b.position).alias("_position"), pl.lit(b.table).alias("table"))
        for b in built
    )
    return order.sort(LINE, "_position").get_column("table")


def _table_by_table(tables: dict[str, pl.DataFrame]) -> Iterator[str]:
    for table, frame in tables.items():
        yield from [table] * frame.height


__all__ = ["TableRow", "Transformation", "transform_file"]
