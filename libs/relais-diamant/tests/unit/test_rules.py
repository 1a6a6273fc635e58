"""The pure rules of spec §5: cells, year window, FINESS, the rank of duplicates, quality report."""

import pytest

from relais_diamant import rules
from relais_diamant.definitions import Period
from relais_diamant.rules import QualityReport, Rejected, YearWindow


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("0.9977", 0.9977),
        (".1197", 0.1197),
        ("2.112E-2", 0.02112),
        ("-1520.5", -1520.5),
        ("12", 12.0),
        ("", None),
        ("  ", None),
        (" 3.5 ", 3.5),
    ],
)
def test_decimals_as_diamant_writes_them(raw: str, value: float | None) -> None:
    assert rules.parse_float(raw) == value


@pytest.mark.parametrize("raw", ["1,5", "1 234", "abc", "nan", "inf", "1_000", "KO"])
def test_anything_else_is_not_a_decimal(raw: str) -> None:
    with pytest.raises(ValueError):
        rules.parse_float(raw)


def test_integers_accept_integral_decimals_only() -> None:
    assert rules.parse_integer("12") == 12
    assert rules.parse_integer("12.0") == 12
    assert rules.parse_integer("") is None
    with pytest.raises(ValueError):
        rules.parse_integer("12.5")


def test_text_cells() -> None:
    assert rules.parse_text(" KO ") == "KO"
    assert rules.parse_text("") is None
    assert rules.parse_text_key("") == ""


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("", rules.ANNEE_VIDE),
        ("   ", rules.ANNEE_VIDE),
        ("20x4", rules.ANNEE_INVALIDE),
        ("24", rules.ANNEE_INVALIDE),
        ("2024.5", rules.ANNEE_INVALIDE),
    ],
)
def test_a_blank_or_bad_year_rejects_the_row_with_its_rule(raw: str, rule: str) -> None:
    with pytest.raises(Rejected) as rejected:
        rules.parse_year(raw)
    assert rejected.value.rule == rule


def test_years_and_months() -> None:
    assert rules.parse_year("2024") == 2024
    assert rules.parse_year("2024.0") == 2024
    assert rules.parse_month("1") == 1
    assert rules.parse_month("12") == 12
    for bad in ("", "0", "13", "mars"):
        with pytest.raises(Rejected, match=rules.MOIS_INVALIDE):
            rules.parse_month(bad)


def test_year_window_annual_and_monthly_with_a_configurable_reference_year() -> None:
    assert rules.year_window(Period.ANNUAL, 2026) == YearWindow(2021, 2025)
    assert rules.year_window(Period.MONTHLY, 2026) == YearWindow(2022, 2026)
    assert rules.year_window(Period.ANNUAL, 2030) == YearWindow(2025, 2029)
    assert (
        2025 in YearWindow(2021, 2025)
        and 2026 not in YearWindow(2021, 2025)
        and "2025" not in YearWindow(2021, 2025)
    )


def test_finess_stays_text_with_corsica_and_a_lost_leading_zero_restored() -> None:
    assert rules.normalise_finess("2A0000014") == ("2A0000014", False)
    assert rules.normalise_finess(" 2a0000014 ") == ("2A0000014", False)
    assert rules.normalise_finess("010008407") == ("010008407", False)
    assert rules.normalise_finess("10008407") == ("010008407", True)  # lost leading zero, key still valid
    assert rules.normalise_finess("") == (None, False)
    for bad in ("12345", "01000840X7", "01-008407"):
        with pytest.raises(Rejected, match=rules.FINESS_INVALIDE):
            rules.normalise_finess(bad)


def test_an_absent_number_is_told_invalid_or_unknown() -> None:
    assert rules.finess_problem("010008408", "entite_juridique").rule == rules.FINESS_INVALIDE  # bad key
    unknown = rules.finess_problem("750712184", "etablissement_territorial")
    assert unknown.rule == rules.FINESS_INCONNU and unknown.finess == "750712184"


def test_rank_prefers_the_referential_ej_then_filled_cells_then_a_stable_digest() -> None:
    assert rules.rank(["1", "", ""], ej_matches=True) > rules.rank(["1", "2", "3"], ej_matches=False)
    assert rules.rank(["1", "2", ""], ej_matches=False) > rules.rank(["9", "", ""], ej_matches=False)
    assert rules.rank(["1", "2"], False) == rules.rank([" 1", "2 "], False)  # same content, same rank
    assert rules.rank(["1", "2"], False) != rules.rank(["2", "1"], False)


def test_quality_report_counts_all_lists_some() -> None:
    report = QualityReport("F.CSV", "ANN_RPU", 2026, YearWindow(2021, 2025), max_problems=2)
    for line in range(2, 7):
        report.reject(line, rules.ANNEE_VIDE)
    report.reject(9, rules.HORS_FENETRE, quiet=True)
    report.unknown_finess["750712184"] += 2
    summary = report.as_dict()
    assert summary["rejected_by_reason"] == {"annee_vide": 5, "hors_fenetre": 1}
    assert summary["rows_rejected"] == 6
    assert summary["problem_count"] == 5
    assert summary["problems"] == [
        "F.CSV, ligne 2 : année vide [annee_vide]",
        "F.CSV, ligne 3 : année vide [annee_vide]",
    ]
    assert summary["unknown_finess"] == {"rows": 2, "count": 1, "numbers": ["750712184"], "truncated": False}
    assert summary["window"] == [2021, 2025]


def test_beneficiary_of_an_allocation() -> None:
    assert rules.beneficiaire("010008407", "010008399") == "010008407"
    assert rules.beneficiaire(None, "010008399") == "010008399"
