"""DIAMANT sources → indicator rows, through the declarative definitions of `relais_diamant.definitions`.

The work is done by `relais_diamant.transform` (vectorised rules, deduplication and typing, one DataFrame per
target table); this adapter only translates the referential and the errors. All 11 sources have a definition; the
five medico-social ones produce rows for their source tables (diamant_*), from which the loader derives the Helios
medico-social tables. A source without a definition is refused with a reason that names it (rejection event), never
dropped in silence.
"""

from __future__ import annotations

from pathlib import Path

from relais_diamant.definitions import definition
from relais_diamant.reader import UnreadableFile
from relais_diamant.rules import Referential, year_window
from relais_diamant.sources import DiamantSource
from relais_diamant.transform import transform_file
from relais_transformer.ports import FileUnreadable, KnownFiness, TableFrame, Transformed


class DiamantTransform:
    def __call__(
        self,
        source: str,
        plaintext: Path,
        known: KnownFiness,
        reference_year: int,
        file_name: str | None = None,
    ) -> Transformed:
        kind = DiamantSource(source)
        name = file_name or plaintext.name
        found = definition(kind)
        if found is None:
            raise FileUnreadable(f"{name} : la source DIAMANT {kind.value} n'est pas encore prise en charge")
        referential = Referential(known.etablissements, known.entites_juridiques, known.ej_of_et)
        try:
            result = transform_file(plaintext, found, referential, reference_year, name)
        except UnreadableFile as error:
            raise FileUnreadable(str(error)) from error
        window = year_window(found.period, reference_year)
        return Transformed(
            tables=[TableFrame(table, frame) for table, frame in result.tables.items()],
            report=result.report.as_dict(),
            years=(window.first, window.last),
        )
