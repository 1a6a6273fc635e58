from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from relais_contracts.rows import TableRow


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


@dataclass(slots=True)
class Transformed:
    rows: Iterator[TableRow]
    report: dict[str, object] = field(default_factory=dict)


class SourceTransform(Protocol):
    def __call__(
        self,
        source: str,
        plaintext: Path,
        known: KnownFiness,
        reference_year: int,
        file_name: str | None = None,
    ) -> Transformed:
        """Rows for the target tables and a quality report; rows are produced lazily (streaming). `file_name` is the
        name the file arrived with (the plaintext path is a blob named by its digest); messages name it."""
        ...
