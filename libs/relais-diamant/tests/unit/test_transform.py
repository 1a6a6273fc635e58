"""A file in, rows and a quality report out: every rule of spec §5 and every pitfall of §7 that concerns the
health sources, with the right behaviour."""

import random
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from relais_diamant.definitions import (
    MENCUMU_GENERATION_2025,
    MENCUMU_GENERATION_BEFORE_2024,
    definition,
    labels,
)
from relais_diamant.reader import UnreadableFile
from relais_diamant.rules import Referential
from relais_diamant.transform import transform_file

EJ1, EJ2 = "010000016", "010000024"
ET1, ET2, ET3 = "010000115", "010000123", "2A0000022"  # ET1, ET2 in EJ1; ET3 (Corsica) in EJ2
UNKNOWN_ET = "750000010"  # a valid number the referential does not know
REFERENTIAL = Referential(
    etablissements=frozenset({ET1, ET2, ET3}),
    entites_juridiques=frozenset({EJ1, EJ2}),
    ej_of_et={ET1: EJ1, ET2: EJ1, ET3: EJ2},
)


def run(
    tmp_path: Path,
    source: str,
    rows: list[dict[str, str]],
    *,
    header: list[str] | None = None,
    reference_year: int = 2026,
    name: str | None = None,
) -> tuple[list[tuple[str, dict[str, Any]]], dict[str, Any]]:
    header = header or labels(source)
    path = tmp_path / (name or f"{source}_2026_01_05.CSV")
    lines = [";".join(header)] + [";".join(row.get(label, "") for label in header) for row in rows]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    found = definition(source)
    assert found is not None
    result = transform_file(path, found, REFERENTIAL, reference_year)
    emitted = list(result.rows())
    return emitted, result.report.as_dict()


def rpu(finess: str, year: str, passages: str = "100", ej: str = "") -> dict[str, str]:
    return {"Finess": finess, "Finess EJ": ej, "Année": year, "Nombre de passages aux urgences": passages}


# --- §7.3: a blank Année ---------------------------------------------------------------------------------------------


def test_a_blank_year_is_reported_and_skipped_never_crashing_the_file(tmp_path: Path) -> None:
    rows, report = run(tmp_path, "ANN_RPU", [rpu(ET1, "2024"), rpu(ET2, ""), rpu(ET3, "2023")])
    assert rows == [
        (
            "activite_sanitaire",
            {
                "annee": 2024,
                "numero_finess_etablissement_territorial": ET1,
                "nombre_passages_urgences": 100.0,
            },
        ),
        (
            "activite_sanitaire",
            {
                "annee": 2023,
                "numero_finess_etablissement_territorial": ET3,
                "nombre_passages_urgences": 100.0,
            },
        ),
    ]
    assert report["rows_read"] == 3 and report["rows_kept"] == 2
    assert report["rejected_by_reason"] == {"annee_vide": 1}
    assert report["problems"] == ["ANN_RPU_2026_01_05.CSV, ligne 3 : année vide [annee_vide]"]


# --- §5: referential, null keys, window -----------------------------------------------------------------------------


def test_unknown_finess_rows_are_reported_with_count_and_list(tmp_path: Path) -> None:
    rows, report = run(
        tmp_path,
        "ANN_RPU",
        [rpu(ET1, "2024"), rpu(UNKNOWN_ET, "2024"), rpu(UNKNOWN_ET, "2023"), rpu("010008408", "2024")],
    )
    assert [r[1]["numero_finess_etablissement_territorial"] for r in rows] == [ET1]
    assert report["unknown_finess"] == {
        "rows": 3,
        "count": 2,
        "numbers": ["010008408", UNKNOWN_ET],
        "truncated": False,
    }
    assert report["rejected_by_reason"] == {"finess_inconnu": 2, "finess_invalide": 1}
    assert any("ligne 5" in p and "clé de contrôle" in p for p in report["problems"])


def test_null_keys_are_dropped_and_reported(tmp_path: Path) -> None:
    rows, report = run(tmp_path, "ANN_RPU", [rpu("", "2024"), rpu(ET1, "2024")])
    assert len(rows) == 1
    assert report["rejected_by_reason"] == {"finess_vide": 1}
    assert "ligne 2 : numéro FINESS vide [finess_vide] — « Finess » vide" in report["problems"][0]


