"""One transform per source family, chosen by the source name the fetcher gave the file."""

from __future__ import annotations

from pathlib import Path

from relais_diamant.sources import DiamantSource
from relais_finess.files import FinessFile
from relais_transformer.ports import FileUnreadable, KnownFiness, SourceTransform, Transformed


class BySource:
    def __init__(self, diamant: SourceTransform, finess: SourceTransform) -> None:
        self._diamant = diamant
        self._finess = finess

    def __call__(
        self,
        source: str,
        plaintext: Path,
        known: KnownFiness,
        reference_year: int,
        file_name: str | None = None,
    ) -> Transformed:
        if source in set(FinessFile):
            return self._finess(source, plaintext, known, reference_year, file_name)
        if source in DiamantSource.__members__:
            return self._diamant(source, plaintext, known, reference_year, file_name)
        raise FileUnreadable(f"{file_name or plaintext.name} : source inconnue {source!r}")
