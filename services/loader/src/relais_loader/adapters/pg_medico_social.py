"""The Helios medico-social tables, recomputed by the loader from the DIAMANT source tables after the files that
changed them.

When. A file's transaction marks the derived tables its source feeds (`mark_derived`, table
diamant_medico_social_a_recalculer); `settle_medico_social` then recomputes each marked table whole from the source
tables, in a transaction of its own, and forgets the marks. The service settles once for the files it loaded
together (relais_loader.settling), the two groups of derived tables on two connections; `refresh_medico_social`
recomputes in the file's own transaction (tests, one-file callers).

Why this shape. Five files feed four tables, and one (ET, year) of budget_et_finances_medico_social may need three of
them (ANN_ERRD_EJ_ET, ANN_PER_ERRD_EPRD → ANN_ERRD_EJ) or a fourth (ANN_CA_EJ_ET). The files arrive in any order
and any may be re-sent later, so no file can compute a derived row alone: each file replaces its own source table's
years (diamant_*, by pg_indicators), then the derived tables are recomputed from what the source tables now hold.
The result is a function of the source tables only, hence the same whatever the arrival order; a replayed file is a
no-op in the ledger and marks nothing.

Why whole tables. A national extract restates every ET's five years, so a recomputation after a weekly batch
rewrites nearly every derived row anyway; rewriting the table (pg_rewrite: filled by one INSERT … SELECT, then its
key and index built and its references checked in bulk) costs a fraction of upserting each row into the indexed,
foreign-keyed table (measured on 200k rows: 0.65 s against 2.5 s). The ERRD, CA and deposit-rate relations are computed once per
recomputation into temporary tables, since several derived tables read them.

The rules are written twice on purpose: as pure Python in relais_diamant.medico_social (the readable model, unit
tested rule by rule) and here as set-based SQL, because a national batch holds ~200,000 ET-years and a row-by-row
derivation in Python took several times longer. The integration test checks that both give the same tables on
synthetic extracts. An ANN_ERRD_EJ deposit (an EJ's) reaches its ETs through ANN_PER_ERRD_EPRD on `Id Dépôt`;
should a deposit id appear under several years in ANN_ERRD_EJ (not expected), the row of the mapping's year is
taken, else the newest.

Concurrency: one recomputation of a derived table at a time (an advisory lock per table, taken in one order). It
reads the marks after taking its locks, and each statement of a READ COMMITTED transaction sees what committed
before it: a file committed before is recomputed with the others, a file committed after leaves its mark for the
next recomputation. SQL is composed once, at import, from constant column lists (identifiers only).
"""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from relais_diamant import medico_social as rules
from relais_diamant.definitions_medico_social import (
    CA_TABLE,
    ERRD_EJ_TABLE,
    ERRD_ET_TABLE,
    PER_ERRD_TABLE,
    TDP_TABLE,
)
from relais_loader.adapters.pg_rewrite import rewrite_table

ET = rules.ET

# Which derived tables each source table feeds.
_FEEDS: dict[str, tuple[str, ...]] = {
    TDP_TABLE: (rules.ACTIVITE, rules.RESSOURCES_HUMAINES, rules.CPOM),
    ERRD_ET_TABLE: (rules.ACTIVITE, rules.BUDGET, rules.RESSOURCES_HUMAINES),
    CA_TABLE: (rules.ACTIVITE, rules.BUDGET, rules.RESSOURCES_HUMAINES),
    PER_ERRD_TABLE: (rules.BUDGET,),
    ERRD_EJ_TABLE: (rules.BUDGET,),
}


def derived_from(table: str) -> tuple[str, ...]:
    """The derived tables a source table feeds (none for any other table)."""
    return _FEEDS.get(table, ())


# --- SQL building blocks (identifiers only) ----------------------------------------------------------------------------
def _ko(status: str) -> str:
    """`rules.is_ko`: only an explicit KO (case and spaces aside); null is not KO."""
    return f"coalesce(upper(btrim({status})) = 'KO', false)"


