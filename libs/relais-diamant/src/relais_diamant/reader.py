"""Streaming reader of DIAMANT plain-text files: `;` separated, UTF-8, CRLF or LF, one header row of French labels.

The header is matched against a source definition (see definitions): a missing required label refuses the whole
file (`UnreadableFile`, naming the labels missing); otherwise the lines are yielded one at a time with their line
number, never loading the file in memory. The transform reads the data lines by column (frames) and comes here for
the files whose quoting only the csv module reads right. What a line means is the rules' business (rules, transform).
"""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from relais_diamant.definitions import Field, Generation, SourceDefinition

# Real DIAMANT cells are short; a longer one means a broken quote swallowing the file, not data.
csv.field_size_limit(1 << 20)


class UnreadableFile(Exception):
    """The whole file cannot be used; the message (in French) names the file and why."""


def normalise_label(label: str) -> str:
    """Labels compare after NFC, apostrophes unified (’ → ') and runs of spaces collapsed."""
    text = unicodedata.normalize("NFC", label).replace("\ufeff", "").replace("’", "'")
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class Header:
    labels: tuple[str, ...]
    generation: Generation
    index: dict[str, int]  # field name → column position, for the fields present
    fields: dict[str, Field]  # field name → field, for the fields present
    unused_labels: tuple[str, ...]

    @property
    def width(self) -> int:
        return len(self.labels)


def _positions(labels: tuple[str, ...], file_name: str) -> dict[str, int]:
    positions: dict[str, int] = {}
    for position, label in enumerate(labels):
        key = normalise_label(label)
        if key in positions:
            raise UnreadableFile(f"{file_name} : l'en-tête contient deux fois le libellé « {label} »")
        positions[key] = position
    return positions


def _locate(generation: Generation, positions: dict[str, int]) -> tuple[dict[str, int], list[str]]:
    index: dict[str, int] = {}
    missing: list[str] = []
    for f in generation.fields:
        found = next(
            (
                positions[normalise_label(label)]
                for label in (f.label, *f.aliases)
                if normalise_label(label) in positions
            ),
            None,
        )
        if found is not None:
            index[f.name] = found
        elif f.required:
            missing.append(f.label)
    return index, missing


def match_header(labels: tuple[str, ...], definition: SourceDefinition, file_name: str) -> Header:
    """The richest generation whose required labels are all present; UnreadableFile naming what is missing."""
    positions = _positions(labels, file_name)
    complete: list[tuple[Generation, dict[str, int]]] = []
    closest: tuple[Generation, list[str]] | None = None
    for generation in definition.generations:
        index, missing = _locate(generation, positions)
        if not missing:
            complete.append((generation, index))
        elif closest is None or len(missing) <= len(closest[1]):  # ties: the newer generation
            closest = (generation, missing)
    if not complete:
        assert closest is not None
        generation, missing = closest
        listed = ", ".join(f"« {label} »" for label in missing)
        which = (
            f" (génération d'en-tête la plus proche : {generation.name})"
            if len(definition.generations) > 1
            else ""
        )
        raise UnreadableFile(
            f"{file_name} : fichier refusé, en-tête {definition.source.value} incomplet{which} — "
            f"{len(missing)} libellé(s) attendu(s) absent(s) : {listed}"
        )
    generation, index = max(complete, key=lambda found: len(found[1]))
    used = set(index.values())
    return Header(
        labels=labels,
        generation=generation,
        index=index,
        fields={name: f for name in index if (f := generation.field(name)) is not None},
        unused_labels=tuple(label for position, label in enumerate(labels) if position not in used),
    )


class DiamantFile:
    """One plain-text DIAMANT file of a known source: its header, then its lines, as many passes as needed."""

    def __init__(self, path: Path, definition: SourceDefinition, file_name: str | None = None) -> None:
        self.path = path
        self.definition = definition
        self.name = file_name or path.name
        with self._open() as stream:
            first = next(self._rows(stream), None)
        if first is None:
            raise UnreadableFile(f"{self.name} : fichier vide (pas même une ligne d'en-tête)")
        _, labels = first
        self.header = match_header(tuple(labels), definition, self.name)

    def _open(self) -> TextIO:
        return self.path.open(encoding="utf-8", newline="")

    def _rows(self, stream: TextIO) -> Iterator[tuple[int, list[str]]]:
        reader = csv.reader(stream, delimiter=";", quotechar='"', strict=False)
        line = 0
        try:
            for cells in reader:
                line = reader.line_num
                yield line, cells
        except UnicodeDecodeError as error:
            raise UnreadableFile(
                f"{self.name} : fichier refusé, pas en UTF-8 (octet {error.object[error.start : error.start + 1]!r} "
                f"après la ligne {line})"
            ) from None
        except csv.Error as error:
            raise UnreadableFile(
                f"{self.name}, ligne {reader.line_num} : fichier refusé, CSV illisible ({error})"
            ) from None

    def lines(self) -> Iterator[tuple[int, list[str]]]:
        """(line number, cells) of every data line; blank lines are skipped. Each call reads the file anew."""
        with self._open() as stream:
            rows = self._rows(stream)
            next(rows, None)  # header
            for line, cells in rows:
                if not cells or (len(cells) == 1 and not cells[0].strip()):
                    continue
                yield line, cells
