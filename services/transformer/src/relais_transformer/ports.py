from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import polars as pl

from relais_contracts import WriteMode


@dataclass(frozen=True, slots=True)
class KnownFiness:
    """The FINESS referential current when a file is transformed: the numbers a row may refer to, and each ET's EJ
    (which settles duplicated keys when a source attaches one ET to two EJs)."""

    etablissements: frozenset[str]
    entites_juridiques: frozenset[str]
    ej_of_et: Mapping[str, str] = field(default_factory=dict)


class ReferentialReader(Protocol):
    async def current(self) -> KnownFiness: ...


class FileUnreadable(Exception):
    """The whole file cannot be used (unknown source, header without the expected labels…)."""


@dataclass(frozen=True, slots=True)
class TableFrame:
    """One target table's rows: its key columns and the columns the file's source owns."""

    table: str
    frame: pl.DataFrame
    mode: WriteMode = "upsert"


@dataclass(slots=True)
class Transformed:
    """A file's rows per target table, in the order they must be written (parents first), and its quality report.

    `years`: the year window a DIAMANT extract speaks for (its rows replace its source's rows for those years); None
    for files that only add and update."""

    tables: list[TableFrame]
    report: dict[str, object] = field(default_factory=dict)
    years: tuple[int, int] | None = None


class SourceTransform(Protocol):
    def __call__(
        self,
        source: str,
        plaintext: Path,
        known: KnownFiness,
        reference_year: int,
        file_name: str | None = None,
    ) -> Transformed:
        """Rows for the target tables and a quality report. `file_name` is the name the file arrived with (the
        plaintext path is a blob named by its digest); messages name it."""
        ...
