"""A DIAMANT file → its data lines, read by column: each line's physical number and number of fields, and what the
caller asks of its cells (string columns named by header field), computed while the file streams through polars.

Polars' CSV reader splits lines on `\\n` (a CRLF's `\\r` dropped) and cells on `;`, without quoting, and keeps every
line: row n is line n + 2 (line 1 is the header, read by DiamantFile). That is what the csv module reads from a file
without quotes, NUL bytes or lone `\\r`; a file with any of them (none seen in real extracts) is read by the csv
module instead (`DiamantFile.lines`), so quoted cells keep their meaning and the same errors refuse the same files.

A line's number of fields is read from the lengths: a line holding exactly as many fields as the header is as long as
its cells and separators (the reader fills a short line with "" and cuts a long one); only the other lines, rare,
have their separators counted. A blank line, which the csv module skips, has 0 fields: the caller skips it too.

Memory: the file is streamed, so its raw cells are never all held; the few later reads of raw cells (to rank
duplicates, to read again the cells polars leaves to Python) read the file again (`CellsAgain`).
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from relais_diamant.reader import DiamantFile, UnreadableFile

LINE = "_line"
FIELDS = "_fields"
ROW = "_row"  # a data line's position: the row of the frames of read_cells (the header excluded)
_TEXT = "_text"
_CELL_LIMIT = csv.field_size_limit()  # as the reader module sets it
# Every cell as text, an empty cell as "" (not null), no quoting.
_AS_TEXT: dict[str, Any] = {"has_header": False, "quote_char": None, "empty_string_is_null": False}


@dataclass(frozen=True, slots=True)
class CellsAgain:
    """The raw cells of the data lines once more, read again from the file when asked."""

    file: DiamantFile
    cells: pl.LazyFrame  # one string column per header field used, by ROW
    # Read by polars: every line's length in bytes, header included, line end excluded; a line's cells are then its
    # text split on `;`. None when the csv module read the file.
    lengths: pl.Series | None

    def at(self, rows: Sequence[int], fields: Sequence[str]) -> list[tuple[str, ...]]:
        """The cells of `fields` of the given ROWs, in that order."""
        if self.lengths is None:
            wanted = pl.Series(rows, dtype=pl.UInt32).implode()
            table = self.cells.with_row_index(ROW).filter(pl.col(ROW).is_in(wanted)).select(ROW, *fields)
            by_row = {row[0]: row[1:] for row in table.collect().iter_rows()}
            return [by_row[row] for row in rows]
        positions = [self.file.header.index[name] for name in fields]
        texts = self._texts(rows, self.lengths)
        return [tuple(texts[row].split(";")[position] for position in positions) for row in rows]

    def _texts(self, rows: Sequence[int], lengths: pl.Series) -> dict[int, str]:
        found: dict[int, str] = {}
        if not rows:
            return found
        starts = self._starts(lengths)
        with self.file.path.open("rb") as stream:
            if starts is not None:  # each line read where it starts
                lines = pl.Series(sorted(set(rows)), dtype=pl.UInt32) + 1  # the lengths have the header
                for line, start, length in zip(
                    lines, starts.gather(lines), lengths.gather(lines), strict=True
                ):
                    stream.seek(start)
                    found[line - 1] = stream.read(length).decode("utf-8")
                return found
            wanted = {row + 2: row for row in rows}  # mixed line ends: a walk through the file
            for line, raw in enumerate(stream, start=1):
                if line in wanted:
                    found[wanted[line]] = raw.removesuffix(b"\n").removesuffix(b"\r").decode("utf-8")
        return found

    def _starts(self, lengths: pl.Series) -> pl.Series | None:
        """Where each line starts, when all its line ends have one size (all LF or all CRLF, as real files have)."""
        size = self.file.path.stat().st_size
        with self.file.path.open("rb") as stream:
            bom = 3 if stream.read(3) == codecs.BOM_UTF8 else 0  # the reader drops it from the first line
            stream.seek(max(size - 1, 0))
            ended = stream.read(1) == b"\n"
        ends = lengths.len() - (0 if ended else 1)
        text = int(lengths.sum()) + bom
        for end in (1, 2):
            if size == text + end * ends:
                return (lengths.cast(pl.Int64) + end).cum_sum().shift(1, fill_value=0) + bom
        return None


@dataclass(frozen=True, slots=True)
class FileLines:
    """The data lines of a file, row for row (a row's position is its ROW)."""

    numbers: pl.DataFrame  # LINE and FIELDS (0 for a blank line)
    asked: pl.DataFrame  # the caller's expressions over the cells
    again: CellsAgain


def read_cells(file: DiamantFile, asked: Sequence[pl.Expr]) -> FileLines:
    """The data lines of a file, with `asked` computed on every line's cells (see the module docstring);
    UnreadableFile when the file is not UTF-8."""
    found = _with_polars(file, asked)
    return found if found is not None else _with_csv_module(file, asked)


def _with_polars(file: DiamantFile, asked: Sequence[pl.Expr]) -> FileLines | None:
    """None when the csv module must read the file."""
    measures = _line_measures(file)
    if measures is None:
        return None
    lengths = measures.get_column("length").slice(1)
    # Quotes, a lone \r (a line end for the csv module) or a cell beyond its limit: the csv module's business.
    longest = lengths.max()
    if measures.get_column("unusual").any() or (isinstance(longest, int) and longest > _CELL_LIMIT):
        return None
    width = file.header.width
    positions = [f"_cell:{position}" for position in range(width)]
    schema = dict.fromkeys(positions, pl.String())
    scan = pl.scan_csv(file.path, separator=";", schema=schema, truncate_ragged_lines=True, **_AS_TEXT).slice(
        1
    )
    named = [pl.col(positions[position]).alias(name) for name, position in file.header.index.items()]
    joined = (pl.sum_horizontal(pl.col(positions).str.len_bytes()) + (width - 1)).alias("_joined")
    read = scan.select(joined, *named).select("_joined", *asked).collect(engine="streaming")
    if read.height != lengths.len():
        return None
    odd = (read.get_column("_joined") != lengths).arg_true()
    fields = pl.repeat(width, read.height, dtype=pl.Int32, eager=True).alias(FIELDS)
    if odd.len():
        fields = fields.scatter(odd, _fields_of(file, odd))
    numbers = pl.DataFrame(
        [pl.int_range(2, read.height + 2, dtype=pl.UInt32, eager=True).alias(LINE), fields]
    )
    again = CellsAgain(file, scan.select(named), measures.get_column("length"))
    return FileLines(numbers, read.drop("_joined"), again)


def _lines(file: DiamantFile) -> pl.LazyFrame:
    """Every line of the file as one string (no text holds a NUL byte: no line is split)."""
    return pl.scan_csv(file.path, separator="\x00", schema={_TEXT: pl.String()}, **_AS_TEXT)


def _line_measures(file: DiamantFile) -> pl.DataFrame | None:
    """Per line, its length in bytes and whether it holds a quote or a \\r; None when a line holds a NUL byte."""
    text = pl.col(_TEXT)
    measures = _lines(file).select(
        text.str.len_bytes().alias("length"), text.str.contains_any(['"', "\r"]).alias("unusual")
    )
    try:
        return measures.collect(engine="streaming")
    except pl.exceptions.ComputeError:  # not UTF-8, or a NUL byte
        _refuse_unless_utf8(file)
        return None


def _fields_of(file: DiamantFile, odd: pl.Series) -> pl.Series:
    """The number of fields of some data lines (by ROW), 0 for a blank one (the csv module sees no field in it)."""
    wanted = (odd + 1).implode()  # the lines scan has the header
    chosen = _lines(file).with_row_index("_position").filter(pl.col("_position").is_in(wanted))
    lines = chosen.collect(engine="streaming").get_column(_TEXT)
    counts = lines.str.count_matches(";", literal=True).cast(pl.Int32) + 1
    # Only a line without separator may be blank: Python's str.strip() says which, as for the csv module.
    blank = [text for text in lines.filter(counts == 1).unique() if not text.strip()]
    is_blank = lines.is_in(pl.Series(blank, dtype=pl.String).implode())
    return pl.select(pl.when(is_blank).then(0).otherwise(counts)).to_series()


def _refuse_unless_utf8(file: DiamantFile) -> None:
    data = file.path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start)
        byte = data[error.start : error.start + 1]
        raise UnreadableFile(
            f"{file.name} : fichier refusé, pas en UTF-8 (octet {byte!r} après la ligne {line})"
        ) from None


def _with_csv_module(file: DiamantFile, asked: Sequence[pl.Expr]) -> FileLines:
    header = file.header
    numbers: list[int] = []
    counts: list[int] = []
    cells: dict[str, list[str]] = {name: [] for name in header.index}
    for line, row in file.lines():
        numbers.append(line)
        counts.append(len(row))
        complete = len(row) == header.width
        for name, position in header.index.items():
            cells[name].append(row[position] if complete else "")  # a rejected line: its cells are not read
    frame = pl.DataFrame(cells, schema=dict.fromkeys(header.index, pl.String)).lazy()
    return FileLines(
        pl.DataFrame({LINE: numbers, FIELDS: counts}, schema={LINE: pl.UInt32, FIELDS: pl.Int32}),
        frame.select(asked).collect(),
        CellsAgain(file, frame, None),
    )