@pytest.mark.parametrize(("reference_year", "kept"), [(2026, {2021, 2025}), (2025, {2020, 2021})])
def test_annual_window_is_n_minus_5_to_n_minus_1(tmp_path: Path, reference_year: int, kept: set[int]) -> None:
    years = ["2019", "2020", "2021", "2025", "2026"]
    rows, report = run(tmp_path, "ANN_RPU", [rpu(ET1, y) for y in years], reference_year=reference_year)
    assert {r[1]["annee"] for r in rows} == kept
    assert report["rejected_by_reason"] == {"hors_fenetre": 3}
    assert report["reference_year"] == reference_year
    assert report["problems"] == []  # the window is a filter, not a problem per row


def test_monthly_window_is_n_minus_4_to_n(tmp_path: Path) -> None:
    header = labels("MEN_PMSI_MENCUMU")
    rows, _ = run(
        tmp_path,
        "MEN_PMSI_MENCUMU",
        [{"Finess": ET1, "Année": y, "Mois": "1"} for y in ("2021", "2022", "2026", "2027")],
        header=header,
    )
    assert sorted(r[1]["annee"] for r in rows) == [2022, 2026]


def test_values_decimals_negative_money_and_unreadable_cells(tmp_path: Path) -> None:
    header = labels("QUO_SAN_FINANCE")
    row = {label: "" for label in header}
    row |= {
        "Finess EJ": EJ1,
        "Finess ET": ET1,
        "Année": "2024",
        "Dépenses Titre I Budget global": "-1520000.5",
        "SAN Taux de CAF nette": ".1197",
        "Ratio de dépendance financière": "2.112E-2",
        "FRNG": "0.9977",
        "BFR": "n/a",
    }
    rows, report = run(tmp_path, "QUO_SAN_FINANCE", [row], header=header)
    budget = dict(rows)["budget_et_finances_sanitaire"]
    assert budget["depenses_titre_i_global"] == -1520000.5
    assert budget["taux_de_caf_nette_san"] == 0.1197
    assert budget["ratio_dependance_financiere"] == 0.02112
    assert budget["fonds_de_roulement"] == 0.9977
    assert budget["besoin_fonds_de_roulement"] is None and budget["tresorerie"] is None
    assert report["notes"] == {"valeur_invalide": 1}
    assert (
        "ligne 2 : valeur illisible (mise à vide) [valeur_invalide] — « BFR » = 'n/a'"
        in report["problems"][0]
    )


def test_a_line_with_the_wrong_number_of_fields_is_rejected_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "ANN_RPU_2026_01_05.CSV"
    path.write_text(
        f"Finess;Année;Nombre de passages aux urgences\n{ET1};2024;1\n{ET2};2024\n{ET3};2024;3;4\n",
        encoding="utf-8",
    )
    found = definition("ANN_RPU")
    assert found is not None
    result = transform_file(path, found, REFERENTIAL, 2026)
    assert len(list(result.rows())) == 1
    assert result.report.rejected == {"nombre_de_champs": 2}
    assert [p.line for p in result.report.problems] == [3, 4]


def test_a_lost_leading_zero_is_restored_and_noted(tmp_path: Path) -> None:
    rows, report = run(tmp_path, "ANN_RPU", [rpu(ET1.lstrip("0"), "2024")])
    assert rows[0][1]["numero_finess_etablissement_territorial"] == ET1
    assert report["notes"] == {"finess_complete": 1}


# --- §5 duplicates ---------------------------------------------------------------------------------------------------


def test_duplicates_are_resolved_deterministically_whatever_the_order_and_reported(tmp_path: Path) -> None:
    # An ET attached to two EJs: the row naming the ET's EJ in the referential wins, whatever its place.
    rows_in = [rpu(ET1, "2024", "100", ej=EJ2), rpu(ET1, "2024", "150", ej=EJ1), rpu(ET1, "2024", "", ej=EJ2)]
    results = set()
    for seed in range(6):
        shuffled = rows_in[:]
        random.Random(seed).shuffle(shuffled)
        rows, report = run(tmp_path, "ANN_RPU", shuffled, name=f"ANN_RPU_2026_01_0{seed}.CSV")
        assert report["duplicates"]["count"] == 2
        assert report["rejected_by_reason"] == {"doublon": 2}
        assert len(report["duplicates"]["examples"]) == 2
        results.add(tuple(r[1]["nombre_passages_urgences"] for r in rows))
    assert results == {(150.0,)}


