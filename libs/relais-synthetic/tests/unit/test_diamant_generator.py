"""The synthetic DIAMANT extracts: determinism, real labels, valid and known FINESS, switchable quirks."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import date, datetime
from pathlib import Path

import pytest

from relais_diamant.sources import DiamantSource, match_file_name
from relais_finess.number import is_valid
from relais_synthetic.diamant import (
    Establishments,
    GeneratedFile,
    Quirks,
    establishments_from,
    referential_for,
    write_diamant_files,
)
from relais_synthetic.finess import generate_referential

SEED, ENTITES = 11, 40
EXTRACTED = date(2025, 11, 3)
YEARS = range(2021, 2026)


@pytest.fixture(scope="module")
def establishments() -> Establishments:
    return establishments_from(generate_referential(SEED, ENTITES), SEED, sanitaires=8, medico_sociaux=14)


def _generate(
    establishments: Establishments, out: Path, **options: object
) -> dict[DiamantSource, GeneratedFile]:
    files = write_diamant_files(
        establishments,
        out,
        seed=SEED,
        years=YEARS,
        extraction_date=EXTRACTED,
        **options,  # type: ignore[arg-type]
    )
    return {f.source: f for f in files}


@pytest.fixture(scope="module")
def with_quirks(
    establishments: Establishments, tmp_path_factory: pytest.TempPathFactory
) -> dict[DiamantSource, GeneratedFile]:
    return _generate(establishments, tmp_path_factory.mktemp("quirks"))


@pytest.fixture(scope="module")
def without_quirks(
    establishments: Establishments, tmp_path_factory: pytest.TempPathFactory
) -> dict[DiamantSource, GeneratedFile]:
    return _generate(establishments, tmp_path_factory.mktemp("clean"), quirks=Quirks.none())


def _rows(generated: GeneratedFile) -> tuple[list[str], list[dict[str, str]]]:
    text = generated.path.read_bytes().decode("utf-8")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    header = next(reader)
    return header, [dict(zip(header, row, strict=True)) for row in reader]


def test_same_seed_gives_identical_bytes(establishments: Establishments, tmp_path: Path) -> None:
    first = _generate(establishments, tmp_path / "a")
    again = _generate(establishments_from(generate_referential(SEED, ENTITES), SEED, 8, 14), tmp_path / "b")
    for source, generated in first.items():
        assert generated.path.read_bytes() == again[source].path.read_bytes(), source


def test_every_source_is_written_under_its_exact_diamant_name(
    with_quirks: dict[DiamantSource, GeneratedFile],
) -> None:
    assert set(with_quirks) == set(DiamantSource)
    for source, generated in with_quirks.items():
        assert match_file_name(generated.path.name) == (source, EXTRACTED)
        assert generated.rows > 0


def test_files_are_utf8_without_bom_semicolon_separated(
    with_quirks: dict[DiamantSource, GeneratedFile],
) -> None:
    for generated in with_quirks.values():
        raw = generated.path.read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf")
        _, rows = _rows(generated)
        assert len(rows) == generated.rows
        assert ";" in raw.split(b"\r\n", 1)[0].decode()


EXPECTED_HEADERS = {
    DiamantSource.MEN_HAPI: "Finess EJ;Finess;Année Campagne HAPI;Mois Année;Enveloppe;Sous Enveloppe;"
    "Mode de Délégation;HAPI - Montant Notifié",
    DiamantSource.ANN_RPU: "Finess EJ;Finess;Année;Nombre de passages aux urgences",
    DiamantSource.ANN_PER_ERRD_EPRD: "Finess EJ;Finess;Année;Id Dépôt",
    DiamantSource.ANN_ERRD_EJ: "Finess EJ;Id Dépôt;Année;Taux de CAF ERRD;Taux vétusté Construction ERRD;"
    "Fonds de roulement net global ERRD",
}

# Labels written here by hand from specs/diamant.md §4, not taken from the generator's tables.
EXPECTED_LABELS = {
    DiamantSource.MEN_PMSI_ANNUEL: [
        "Finess", "Année", "Finess EJ", "Nombre de séjours HTP/AMBU Médecine", "Nombre de séjours HTP/AMBU Obstétrique",
        "Nombre de séjours HTP/AMBU Chirurgie", "Nombre de séjours HC Médecine", "Nombre de séjours HC Chirurgie",
        "Nombre de séjours HC Obstétrique", "Nombre total de séjours HAD", "Nombre de journées hospit complète SSR",
        "Nombre de journées HTP SSR", "Nb journées hospit complète PSY", "Nb journées HTP PSY", "DMS MCO Médecine",
        "DMS MCO Chirurgie", "DMS MCO Obstétrique", "Nombre total de séjours MCO",
    ],
    DiamantSource.ANN_SAE: [
        "Finess", "Année", "Finess EJ", "Nombre journées USLD", "Nombre de places de chirurgie", "Nombre de places d'obstétrique",
        "Nombre de places de médecine", "Nombre de places de SSR", "Nombre de lits de chirurgie",
        "Nombre de lits d'obstétrique", "Nombre de lits de médecine", "Nombre de lits de SSR", "Nombre de lits USLD",
        "Nb de lits et places PSY PeC temps complet", "Nb de places PSY PeC temps partiel hors ambu",
    ],
    DiamantSource.ANN_MS_TDP_ET: [
        "Finess", "Année", "Finess EJ", "Nombre moyen de journées d'absence des personnes accompagnées sur la période",
        "Durée moyenne de séjour/d'accompagnement", "File active des personnes accompagnées sur la période",
        "Taux de réalisation de l’activité Tout ESMS (Hors services CAMSP et CMPP)",
        "Taux de réalisation de l’activité CAMSP et CMPP", "Nombre de CDD de remplacement",
        "Taux d'ETP vacants au 31/12", "Taux de prestations externes sur les prestations directes",
        "Taux de rotation du personnel sur effectifs réels",
        "Taux d'absentéisme pour maladie ordinaire/courte durée", "Taux d'absentéisme pour maladie moyenne durée",
        "Taux d'absentéisme pour maladie longue durée", "Taux d'absentéisme pour maternité/paternité",
        "Taux d'absentéisme pour accident du travail / maladie professionnelle",
        "Taux d'absentéisme pour congés spéciaux dont sans solde", "Taux d'absentéisme (hors formation)",
        "Date d'entrée en vigueur du CPOM",
    ],
    DiamantSource.ANN_ERRD_EJ_ET: [
        "Finess", "Année", "Finess EJ", "Id Dépôt", "Type dépot ERRD",
        "Taux d'occupation des lits autorisés en accueil de jour",
        "Taux d'occupation des lits autorisés en hébergement temporaire",
        "Taux d'occupation des places autorisées en hébergement permanent", "Taux d'occupation Externat Autres ESMS",
        "Taux d'occupation Semi-internat Autres ESMS", "Taux d'occupation Internat Autres ESMS",
        "Taux d'occupation Autre 1, 2 et 3 Autres ESMS", "Taux d'occupation global ERRD",
        "Etat taux d'occupation global ERRD", "Taux d'occupation global Autres ESMS",
        "Etat taux d'occupation global Autres ESMS", "655 Quotes-parts de résultat sur opérations faites en commun",
        "Dépenses Groupe I ERRD", "Dépenses Groupe II ERRD", "Dépenses Groupe III ERRD", "Recettes Groupe I ERRD",
        "Recettes Groupe II ERRD", "Recettes Groupe III ERRD", "MS Résultat net comptable ERRD",
        "Nombre ETP total réalisé ERRD",
    ],
    DiamantSource.ANN_CA_EJ_ET: [
        "Finess", "Année", "Finess EJ", "Taux d'occupation Séances CA", "Taux d'occupation Externat CA",
        "Taux d'occupation Semi-internat CA", "Taux d'occupation Internat CA", "Taux d'occupation Autre 1, 2 et 3 CA",
        "Taux d'occupation global CA", "Etat taux d'occupation global CA", "MS Résultat net comptable CA PH",
        "MS Résultat net comptable CA PA", "Taux de CAF CA PH", "Taux vétusté Construction CA", "Charges CA PA",
        "Produits CA PA", "Recettes Groupe I CA", "Recettes Groupe II CA", "Recettes Groupe III CA",
        "Dépenses Groupe I CA", "Dépenses Groupe II CA", "Dépenses Groupe III CA", "Nombre ETP total réalisé CA",
    ],
    DiamantSource.QUO_SAN_FINANCE: [
        "Finess EJ", "Finess ET", "Année",
        *(f"{kind} Titre {n} Budget global" for kind in ("Dépenses", "Recettes") for n in ("I", "II", "III", "IV")),
        *(f"Dépenses Titre {n} Budget H" for n in ("I", "II", "III", "IV")),
        *(f"Recettes Titre {n} Budget H" for n in ("I", "II", "III")),
        "SAN Résultat net comptable", "SAN Taux de CAF nette", "Ratio de dépendance financière", "FRNG", "BFR",
        "Trésorerie", "Nombre d'ETP PM", "Nombre d'ETP PNM", "Dépenses d'intérim PM", "Jours d'absentéisme PM",
        "Jours d'absentéisme PNM",
    ],
}  # fmt: skip


def test_headers_carry_the_real_labels(with_quirks: dict[DiamantSource, GeneratedFile]) -> None:
    for source, expected in EXPECTED_HEADERS.items():
        assert with_quirks[source].path.read_bytes().decode().split("\r\n", 1)[0] == expected
    for source, labels in EXPECTED_LABELS.items():
        header, _ = _rows(with_quirks[source])
        assert sorted(header) == sorted(labels), source


def test_mencumu_generations_differ_as_in_real_files(establishments: Establishments, tmp_path: Path) -> None:
    headers = {}
    for generation in (2023, 2024, 2025):
        written = write_diamant_files(
            establishments, tmp_path / str(generation), seed=SEED, years=[2024], extraction_date=EXTRACTED,
            mencumu_generation=generation, sources=[DiamantSource.MEN_PMSI_MENCUMU],
        )  # fmt: skip
        headers[generation] = _rows(written[0])[0]
    assert headers[2023][:4] == headers[2025][:4] == ["Finess EJ", "Finess", "Année", "Mois"]
    assert "Nombre de séjours mensuels cumulés Médecine" in headers[2023]
    assert not any("cumulés" in label for label in headers[2024])
    assert "Nombre de séjours mensuels  HTP/AMBU Chirurgie" in headers[2024]  # two spaces, as in real files
    assert not any("PSY" in label or "DMS" in label for label in headers[2023] + headers[2024])
    assert set(headers[2025]) - set(headers[2024]) == {
        "Nombre total de journées cumulés mensuels hospit complète PSY",
        "Nombre total de journées cumulés mensuels HTP PSY",
        "DMS mensuel MCO Médecine", "DMS mensuel MCO Chirurgie", "DMS mensuel MCO Obstétrique",
    }  # fmt: skip


def _finess_cells(source: DiamantSource, row: dict[str, str]) -> list[str]:
    return [row[label] for label in ("Finess", "Finess EJ", "Finess ET") if row.get(label)]


def test_without_quirks_every_finess_is_valid_and_known(
    without_quirks: dict[DiamantSource, GeneratedFile], establishments: Establishments
) -> None:
    health = {site.finess for site in establishments.sanitaires}
    social = {site.finess for site in establishments.medico_sociaux}
    for source, generated in without_quirks.items():
        _, rows = _rows(generated)
        for row in rows:
            for number in _finess_cells(source, row):
                assert is_valid(number) and number in establishments.known, (source, number)
            et = row.get("Finess") or row.get("Finess ET")
            if et:
                assert et in (
                    social
                    if source.value.startswith("ANN_")
                    and source not in (DiamantSource.ANN_RPU, DiamantSource.ANN_SAE)
                    else health
                ), source


def test_without_quirks_files_are_clean(without_quirks: dict[DiamantSource, GeneratedFile]) -> None:
    for source, generated in without_quirks.items():
        raw = generated.path.read_bytes()
        assert raw.count(b"\n") == raw.count(b"\r\n"), source
        _, rows = _rows(generated)
        year = "Année Campagne HAPI" if source is DiamantSource.MEN_HAPI else "Année"
        assert all(row[year] for row in rows), source
        assert all(row[_main_finess(source)] for row in rows), source
        if source not in (DiamantSource.MEN_HAPI, DiamantSource.ANN_PER_ERRD_EPRD):
            keys = [_key(source, row) for row in rows]
            assert len(keys) == len(set(keys)), source
    _, quo = _rows(without_quirks[DiamantSource.QUO_SAN_FINANCE])
    seen_ej_rows = {(row["Finess EJ"], row["Année"]) for row in quo if not row["Finess ET"]}
    first_rows: set[tuple[str, str]] = set()
    for row in quo:
        if not row["Finess ET"]:
            first_rows.add((row["Finess EJ"], row["Année"]))
        else:
            assert (row["Finess EJ"], row["Année"]) in first_rows
    assert seen_ej_rows == first_rows


def _main_finess(source: DiamantSource) -> str:
    return {DiamantSource.QUO_SAN_FINANCE: "Finess EJ", DiamantSource.ANN_ERRD_EJ: "Finess EJ"}.get(
        source, "Finess"
    )


def _key(source: DiamantSource, row: dict[str, str]) -> tuple[str, ...]:
    if source is DiamantSource.ANN_ERRD_EJ:
        return (row["Id Dépôt"],)
    if source is DiamantSource.QUO_SAN_FINANCE:
        return row["Finess EJ"] if not row["Finess ET"] else "", row["Finess ET"], row["Année"]
    return row["Finess"], row["Année"], row.get("Mois", "")


def test_with_quirks_every_quirk_appears_in_every_file(
    with_quirks: dict[DiamantSource, GeneratedFile], establishments: Establishments
) -> None:
    for source, generated in with_quirks.items():
        raw = generated.path.read_bytes()
        assert raw.count(b"\n") > raw.count(b"\r\n") > 0, source
        _, rows = _rows(generated)
        year = "Année Campagne HAPI" if source is DiamantSource.MEN_HAPI else "Année"
        assert any(not row[year] for row in rows), source
        numbers = [n for row in rows for n in _finess_cells(source, row)]
        unknown = [n for n in numbers if n not in establishments.known]
        assert unknown and all(is_valid(n) for n in unknown), source
        if source is not DiamantSource.QUO_SAN_FINANCE:
            assert any(not row[_main_finess(source)] for row in rows), source
        if source not in (DiamantSource.MEN_HAPI, DiamantSource.ANN_PER_ERRD_EPRD):
            keys = [_key(source, row) for row in rows if row[year]]
            assert len(keys) > len(set(keys)), source


def test_quo_san_finance_has_ej_rows_after_their_et_rows_when_quirky(
    with_quirks: dict[DiamantSource, GeneratedFile],
) -> None:
    _, rows = _rows(with_quirks[DiamantSource.QUO_SAN_FINANCE])
    assert any(not row["Finess ET"] for row in rows)
    late = False
    for before, after in itertools.pairwise(rows):
        if before["Finess ET"] and not after["Finess ET"] and before["Finess EJ"] == after["Finess EJ"]:
            late = True
    assert late


def test_values_look_like_diamant_values(with_quirks: dict[DiamantSource, GeneratedFile]) -> None:
    cells = {
        source: [value for row in _rows(generated)[1] for value in row.values()]
        for source, generated in with_quirks.items()
    }
    everything = [value for values in cells.values() for value in values]
    assert any(value.startswith(".") for value in everything)
    assert any("E-" in value for value in everything)
    assert "" in everything and "KO" in cells[DiamantSource.ANN_ERRD_EJ_ET]
    assert any(value.startswith("-") for value in cells[DiamantSource.QUO_SAN_FINANCE])
    _, tdp = _rows(with_quirks[DiamantSource.ANN_MS_TDP_ET])
    dates = [
        row["Date d'entrée en vigueur du CPOM"] for row in tdp if row["Date d'entrée en vigueur du CPOM"]
    ]
    assert dates and all(datetime.strptime(d, "%d/%m/%Y") for d in dates)
    _, annuel = _rows(with_quirks[DiamantSource.MEN_PMSI_ANNUEL])
    dms = [float(row["DMS MCO Médecine"]) for row in annuel if row["DMS MCO Médecine"]]
    assert dms and all(2 <= value <= 10 for value in dms)


def test_mencumu_months_stop_before_the_extraction_month(
    with_quirks: dict[DiamantSource, GeneratedFile],
) -> None:
    _, rows = _rows(with_quirks[DiamantSource.MEN_PMSI_MENCUMU])
    months = {int(row["Mois"]) for row in rows if row["Année"] == "2025"}
    assert (
        months and max(months) < EXTRACTED.month and {int(row["Mois"]) for row in rows} <= set(range(1, 13))
    )


def test_referential_for_holds_the_requested_sites() -> None:
    referential, entites = referential_for(3, sanitaires=30, medico_sociaux=50)
    found = establishments_from(referential, 3, 30, 50)
    assert (len(found.sanitaires), len(found.medico_sociaux)) == (30, 50)
    assert len(referential.entites_juridiques) == entites


def test_annual_sources_hold_closed_years_only(with_quirks: dict[DiamantSource, GeneratedFile]) -> None:
    for source, generated in with_quirks.items():
        year = "Année Campagne HAPI" if source is DiamantSource.MEN_HAPI else "Année"
        years = {row[year] for row in _rows(generated)[1] if row[year]}
        closed_only = source.value.startswith("ANN_") or source is DiamantSource.QUO_SAN_FINANCE
        assert ("2025" in years) is not closed_only, source
        assert "2024" in years, source


def test_progress_is_reported_while_a_long_file_is_written(
    establishments: Establishments, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from relais_synthetic.diamant import writer

    monkeypatch.setattr(writer, "_PROGRESS_EVERY", 100)
    seen: list[tuple[DiamantSource, int]] = []
    [written] = write_diamant_files(
        establishments, tmp_path, seed=SEED, years=YEARS, extraction_date=EXTRACTED,
        sources=[DiamantSource.MEN_PMSI_MENCUMU], progress=lambda source, rows: seen.append((source, rows)),
    )  # fmt: skip
    counts = [rows for _, rows in seen]
    assert {source for source, _ in seen} == {DiamantSource.MEN_PMSI_MENCUMU}
    assert len(counts) == written.rows // 100 and counts == sorted(counts) and counts[-1] <= written.rows
