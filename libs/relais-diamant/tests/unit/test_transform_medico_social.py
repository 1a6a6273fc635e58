"""The five medico-social sources through the transform: rows for their source tables, `Id Dépôt` as an integer
key (a row without one rejected with a reason), the CPOM date read as a date, unknown FINESS reported."""

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from relais_diamant.definitions import definition, labels
from relais_diamant.rules import Referential, parse_date
from relais_diamant.transform import transform_file

EJ1 = "010000016"
ET1, ET2 = "010000115", "010000123"
UNKNOWN_ET = "750000010"
REFERENTIAL = Referential(frozenset({ET1, ET2}), frozenset({EJ1}), {ET1: EJ1, ET2: EJ1})


def run(tmp_path: Path, source: str, rows: list[dict[str, str]]) -> tuple[list[Any], dict[str, Any]]:
    header = labels(source)
    path = tmp_path / f"{source}_2026_01_05.CSV"
    lines = [";".join(header)] + [";".join(row.get(label, "") for label in header) for row in rows]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    found = definition(source)
    assert found is not None
    result = transform_file(path, found, REFERENTIAL, 2026)
    return list(result.rows()), result.report.as_dict()


def test_per_errd_eprd_rows_are_keyed_by_year_et_and_integer_deposit(tmp_path: Path) -> None:
    rows, report = run(
        tmp_path,
        "ANN_PER_ERRD_EPRD",
        [
            {"Finess": ET1, "Année": "2024", "Id Dépôt": "24000001"},
            {"Finess": ET1, "Année": "2024", "Id Dépôt": ""},
            {"Finess": ET2, "Année": "2024", "Id Dépôt": "x1"},
            {"Finess": UNKNOWN_ET, "Année": "2024", "Id Dépôt": "3"},
        ],
    )
    assert rows == [
        (
            "diamant_per_errd_eprd",
            {"annee": 2024, "numero_finess_etablissement_territorial": ET1, "id_depot": 24000001},
        )
    ]
    assert report["rejected_by_reason"] == {"cle_invalide": 1, "cle_vide": 1, "finess_inconnu": 1}
    assert any("« Id Dépôt »" in problem for problem in report["problems"])


def test_errd_ej_rows_are_per_deposit_and_checked_against_the_ej_table(tmp_path: Path) -> None:
    rows, report = run(
        tmp_path,
        "ANN_ERRD_EJ",
        [
            {"Finess EJ": EJ1, "Id Dépôt": "7", "Année": "2023", "Taux de CAF ERRD": ".05"},
            {
                "Finess EJ": ET1,
                "Id Dépôt": "8",
                "Année": "2023",
                "Taux de CAF ERRD": "0.1",
            },  # an ET, not an EJ
        ],
    )
    assert rows == [
        (
            "diamant_errd_ej",
            {
                "annee": 2023,
                "id_depot": 7,
                "numero_finess_entite_juridique": EJ1,
                "taux_de_caf": 0.05,
                "taux_de_vetuste_construction": None,
                "fonds_de_roulement": None,
            },
        )
    ]
    assert report["rejected_by_reason"] == {"finess_inconnu": 1}


def test_the_cpom_date_is_a_date_and_an_unreadable_one_is_nulled_and_reported(tmp_path: Path) -> None:
    label = "Date d'entrée en vigueur du CPOM"
    rows, report = run(
        tmp_path,
        "ANN_MS_TDP_ET",
        [
            {"Finess": ET1, "Année": "2024", label: "01/07/2022"},
            {"Finess": ET2, "Année": "2024", label: "2022-07-01"},
        ],
    )
    assert [row["date_d_entree_en_vigueur"] for _, row in rows] == [date(2022, 7, 1), None]
    assert report["notes"] == {"valeur_invalide": 1}


def test_errd_ej_et_keeps_each_deposit_of_an_et_and_its_status_text(tmp_path: Path) -> None:
    rows, _ = run(
        tmp_path,
        "ANN_ERRD_EJ_ET",
        [
            {"Finess": ET1, "Année": "2023", "Id Dépôt": "1", "Etat taux d'occupation global ERRD": "KO"},
            {"Finess": ET1, "Année": "2023", "Id Dépôt": "2", "Nombre ETP total réalisé ERRD": "12.5"},
        ],
    )
    assert [
        (r["id_depot"], r["etat_taux_occupation_global_errd"], r["nombre_etp_realises"]) for _, r in rows
    ] == [
        (1, "KO", None),
        (2, None, 12.5),
    ]


@pytest.mark.parametrize(
    ("raw", "expected"), [("01/07/2022", date(2022, 7, 1)), ("", None), (" 9/1/2020 ", date(2020, 1, 9))]
)
def test_parse_date(raw: str, expected: date | None) -> None:
    assert parse_date(raw) == expected


@pytest.mark.parametrize("raw", ["2022-07-01", "31/02/2022", "01/07/22", "KO"])
def test_parse_date_refuses_anything_but_dd_mm_yyyy(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_date(raw)
