"""The medico-social rules of shared/specs/diamant.md §5 (listed in relais_diamant.medico_social), as pure
functions: one establishment's rows of the five source tables in, its rows of activite_medico_social,
budget_et_finances_medico_social, ressources_humaines_medico_social and cpom out.

The loader computes the same tables in SQL over whole batches (relais_loader.adapters.pg_medico_social_sql); this
model, unit tested rule by rule, is what its results are checked against. The table and column names come from
relais_diamant.medico_social, re-exported so a test reads `medico_social.COLUMNS` beside `medico_social.derive`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from relais_diamant.medico_social import (
    ACTIVITE,
    ACTIVITE_TDP,
    BUDGET,
    CADRE_CA_PA,
    CADRE_CA_PH,
    CADRE_ERRD,
    COLUMNS,
    CPOM,
    ERRD_BUDGET,
    ERRD_RATES,
    ET,
    GROUPES,
    KEYS,
    OCCUPATION_ERRD_ONLY,
    OCCUPATION_MERGED,
    RESSOURCES_HUMAINES,
    RH_TDP,
)

Row = Mapping[str, Any]

__all__ = [
    "ACTIVITE",
    "ACTIVITE_TDP",
    "BUDGET",
    "CADRE_CA_PA",
    "CADRE_CA_PH",
    "CADRE_ERRD",
    "COLUMNS",
    "CPOM",
    "ERRD_BUDGET",
    "ERRD_RATES",
    "ET",
    "GROUPES",
    "KEYS",
    "OCCUPATION_ERRD_ONLY",
    "OCCUPATION_MERGED",
    "RESSOURCES_HUMAINES",
    "RH_TDP",
    "EtablissementSources",
    "Row",
    "activite",
    "budget",
    "by_deposit",
    "cadre_budgetaire_ca",
    "cpom",
    "derive",
    "first_not_null",
    "is_ko",
    "occupation_globale_ca",
    "occupation_globale_errd",
    "ressources_humaines",
]


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
