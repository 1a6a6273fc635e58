"""The Helios medico-social tables, recomputed by the loader from the DIAMANT source tables after the files that
changed them.

When. A file's transaction records the ETs whose source rows it changed, per derived table its source feeds
(`record_medico_social_changes`, table diamant_medico_social_a_recalculer); `settle_medico_social` then recomputes a
derived table for every ET recorded for it and deletes the records, in a transaction of its own. The service settles
once for the files it loaded together (relais_loader.settling), each derived table on its own connection; a national
batch's five medico-social files used to rewrite the same ~200k derived rows per table five times, in each file's
transaction. `refresh_medico_social` does both in the file's transaction (tests, one-file callers).

Why this shape. Five files feed four tables, and one (ET, year) of budget_et_finances_medico_social may need three of
them (ANN_ERRD_EJ_ET, ANN_PER_ERRD_EPRD → ANN_ERRD_EJ) or a fourth (ANN_CA_EJ_ET). The files arrive in any order
and any may be re-sent later, so no file can compute a derived row alone: each file writes its own source table
(diamant_*, plain upserts by pg_indicators), then this hook recomputes the derived rows of the ETs it touched from
what the source tables now hold. The result is a function of the source tables only, hence the same whatever the
arrival order; replaying a file changes no source row and so no derived row.

The rules are written twice on purpose: as pure Python in relais_diamant.medico_social (the readable model, unit
tested rule by rule) and here as set-based SQL, because a national file touches ~40,000 ETs and a row-by-row
derivation in Python (fetch, derive, write back) took several times longer than one statement per table. The
integration test checks that both give the same tables on synthetic extracts.

Which rows are recomputed: every year of the ETs whose source rows the file inserted or changed (the CPOM rule spans
years), and only the derived tables its source feeds (ANN_MS_TDP_ET: activity, human resources, CPOM;
ANN_ERRD_EJ_ET and ANN_CA_EJ_ET: activity, budget, human resources; ANN_ERRD_EJ and ANN_PER_ERRD_EPRD: budget).
Changed rows are found by their xmin, the id of the transaction that wrote them, compared with the id of the file's
own (sub)transaction: the upsert leaves an unchanged row untouched, so a weekly extract that repeats most of the
previous one recomputes only what moved, and a re-sent file nothing. An ANN_ERRD_EJ deposit (an EJ's) reaches its
ETs through ANN_PER_ERRD_EPRD on `Id Dépôt`; should a deposit id appear under several years in ANN_ERRD_EJ (not
expected), the row of the mapping's year is taken, else the newest.

The ERRD, CA, dashboard and deposit-rate relations a derived table needs are computed for the touched ETs into
temporary tables; then the derived table is refreshed by one statement, in the style of pg_aggregates: rows whose values are
unchanged are not rewritten, rows of the touched ETs that are no longer derived are deleted. SQL is composed once,
at import, from constant column lists (identifiers only).

Concurrency: loads of different sources are not serialised by the loader (its advisory lock is per source), and a
recomputation must see every committed source row. So a recomputation of a derived table first takes that table's
advisory lock and reads the records only after it (each statement of a READ COMMITTED transaction sees what committed
before it): a file committed before is recomputed with the others, a file committed after is left recorded for the
next recomputation.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import asyncpg

from relais_contracts.rows import TableRow
from relais_diamant import medico_social as rules
from relais_diamant.definitions_medico_social import (
    CA_TABLE,
    ERRD_EJ_TABLE,
    ERRD_ET_TABLE,
    PER_ERRD_TABLE,
    TDP_TABLE,
)

ET = rules.ET
TOUCHED = "medico_social_touched"

# Which derived tables each source table feeds.
_FEEDS: dict[str, tuple[str, ...]] = {
    TDP_TABLE: (rules.ACTIVITE, rules.RESSOURCES_HUMAINES, rules.CPOM),
    ERRD_ET_TABLE: (rules.ACTIVITE, rules.BUDGET, rules.RESSOURCES_HUMAINES),
    CA_TABLE: (rules.ACTIVITE, rules.BUDGET, rules.RESSOURCES_HUMAINES),
    PER_ERRD_TABLE: (rules.BUDGET,),
    ERRD_EJ_TABLE: (rules.BUDGET,),
}


class TouchedMedicoSocial:
    """Watches a file's rows on their way to the database: which medico-social source tables it writes."""

    def __init__(self) -> None:
        self.sources: set[str] = set()

    def watch(self, rows: Iterable[TableRow]) -> Iterator[TableRow]:
        for item in rows:
            if item[0] in _FEEDS:
                self.sources.add(item[0])
            yield item

    @property
    def derived(self) -> set[str]:
        return {table for source in self.sources for table in _FEEDS[source]}


