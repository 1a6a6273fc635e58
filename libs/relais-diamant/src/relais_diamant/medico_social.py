"""The medico-social rules of shared/specs/diamant.md §5, as pure functions: one establishment's rows of the five
source tables in, its rows of activite_medico_social, budget_et_finances_medico_social,
ressources_humaines_medico_social and cpom out.

- ERRD deposits: an (ET, year) may have several ERRD deposits (a corrected ERRD re-deposited). The highest `Id Dépôt`
  is authoritative and earlier deposits fill its gaps, column by column. Rows are sorted by deposit id here, never
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

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

Row = Mapping[str, Any]
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


# --- single rules ----------------------------------------------------------------------------------------------------
def is_ko(status: str | None) -> bool:
    """Only an explicit `KO` is KO (case and spaces aside); a null or any other status is not."""
    return status is not None and status.strip().upper() == "KO"


def occupation_globale_errd(row: Row) -> float | None:
    rate: float | None = row.get("taux_occupation_global_errd")
    if rate is not None and not is_ko(row.get("etat_taux_occupation_global_errd")):
        return rate
    autres: float | None = row.get("taux_occupation_global_autres_esms")
    return None if is_ko(row.get("etat_taux_occupation_global_autres_esms")) else autres


def occupation_globale_ca(row: Row) -> float | None:
    rate: float | None = row.get("taux_occupation_global_ca")
    return None if is_ko(row.get("etat_taux_occupation_global_ca")) else rate


def by_deposit(rows: Iterable[Row], columns: Sequence[str]) -> dict[str, Any]:
    """Per column, the value of the highest deposit (`id_depot`) that has one: the newest deposit wins, earlier ones
    fill its gaps. Sorted here, so the file order of the deposits does not matter."""
    ordered = sorted(rows, key=lambda row: row["id_depot"], reverse=True)
    return {
        column: next((row[column] for row in ordered if row.get(column) is not None), None)
        for column in columns
    }


def cadre_budgetaire_ca(ca: Row) -> str:
    return CADRE_CA_PH if ca.get("resultat_net_comptable_ca_ph") is not None else CADRE_CA_PA


def first_not_null(*values: Any) -> Any:
    return next((value for value in values if value is not None), None)


# --- one (ET, year) ------------------------------------------------------------------------------------------------
def _errd_merged(errd: Sequence[Row]) -> dict[str, Any] | None:
    """An (ET, year)'s ERRD deposits as one row, taux_occupation_global derived per deposit first."""
    if not errd:
        return None
    derived = [{**row, "taux_occupation_global": occupation_globale_errd(row)} for row in errd]
    columns = (*OCCUPATION_ERRD_ONLY, *OCCUPATION_MERGED, *ERRD_BUDGET, "nombre_etp_realises")
    return by_deposit(derived, columns)


def activite(tdp: Row | None, errd: dict[str, Any] | None, ca: Row | None) -> dict[str, Any] | None:
    if tdp is None and errd is None and ca is None:
        return None
    errd = errd or {}
    ca_values = dict(ca or {})
    if ca is not None:
        ca_values["taux_occupation_global"] = occupation_globale_ca(ca)
    row: dict[str, Any] = {column: errd.get(column) for column in OCCUPATION_ERRD_ONLY}
    for column in OCCUPATION_MERGED:
        row[column] = first_not_null(ca_values.get(column), errd.get(column))
    row["taux_occupation_seances"] = ca_values.get("taux_occupation_seances")
    tdp = tdp or {}
    row["taux_realisation_activite"] = first_not_null(
        tdp.get("taux_realisation_activite_esms"), tdp.get("taux_realisation_activite_camsp_cmpp")
    )
    for column in ACTIVITE_TDP:
        row[column] = tdp.get(column)
    return row


def budget(errd: dict[str, Any] | None, rates: Sequence[Row], ca: Row | None) -> dict[str, Any] | None:
    if errd is not None or rates:
        row: dict[str, Any] = {column: (errd or {}).get(column) for column in ERRD_BUDGET}
        row.update(by_deposit(rates, ERRD_RATES))
        row.update(cadre_budgetaire=CADRE_ERRD, charges=None, produits=None)
        return row
    if ca is None:
        return None
    row = {column: ca.get(column) for column in GROUPES}
    row.update(
        cadre_budgetaire=cadre_budgetaire_ca(ca),
        resultat_net_comptable=first_not_null(
            ca.get("resultat_net_comptable_ca_ph"), ca.get("resultat_net_comptable_ca_pa")
        ),
        contribution_frais_de_siege_groupement=None,
        charges=ca.get("charges"),
        produits=ca.get("produits"),
        taux_de_caf=ca.get("taux_de_caf"),
        taux_de_vetuste_construction=ca.get("taux_de_vetuste_construction"),
        fonds_de_roulement=None,
    )
    return row


def ressources_humaines(
    tdp: Row | None, errd: dict[str, Any] | None, ca: Row | None
) -> dict[str, Any] | None:
    if tdp is None and errd is None and ca is None:
        return None
    row: dict[str, Any] = {column: (tdp or {}).get(column) for column in RH_TDP}
    row["nombre_etp_realises"] = first_not_null(
        (errd or {}).get("nombre_etp_realises"), (ca or {}).get("nombre_etp_realises")
    )
    return row


def cpom(tdp_by_year: Mapping[int, Row]) -> date | None:
    """The CPOM date of the newest year that has one."""
    return next(
        (
            tdp_by_year[year]["date_d_entree_en_vigueur"]
            for year in sorted(tdp_by_year, reverse=True)
            if tdp_by_year[year].get("date_d_entree_en_vigueur") is not None
        ),
        None,
    )


# --- one establishment -----------------------------------------------------------------------------------------------
@dataclass(slots=True)
class EtablissementSources:
    """Every source row of one ET, by year. `errd` and `rates` hold one row per deposit (each with `id_depot`)."""

    finess: str
    tdp: dict[int, Row] = field(default_factory=dict)
    errd: dict[int, list[Row]] = field(default_factory=lambda: defaultdict(list))
    ca: dict[int, Row] = field(default_factory=dict)
    rates: dict[int, list[Row]] = field(default_factory=lambda: defaultdict(list))


def derive(sources: EtablissementSources) -> dict[str, list[dict[str, Any]]]:
    """The ET's rows of the four derived tables, each with its key columns and every column of its table."""
    out: dict[str, list[dict[str, Any]]] = {table: [] for table in COLUMNS}
    years = sorted(set(sources.tdp) | set(sources.errd) | set(sources.ca) | set(sources.rates))
    for year in years:
        tdp, ca = sources.tdp.get(year), sources.ca.get(year)
        errd = _errd_merged(sources.errd.get(year, ()))
        key = {"annee": year, ET: sources.finess}
        for table, row in (
            (ACTIVITE, activite(tdp, errd, ca)),
            (BUDGET, budget(errd, sources.rates.get(year, ()), ca)),
            (RESSOURCES_HUMAINES, ressources_humaines(tdp, errd, ca)),
        ):
            if row is not None:
                out[table].append({**key, **row})
    date_cpom = cpom(sources.tdp)
    if date_cpom is not None:
        out[CPOM].append({ET: sources.finess, "date_d_entree_en_vigueur": date_cpom})
    return out
