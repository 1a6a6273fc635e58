import inspect
from pathlib import Path

import pytest

from relais_finess import EtablissementTerritorial, compute_key, is_active
from relais_finess.opendata import (
    STRUCTURE_ET_FIELDS,
    read_entites_juridiques_csv,
    read_etablissements_csv,
    read_geolocalisations_csv,
)
from relais_finess.report import ParseReport
from relais_synthetic.finess import (
    SyntheticReferential,
    generate_referential,
    write_entites_juridiques_csv,
    write_etablissements_csv,
)


@pytest.fixture(scope="module")
def referential() -> SyntheticReferential:
    return generate_referential(seed=20240611, entites=60)


def _open_ets(referential: SyntheticReferential) -> list[EtablissementTerritorial]:
    return [et for et in referential.etablissements if is_active(et, referential.reference_date)]


def _structureet(**values: str) -> str:
    fields = dict.fromkeys(STRUCTURE_ET_FIELDS, "")
    fields.update(type="structureet", nofinesset="010000040", nofinessej="010008407", rs="CH NANTUA")
    fields.update(categetab="355", libcategetab="Centre Hospitalier (C.H.)", departement="01")
    fields.update(values)
    return ";".join(fields[name] for name in STRUCTURE_ET_FIELDS)


@pytest.mark.parametrize(
    ("encoding", "newline", "detected"),
    [("cp1252", "\r\n", "cp1252"), ("utf-8", "\n", "utf_8")],
)
def test_ets_are_read_back_in_either_encoding_without_being_told_which(
    referential: SyntheticReferential, tmp_path: Path, encoding: str, newline: str, detected: str
) -> None:
    path = tmp_path / "etalab-cs1100507-stock-20241231-0342.csv"
    write_etablissements_csv(referential, path, encoding=encoding, newline=newline)
    report = ParseReport(path.name)

    ets = list(read_etablissements_csv(path, report))

    assert report.encoding == detected
    assert report.ok, report.issues
    assert ets == _open_ets(referential)
    assert any(not et.raison_sociale_longue.isascii() for et in ets if et.raison_sociale_longue)
    assert report.records_accepted == len(ets)


def test_geolocalisations_follow_the_structures_of_the_same_file(
    referential: SyntheticReferential, tmp_path: Path
) -> None:
    path = tmp_path / "etalab-cs1100507-stock-20241231-0342.csv"
    write_etablissements_csv(referential, path)
    report = ParseReport(path.name)

    points = list(read_geolocalisations_csv(path, report))

    assert report.ok, report.issues
    assert [point.numero for point in points] == [et.numero for et in _open_ets(referential)]
    assert all(100_000 <= point.x <= 1_200_000 and "LAMBERT_93" in point.source for point in points)


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8"])
def test_ejs_are_read_back_with_their_statut_juridique(
    referential: SyntheticReferential, tmp_path: Path, encoding: str
) -> None:
    path = tmp_path / "etalab-cs1100501-stock-20241231-0342.csv"
    write_entites_juridiques_csv(referential, path, encoding=encoding)
    report = ParseReport(path.name)

    ejs = list(read_entites_juridiques_csv(path, report))

    assert report.ok, report.issues
    expected = [ej for ej in referential.entites_juridiques if ej.date_fermeture is None]
    assert ejs == expected
    assert all(ej.statut_juridique and ej.libelle_statut_juridique for ej in ejs)


def test_bad_lines_are_reported_with_their_number_and_rule_and_the_rest_is_read(tmp_path: Path) -> None:
    good_other = "01000005" + compute_key("01000005")
    lines = [
        "finess;etalab;100;2024-12-31",
        _structureet(),  # line 2
        _structureet()[: _structureet().rindex(";")],  # line 3: 31 fields
        _structureet(nofinesset="010000041"),  # line 4: wrong key
        _structureet(nofinesset=good_other, dateouv="2024-02-30"),  # line 5: no such day
        "structureXX;010000040",  # line 6
        _structureet(nofinesset=good_other, categetab=""),  # line 7
        _structureet(nofinesset=good_other, dateouv="1901-02-02"),  # line 8
    ]
    path = tmp_path / "etalab-cs1100507-stock-20241231-0342.csv"
    path.write_text("\n".join(lines) + "\n", encoding="cp1252")
    report = ParseReport(path.name)

    ets = list(read_etablissements_csv(path, report))

    assert [et.numero for et in ets] == ["010000040", good_other]
    by_line = {issue.line: str(issue) for issue in report.issues}
    assert sorted(by_line) == [3, 4, 5, 6, 7]
    assert by_line[3] == f"{path.name}, ligne 3 : ligne structureet : 32 champs attendus, 31 trouvés"
    assert "010000041" in by_line[4] and "clé de contrôle 1 invalide (attendue 0)" in by_line[4]
    assert "date '2024-02-30' invalide (dateouv)" in by_line[5]
    assert "type de ligne 'structureXX' inconnu" in by_line[6]
    assert "catégorie d'établissement absente" in by_line[7]
    assert report.records_read == 7 and report.records_accepted == 2


def test_a_file_without_the_etalab_first_line_is_reported_but_read(tmp_path: Path) -> None:
    path = tmp_path / "extract.csv"
    path.write_text(_structureet() + "\n", encoding="utf-8")
    report = ParseReport(path.name)

    ets = list(read_etablissements_csv(path, report))

    assert len(ets) == 1
    assert [(issue.line, issue.rule) for issue in report.issues] == [
        (1, "en-tête « finess;etalab;… » absent")
    ]


def test_accents_after_an_ascii_only_sample_are_still_decoded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import relais_finess.encoding as encoding

    monkeypatch.setattr(encoding, "SAMPLE_SIZE", 64)
    path = tmp_path / "etalab.csv"
    content = (
        "finess;etalab;2;2024-12-31\n" + _structureet() + "\n" + _structureet(rs="CENTRE MÉDICAL") + "\n"
    )
    path.write_bytes(content.encode("cp1252"))

    ets = list(read_etablissements_csv(path, ParseReport(path.name)))

    assert [et.raison_sociale for et in ets] == ["CH NANTUA", "CENTRE MÉDICAL"]


def test_an_undecodable_line_is_reported_when_the_encoding_is_forced(tmp_path: Path) -> None:
    path = tmp_path / "etalab.csv"
    content = (
        "finess;etalab;2;2024-12-31\n" + _structureet(rs="CENTRE MÉDICAL") + "\n" + _structureet() + "\n"
    )
    path.write_bytes(content.encode("cp1252"))
    report = ParseReport(path.name)

    ets = list(read_etablissements_csv(path, report, encoding="utf-8"))

    assert [et.raison_sociale for et in ets] == ["CH NANTUA"]
    assert report.issues[0].line == 2 and "illisibles en utf-8" in report.issues[0].rule


def test_reading_is_lazy_and_streams_one_record_at_a_time(tmp_path: Path) -> None:
    missing = read_etablissements_csv(tmp_path / "absent.csv", ParseReport("absent.csv"))
    assert inspect.isgenerator(missing)  # nothing opened yet: the file is only read while iterating

    path = tmp_path / "etalab.csv"
    path.write_text("finess;etalab;2;2024-12-31\n" + _structureet() + "\nbroken\n", encoding="utf-8")
    report = ParseReport(path.name)
    records = read_etablissements_csv(path, report)
    assert next(records).numero == "010000040"
    assert report.ok  # the broken line 3 has not been reached yet
    assert list(records) == []
    assert [issue.line for issue in report.issues] == [3]
