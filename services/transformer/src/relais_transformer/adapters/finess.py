"""FINESS referential files → rows of entite_juridique and etablissement_territorial.

An ET names its EJ; the EJ may come in another file, not yet loaded, so an ET file also gives an `ensure` row for
each EJ its ETs name (inserted only when absent, never overwriting the full record), written before the ETs.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from relais_finess import EntiteJuridique, EtablissementTerritorial
from relais_finess.files import FinessFile, read_referential_file
from relais_finess.report import ParseReport
from relais_transformer.ports import KnownFiness, TableFrame, Transformed

EJ = "numero_finess_entite_juridique"
Row = dict[str, object]

PENDING_EJ = "(entité juridique annoncée par un établissement, fiche non encore reçue)"


def _ej_row(ej: EntiteJuridique, file_name: str) -> Row:
    return {
        "numero_finess_entite_juridique": ej.numero,
        "raison_sociale": ej.raison_sociale,
        "raison_sociale_longue": ej.raison_sociale_longue,
        "statut_juridique": ej.statut_juridique,
        "libelle_statut_juridique": ej.libelle_statut_juridique,
        "departement": ej.departement,
        "commune": ej.commune,
        "date_fermeture": ej.date_fermeture,
        "fichier_source": file_name,
    }


def _et_row(et: EtablissementTerritorial, kind: FinessFile, file_name: str) -> Row:
    row: Row = {
        "numero_finess_etablissement_territorial": et.numero,
        "numero_finess_entite_juridique": et.numero_ej,
        "raison_sociale": et.raison_sociale,
        "raison_sociale_longue": et.raison_sociale_longue,
        "categorie": et.categorie,
        "libelle_categorie": et.libelle_categorie,
        "departement": et.departement,
        "commune": et.commune,
        "date_ouverture": et.date_ouverture,
        "fichier_source": file_name,
    }
    if kind is FinessFile.FLUX_ET:  # the open-data extract lists open structures only: it cannot close one
        row |= {"date_fermeture": et.date_fermeture, "caduc": et.caduc}
    return row


class _Columns:
    """Rows gathered column by column (a national ET file holds ~100k records: lists of values, not dicts)."""

    def __init__(self) -> None:
        self.values: dict[str, list[object]] = {}
        self.height = 0

    def add(self, row: Row) -> None:
        if not self.values:
            self.values = {column: [] for column in row}
        for column, value in row.items():
            self.values[column].append(value)
        self.height += 1

    def frame(self) -> pl.DataFrame:
        """Every column text but the dates and the caduc flag (the loader casts to the table's own types)."""
        return pl.DataFrame(
            {
                c: pl.Series(
                    c, v, pl.Date if c.startswith("date_") else pl.Boolean if c == "caduc" else pl.String
                )
                for c, v in self.values.items()
            }
        )


def _report(report: ParseReport) -> dict[str, object]:
    return {
        "records_read": report.records_read,
        "records_accepted": report.records_accepted,
        "issue_count": report.issue_count,
        "issues": [str(issue) for issue in report.issues[:100]],
        "encoding": report.encoding,
    }


class FinessTransform:
    def __call__(
        self,
        source: str,
        plaintext: Path,
        known: KnownFiness,
        reference_year: int,
        file_name: str | None = None,
    ) -> Transformed:
        kind = FinessFile(source)
        name = file_name or plaintext.name
        report = ParseReport(file=name)
        ejs, ets = _Columns(), _Columns()
        for record in read_referential_file(kind, plaintext, report):
            if isinstance(record, EntiteJuridique):
                ejs.add(_ej_row(record, name))
            else:
                ets.add(_et_row(record, kind, name))
        tables = [TableFrame("entite_juridique", ejs.frame())] if ejs.height else []
        if ets.height:
            pending = sorted({str(numero) for numero in ets.values[EJ]})
            announced = pl.DataFrame({EJ: pending, "raison_sociale": [PENDING_EJ] * len(pending)})
            tables += [
                TableFrame("entite_juridique", announced, "ensure"),
                TableFrame("etablissement_territorial", ets.frame()),
            ]
        return Transformed(tables=tables, report=_report(report))