# --- SQL building blocks (identifiers only) ----------------------------------------------------------------------------
def _ko(status: str) -> str:
    """`rules.is_ko`: only an explicit KO (case and spaces aside); null is not KO."""
    return f"coalesce(upper(btrim({status})) = 'KO', false)"


def _by_deposit(relation: str, where: str, columns: tuple[str, ...]) -> str:
    """`rules.by_deposit` over the rows of `relation` (one per deposit, with `id_depot`), per (year, ET): the highest
    deposit's row, each of its gaps filled by the highest earlier deposit that has the value.

    Most (ET, year) have one deposit, so the top row is taken by one ranking, and only the earlier deposits are
    aggregated (an ordered array_agg per column over every row cost seconds on a national file)."""
    firsts = ", ".join(
        f"(array_agg({c} ORDER BY id_depot DESC) FILTER (WHERE {c} IS NOT NULL))[1] AS {c}" for c in columns
    )
    return f"""SELECT top.annee, top.{ET}, {", ".join(f"coalesce(top.{c}, earlier.{c}) AS {c}" for c in columns)}
    FROM (
        SELECT *, row_number() OVER (PARTITION BY annee, {ET} ORDER BY id_depot DESC) AS rang
        FROM {relation} WHERE {where}
    ) top
    LEFT JOIN (
        SELECT annee, {ET}, {firsts}
        FROM (
            SELECT *, row_number() OVER (PARTITION BY annee, {ET} ORDER BY id_depot DESC) AS rang
            FROM {relation} WHERE {where}
        ) ranked
        WHERE rang > 1 GROUP BY annee, {ET}
    ) earlier USING (annee, {ET})
    WHERE top.rang = 1"""


