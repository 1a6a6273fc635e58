"""The Helios medico-social tables as set-based SQL over the DIAMANT source tables (diamant_*): the rules of
relais_testing.oracles.medico_social (the readable model, unit tested rule by rule), written again here because a
national batch holds ~200,000 ET-years and a row-by-row derivation in Python took several times longer. The loader's
integration test checks that both give the same tables on synthetic extracts.

The ERRD, CA and deposit-rate relations (`INTERMEDIATE`, one row per year and ET) are computed once per
recomputation, since several derived tables read them; each derived table is then filled by one INSERT … SELECT
(`insert_sql`). An ANN_ERRD_EJ deposit (an EJ's) reaches its ETs through ANN_PER_ERRD_EPRD on `Id Dépôt`; should a
deposit id appear under several years in ANN_ERRD_EJ (not expected), the row of the mapping's year is taken, else
the newest. SQL is composed once, at import, from constant column lists (identifiers only).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from relais_diamant import medico_social as rules
from relais_diamant.definitions_medico_social import (
    CA_TABLE,
    ERRD_EJ_TABLE,
    ERRD_ET_TABLE,
    PER_ERRD_TABLE,
    TDP_TABLE,
)

ET = rules.ET


def _ko(status: str) -> str:
    """`rules.is_ko`: only an explicit KO (case and spaces aside); null is not KO."""
    return f"coalesce(upper(btrim({status})) = 'KO', false)"


def _by_deposit(deposits: str, columns: tuple[str, ...]) -> str:
    """`rules.by_deposit` over the rows of the query `deposits` (one per deposit, with `id_depot`), per (year, ET):
    the highest deposit's row, each of its gaps filled by the highest earlier deposit that has the value.

    The deposits are ranked once; most (ET, year) have one deposit, so only the earlier deposits of the others are
    aggregated (an ordered array_agg per column over every row cost seconds on a national file)."""
    firsts = ", ".join(
        f"(array_agg({c} ORDER BY id_depot DESC) FILTER (WHERE {c} IS NOT NULL))[1] AS {c}" for c in columns
    )
    return f"""WITH ranked AS MATERIALIZED (
        SELECT d.*, row_number() OVER (PARTITION BY annee, {ET} ORDER BY id_depot DESC) AS rang FROM ({deposits}) d
    ), earlier AS (
        SELECT annee, {ET}, {firsts} FROM ranked WHERE rang > 1 GROUP BY annee, {ET}
    )
    SELECT top.annee, top.{ET}, {", ".join(f"coalesce(top.{c}, earlier.{c}) AS {c}" for c in columns)}
    FROM ranked top LEFT JOIN earlier USING (annee, {ET})
    WHERE top.rang = 1"""


_ERRD_COLUMNS = (
    *rules.OCCUPATION_ERRD_ONLY,
    *(c for c in rules.OCCUPATION_MERGED if c != "taux_occupation_global"),
    *rules.ERRD_BUDGET,
    "nombre_etp_realises",
    "taux_occupation_global",
)

# The ERRD deposits of an (ET, year), taux_occupation_global derived per deposit first.
_ERRD_DEPOSITS = f"""
        SELECT e.*, CASE
            WHEN e.taux_occupation_global_errd IS NOT NULL AND NOT {_ko("e.etat_taux_occupation_global_errd")}
                THEN e.taux_occupation_global_errd
            WHEN NOT {_ko("e.etat_taux_occupation_global_autres_esms")} THEN e.taux_occupation_global_autres_esms
        END AS taux_occupation_global
        FROM {ERRD_ET_TABLE} e"""
_CA = f"""
    SELECT c.*, CASE WHEN NOT {_ko("c.etat_taux_occupation_global_ca")} THEN c.taux_occupation_global_ca END
        AS taux_occupation_global
    FROM {CA_TABLE} c"""
# The deposits mapped to an (ET, year), each with the rates of its ANN_ERRD_EJ row: the row of the mapping's year,
# else the deposit's newest (a deposit id is not expected under several years).
_RATES = ", ".join(
    f"CASE WHEN same.id_depot IS NOT NULL THEN same.{c} ELSE newest.{c} END AS {c}" for c in rules.ERRD_RATES
)
_RATE_DEPOSITS = f"""
        SELECT p.annee, p.{ET}, p.id_depot, {_RATES}
        FROM {PER_ERRD_TABLE} p
        LEFT JOIN {ERRD_EJ_TABLE} same ON same.id_depot = p.id_depot AND same.annee = p.annee
        LEFT JOIN (SELECT DISTINCT ON (id_depot) * FROM {ERRD_EJ_TABLE} ORDER BY id_depot, annee DESC) newest
            ON newest.id_depot = p.id_depot AND same.id_depot IS NULL
        WHERE same.id_depot IS NOT NULL OR newest.id_depot IS NOT NULL"""

# Intermediate relations, one row per (year, ET), computed once per recomputation into temporary tables (three
# derived tables read the same ones).
INTERMEDIATE: dict[str, str] = {
    "errd": _by_deposit(_ERRD_DEPOSITS, _ERRD_COLUMNS),
    "ca": _CA,
    "rates": _by_deposit(_RATE_DEPOSITS, rules.ERRD_RATES),
}
NEEDS: dict[str, tuple[str, ...]] = {
    rules.ACTIVITE: ("tdp", "errd", "ca"),
    rules.BUDGET: ("errd", "ca", "rates"),
    rules.RESSOURCES_HUMAINES: ("tdp", "errd", "ca"),
    rules.CPOM: (),
}


def _at(name: str) -> str:
    """Where the relation `name` will be, filled in by `insert_sql` (the dashboard's is its source table)."""
    return TDP_TABLE if name == "tdp" else f"@{name}@"


def _from(*names: str) -> str:
    """Intermediate relations joined on (year, ET), each under its own name: every key of any of them, once (the
    USING columns of a full join are the first non-null side's)."""
    first, *others = names
    joins = " ".join(f"FULL JOIN {_at(n)} {n} USING (annee, {ET})" for n in others)
    return f"FROM {_at(first)} {first} {joins}"


def _listed(template: str, columns: Iterable[str]) -> str:
    return ", ".join(template.format(c=c) for c in columns)


_ACTIVITE = f"""
SELECT annee, {ET},
    {_listed("errd.{c}", rules.OCCUPATION_ERRD_ONLY)},
    {_listed("coalesce(ca.{c}, errd.{c}) AS {c}", rules.OCCUPATION_MERGED)},
    ca.taux_occupation_seances,
    coalesce(tdp.taux_realisation_activite_esms, tdp.taux_realisation_activite_camsp_cmpp)
        AS taux_realisation_activite,
    {_listed("tdp.{c}", rules.ACTIVITE_TDP)}
{_from(*NEEDS[rules.ACTIVITE])}"""

# An (ET, year) with an ERRD (a row of ANN_ERRD_EJ_ET or a mapped deposit) takes the ERRD row whole, else the CA's.
_IS_ERRD = f"(errd.{ET} IS NOT NULL OR rates.{ET} IS NOT NULL)"
_BUDGET = f"""
SELECT annee, {ET},
    (CASE WHEN {
    _IS_ERRD
} THEN 'ERRD' WHEN ca.resultat_net_comptable_ca_ph IS NOT NULL THEN 'CA_PH' ELSE 'CA_PA' END
        )::cadre_budgetaire AS cadre_budgetaire,
    CASE WHEN {_IS_ERRD} THEN errd.contribution_frais_de_siege_groupement END
        AS contribution_frais_de_siege_groupement,
    {_listed(f"CASE WHEN {_IS_ERRD} THEN errd.{{c}} ELSE ca.{{c}} END AS {{c}}", rules.GROUPES)},
    CASE WHEN {_IS_ERRD} THEN errd.resultat_net_comptable
         ELSE coalesce(ca.resultat_net_comptable_ca_ph, ca.resultat_net_comptable_ca_pa) END
        AS resultat_net_comptable,
    {_listed(f"CASE WHEN NOT {_IS_ERRD} THEN ca.{{c}} END AS {{c}}", ("charges", "produits"))},
    {
    _listed(
        f"CASE WHEN {_IS_ERRD} THEN rates.{{c}} ELSE ca.{{c}} END AS {{c}}",
        ("taux_de_caf", "taux_de_vetuste_construction"),
    )
},
    rates.fonds_de_roulement
{_from(*NEEDS[rules.BUDGET])}"""

_RESSOURCES_HUMAINES = f"""
SELECT annee, {ET}, {_listed("tdp.{c}", rules.RH_TDP)},
    coalesce(errd.nombre_etp_realises, ca.nombre_etp_realises) AS nombre_etp_realises
{_from(*NEEDS[rules.RESSOURCES_HUMAINES])}"""

_CPOM = f"""
SELECT DISTINCT ON ({ET}) {ET}, date_d_entree_en_vigueur
FROM {TDP_TABLE}
WHERE date_d_entree_en_vigueur IS NOT NULL
ORDER BY {ET}, annee DESC"""

_COMPUTE = {
    rules.ACTIVITE: _ACTIVITE,
    rules.BUDGET: _BUDGET,
    rules.RESSOURCES_HUMAINES: _RESSOURCES_HUMAINES,
    rules.CPOM: _CPOM,
}


def insert_sql(table: str, relation: Callable[[str], str]) -> str:
    """The statement that fills the derived `table`, reading each intermediate relation `name` at `relation(name)`."""
    listed = ", ".join((*rules.KEYS[table], *rules.COLUMNS[table]))
    statement = f'INSERT INTO "{table}" ({listed}) SELECT {listed} FROM ({_COMPUTE[table]}) computed'
    for name in INTERMEDIATE:
        statement = statement.replace(f"@{name}@", relation(name))
    return statement