def test_without_ej_evidence_the_fuller_row_wins(tmp_path: Path) -> None:
    header = labels("MEN_PMSI_ANNUEL")
    sparse = {"Finess": ET1, "Année": "2024", "Nombre de séjours HC Médecine": "10"}
    full = sparse | {"Nombre de séjours HC Chirurgie": "5", "DMS MCO Chirurgie": "3.5"}
    for order in ([sparse, full], [full, sparse]):
        rows, _ = run(tmp_path, "MEN_PMSI_ANNUEL", order, header=header)
        assert len(rows) == 1 and rows[0][1]["duree_moyenne_sejour_chirurgie"] == 3.5


# --- §7.2: ANN_SAE duplicates do not abort --------------------------------------------------------------------------


def test_ann_sae_duplicates_do_not_abort_and_both_tables_get_one_row_per_key(tmp_path: Path) -> None:
    def sae(finess: str, lits: str, ej: str = "") -> dict[str, str]:
        return {
            "Finess": finess,
            "Finess EJ": ej,
            "Année": "2024",
            "Nombre de lits de médecine": lits,
            "Nombre journées USLD": "300.5",
            "Nombre de places de SSR": "4",
        }

    rows, report = run(tmp_path, "ANN_SAE", [sae(ET1, "20", EJ2), sae(ET1, "25", EJ1), sae(ET2, "12.0")])
    capacities = [r for t, r in rows if t == "capacite_autorisation_sanitaire"]
    activity = [r for t, r in rows if t == "activite_sanitaire"]
    assert sorted(
        (r["numero_finess_etablissement_territorial"], r["nombre_lits_medecine"]) for r in capacities
    ) == [
        (ET1, 25),
        (ET2, 12),
    ]
    assert all(isinstance(r["nombre_lits_medecine"], int) for r in capacities)
    assert len(activity) == 2 and activity[0]["nombre_journees_usld"] == 300.5
    assert set(activity[0]) == {"annee", "numero_finess_etablissement_territorial", "nombre_journees_usld"}
    assert report["tables"] == {"activite_sanitaire": 2, "capacite_autorisation_sanitaire": 2}
    assert report["duplicates"]["count"] == 2  # one per table


# --- §7.1: QUO_SAN_FINANCE EJ and ET rows in either order ------------------------------------------------------------


def quo(ej: str, et: str, year: str, etp_pm: str, depenses: str = "1000") -> dict[str, str]:
    return {
        "Finess EJ": ej,
        "Finess ET": et,
        "Année": year,
        "Nombre d'ETP PM": etp_pm,
        "Dépenses Titre I Budget global": depenses,
    }


@pytest.mark.parametrize("et_row_first", [True, False])
def test_quo_san_finance_keeps_ej_rows_whatever_the_order_of_ej_and_et_rows(
    tmp_path: Path, et_row_first: bool
) -> None:
    ej_row, et_row = quo(EJ1, "", "2024", "500"), quo(EJ1, ET1, "2024", "120")
    rows, report = run(tmp_path, "QUO_SAN_FINANCE", [et_row, ej_row] if et_row_first else [ej_row, et_row])
    tables = {table: row for table, row in rows}
    assert tables["ressources_humaines_entite_juridique"] == {
        "annee": 2024,
        "numero_finess_entite_juridique": EJ1,
        "nombre_etp_pm": 500.0,
        "nombre_etp_pnm": None,
        "depenses_interim_pm": None,
        "jours_absenteisme_pm": None,
        "jours_absenteisme_pnm": None,
    }
    assert tables["ressources_humaines_sanitaire"]["nombre_etp_pm"] == 120.0
    assert tables["ressources_humaines_sanitaire"]["numero_finess_etablissement_territorial"] == ET1
    assert tables["budget_et_finances_entite_juridique"]["depenses_titre_i_budget_global"] == 1000.0
    assert tables["budget_et_finances_sanitaire"]["depenses_titre_i_global"] == 1000.0
    assert report["duplicates"]["count"] == 0
    assert report["rows_kept"] == 2


