"""Streaming readers of the open-data FINESS extracts published on data.gouv.fr.

`etalab-cs1100507-stock-*.csv` (ET) and `etalab-cs1100501-stock-*.csv` (EJ): `;` separated, no header row,
a first line `finess;etalab;<n>;<date>`, then one line per record, its first field naming its kind.
Values are never quoted in these extracts, so a line is split on every `;`: a `;` inside a value shifts the
fields and is caught by the field count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from relais_finess import _fields
from relais_finess.encoding import DetectedEncoding, detect_encoding
from relais_finess.referential import EntiteJuridique, EtablissementTerritorial, Geolocalisation
from relais_finess.report import ParseReport, RecordRejected

STRUCTURE_ET_FIELDS = (
    "type", "nofinesset", "nofinessej", "rs", "rslongue", "complrs", "compldistrib", "numvoie", "typvoie",
    "voie", "compvoie", "lieuditbp", "commune", "departement", "libdepartement", "ligneacheminement",
    "telephone", "telecopie", "categetab", "libcategetab", "categagretab", "libcategagretab", "siret",
    "codeape", "codemft", "libmft", "codesph", "libsph", "dateouv", "dateautor", "datemaj", "numuai",
)  # fmt: skip
GEOLOCALISATION_FIELDS = ("type", "nofinesset", "x", "y", "source", "datemaj")

# ASSUMPTION: the layout of the EJ extract (cs1100501) is not in our spec. This is the ET address block with
# the EJ's own fields (statut juridique, SIREN, creation date) in the place of the catégorie block; it mirrors
# the element names of the ministry's EJ flux. Declared once here, it is a one-line fix if a real file
# differs; a line of another width is reported, never silently mis-read.
STRUCTURE_EJ_FIELDS = (
    "type", "nofinessej", "rs", "rslongue", "complrs", "compldistrib", "numvoie", "typvoie", "voie",
    "compvoie", "lieuditbp", "commune", "departement", "libdepartement", "ligneacheminement", "telephone",
    "statutjuridique", "libstatutjuridique", "siren", "codeape", "datecrea", "datemaj",
)  # fmt: skip

Record = TypeVar("Record")
_Layouts = dict[str, tuple[tuple[str, ...], Callable[[_fields.Fields], Record] | None]]


def read_etablissements_csv(
    path: Path, report: ParseReport, encoding: str | None = None
) -> Iterator[EtablissementTerritorial]:
    """The ETs of a cs1100507 extract; its geolocalisation lines are checked for width and skipped."""
    layouts: _Layouts[EtablissementTerritorial] = {
        "structureet": (STRUCTURE_ET_FIELDS, _fields.etablissement),
        "geolocalisation": (GEOLOCALISATION_FIELDS, None),
    }
    return _read(path, report, encoding, layouts)


def read_geolocalisations_csv(
    path: Path, report: ParseReport, encoding: str | None = None
) -> Iterator[Geolocalisation]:
    """The coordinates of a cs1100507 extract (a second pass: they follow all structureet lines)."""
    layouts: _Layouts[Geolocalisation] = {
        "structureet": (STRUCTURE_ET_FIELDS, None),
        "geolocalisation": (GEOLOCALISATION_FIELDS, _fields.geolocalisation),
    }
    return _read(path, report, encoding, layouts)


def read_entites_juridiques_csv(
    path: Path, report: ParseReport, encoding: str | None = None
) -> Iterator[EntiteJuridique]:
    """The EJs of a cs1100501 extract (layout: STRUCTURE_EJ_FIELDS, an assumption)."""
    layouts: _Layouts[EntiteJuridique] = {
        "structureej": (STRUCTURE_EJ_FIELDS, lambda fields: _fields.entite_juridique(fields, "nofinessej")),
    }
    return _read(path, report, encoding, layouts)


def _read(
    path: Path, report: ParseReport, encoding: str | None, layouts: _Layouts[Record]
) -> Iterator[Record]:
    detected = DetectedEncoding(encoding) if encoding else detect_encoding(path)
    report.encoding = detected.name
    with path.open("rb") as stream:
        for line_number, raw in enumerate(stream, start=1):
            try:
                line = detected.decode(raw).rstrip("\r\n")
            except UnicodeDecodeError as error:
                report.add(f"octets illisibles en {detected.name} (position {error.start})", line=line_number)
                continue
            values = line.split(";")
            if line_number == 1 and values[0] == "finess":
                if values[1:2] != ["etalab"]:
                    report.add("en-tête « finess;etalab;… » attendu", line=line_number)
                continue
            if line_number == 1:
                report.add("en-tête « finess;etalab;… » absent", line=line_number)
            if not line.strip():
                continue
            layout = layouts.get(values[0])
            if layout is not None and layout[1] is None and len(values) == len(layout[0]):
                continue  # a well-formed line of the other kind this reader does not return
            report.records_read += 1
            if layout is None:
                report.add(f"type de ligne {values[0]!r} inconnu", line=line_number)
                continue
            names, build = layout
            if len(values) != len(names) or build is None:
                report.add(
                    f"ligne {values[0]} : {len(names)} champs attendus, {len(values)} trouvés",
                    line=line_number,
                )
                continue
            try:
                record = build(dict(zip(names, values, strict=True)))
            except RecordRejected as rejected:
                report.add(rejected.rule, line=line_number)
                continue
            report.records_accepted += 1
            yield record