_ERRD_COLUMNS = (
    *rules.OCCUPATION_ERRD_ONLY,
    *(c for c in rules.OCCUPATION_MERGED if c != "taux_occupation_global"),
    *rules.ERRD_BUDGET,
    "nombre_etp_realises",
    "taux_occupation_global",
)
_TOUCHED_ETS = f"SELECT {ET} FROM {TOUCHED}"

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
    FROM {CA_TABLE} c WHERE c.{ET} IN ({_TOUCHED_ETS})"""
_RATE_DEPOSITS = f"""(
        SELECT DISTINCT ON (p.annee, p.{ET}, p.id_depot) p.annee, p.{ET}, p.id_depot,
               {", ".join(f"e.{c}" for c in rules.ERRD_RATES)}
        FROM {PER_ERRD_TABLE} p JOIN {ERRD_EJ_TABLE} e ON e.id_depot = p.id_depot
        WHERE p.{ET} IN ({_TOUCHED_ETS})
        ORDER BY p.annee, p.{ET}, p.id_depot, (e.annee = p.annee) DESC, e.annee DESC
    ) deposits"""

# Intermediate relations, one row per (year, ET) of the touched ETs, computed once per file into temporary tables
# (three derived tables read the same ones).
INTERMEDIATE: dict[str, str] = {
    "tdp": f"SELECT * FROM {TDP_TABLE} WHERE {ET} IN ({_TOUCHED_ETS})",
    "errd": _by_deposit(_ERRD_DEPOSITS, f"{ET} IN ({_TOUCHED_ETS})", _ERRD_COLUMNS),
    "ca": _CA,
    "rates": _by_deposit(_RATE_DEPOSITS, "true", rules.ERRD_RATES),
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
    """The union of the (year, ET) keys of intermediate relations, each joined to it under its own name."""
    keys = " UNION ".join(f"SELECT annee, {ET} FROM {_temp(n)}" for n in names)
    joins = " ".join(f"LEFT JOIN {_temp(n)} {n} USING (annee, {ET})" for n in names)
    return f"FROM ({keys}) k {joins}"


def _listed(template: str, columns: Iterable[str]) -> str:
    return ", ".join(template.format(c=c) for c in columns)


_ACTIVITE = f"""
SELECT k.annee, k.{ET},
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
SELECT k.annee, k.{ET},
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
SELECT k.annee, k.{ET}, {_listed("tdp.{c}", rules.RH_TDP)},
    coalesce(errd.nombre_etp_realises, ca.nombre_etp_realises) AS nombre_etp_realises
{_from(*_NEEDS[rules.RESSOURCES_HUMAINES])}"""

_CPOM = f"""
SELECT DISTINCT ON ({ET}) {ET}, date_d_entree_en_vigueur
FROM {TDP_TABLE}
WHERE {ET} IN ({_TOUCHED_ETS}) AND date_d_entree_en_vigueur IS NOT NULL
ORDER BY {ET}, annee DESC"""

_COMPUTE = {
    rules.ACTIVITE: _ACTIVITE,
    rules.BUDGET: _BUDGET,
    rules.RESSOURCES_HUMAINES: _RESSOURCES_HUMAINES,
    rules.CPOM: _CPOM,
}


def _refresh_sql(table: str) -> str:
    """Upsert what changed and delete what is no longer derived, for the touched ETs: one statement."""
    key, values = rules.KEYS[table], rules.COLUMNS[table]
    listed = ", ".join((*key, *values))
    matched = " AND ".join(f"c.{k} = t.{k}" for k in key)
    old = ", ".join(f"{table}.{c}" for c in values)
    new = ", ".join(f"EXCLUDED.{c}" for c in values)
    return f"""
