"""The four Helios tables derived from the medico-social sources (activite_medico_social,
budget_et_finances_medico_social, ressources_humaines_medico_social, cpom): their names, keys and columns, and the
rules of shared/specs/diamant.md §5 that derive them. The loader applies the rules in SQL
(relais_loader.adapters.pg_medico_social_sql); the tests check it against a readable model of the same rules
written in Python (relais_testing.oracles.medico_social).

- ERRD deposits: an (ET, year) may have several ERRD deposits (a corrected ERRD re-deposited). The highest `Id Dépôt`
  is authoritative and earlier deposits fill its gaps, column by column. Rows are sorted by deposit id, never
  taken in the order they were read (the reference implementation relies on file order).
- taux_occupation_global, ERRD: the ERRD global rate when present and its status is not `KO`, else the "Autres ESMS"
  global rate when its status is not `KO`. A null status is not `KO`. Derived per deposit, then merged as above.
  CA: the CA global rate when its status is not `KO`.
- Activity: CA wins, ERRD fills its gaps, for externat, semi-internat, internat, autre and global; accueil de jour,
  hébergement temporaire and permanent exist in ERRD only, séances in CA only; the rest comes from ANN_MS_TDP_ET.
  taux_realisation_activite is the "Tout ESMS" rate, else the "CAMSP et CMPP" one.
- Budget: an (ET, year) with an ERRD (a row of ANN_ERRD_EJ_ET, or an ANN_ERRD_EJ deposit mapped to it by
  ANN_PER_ERRD_EPRD) takes the ERRD row whole (cadre_budgetaire `ERRD`, its rates from ANN_ERRD_EJ); otherwise the CA
  row: cadre_budgetaire `CA_PH` when the PH result is present, else `CA_PA`, and the result is the PH one, else PA.
  Whole rows, never mixed: a CA `charges` beside an ERRD result would describe neither.
- Human resources: ANN_MS_TDP_ET's rates; nombre_etp_realises from ERRD first, then CA.
- CPOM: per ET, the date of the newest year whose date is filled.

An (ET, year) gets a row in a derived table when one of the files feeding that table has a row for it.
"""

from __future__ import annotations

ET = "numero_finess_etablissement_territorial"

ACTIVITE = "activite_medico_social"
BUDGET = "budget_et_finances_medico_social"
RESSOURCES_HUMAINES = "ressources_humaines_medico_social"
CPOM = "cpom"

CADRE_ERRD, CADRE_CA_PA, CADRE_CA_PH = "ERRD", "CA_PA", "CA_PH"

# --- column lists of the derived tables (the Helios names) ---------------------------------------------------------
OCCUPATION_MERGED = (
    "taux_occupation_externat",
    "taux_occupation_semi_internat",
    "taux_occupation_internat",
    "taux_occupation_autre",
    "taux_occupation_global",
)
OCCUPATION_ERRD_ONLY = (
    "taux_occupation_accueil_de_jour",
    "taux_occupation_en_hebergement_temporaire",
    "taux_occupation_en_hebergement_permanent",
)
ACTIVITE_TDP = (
    "nombre_moyen_journees_absence_personnes_accompagnees",
    "duree_moyenne_sejour_accompagnement_personnes_sorties",
    "file_active_personnes_accompagnees",
)
ACTIVITE_COLUMNS = (
    *OCCUPATION_ERRD_ONLY,
    *OCCUPATION_MERGED,
    "taux_occupation_seances",
    "taux_realisation_activite",
    *ACTIVITE_TDP,
)
GROUPES = tuple(f"{kind}_groupe_{n}" for kind in ("depenses", "recettes") for n in ("i", "ii", "iii"))
ERRD_BUDGET = ("contribution_frais_de_siege_groupement", *GROUPES, "resultat_net_comptable")
ERRD_RATES = ("taux_de_caf", "taux_de_vetuste_construction", "fonds_de_roulement")
BUDGET_COLUMNS = (
    "cadre_budgetaire",
    *ERRD_BUDGET,
    "charges",
    "produits",
    *ERRD_RATES,
)
RH_TDP = (
    "nombre_cdd_remplacement",
    "taux_etp_vacants",
    "taux_prestation_externes",
    "taux_rotation_personnel",
    "taux_absenteisme_maladie_courte_duree",
    "taux_absenteisme_maladie_moyenne_duree",
    "taux_absenteisme_maladie_longue_duree",
    "taux_absenteisme_maternite_paternite",
    "taux_absenteisme_accident_maladie_professionnelle",
    "taux_absenteisme_conges_speciaux",
    "taux_absenteisme_hors_formation",
)
RH_COLUMNS = (*RH_TDP, "nombre_etp_realises")
CPOM_COLUMNS = ("date_d_entree_en_vigueur",)

COLUMNS: dict[str, tuple[str, ...]] = {
    ACTIVITE: ACTIVITE_COLUMNS,
    BUDGET: BUDGET_COLUMNS,
    RESSOURCES_HUMAINES: RH_COLUMNS,
    CPOM: CPOM_COLUMNS,
}
KEYS: dict[str, tuple[str, ...]] = {
    ACTIVITE: ("annee", ET),
    BUDGET: ("annee", ET),
    RESSOURCES_HUMAINES: ("annee", ET),
    CPOM: (ET,),
}
