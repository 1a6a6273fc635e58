"""The medico-social oracle (the rules of spec §5 in Python), one rule at a time, on hand-made source rows."""

from datetime import date
from itertools import permutations
from typing import Any

import pytest

from relais_testing.oracles import medico_social as ms
from relais_testing.oracles.medico_social import EtablissementSources, derive

ET1 = "010000115"


def errd(depot: int, **values: Any) -> dict[str, Any]:
    return {"id_depot": depot, **values}


# --- taux_occupation_global from ERRD: status fallbacks --------------------------------------------------------------
@pytest.mark.parametrize(
    ("etat_errd", "etat_autres", "expected"),
    [
        ("OK", "OK", 0.91),  # ERRD rate, status not KO
        (None, "KO", 0.91),  # a null status is not KO
        ("KO", "OK", 0.75),  # ERRD KO: the "Autres ESMS" rate
        ("KO", None, 0.75),  # … whose null status is not KO either
        ("ko ", None, 0.75),  # KO whatever its case and spaces
        ("KO", "KO", None),  # both KO: no global rate
    ],
)
def test_errd_global_occupancy_falls_back_on_status(
    etat_errd: str | None, etat_autres: str | None, expected: float | None
) -> None:
    row = {
        "taux_occupation_global_errd": 0.91,
        "etat_taux_occupation_global_errd": etat_errd,
        "taux_occupation_global_autres_esms": 0.75,
        "etat_taux_occupation_global_autres_esms": etat_autres,
    }
    assert ms.occupation_globale_errd(row) == expected


def test_a_missing_errd_rate_falls_back_on_autres_esms_even_when_its_status_is_ok() -> None:
    row = {
        "taux_occupation_global_errd": None,
        "etat_taux_occupation_global_errd": "OK",
        "taux_occupation_global_autres_esms": 0.8,
        "etat_taux_occupation_global_autres_esms": None,
    }
    assert ms.occupation_globale_errd(row) == 0.8


@pytest.mark.parametrize(("etat", "expected"), [("OK", 0.88), (None, 0.88), ("KO", None)])
def test_ca_global_occupancy_is_kept_unless_ko(etat: str | None, expected: float | None) -> None:
    assert ms.occupation_globale_ca(
        {"taux_occupation_global_ca": 0.88, "etat_taux_occupation_global_ca": etat}
    ) == (expected)


# --- activity: CA wins, ERRD fills gaps --------------------------------------------------------------------------------
def test_ca_occupancy_wins_over_errd_and_errd_fills_its_gaps() -> None:
    sources = EtablissementSources(ET1)
    sources.errd[2023].append(
        errd(
            7,
            taux_occupation_externat=0.5,
            taux_occupation_internat=0.6,
            taux_occupation_autre=0.7,
            taux_occupation_accueil_de_jour=0.4,
            taux_occupation_global_errd=0.95,
            etat_taux_occupation_global_errd="OK",
        )
    )
    sources.ca[2023] = {
        "taux_occupation_externat": 0.81,
        "taux_occupation_internat": None,  # gap: ERRD fills it
        "taux_occupation_seances": 0.3,
        "taux_occupation_global_ca": 0.85,
        "etat_taux_occupation_global_ca": "KO",  # KO: no CA global, ERRD's fills the gap
    }
    (row,) = derive(sources)[ms.ACTIVITE]
    assert row["taux_occupation_externat"] == 0.81
    assert row["taux_occupation_internat"] == 0.6
    assert row["taux_occupation_autre"] == 0.7
    assert row["taux_occupation_semi_internat"] is None
    assert row["taux_occupation_global"] == 0.95
    assert row["taux_occupation_accueil_de_jour"] == 0.4  # ERRD only
    assert row["taux_occupation_seances"] == 0.3  # CA only