def _by_deposit(relation: str, columns: tuple[str, ...]) -> str:
    """`rules.by_deposit` over the rows of `relation` (one per deposit, with `id_depot`), per (year, ET): the highest
    deposit's row, each of its gaps filled by the highest earlier deposit that has the value.

    The deposits are ranked once; most (ET, year) have one deposit, so only the earlier deposits of the others are
    aggregated (an ordered array_agg per column over every row cost seconds on a national file)."""
    firsts = ", ".join(
        f"(array_agg({c} ORDER BY id_depot DESC) FILTER (WHERE {c} IS NOT NULL))[1] AS {c}" for c in columns
    )
    return f"""WITH ranked AS MATERIALIZED (
        SELECT *, row_number() OVER (PARTITION BY annee, {ET} ORDER BY id_depot DESC) AS rang FROM {relation}
    )
    SELECT top.annee, top.{ET}, {", ".join(f"coalesce(top.{c}, earlier.{c}) AS {c}" for c in columns)}
    FROM ranked top
    LEFT JOIN (SELECT annee, {ET}, {firsts} FROM ranked WHERE rang > 1 GROUP BY annee, {ET}) earlier
        USING (annee, {ET})
    WHERE top.rang = 1"""


_ERRD_COLUMNS = (
    *rules.OCCUPATION_ERRD_ONLY,
    *(c for c in rules.OCCUPATION_MERGED if c != "taux_occupation_global"),
    *rules.ERRD_BUDGET,
    "nombre_etp_realises",
    "taux_occupation_global",
)

# One (ET, year) of ERRD: its deposits merged, taux_occupation_global derived per deposit first.
_ERRD_DEPOSITS = f"""(
        SELECT e.*, CASE
            WHEN e.taux_occupation_global_errd IS NOT NULL AND NOT {_ko("e.etat_taux_occupation_global_errd")}
                THEN e.taux_occupation_global_errd
            WHEN NOT {_ko("e.etat_taux_occupation_global_autres_esms")} THEN e.taux_occupation_global_autres_esms
        END AS taux_occupation_global
        FROM {ERRD_ET_TABLE} e
    ) deposits"""
_CA = f"""
    SELECT c.*, CASE WHEN NOT {_ko("c.etat_taux_occupation_global_ca")} THEN c.taux_occupation_global_ca END
        AS taux_occupation_global
    FROM {CA_TABLE} c"""
_RATE_DEPOSITS = f"""(
        SELECT DISTINCT ON (p.annee, p.{ET}, p.id_depot) p.annee, p.{ET}, p.id_depot,
               {", ".join(f"e.{c}" for c in rules.ERRD_RATES)}
        FROM {PER_ERRD_TABLE} p JOIN {ERRD_EJ_TABLE} e ON e.id_depot = p.id_depot
        ORDER BY p.annee, p.{ET}, p.id_depot, (e.annee = p.annee) DESC, e.annee DESC
    ) deposits"""

# Intermediate relations, one row per (year, ET), computed once per recomputation into temporary tables (three
# derived tables read the same ones).
INTERMEDIATE: dict[str, str] = {
    "tdp": f"SELECT * FROM {TDP_TABLE}",
    "errd": _by_deposit(_ERRD_DEPOSITS, _ERRD_COLUMNS),
    "ca": _CA,
    "rates": _by_deposit(_RATE_DEPOSITS, rules.ERRD_RATES),
}
_NEEDS: dict[str, tuple[str, ...]] = {
    rules.ACTIVITE: ("tdp", "errd", "ca"),
    rules.BUDGET: ("errd", "ca", "rates"),
    rules.RESSOURCES_HUMAINES: ("tdp", "errd", "ca"),
    rules.CPOM: (),
}


def _temp(name: str) -> str:
    return f"medico_social_{name}"


def _from(*names: str) -> str:
    """Intermediate relations joined on (year, ET), each under its own name: every key of any of them, once (the
    USING columns of a full join are the first non-null side's)."""
    first, *others = names
    joins = " ".join(f"FULL JOIN {_temp(n)} {n} USING (annee, {ET})" for n in others)
    return f"FROM {_temp(first)} {first} {joins}"


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
{_from(*_NEEDS[rules.ACTIVITE])}"""

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
{_from(*_NEEDS[rules.BUDGET])}"""

_RESSOURCES_HUMAINES = f"""
SELECT annee, {ET}, {_listed("tdp.{c}", rules.RH_TDP)},
    coalesce(errd.nombre_etp_realises, ca.nombre_etp_realises) AS nombre_etp_realises
{_from(*_NEEDS[rules.RESSOURCES_HUMAINES])}"""

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


