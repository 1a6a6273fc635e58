"""DIAMANT sources → indicator rows, through the declarative definitions of `relais_diamant`.

Until a source has its definition, its files are refused with a reason that names it (rejection event), never
dropped in silence.
"""

from __future__ import annotations

from pathlib import Path

from relais_diamant.sources import DiamantSource
from relais_transformer.ports import FileUnreadable, KnownFiness, Transformed


class DiamantTransform:
    def __call__(self, source: str, plaintext: Path, known: KnownFiness, reference_year: int) -> Transformed:
        kind = DiamantSource(source)
        raise FileUnreadable(
            f"{plaintext.name} : la source DIAMANT {kind.value} n'est pas encore prise en charge"
        )