def test_ca_global_occupancy_wins_when_not_ko() -> None:
    sources = EtablissementSources(ET1)
    sources.errd[2023].append(errd(7, taux_occupation_global_errd=0.95))
    sources.ca[2023] = {"taux_occupation_global_ca": 0.85, "etat_taux_occupation_global_ca": None}
    assert derive(sources)[ms.ACTIVITE][0]["taux_occupation_global"] == 0.85


def test_realisation_rate_is_the_esms_one_else_the_camsp_cmpp_one_and_dashboard_values_pass() -> None:
    sources = EtablissementSources(ET1)
    sources.tdp[2022] = {"taux_realisation_activite_esms": 0.97, "taux_realisation_activite_camsp_cmpp": 0.5}
    sources.tdp[2023] = {
        "taux_realisation_activite_esms": None,
        "taux_realisation_activite_camsp_cmpp": 0.5,
        "file_active_personnes_accompagnees": 120.0,
    }
    rows = {r["annee"]: r for r in derive(sources)[ms.ACTIVITE]}
    assert rows[2022]["taux_realisation_activite"] == 0.97
    assert rows[2023]["taux_realisation_activite"] == 0.5
    assert rows[2023]["file_active_personnes_accompagnees"] == 120.0
    assert rows[2023]["taux_occupation_global"] is None


# --- ERRD deposits: highest wins, earlier fill gaps, whatever the order -----------------------------------------------
def test_the_highest_deposit_wins_and_earlier_ones_fill_its_gaps_in_any_order() -> None:
    deposits = [
        errd(12, taux_de_caf=0.05, taux_de_vetuste_construction=None, fonds_de_roulement=None),
        errd(30, taux_de_caf=0.07, taux_de_vetuste_construction=None, fonds_de_roulement=None),
        errd(20, taux_de_caf=0.06, taux_de_vetuste_construction=0.4, fonds_de_roulement=None),
    ]
    for order in permutations(deposits):
        merged = ms.by_deposit(order, ms.ERRD_RATES)
        assert merged == {
            "taux_de_caf": 0.07,
            "taux_de_vetuste_construction": 0.4,
            "fonds_de_roulement": None,
        }


def test_errd_budget_rates_come_per_deposit_and_occupancy_is_derived_per_deposit_before_merging() -> None:
    sources = EtablissementSources(ET1)
    # Deposit 2 (the correction) has a KO global rate and no "Autres ESMS" rate: its global is null, so deposit 1's
    # global fills the gap; its result wins over deposit 1's.
    sources.errd[2023] += [
        errd(
            2,
            taux_occupation_global_errd=0.99,
            etat_taux_occupation_global_errd="KO",
            resultat_net_comptable=-5.0,
        ),
        errd(1, taux_occupation_global_errd=0.9, resultat_net_comptable=10.0, depenses_groupe_i=-100.0),
    ]
    sources.rates[2023] += [errd(1, taux_de_caf=0.02, fonds_de_roulement=500.0), errd(2, taux_de_caf=0.03)]
    derived = derive(sources)
    (budget,) = derived[ms.BUDGET]
    assert budget["cadre_budgetaire"] == "ERRD"
    assert budget["resultat_net_comptable"] == -5.0 and budget["depenses_groupe_i"] == -100.0
    assert budget["taux_de_caf"] == 0.03 and budget["fonds_de_roulement"] == 500.0
    assert derived[ms.ACTIVITE][0]["taux_occupation_global"] == 0.9


# --- budget: ERRD wins over CA; cadre_budgetaire -----------------------------------------------------------------------
CA_PH = {
    "resultat_net_comptable_ca_ph": 12.0,
    "resultat_net_comptable_ca_pa": 99.0,
    "charges": -1.0,
    "produits": 2.0,
    "taux_de_caf": 0.1,
    "depenses_groupe_i": -7.0,
}


