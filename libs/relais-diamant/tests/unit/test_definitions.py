"""The declarative definitions: every handled source, its labels (spec §4), keys, levels, blocks and tables."""

import pytest

from relais_diamant.definitions import (
    DEFINITIONS,
    EJ,
    ET,
    MENCUMU_GENERATION_BEFORE_2024,
    Kind,
    Level,
    Period,
    Scope,
    definition,
    labels,
)
from relais_diamant.sources import DiamantSource

HEALTH = {"MEN_PMSI_ANNUEL", "ANN_RPU", "ANN_SAE", "MEN_PMSI_MENCUMU", "QUO_SAN_FINANCE", "MEN_HAPI"}
MEDICO_SOCIAL = {"ANN_MS_TDP_ET", "ANN_ERRD_EJ_ET", "ANN_CA_EJ_ET", "ANN_ERRD_EJ", "ANN_PER_ERRD_EPRD"}


def test_every_source_is_defined() -> None:
    for source in HEALTH | MEDICO_SOCIAL:
        assert definition(source) is not None
    assert {s.value for s in DEFINITIONS} == HEALTH | MEDICO_SOCIAL
    assert definition("NOT_A_SOURCE") is None


@pytest.mark.parametrize("source", sorted(HEALTH | MEDICO_SOCIAL))
def test_every_block_refers_to_fields_of_its_source(source: str) -> None:
    found = definition(source)
    assert found is not None
    names = {f.name for g in found.generations for f in g.fields}
    assert found.year_field in names
    for block in found.blocks:
        assert block.finess in names
        for field, _ in (*block.keys, *block.values):
            assert field in names or field == "beneficiaire", (source, field)
        assert len(set(block.key_columns)) == len(block.key_columns)
        columns = [c for _, c in (*block.keys, *block.values)]
        assert len(columns) == len(set(columns)), (source, block.table)


@pytest.mark.parametrize(
    ("source", "period", "tables"),
    [
        ("MEN_PMSI_ANNUEL", Period.ANNUAL, ("activite_sanitaire",)),
        ("ANN_RPU", Period.ANNUAL, ("activite_sanitaire",)),
        ("ANN_SAE", Period.ANNUAL, ("activite_sanitaire", "capacite_autorisation_sanitaire")),
        ("MEN_PMSI_MENCUMU", Period.MONTHLY, ("activite_sanitaire_mensuel",)),
        (
            "QUO_SAN_FINANCE",
            Period.ANNUAL,
            (
                "budget_et_finances_sanitaire",
                "ressources_humaines_sanitaire",
                "budget_et_finances_entite_juridique",
                "ressources_humaines_entite_juridique",
            ),
        ),
        ("MEN_HAPI", Period.MONTHLY, ("allocations",)),
    ],
)
def test_targets_and_periods(source: str, period: Period, tables: tuple[str, ...]) -> None:
    found = definition(source)
    assert found is not None
    assert found.period is period
    assert found.tables == tables


def test_spec_labels_map_to_the_reference_columns() -> None:
    def mapping(source: str, table: str) -> dict[str, str]:
        found = definition(source)
        assert found is not None
        by_name = {f.name: f.label for g in found.generations for f in g.fields}
        block = next(b for b in found.blocks if b.table == table)
        return {by_name[field]: column for field, column in block.values if field in by_name}

    pmsi = mapping("MEN_PMSI_ANNUEL", "activite_sanitaire")
    assert pmsi["Nb journées HTP PSY"] == "nombre_journees_partielles_psy"
    assert pmsi["Nb journées hospit complète PSY"] == "nombre_journees_complete_psy"
    assert pmsi["DMS MCO Obstétrique"] == "duree_moyenne_sejour_obstetrique"
    assert len(pmsi) == 14
    assert mapping("ANN_RPU", "activite_sanitaire") == {
        "Nombre de passages aux urgences": "nombre_passages_urgences"
    }
    assert mapping("ANN_SAE", "activite_sanitaire") == {"Nombre journées USLD": "nombre_journees_usld"}
    capacities = mapping("ANN_SAE", "capacite_autorisation_sanitaire")
    assert capacities["Nb de places PSY PeC temps partiel hors ambu"] == "nombre_places_psy_partiel"
    assert len(capacities) == 11
    mencumu = mapping("MEN_PMSI_MENCUMU", "activite_sanitaire_mensuel")
    assert mencumu["Nombre de séjours mensuels  HTP/AMBU Chirurgie"] == "nombre_sejours_partiels_chirurgie"
    assert "Nombre de séjours mensuels cumulés Médecine" in labels(
        "MEN_PMSI_MENCUMU", MENCUMU_GENERATION_BEFORE_2024
    )
    assert mencumu["Nombre total de journées cumulés mensuels HTP PSY"] == "nombre_journees_partielles_psy"
    et_budget = mapping("QUO_SAN_FINANCE", "budget_et_finances_sanitaire")
    ej_budget = mapping("QUO_SAN_FINANCE", "budget_et_finances_entite_juridique")
    assert et_budget["Dépenses Titre IV Budget global"] == "depenses_titre_iv_global"
    assert ej_budget["Dépenses Titre IV Budget global"] == "depenses_titre_iv_budget_global"
    assert ej_budget["Recettes Titre III Budget H"] == "recettes_titre_iii_budget_h"
    assert et_budget["FRNG"] == ej_budget["FRNG"] == "fonds_de_roulement"
    assert "Recettes Titre IV Budget H" not in et_budget
    assert len(et_budget) == len(ej_budget) == 21
    assert mapping("QUO_SAN_FINANCE", "ressources_humaines_entite_juridique")["Jours d'absentéisme PNM"] == (
        "jours_absenteisme_pnm"
    )
    assert mapping("MEN_HAPI", "allocations")["HAPI - Montant Notifié"] == "montant_notifie"