def test_quo_san_finance_several_ets_of_one_ej_are_not_duplicates(tmp_path: Path) -> None:
    rows, report = run(
        tmp_path,
        "QUO_SAN_FINANCE",
        [
            quo(EJ1, ET1, "2024", "1"),
            quo(EJ1, "", "2024", "3"),
            quo(EJ1, ET2, "2024", "2"),
            quo(EJ1, "", "2023", "4"),
        ],
    )
    assert sorted(r["nombre_etp_pm"] for t, r in rows if t == "ressources_humaines_sanitaire") == [1.0, 2.0]
    assert sorted(r["nombre_etp_pm"] for t, r in rows if t == "ressources_humaines_entite_juridique") == [
        3.0,
        4.0,
    ]
    assert report["duplicates"]["count"] == 0


def test_quo_san_finance_ej_level_duplicates_are_resolved_among_ej_rows_only(tmp_path: Path) -> None:
    rows, report = run(
        tmp_path,
        "QUO_SAN_FINANCE",
        [quo(EJ1, "", "2024", "3", depenses=""), quo(EJ1, ET1, "2024", "1"), quo(EJ1, "", "2024", "3")],
    )
    ej = [r for t, r in rows if t == "budget_et_finances_entite_juridique"]
    assert len(ej) == 1 and ej[0]["depenses_titre_i_budget_global"] == 1000.0  # the fuller EJ row
    assert report["duplicates"]["count"] == 2  # budget and HR EJ blocks
    # Each block chooses on its own: the HR values of both EJ rows are identical, so the earlier line keeps the HR
    # block while the fuller line wins the budget block; with the ET row, three lines are kept.
    assert report["rows_kept"] == 3
    assert report["rejected_by_reason"] == {}


def test_quo_san_finance_unknown_ej_of_an_ej_row_is_reported(tmp_path: Path) -> None:
    _, report = run(tmp_path, "QUO_SAN_FINANCE", [quo("010000032", "", "2024", "1")])
    assert report["unknown_finess"]["numbers"] == ["010000032"]


# --- MEN_PMSI_MENCUMU generations ----------------------------------------------------------------------------------


def test_mencumu_before_2024_rows_carry_only_their_columns(tmp_path: Path) -> None:
    header = labels("MEN_PMSI_MENCUMU", MENCUMU_GENERATION_BEFORE_2024)
    row = {"Finess": ET1, "Année": "2023", "Mois": "3", "Nombre de séjours mensuels cumulés Médecine": "42"}
    rows, report = run(tmp_path, "MEN_PMSI_MENCUMU", [row], header=header)
    assert report["generation"] == MENCUMU_GENERATION_BEFORE_2024
    ((table, values),) = rows
    assert table == "activite_sanitaire_mensuel"
    assert values["mois"] == 3 and values["nombre_sejours_complets_medecine"] == 42.0
    assert "duree_moyenne_sejour_medecine" not in values and "nombre_journees_completes_psy" not in values


def test_mencumu_2025_rows_carry_psy_and_dms(tmp_path: Path) -> None:
    header = labels("MEN_PMSI_MENCUMU", MENCUMU_GENERATION_2025)
    row = {
        "Finess": ET1,
        "Année": "2025",
        "Mois": "12",
        "Nombre de séjours mensuels  HTP/AMBU Chirurgie": "7",
        "DMS mensuel MCO Médecine": "5.25",
    }
    rows, report = run(tmp_path, "MEN_PMSI_MENCUMU", [row], header=header)
    assert report["generation"] == MENCUMU_GENERATION_2025
    values = rows[0][1]
    assert values["nombre_sejours_partiels_chirurgie"] == 7.0
    assert values["duree_moyenne_sejour_medecine"] == 5.25
    assert values["nombre_journees_completes_psy"] is None