WITH computed AS MATERIALIZED ({_COMPUTE[table]}
), removed AS (
    DELETE FROM {table} t WHERE t.{ET} IN ({_TOUCHED_ETS})
      AND NOT EXISTS (SELECT 1 FROM computed c WHERE {matched})
)
INSERT INTO {table} ({listed}) SELECT {listed} FROM computed
ON CONFLICT ({", ".join(key)}) DO UPDATE SET {", ".join(f"{c} = EXCLUDED.{c}" for c in values)}
WHERE ({old}) IS DISTINCT FROM ({new})"""


REFRESH_SQL = {table: _refresh_sql(table) for table in rules.COLUMNS}


_MARKER = "medico_social_marker"
PENDING = "diamant_medico_social_a_recalculer"


def _changed_ets(source: str) -> str:
    """The ETs whose rows of `source` the file inserted or changed: those rows carry the writing transaction's id as
    their xmin ($1). An upsert leaves an unchanged row as it was, so a re-sent file changes no row and touches no ET."""
    if source == ERRD_EJ_TABLE:
        return f"""SELECT DISTINCT p.{ET} FROM {PER_ERRD_TABLE} p JOIN {ERRD_EJ_TABLE} e ON e.id_depot = p.id_depot
                   WHERE e.xmin::text = $1"""
    return f"SELECT DISTINCT {ET} FROM {source} WHERE xmin::text = $1"


async def record_medico_social_changes(conn: asyncpg.Connection, touched: TouchedMedicoSocial) -> None:
    """Record, in the file's transaction, the ETs whose source rows the file inserted or changed, for each derived
    table their source feeds (`settle_medico_social` recomputes them). Call right after the file's rows are written,
    at the same transaction level (the id of that level identifies the rows the file wrote)."""
    if not touched.sources:
        return
    # The id of the (sub)transaction that wrote the file's rows, read from a row written the same way.
    await conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_MARKER} (x integer) ON COMMIT DROP")
    writer = await conn.fetchval(f"INSERT INTO {_MARKER} VALUES (1) RETURNING xmin::text")
    for source in sorted(touched.sources):
        await conn.execute(
            f"""INSERT INTO {PENDING} (derived_table, source_table, {ET})
                SELECT derived.name, $2::text, changed.{ET}
                FROM ({_changed_ets(source)}) changed CROSS JOIN unnest($3::text[]) AS derived (name)
                ORDER BY 1, 3
                ON CONFLICT DO NOTHING""",
            writer,
            source,
            sorted(_FEEDS[source]),
        )


async def pending_medico_social(conn: asyncpg.Connection) -> list[str]:
    """The derived tables some ETs wait for (recorded by committed files, or by this transaction)."""
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
    """`tables` (derived tables with ETs recorded) as the groups `settle_medico_social` takes."""
    wanted = set(tables)
    return [found for group in SETTLE_GROUPS if (found := [t for t in group if t in wanted])]


async def settle_medico_social(conn: asyncpg.Connection, tables: Iterable[str]) -> dict[str, str]:
    """Recompute the derived `tables` for every ET recorded for any of them, and forget those records; returns each
    refreshed table's command status. Call in a transaction of its own, after the files' transactions committed:
    files committed meanwhile are recomputed together. One recomputation of a table runs at a time (an advisory lock
    per table, taken in one order); it reads the records after taking the locks, so a file committed before that is
    included, and one committed after is left for the next. The derived tables are independent (each a function of
    the source tables): disjoint groups may be recomputed at once, on as many connections (`settle_groups`)."""
    wanted = sorted(set(tables))
    for table in wanted:
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('diamant medico-social ' || $1))", table)
    await conn.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {TOUCHED} ({ET} varchar(9) PRIMARY KEY) ON COMMIT DROP"
    )
    await conn.execute(f"TRUNCATE {TOUCHED}")
    recorded = await conn.fetch(
        f"""WITH done AS (DELETE FROM {PENDING} WHERE derived_table = ANY($1::text[]) RETURNING derived_table, {ET}),
                 ets AS (INSERT INTO {TOUCHED} SELECT DISTINCT {ET} FROM done)
            SELECT DISTINCT derived_table FROM done""",
        wanted,
    )
    # An ET recorded for one table of the group is recomputed in the others too: a row whose values do not change is
    # not rewritten (REFRESH_SQL), so that costs reading only.
    derived = [table for table in rules.COLUMNS if table in {r["derived_table"] for r in recorded}]
    if not derived:
        return {}
    await conn.execute(f"ANALYZE {TOUCHED}")
    # For the rest of the transaction: these statements sort and hash a few hundred thousand rows, which spill to
    # disk at the default work_mem; JIT compilation cost more than it saved on them.
    await conn.execute("SET LOCAL work_mem = '32MB'")
    await conn.execute("SET LOCAL jit = off")
    for name in sorted({name for table in derived for name in _NEEDS[table]}):
        await conn.execute(f"DROP TABLE IF EXISTS {_temp(name)}")
        await conn.execute(f"CREATE TEMP TABLE {_temp(name)} ON COMMIT DROP AS {INTERMEDIATE[name]}")
        await conn.execute(f"ANALYZE {_temp(name)}")
    return {table: await conn.execute(REFRESH_SQL[table]) for table in derived}


async def refresh_medico_social(conn: asyncpg.Connection, touched: TouchedMedicoSocial) -> dict[str, str]:
    """Record the file's changes and recompute at once, every derived table, in the file's transaction (tests, and
    one-file callers); returns each refreshed table's command status."""
    await record_medico_social_changes(conn, touched)
    return await settle_medico_social(conn, rules.COLUMNS)
