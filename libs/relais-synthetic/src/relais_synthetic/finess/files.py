"""Write a synthetic referential in the published file formats, so parsers are tested on real shapes.

Open-data extracts list the structures open on the extract date only (as data.gouv.fr does); the XML flux
carries everything, closed and caduc structures included.
"""

from __future__ import annotations

import gzip
import random
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import TextIO
from xml.sax.saxutils import escape

from relais_finess.opendata import STRUCTURE_EJ_FIELDS, STRUCTURE_ET_FIELDS
from relais_finess.referential import EntiteJuridique, EtablissementTerritorial, is_active
from relais_synthetic.finess.referential import SyntheticReferential, generate_referential

_LAMBERT_93 = "1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,LAMBERT_93"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _et_fields(et: EtablissementTerritorial) -> dict[str, str | None]:
    return {
        "nofinesset": et.numero, "nofinessej": et.numero_ej, "rs": et.raison_sociale,
        "rslongue": et.raison_sociale_longue, "commune": et.commune, "departement": et.departement,
        "categetab": et.categorie, "libcategetab": et.libelle_categorie, "dateouv": _iso(et.date_ouverture),
        "indcaduc": "O" if et.caduc else None, "datefermeture": _iso(et.date_fermeture),
    }  # fmt: skip


def _ej_fields(ej: EntiteJuridique) -> dict[str, str | None]:
    return {
        "nofiness": ej.numero, "nofinessej": ej.numero, "rs": ej.raison_sociale,
        "rslongue": ej.raison_sociale_longue, "commune": ej.commune, "departement": ej.departement,
        "statutjuridique": ej.statut_juridique, "libstatutjuridique": ej.libelle_statut_juridique,
        "datefermeture": _iso(ej.date_fermeture),
    }  # fmt: skip


def _csv_line(kind: str, names: tuple[str, ...], fields: Mapping[str, str | None]) -> str:
    values = [kind, *((fields.get(name) or "") for name in names[1:])]
    return ";".join(value.replace(";", ",") for value in values)


def _write_csv(path: Path, encoding: str, newline: str, extract: date, lines: Iterable[str]) -> None:
    with path.open("w", encoding=encoding, newline=newline) as out:
        out.write(f"finess;etalab;1;{extract.isoformat()}\n")
        for line in lines:
            out.write(line + "\n")


def write_etablissements_csv(
    referential: SyntheticReferential, path: Path, encoding: str = "cp1252", newline: str = "\n"
) -> None:
    """A cs1100507 extract: structureet lines, then geolocalisation lines for the same ETs."""
    extract = referential.reference_date
    open_ets = [et for et in referential.etablissements if is_active(et, extract)]
    rng = random.Random(len(open_ets))

    def lines() -> Iterable[str]:
        for et in open_ets:
            yield _csv_line("structureet", STRUCTURE_ET_FIELDS, _et_fields(et))
        for et in open_ets:
            x, y = rng.uniform(100_000, 1_200_000), rng.uniform(6_000_000, 7_100_000)
            yield f"geolocalisation;{et.numero};{x:.1f};{y:.1f};{_LAMBERT_93};{extract.isoformat()}"

    _write_csv(path, encoding, newline, extract, lines())


def write_entites_juridiques_csv(
    referential: SyntheticReferential, path: Path, encoding: str = "cp1252", newline: str = "\n"
) -> None:
    """A cs1100501 extract, in the layout assumed by opendata.STRUCTURE_EJ_FIELDS."""
    extract = referential.reference_date
    _write_csv(
        path,
        encoding,
        newline,
        extract,
        (
            _csv_line("structureej", STRUCTURE_EJ_FIELDS, _ej_fields(ej))
            for ej in referential.entites_juridiques
            if is_active(ej, extract)
        ),
    )


def _write_element(out: TextIO, tag: str, fields: Mapping[str, str | None]) -> None:
    out.write(f"  <{tag}>\n")
    for name, value in fields.items():
        if value is None:
            out.write(f'    <{name} xsi:nil="true"/>\n')
        else:
            out.write(f"    <{name}>{escape(value)}</{name}>\n")
    out.write(f"  </{tag}>\n")


def _write_flux(path: Path, tag: str, records: Iterable[Mapping[str, str | None]]) -> None:
    # Level 1: these files exist to be read back in tests; speed matters more than size.
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as out:
        out.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<fluxfiness xmlns:xsi="{_XSI}">\n')
        for fields in records:
            _write_element(out, tag, fields)
        out.write("</fluxfiness>\n")


def write_entites_juridiques_xml_gz(referential: SyntheticReferential, path: Path) -> None:
    """A cs1400101 flux: every EJ, closed ones included."""
    _write_flux(
        path,
        "structureej",
        (
            {k: v for k, v in _ej_fields(ej).items() if k != "nofinessej"}
            for ej in referential.entites_juridiques
        ),
    )


def write_etablissements_xml_gz(referential: SyntheticReferential, path: Path) -> None:
    """A cs1400102 flux: every ET, closed and caduc ones included."""
    _write_flux(path, "structureet", (_et_fields(et) for et in referential.etablissements))


def write_referential_files(out: Path, entites: int, seed: int, extract: date, opendata: bool) -> list[Path]:
    """A synthetic referential of `entites` EJs as the ministry's XML flux (default) or the open-data CSV
    extracts, named as published on `extract`: [EJ file, ET file]."""
    out.mkdir(parents=True, exist_ok=True)
    referential = generate_referential(seed, entites)
    stamp = extract.strftime("%Y%m%d") + "-0400"
    if opendata:
        ej, et = out / f"etalab-cs1100501-stock-{stamp}.csv", out / f"etalab-cs1100507-stock-{stamp}.csv"
        write_entites_juridiques_csv(referential, ej)
        write_etablissements_csv(referential, et)
    else:
        ej, et = (
            out / f"finess_cs1400101_stock_{stamp}.xml.gz",
            out / f"finess_cs1400102_stock_{stamp}.xml.gz",
        )
        write_entites_juridiques_xml_gz(referential, ej)
        write_etablissements_xml_gz(referential, et)
    return [ej, et]
