"""FINESS referential files → rows of entite_juridique and etablissement_territorial.

An ET names its EJ; the EJ may come in another file, not yet loaded, so each ET is preceded by an `ensure` row for
its EJ (inserted only when absent, never overwriting the full record).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from relais_contracts.rows import TableRow
from relais_finess import EntiteJuridique, EtablissementTerritorial
from relais_finess.files import FinessFile, read_referential_file
from relais_finess.report import ParseReport
from relais_transformer.ports import KnownFiness, Transformed

PENDING_EJ = "(entité juridique annoncée par un établissement, fiche non encore reçue)"


def _ej_row(ej: EntiteJuridique, file_name: str) -> TableRow:
    row: dict[str, object] = {
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
    return "entite_juridique", row


def _et_rows(et: EtablissementTerritorial, kind: FinessFile, file_name: str) -> Iterator[TableRow]:
    yield (
        "entite_juridique",
        {"numero_finess_entite_juridique": et.numero_ej, "raison_sociale": PENDING_EJ},
        "ensure",
    )
    row: dict[str, object] = {
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
    yield "etablissement_territorial", row


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
        details: dict[str, object] = {}

        def rows() -> Iterator[TableRow]:
            for record in read_referential_file(kind, plaintext, report):
                if isinstance(record, EntiteJuridique):
                    yield _ej_row(record, name)
                else:
                    yield from _et_rows(record, kind, name)
            details.update(_report(report))  # complete once the rows have been consumed

        return Transformed(rows=rows(), report=details)
