"""The four referential files Relais fetches, recognised by their exact names, and one reader for each.

- ministry flux (gzipped XML): `finess_cs1400101_stock_YYYYMMDD-HHMM.xml.gz` (EJ), `finess_cs1400102_stock_…` (ET);
- open data (CSV): `etalab-cs1100501-stock-YYYYMMDD-HHMM.csv` (EJ), `etalab-cs1100507-stock-…` (ET).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date
from enum import StrEnum
from pathlib import Path

from relais_finess.flux import read_entites_juridiques_xml, read_etablissements_xml
from relais_finess.opendata import read_entites_juridiques_csv, read_etablissements_csv
from relais_finess.referential import Structure
from relais_finess.report import ParseReport


class FinessFile(StrEnum):
    FLUX_EJ = "FINESS_FLUX_EJ"
    FLUX_ET = "FINESS_FLUX_ET"
    OPENDATA_EJ = "FINESS_OPENDATA_EJ"
    OPENDATA_ET = "FINESS_OPENDATA_ET"

    @property
    def holds_entites_juridiques(self) -> bool:
        return self in (FinessFile.FLUX_EJ, FinessFile.OPENDATA_EJ)


_NAMES = {
    FinessFile.FLUX_EJ: re.compile(r"^finess_cs1400101_stock_(\d{8})-\d{4}\.xml\.gz$"),
    FinessFile.FLUX_ET: re.compile(r"^finess_cs1400102_stock_(\d{8})-\d{4}\.xml\.gz$"),
    FinessFile.OPENDATA_EJ: re.compile(r"^etalab-cs1100501-stock-(\d{8})-\d{4}\.csv$"),
    FinessFile.OPENDATA_ET: re.compile(r"^etalab-cs1100507-stock-(\d{8})-\d{4}\.csv$"),
}


def match_finess_file(name: str) -> tuple[FinessFile, date] | None:
    """The kind of a referential file and its extraction date, from its exact name; None for any other name."""
    for kind, pattern in _NAMES.items():
        found = pattern.match(name)
        if found:
            stamp = found.group(1)
            try:
                return kind, date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:]))
            except ValueError:
                return None
    return None


def read_referential_file(kind: FinessFile, path: Path, report: ParseReport) -> Iterator[Structure]:
    readers: dict[FinessFile, Callable[[Path, ParseReport], Iterator[Structure]]] = {
        FinessFile.FLUX_EJ: read_entites_juridiques_xml,
        FinessFile.FLUX_ET: read_etablissements_xml,
        FinessFile.OPENDATA_EJ: read_entites_juridiques_csv,
        FinessFile.OPENDATA_ET: read_etablissements_csv,
    }
    return readers[kind](path, report)