def test_mencumu_bad_month_is_reported(tmp_path: Path) -> None:
    rows, report = run(tmp_path, "MEN_PMSI_MENCUMU", [{"Finess": ET1, "Année": "2025", "Mois": "13"}])
    assert rows == [] and report["rejected_by_reason"] == {"mois_invalide": 1}


# --- MEN_HAPI ------------------------------------------------------------------------------------------------------


def hapi(ej: str, et: str, montant: str, enveloppe: str = "MIG", sous: str = "") -> dict[str, str]:
    return {
        "Finess EJ": ej,
        "Finess": et,
        "Année Campagne HAPI": "2025",
        "Mois Année": "03/2025",
        "Enveloppe": enveloppe,
        "Sous Enveloppe": sous,
        "Mode de Délégation": "Délégué",
        "HAPI - Montant Notifié": montant,
    }


def test_men_hapi_is_imported_for_ets_and_for_the_ej_itself(tmp_path: Path) -> None:
    rows, report = run(
        tmp_path,
        "MEN_HAPI",
        [
            hapi(EJ1, ET1, "125000.50"),
            hapi(EJ1, "", "-2000"),
            hapi(EJ1, ET1, "10", enveloppe="FIR"),
            hapi(EJ1, UNKNOWN_ET, "1"),
            hapi("", ET1, "1"),
        ],
    )
    assert [
        (
            r["beneficiaire"],
            r["numero_finess_etablissement_territorial"],
            r["enveloppe"],
            r["sous_enveloppe"],
            r["montant_notifie"],
        )
        for _, r in rows
    ] == [
        (ET1, ET1, "MIG", "", 125000.5),
        (EJ1, None, "MIG", "", -2000.0),
        (ET1, ET1, "FIR", "", 10.0),
    ]
    assert all(r["numero_finess_entite_juridique"] == EJ1 and r["mois_annee"] == "03/2025" for _, r in rows)
    assert report["rejected_by_reason"] == {"finess_inconnu": 1, "finess_vide": 1}
    assert report["unknown_finess"]["numbers"] == [UNKNOWN_ET]


# --- the whole file -------------------------------------------------------------------------------------------------


def test_a_header_missing_a_label_refuses_the_file(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="« Nombre de passages aux urgences »"):
        run(tmp_path, "ANN_RPU", [], header=["Finess", "Année"])


def test_the_report_is_complete_when_transform_file_returns(tmp_path: Path) -> None:
    path = tmp_path / "ANN_RPU_2026_01_05.CSV"
    path.write_text(
        f"Finess;Année;Nombre de passages aux urgences\n{ET1};2024;x\n{ET2};;1\n", encoding="utf-8"
    )
    found = definition("ANN_RPU")
    assert found is not None
    result = transform_file(path, found, REFERENTIAL, 2026, "ANN_RPU_2026_01_05.CSV")
    assert result.report.rows_read == 2 and result.report.rows_kept == 1
    assert result.report.notes == {"valeur_invalide": 1}  # value cells included, before any row is read
    assert result.tables["activite_sanitaire"]["nombre_passages_urgences"].to_list() == [None]
    ((_, row),) = list(result.rows())
    assert row["nombre_passages_urgences"] is None
    assert result.report.notes == {"valeur_invalide": 1}


# --- the column transform: tables, dtypes, order ----------------------------------------------------------------------


def test_tables_hold_typed_columns_and_empty_blocks_keep_their_schema(tmp_path: Path) -> None:
    path = tmp_path / "QUO_SAN_FINANCE_2026_01_05.CSV"
    header = labels("QUO_SAN_FINANCE")
    row = quo(EJ1, ET1, "2024", "1.5") | {"Dépenses Titre I Budget global": "-2"}
    path.write_text("\n".join([";".join(header), ";".join(row.get(label, "") for label in header)]) + "\n")
    found = definition("QUO_SAN_FINANCE")
    assert found is not None
    tables = transform_file(path, found, REFERENTIAL, 2026).tables
    assert set(tables) == set(found.tables)
    budget = tables["budget_et_finances_sanitaire"]
    assert (
        budget.schema["annee"] == pl.Int32
        and budget.schema["numero_finess_etablissement_territorial"] == pl.String
    )
    assert budget.schema["depenses_titre_i_global"] == pl.Float64
    ej = tables["budget_et_finances_entite_juridique"]  # no EJ-level row: empty, with its columns
    assert ej.height == 0 and ej.columns[:2] == ["annee", "numero_finess_entite_juridique"]
    assert ej.schema["annee"] == pl.Int32 and ej.schema["depenses_titre_i_budget_global"] == pl.Float64


