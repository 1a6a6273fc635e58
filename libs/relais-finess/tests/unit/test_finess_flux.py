import gzip
import inspect
import time
from datetime import date
from pathlib import Path

import pytest

from relais_finess import EntiteJuridique, EtablissementTerritorial, is_active
from relais_finess.flux import read_entites_juridiques_xml, read_etablissements_xml
from relais_finess.report import ParseReport
from relais_synthetic.finess import (
    SyntheticReferential,
    generate_referential,
    write_entites_juridiques_xml_gz,
    write_etablissements_xml_gz,
)

PROLOG = '<?xml version="1.0" encoding="UTF-8"?>\n'
XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'

# Shaped like the ministry's flux (as Helios' fixtures show it): nil fields, a closed ET, a caduc ET.
ET_OPEN = """<structureet>
    <nofinesset>010000040</nofinesset>
    <nofinessej>010008407</nofinessej>
    <rs>CH NANTUA</rs>
    <rslongue xsi:nil="true"/>
    <commune>269</commune>
    <departement>01</departement>
    <categetab>355</categetab>
    <libcategetab>Centre Hospitalier (C.H.)</libcategetab>
    <dateouv>1901-02-02</dateouv>
    <indcaduc xsi:nil="true"/>
    <datefermeture xsi:nil="true"/>
  </structureet>"""
ET_CLOSED = """<structureet>
    <nofinesset>010000057</nofinesset>
    <nofinessej>010008407</nofinessej>
    <rs>CH OYONNAX</rs>
    <categetab>001</categetab>
    <libcategetab xsi:nil="true"/>
    <dateouv>1901-02-02</dateouv>
    <indcaduc xsi:nil="true"/>
    <datefermeture>1993-01-01</datefermeture>
  </structureet>"""
ET_CADUC = """<structureet>
    <nofinesset>100007012</nofinesset>
    <nofinessej>100000983</nofinessej>
    <rs>[Caduque] MAISON DE REPOS ET DE CONVALESCENCE</rs>
    <departement>10</departement>
    <categetab>001</categetab>
    <libcategetab>Unité Mobile Hospitalière</libcategetab>
    <indcaduc>O</indcaduc>
    <datefermeture xsi:nil="true"/>
  </structureet>"""
EJ = """<structureej>
    <nofiness>010008407</nofiness>
    <rs>CH DU HAUT BUGEY</rs>
    <rslongue>CENTRE HOSPITALIER DU HAUT BUGEY</rslongue>
    <complrs xsi:nil="true"/>
    <commune>283</commune>
    <departement>01</departement>
    <statutjuridique>14</statutjuridique>
    <libstatutjuridique>Etablissement Public Intercommunal d'Hospitalisation</libstatutjuridique>
    <datefermeture xsi:nil="true"/>
  </structureej>"""


def _flux(path: Path, *records: str, head: str = PROLOG, root: str = "fluxfiness", tail: str = "") -> Path:
    body = f"{head}<{root} {XSI}>\n  " + "\n  ".join(records) + f"\n</{root}>\n{tail}"
    path.write_bytes(gzip.compress(body.encode("utf-8")))
    return path


@pytest.fixture(scope="module")
def referential() -> SyntheticReferential:
    return generate_referential(seed=7, entites=80, closed_share=0.2, caduc_share=0.1)


def test_every_et_of_the_flux_is_read_back_closed_and_caduc_included(
    referential: SyntheticReferential, tmp_path: Path
) -> None:
    path = tmp_path / "finess_cs1400102_stock_20241231-0336.xml.gz"
    write_etablissements_xml_gz(referential, path)
    report = ParseReport(path.name)

    ets = list(read_etablissements_xml(path, report))

    assert report.ok, report.issues
    assert ets == list(referential.etablissements)
    assert any(et.caduc for et in ets) and any(et.date_fermeture for et in ets)


def test_every_ej_of_the_flux_is_read_back(referential: SyntheticReferential, tmp_path: Path) -> None:
    path = tmp_path / "finess_cs1400101_stock_20241231-0333.xml.gz"
    write_entites_juridiques_xml_gz(referential, path)
    report = ParseReport(path.name)

    ejs = list(read_entites_juridiques_xml(path, report))

    assert report.ok, report.issues
    assert ejs == list(referential.entites_juridiques)


def test_nil_fields_are_none_and_closed_or_caduc_ets_are_not_active(tmp_path: Path) -> None:
    path = _flux(tmp_path / "finess_cs1400102_stock_20211214-0336.xml.gz", ET_OPEN, ET_CLOSED, ET_CADUC)
    report = ParseReport(path.name)

    open_et, closed_et, caduc_et = read_etablissements_xml(path, report)

    assert report.ok, report.issues
    assert open_et == EtablissementTerritorial(
        numero="010000040",
        numero_ej="010008407",
        raison_sociale="CH NANTUA",
        raison_sociale_longue=None,
        categorie="355",
        libelle_categorie="Centre Hospitalier (C.H.)",
        departement="01",
        commune="269",
        date_ouverture=date(1901, 2, 2),
    )
    assert closed_et.date_fermeture == date(1993, 1, 1) and closed_et.libelle_categorie is None
    assert closed_et.departement == "01"  # absent from the record: taken from the number's prefix
    assert caduc_et.caduc and caduc_et.date_fermeture is None
    today = date(2024, 1, 1)
    assert [is_active(et, today) for et in (open_et, closed_et, caduc_et)] == [True, False, False]


