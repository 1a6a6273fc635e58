"""A DIAMANT file → rows for its target tables and a quality report, in two streaming passes over the file.

Pass 1 reads every line, applies the row rules (year, month, window, FINESS, referential) and offers each row to the
deduplicator of every block whose scope takes it, keeping per key only the winning line (an int). When it ends, the
quality report is complete but for unreadable value cells. Pass 2 reads the file again and emits, lazily, the winning
rows, converting their values; an unreadable value cell becomes null and is reported with its line.

Two passes keep memory to one small entry per key (not one row per key) on national files, and make the choice
among duplicates independent of row order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from relais_diamant import rules
from relais_diamant.definitions import BENEFICIAIRE, Block, Kind, Level, Scope, SourceDefinition
from relais_diamant.reader import DiamantFile, Header
from relais_diamant.rules import QualityReport, Referential, Rejected

TableRow = tuple[str, dict[str, Any]]


@dataclass(slots=True)
class Transformation:
    """Rows are produced lazily; `report` is complete once they have all been consumed."""

    rows: Iterator[TableRow]
    report: QualityReport


class _Line:
    """One data line seen through the header: raw cells by field name, FINESS numbers normalised once."""

    __slots__ = ("_cells", "_finess", "_index", "line", "month", "year")

    def __init__(self, header: Header, line: int, cells: list[str]) -> None:
        self._cells = cells
        self._index = header.index
        self._finess: dict[str, tuple[str | None, bool]] = {}
        self.line = line
        self.year = 0
        self.month: int | None = None

    def raw(self, name: str) -> str:
        position = self._index.get(name)
        return "" if position is None else self._cells[position]

    def finess(self, name: str) -> tuple[str | None, bool]:
        """(number or None, restored leading zero); Rejected when invalid."""
        found = self._finess.get(name)
        if found is None:
            found = rules.normalise_finess(self.raw(name))
            self._finess[name] = found
        return found

    def finess_or_none(self, name: str) -> str | None:
        try:
            return self.finess(name)[0]
        except Rejected:
            return None


def _in_scope(block: Block, line: _Line, definition: SourceDefinition) -> bool:
    if block.scope is Scope.ALL or definition.et_field is None:
        return True
    et_blank = not line.raw(definition.et_field).strip()
    return et_blank if block.scope is Scope.EJ_ROWS else not et_blank


class _Transformer:
    def __init__(
        self, file: DiamantFile, referential: Referential, reference_year: int, report: QualityReport
    ) -> None:
        self.file = file
        self.definition = file.definition
        self.header = file.header
        self.referential = referential
        self.report = report
        self.window = rules.year_window(self.definition.period, reference_year)
        self.blocks = self.definition.blocks
        self.dedup = [rules.Deduplicator(block.table) for block in self.blocks]
        self.winners: list[set[int]] = []
        self.kept: set[int] = set()
        index, fields = self.header.index, self.header.fields
        # Per block, the positions of its value cells present in this header (what ranks a duplicate) and the plan
        # to convert them: (column, position, kind, label).
        self.rank_positions = [
            [index[field] for field, _ in block.values if field in index] for block in self.blocks
        ]
        self.plans = [
            [
                (column, index[field], fields[field].kind, fields[field].label)
                for field, column in block.values
                if field in index
            ]
            for block in self.blocks
        ]
        self.finess_fields = [name for name, f in fields.items() if f.kind is Kind.FINESS]

    # --- rules shared by both passes -------------------------------------------------------------------------------
    def _known(self, level: Level) -> frozenset[str]:
        return self.referential.etablissements if level is Level.ET else self.referential.entites_juridiques

    def _periods(self, line: _Line) -> None:
        """Year (and month) of a line; Rejected when blank, unreadable or outside the window."""
        line.year = rules.parse_year(line.raw(self.definition.year_field))
        if self.definition.month_field is not None:
            line.month = rules.parse_month(line.raw(self.definition.month_field))
        if line.year not in self.window:
            raise Rejected(rules.HORS_FENETRE, f"{line.year} hors de {self.window}")

    def _check_known(self, line: _Line, field: str, level: Level, required: bool) -> str | None:
        number, _ = line.finess(field)
        if number is None:
            if required:
                label = self.header.fields[field].label if field in self.header.fields else field
                raise Rejected(rules.FINESS_VIDE, f"« {label} » vide")
            return None
        if number not in self._known(level):
            raise rules.finess_problem(number, level.value)
        return number

    def _key(self, block: Block, line: _Line) -> tuple[str, tuple[Any, ...]]:
        """(FINESS checked against the referential, key values) of a line for a block; Rejected when unusable."""
        number = self._check_known(line, block.finess, block.level, required=True)
        assert number is not None
        for field, level in block.also_known:
            self._check_known(line, field, level, required=False)
        key: list[Any] = []
        for field, _ in block.keys:
            if field == self.definition.year_field:
                key.append(line.year)
            elif field == self.definition.month_field:
                key.append(line.month)
            elif field == BENEFICIAIRE:
                key.append(
                    rules.beneficiaire(line.finess_or_none("finess"), line.finess_or_none("finess_ej"))
                )
            elif field == block.finess:
                key.append(number)
            else:
                kind = self.header.fields[field].kind if field in self.header.fields else Kind.TEXT_KEY
                if kind is Kind.FINESS:
                    value = line.finess(field)[0]
                    if value is None:
                        raise Rejected(rules.FINESS_VIDE, field)
                    key.append(value)
                elif kind is Kind.INTEGER:  # `Id Dépôt`
                    try:
                        key.append(rules.parse_integer_key(line.raw(field)))
                    except Rejected as rejected:
                        label = self.header.fields[field].label
                        raise Rejected(rejected.rule, f"« {label} » {rejected.detail}".rstrip()) from None
                else:
                    key.append(rules.parse_text_key(line.raw(field)))
        return number, tuple(key)

    def _ej_matches(self, block: Block, line: _Line, number: str) -> bool:
        ej_field = self.definition.ej_field
        if block.level is not Level.ET or ej_field is None or ej_field not in self.header.index:
            return False
        ej = line.finess_or_none(ej_field)
        return ej is not None and self.referential.ej_of_et.get(number) == ej

    # --- pass 1 ----------------------------------------------------------------------------------------------------
    def scan(self) -> None:
        report = self.report
        width = self.header.width
        candidates = 0
        for number_line, cells in self.file.lines():
            report.rows_read += 1
            if len(cells) != width:
                report.reject(
                    number_line, rules.NOMBRE_DE_CHAMPS, f"{len(cells)} champs pour {width} libellés"
                )
                continue
            line = _Line(self.header, number_line, cells)
            try:
                self._periods(line)
            except Rejected as rejected:
                report.reject(
                    number_line, rejected.rule, rejected.detail, quiet=rejected.rule == rules.HORS_FENETRE
                )
                continue
            self._note_restored_finess(line)
            first_refusal: Rejected | None = None
            offered = False
            for position, block in enumerate(self.blocks):
                if not _in_scope(block, line, self.definition):
                    continue
                try:
                    number, key = self._key(block, line)
                except Rejected as rejected:
                    first_refusal = first_refusal or rejected
                    continue
                values = [cells[p] for p in self.rank_positions[position]]
                self.dedup[position].offer(
                    key, rules.rank(values, self._ej_matches(block, line, number)), number_line
                )
                offered = True
            if offered:
                candidates += 1
            elif first_refusal is not None:
                if first_refusal.finess is not None:
                    report.unknown_finess[first_refusal.finess] += 1
                report.reject(number_line, first_refusal.rule, first_refusal.detail)
        self.winners = [d.winning_lines() for d in self.dedup]
        self.kept = set().union(*self.winners) if self.winners else set()
        report.rows_kept = len(self.kept)
        if candidates > len(self.kept):
            report.rejected[rules.DOUBLON] += candidates - len(self.kept)
        for block, dedup in zip(self.blocks, self.dedup, strict=True):
            report.tables[block.table] = report.tables.get(block.table, 0) + len(dedup)
            report.duplicates += dedup.duplicates
            for duplicate in dedup.examples:
                if len(report.duplicate_examples) < 100:
                    report.duplicate_examples.append(duplicate)
                report.problem(
                    duplicate.dropped_line,
                    rules.DOUBLON,
                    f"{block.table} {list(duplicate.key)} : ligne {duplicate.kept_line} préférée",
                )

    def _note_restored_finess(self, line: _Line) -> None:
        for name in self.finess_fields:
            try:
                number, restored = line.finess(name)
            except Rejected:
                continue
            if restored:
                self.report.notes[rules.FINESS_COMPLETE] += 1
                self.report.problem(
                    line.line, rules.FINESS_COMPLETE, f"« {line.raw(name).strip()} » lu {number}"
                )

    # --- pass 2 ----------------------------------------------------------------------------------------------------
    def emit(self) -> Iterator[TableRow]:
        kept = self.kept
        parsers = [
            [(*step, None if step[2] is Kind.FINESS else rules.VALUE_PARSERS[step[2]]) for step in plan]
            for plan in self.plans
        ]
        for number_line, cells in self.file.lines():
            if number_line not in kept:
                continue
            line = _Line(self.header, number_line, cells)
            self._periods(line)  # passed in pass 1: same file, same answer
            for position, block in enumerate(self.blocks):
                if number_line not in self.winners[position] or not _in_scope(block, line, self.definition):
                    continue
                _, key = self._key(block, line)
                row: dict[str, Any] = dict(zip(block.key_columns, key, strict=True))
                for column, cell_position, kind, label, parse in parsers[position]:
                    cell = cells[cell_position]
                    if not cell and kind is not Kind.TEXT_KEY:
                        row[column] = None  # the common case of an empty cell, without a parser call
                    elif parse is None:
                        row[column] = self._value(line, cell, kind, label)
                    else:
                        try:  # the parser called directly: ~3M cells on a national ANN_MS_TDP_ET
                            row[column] = parse(cell)
                        except ValueError:
                            row[column] = self._unreadable(line, cell, label)
                yield block.table, row

    def _value(self, line: _Line, raw: str, kind: Kind, label: str) -> Any:
        if kind is Kind.FINESS:
            try:
                return rules.normalise_finess(raw)[0]
            except Rejected:
                return None
        try:
            return rules.parse_value(kind, raw)
        except ValueError:
            return self._unreadable(line, raw, label)

    def _unreadable(self, line: _Line, raw: str, label: str) -> None:
        self.report.notes[rules.VALEUR_INVALIDE] += 1
        self.report.problem(line.line, rules.VALEUR_INVALIDE, f"« {label} » = {raw!r}")


def transform_file(
    path: Path,
    definition: SourceDefinition,
    referential: Referential,
    reference_year: int,
    file_name: str | None = None,
) -> Transformation:
    """Read the header (UnreadableFile when a label is missing), run pass 1, and return the rows of pass 2 lazily."""
    file = DiamantFile(path, definition, file_name)
    report = QualityReport(
        file=file.name,
        source=definition.source.value,
        reference_year=reference_year,
        window=rules.year_window(definition.period, reference_year),
        generation=file.header.generation.name,
        unused_labels=list(file.header.unused_labels),
    )
    transformer = _Transformer(file, referential, reference_year, report)
    transformer.scan()
    return Transformation(rows=transformer.emit(), report=report)