def test_dtypes_of_integer_date_text_and_key_columns(tmp_path: Path) -> None:
    header = labels("ANN_ERRD_EJ_ET")
    row = {"Finess": ET1, "Année": "2024", "Id Dépôt": "7", "Etat taux d'occupation global ERRD": "KO"}
    path = tmp_path / "ANN_ERRD_EJ_ET_2026_01_05.CSV"
    path.write_text(";".join(header) + "\n" + ";".join(row.get(label, "") for label in header) + "\n")
    found = definition("ANN_ERRD_EJ_ET")
    assert found is not None
    (frame,) = transform_file(path, found, REFERENTIAL, 2026).tables.values()
    assert (
        frame.schema["id_depot"] == pl.Int64 and frame.schema["etat_taux_occupation_global_errd"] == pl.String
    )
    rows, _ = run(tmp_path, "MEN_HAPI", [hapi(EJ1, "", "1")])
    assert rows[0][1]["beneficiaire"] == EJ1 and rows[0][1]["sous_enveloppe"] == ""  # text keys: never null


def test_rows_come_in_file_order_of_the_winning_lines_blocks_in_definition_order(tmp_path: Path) -> None:
    def sae(finess: str, year: str, lits: str) -> dict[str, str]:
        return {
            "Finess": finess,
            "Année": year,
            "Nombre de lits de médecine": lits,
            "Nombre journées USLD": "1",
        }

    rows, _ = run(tmp_path, "ANN_SAE", [sae(ET2, "2024", "1"), sae(ET1, "2024", "2"), sae(ET2, "2024", "")])
    assert [(table, row["numero_finess_etablissement_territorial"]) for table, row in rows] == [
        ("activite_sanitaire", ET2),
        ("capacite_autorisation_sanitaire", ET2),
        ("activite_sanitaire", ET1),
        ("capacite_autorisation_sanitaire", ET1),
    ]


def test_an_integer_beyond_int64_is_unreadable(tmp_path: Path) -> None:
    rows, report = run(
        tmp_path,
        "ANN_SAE",
        [
            {
                "Finess": ET1,
                "Année": "2024",
                "Nombre de lits de médecine": "1e19",
                "Nombre de lits de SSR": "9e18",
            }
        ],
    )
    capacities = dict(rows)["capacite_autorisation_sanitaire"]
    assert capacities["nombre_lits_medecine"] is None and capacities["nombre_lits_ssr"] == 9 * 10**18
    assert report["notes"] == {"valeur_invalide": 1}


def test_settling_duplicates_does_not_depend_on_row_order_on_a_larger_file(tmp_path: Path) -> None:
    draw = random.Random(7)
    values = ["", "1", "2", " 2", "2 ", "3.5", "x"]
    rows_in = [
        rpu(
            draw.choice([ET1, ET2, ET3]),
            draw.choice(["2023", "2024"]),
            draw.choice(values),
            draw.choice(["", EJ1, EJ2]),
        )
        for _ in range(120)
    ]
    outcomes = set()
    for seed in range(8):
        shuffled = rows_in[:]
        random.Random(seed).shuffle(shuffled)
        rows, report = run(tmp_path, "ANN_RPU", shuffled, name=f"ANN_RPU_2026_02_0{seed}.CSV")
        kept = sorted(
            (r["annee"], r["numero_finess_etablissement_territorial"], repr(r["nombre_passages_urgences"]))
            for _, r in rows
        )
        outcomes.add(
            (tuple(kept), report["duplicates"]["count"], report["rejected_by_reason"].get("doublon"))
        )
    assert len(outcomes) == 1
    ((kept, duplicates, doublons),) = outcomes
    assert len(kept) == 6 and duplicates == doublons == 114