def test_an_uncompressed_ej_flux_is_read_too(tmp_path: Path) -> None:
    path = tmp_path / "finess_cs1400101_stock_20211214-0333.xml"
    path.write_text(f"{PROLOG}<fluxfiness {XSI}>{EJ}</fluxfiness>", encoding="utf-8")

    ejs = list(read_entites_juridiques_xml(path, ParseReport(path.name)))

    assert ejs == [
        EntiteJuridique(
            numero="010008407",
            raison_sociale="CH DU HAUT BUGEY",
            raison_sociale_longue="CENTRE HOSPITALIER DU HAUT BUGEY",
            statut_juridique="14",
            libelle_statut_juridique="Etablissement Public Intercommunal d'Hospitalisation",
            departement="01",
            commune="283",
        )
    ]


def test_an_invalid_key_is_reported_with_record_line_and_reason(tmp_path: Path) -> None:
    bad = ET_CLOSED.replace("010000057", "010000058")
    path = _flux(tmp_path / "finess_cs1400102_stock.xml.gz", ET_OPEN, bad, ET_CADUC)
    report = ParseReport(path.name)

    numbers = [et.numero for et in read_etablissements_xml(path, report)]

    assert numbers == ["010000040", "100007012"]
    [issue] = report.issues
    assert (issue.record, issue.line) == (2, 16)
    assert str(issue).startswith("finess_cs1400102_stock.xml.gz, enregistrement 2, ligne 16 : ")
    assert "numéro FINESS d'établissement '010000058' invalide" in issue.rule
    assert "clé de contrôle 8 invalide (attendue 7)" in issue.rule


def test_external_entities_are_refused_and_nothing_is_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("mot de passe", encoding="utf-8")
    doctype = f'<!DOCTYPE fluxfiness [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
    path = _flux(tmp_path / "xxe.xml.gz", ET_OPEN.replace("CH NANTUA", "&xxe;"), head=PROLOG + doctype)
    report = ParseReport(path.name)

    ets = list(read_etablissements_xml(path, report))

    assert ets == []
    assert [issue.rule for issue in report.issues] == [
        "déclaration DOCTYPE interdite dans un flux FINESS (entités refusées), fichier rejeté"
    ]


def test_an_entity_expansion_bomb_is_refused_quickly(tmp_path: Path) -> None:
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    )
    head = f"{PROLOG}<!DOCTYPE fluxfiness [{entities}]>\n"
    path = _flux(tmp_path / "bomb.xml.gz", ET_OPEN.replace("CH NANTUA", "&lol9;"), head=head)
    report = ParseReport(path.name)

    started = time.monotonic()
    ets = list(read_etablissements_xml(path, report))

    assert ets == [] and "DOCTYPE interdite" in report.issues[0].rule
    assert time.monotonic() - started < 2


def test_a_doctype_hidden_behind_a_long_prolog_is_still_refused(tmp_path: Path) -> None:
    padding = "<!--" + "x" * 70_000 + "-->\n"
    head = f'{PROLOG}{padding}<!DOCTYPE fluxfiness [<!ENTITY nom "CH PIÉGÉ">]>\n'
    path = _flux(tmp_path / "hidden.xml.gz", ET_OPEN.replace("CH NANTUA", "&nom;"), head=head)
    report = ParseReport(path.name)

    assert list(read_etablissements_xml(path, report)) == []
    assert [issue.rule for issue in report.issues] == [
        "déclaration DOCTYPE interdite dans un flux FINESS (entités refusées), fichier rejeté"
    ]


def test_a_foreign_root_and_stray_elements_are_reported(tmp_path: Path) -> None:
    wrong_root = _flux(tmp_path / "wrong.xml.gz", ET_OPEN, root="autreflux")
    report = ParseReport(wrong_root.name)
    assert list(read_etablissements_xml(wrong_root, report)) == []
    assert "racine <fluxfiness> attendue, <autreflux> trouvée" in report.issues[0].rule

    mixed = _flux(tmp_path / "mixed.xml.gz", EJ, ET_OPEN, EJ)
    report = ParseReport(mixed.name)
    assert [et.numero for et in read_etablissements_xml(mixed, report)] == ["010000040"]
    assert [(issue.line, issue.rule) for issue in report.issues] == [
        (3, "élément <structureej> inattendu, <structureet> attendu"),
        (27, "élément <structureej> inattendu, <structureet> attendu"),
    ]


def test_the_flux_is_streamed_records_come_before_a_later_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "truncated.xml.gz"
    path.write_bytes(
        gzip.compress(f"{PROLOG}<fluxfiness {XSI}>\n{ET_OPEN}\n{ET_CLOSED}\n<structureet><rs>".encode())
    )
    report = ParseReport(path.name)

    records = read_etablissements_xml(path, report)
    assert inspect.isgenerator(records)
    assert next(records).numero == "010000040"
    assert report.ok  # the broken end has not been parsed yet
    assert [et.numero for et in records] == ["010000057"]
    [issue] = report.issues
    assert issue.rule.startswith("XML illisible, lecture du fichier interrompue")
    assert issue.line == 26


def test_a_corrupt_gzip_is_reported_not_raised(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.xml.gz"
    path.write_bytes(gzip.compress(f"{PROLOG}<fluxfiness {XSI}>{ET_OPEN}</fluxfiness>".encode())[:40])
    report = ParseReport(path.name)

    assert list(read_etablissements_xml(path, report)) == []
    assert "XML illisible" in report.issues[0].rule