def test_quo_san_finance_separates_ej_rows_from_et_rows_by_scope() -> None:
    found = definition(DiamantSource.QUO_SAN_FINANCE)
    assert found is not None and found.et_field == "finess_et"
    scopes = {b.table: (b.scope, b.level, b.key_columns) for b in found.blocks}
    assert scopes["budget_et_finances_sanitaire"] == (Scope.ET_ROWS, Level.ET, ("annee", ET))
    assert scopes["ressources_humaines_entite_juridique"] == (Scope.EJ_ROWS, Level.EJ, ("annee", EJ))


def test_capacities_are_integers_and_finess_columns_text() -> None:
    found = definition("ANN_SAE")
    assert found is not None
    kinds = {f.name: f.kind for f in found.generations[0].fields}
    assert kinds["finess"] is Kind.FINESS
    assert kinds["nombre_lits_usld"] is Kind.INTEGER
    assert kinds["nombre_journees_usld"] is Kind.FLOAT


def test_labels_are_listed_for_generators() -> None:
    assert labels("MEN_HAPI") == [
        "Finess EJ",
        "Finess",
        "Année Campagne HAPI",
        "Mois Année",
        "Enveloppe",
        "Sous Enveloppe",
        "Mode de Délégation",
        "HAPI - Montant Notifié",
    ]
    with pytest.raises(KeyError):
        labels("NOT_A_SOURCE")


def test_medico_social_labels_map_to_their_source_table_columns() -> None:
    def mapping(source: str) -> dict[str, str]:
        found = definition(source)
        assert found is not None
        (block,) = found.blocks
        by_name = {f.name: f.label for g in found.generations for f in g.fields}
        return {by_name[field]: column for field, column in (*block.keys, *block.values)}

    tdp = mapping("ANN_MS_TDP_ET")
    # Typographic apostrophes, as in the real files; both realisation rates kept for the rule to choose.
    assert tdp["Taux de réalisation de l’activité Tout ESMS (Hors services CAMSP et CMPP)"] == (
        "taux_realisation_activite_esms"
    )
    assert tdp["Taux de réalisation de l’activité CAMSP et CMPP"] == "taux_realisation_activite_camsp_cmpp"
    assert tdp["Date d'entrée en vigueur du CPOM"] == "date_d_entree_en_vigueur"
    assert len(tdp) == 2 + 17
    errd = mapping("ANN_ERRD_EJ_ET")
    assert errd["Id Dépôt"] == "id_depot"
    assert errd["655 Quotes-parts de résultat sur opérations faites en commun"] == (
        "contribution_frais_de_siege_groupement"
    )
    assert errd["Nombre ETP total réalisé ERRD"] == mapping("ANN_CA_EJ_ET")["Nombre ETP total réalisé CA"]
    assert mapping("ANN_ERRD_EJ")["Fonds de roulement net global ERRD"] == "fonds_de_roulement"
    assert mapping("ANN_PER_ERRD_EPRD") == {
        "Année": "annee",
        "Finess": ET,
        "Id Dépôt": "id_depot",
    }
    kinds = {f.name: f.kind for f in definition("ANN_ERRD_EJ_ET").generations[0].fields}  # type: ignore[union-attr]
    assert kinds["id_depot"] is Kind.INTEGER and kinds["etat_taux_occupation_global_errd"] is Kind.TEXT