def _insert_sql(table: str) -> str:
    listed = ", ".join((*rules.KEYS[table], *rules.COLUMNS[table]))
    return f'INSERT INTO "{table}" ({listed}) SELECT {listed} FROM ({_COMPUTE[table]}) computed'


PENDING = "diamant_medico_social_a_recalculer"


async def lock_derived(conn: asyncpg.Connection, tables: Iterable[str]) -> None:
    """Hold the recomputation locks of `tables` until the end of the transaction (always taken in one order)."""
    for table in sorted(set(tables)):
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('diamant medico-social ' || $1))", table)


async def mark_derived(conn: asyncpg.Connection, derived: Iterable[str], source_table: str) -> None:
    """In the file's transaction, before it writes its source table: these derived tables must be recomputed. (Marks
    are only inserted: a recomputation deletes the committed ones it sees and never waits for this one.)"""
    await conn.execute(
        f"INSERT INTO {PENDING} (derived_table, source_table) SELECT unnest($1::text[]), $2",
        sorted(derived),
        source_table,
    )


async def pending_medico_social(conn: asyncpg.Connection) -> list[str]:
    """The derived tables marked by committed files (or by this transaction)."""
    found = {
        row["derived_table"] for row in await conn.fetch(f"SELECT DISTINCT derived_table FROM {PENDING}")
    }
    return [table for table in rules.COLUMNS if table in found]


# Derived tables recomputed together, in one transaction, because they read the same intermediate relations: activity,
# human resources and CPOM (dashboard, ERRD, CA) on one connection, the budget (ERRD, CA, deposit rates) on another.
SETTLE_GROUPS: tuple[tuple[str, ...], ...] = (
    (rules.ACTIVITE, rules.RESSOURCES_HUMAINES, rules.CPOM),
    (rules.BUDGET,),
)


def settle_groups(tables: Iterable[str]) -> list[list[str]]:
    """`tables` (derived tables marked) as the groups `settle_medico_social` takes."""
    wanted = set(tables)
    return [found for group in SETTLE_GROUPS if (found := [t for t in group if t in wanted])]


async def settle_medico_social(conn: asyncpg.Connection, tables: Iterable[str]) -> list[str]:
    """Recompute the marked tables among `tables` whole, and forget their marks; returns the tables recomputed. Call
    in a transaction of its own, after the files' transactions committed: files committed meanwhile are recomputed
    together. The derived tables are independent (each a function of the source tables): disjoint groups may be
    recomputed at once, on as many connections (`settle_groups`)."""
    wanted = sorted(set(tables))
    await lock_derived(conn, wanted)
    marked = await conn.fetch(
        f"DELETE FROM {PENDING} WHERE derived_table = ANY($1::text[]) RETURNING derived_table", wanted
    )
    derived = [table for table in rules.COLUMNS if table in {r["derived_table"] for r in marked}]
    if not derived:
        return []
    # For the rest of the transaction: these statements sort and hash a few hundred thousand rows, which spill to
    # disk at the default work_mem; JIT compilation cost more than it saved on them.
    await conn.execute("SET LOCAL work_mem = '64MB'")
    await conn.execute("SET LOCAL jit = off")
    for name in sorted({name for table in derived for name in _NEEDS[table]}):
        await conn.execute(f"DROP TABLE IF EXISTS {_temp(name)}")
        await conn.execute(f"CREATE TEMP TABLE {_temp(name)} ON COMMIT DROP AS {INTERMEDIATE[name]}")
        # Statistics on the join keys only: what the plans of the joins need, for a fraction of a full ANALYZE.
        await conn.execute(f"ANALYZE {_temp(name)} (annee, {ET})")
    for table in derived:

        async def fill(table: str = table) -> None:
            await conn.execute(_insert_sql(table))

        await rewrite_table(conn, table, fill)
    return derived


async def refresh_medico_social(conn: asyncpg.Connection) -> list[str]:
    """Recompute every marked derived table in the current transaction (tests, and one-file callers: such a caller
    takes the recomputation locks before writing its source table — `lock_derived` — or two of them loading at once
    could each wait for the other)."""
    return await settle_medico_social(conn, rules.COLUMNS)