def test_errd_wins_over_ca_for_the_budget_whole_row() -> None:
    sources = EtablissementSources(ET1)
    sources.errd[2023].append(errd(4, resultat_net_comptable=3.0))
    sources.ca[2023] = CA_PH
    (row,) = derive(sources)[ms.BUDGET]
    assert row["cadre_budgetaire"] == "ERRD" and row["resultat_net_comptable"] == 3.0
    assert row["charges"] is None and row["taux_de_caf"] is None and row["depenses_groupe_i"] is None


def test_an_errd_deposit_mapped_to_the_et_is_an_errd_even_without_an_errd_et_row() -> None:
    sources = EtablissementSources(ET1)
    sources.rates[2023].append(errd(4, taux_de_caf=0.04))
    sources.ca[2023] = CA_PH
    (row,) = derive(sources)[ms.BUDGET]
    assert (row["cadre_budgetaire"], row["taux_de_caf"], row["resultat_net_comptable"]) == (
        "ERRD",
        0.04,
        None,
    )


def test_ca_cadre_is_ph_when_the_ph_result_is_present_else_pa() -> None:
    sources = EtablissementSources(ET1)
    sources.ca[2022] = CA_PH
    sources.ca[2023] = {**CA_PH, "resultat_net_comptable_ca_ph": None}
    rows = {r["annee"]: r for r in derive(sources)[ms.BUDGET]}
    assert (rows[2022]["cadre_budgetaire"], rows[2022]["resultat_net_comptable"]) == ("CA_PH", 12.0)
    assert (rows[2023]["cadre_budgetaire"], rows[2023]["resultat_net_comptable"]) == ("CA_PA", 99.0)
    assert rows[2023]["charges"] == -1.0 and rows[2023]["depenses_groupe_i"] == -7.0
    assert rows[2023]["fonds_de_roulement"] is None


# --- human resources: ETP from ERRD first, then CA --------------------------------------------------------------------
def test_etp_come_from_errd_first_then_ca() -> None:
    sources = EtablissementSources(ET1)
    sources.errd[2022].append(errd(1, nombre_etp_realises=40.5))
    sources.errd[2023].append(errd(2, nombre_etp_realises=None))
    for year in (2022, 2023, 2024):
        sources.ca[year] = {"nombre_etp_realises": 30.0}
    sources.tdp[2024] = {"taux_etp_vacants": 0.05}
    rows = {r["annee"]: r for r in derive(sources)[ms.RESSOURCES_HUMAINES]}
    assert [rows[y]["nombre_etp_realises"] for y in (2022, 2023, 2024)] == [40.5, 30.0, 30.0]
    assert rows[2024]["taux_etp_vacants"] == 0.05 and rows[2022]["taux_etp_vacants"] is None


# --- CPOM: newest non-null per ET ---------------------------------------------------------------------------------------
def test_cpom_is_the_date_of_the_newest_year_that_has_one() -> None:
    sources = EtablissementSources(ET1)
    sources.tdp[2021] = {"date_d_entree_en_vigueur": date(2019, 1, 1)}
    sources.tdp[2022] = {"date_d_entree_en_vigueur": date(2022, 3, 1)}
    sources.tdp[2023] = {"date_d_entree_en_vigueur": None}
    assert derive(sources)[ms.CPOM] == [{ms.ET: ET1, "date_d_entree_en_vigueur": date(2022, 3, 1)}]
    assert derive(EtablissementSources(ET1, tdp={2023: {"date_d_entree_en_vigueur": None}}))[ms.CPOM] == []


def test_a_year_without_any_source_row_gives_no_derived_row_and_every_column_is_present() -> None:
    sources = EtablissementSources(ET1)
    sources.ca[2023] = {"nombre_etp_realises": 3.0}
    derived = derive(sources)
    assert [r["annee"] for r in derived[ms.ACTIVITE]] == [2023]
    for table, rows in derived.items():
        for row in rows:
            assert set(row) == set(ms.KEYS[table]) | set(ms.COLUMNS[table])
