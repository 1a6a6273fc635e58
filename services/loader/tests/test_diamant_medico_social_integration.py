"""The five medico-social DIAMANT files, transformed and loaded through the loader's functions on the real
PostgreSQL, in two different orders: the same source tables and the same Helios tables (activite_medico_social,
budget_et_finances_medico_social, ressources_humaines_medico_social, cpom), equal to expectations worked out by hand
below; replaying every file rewrites no row, and a re-sent extract of the same content leaves the same tables. The same order-independence on synthetic files from the generator
(ERRD deposit ids agreeing across the three ERRD files, re-deposits, duplicates, unknown FINESS, blank years)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from relais_diamant.definitions import labels
from relais_diamant.definitions_medico_social import SOURCE_TABLES
from relais_diamant.sources import DiamantSource
from relais_loader.adapters.pg_indicators import TableFile, load_file
from relais_loader.adapters.pg_medico_social import (
    PENDING,
    pending_medico_social,
    settle_in_parallel,
    settle_medico_social,
)
from relais_synthetic.diamant import Quirks, establishments_from, write_diamant_files
from relais_synthetic.finess import generate_referential
from relais_testing.diamant import csv as csv_of
from relais_testing.diamant import transform_extract
from relais_testing.infra import Infra, fresh_database
from relais_testing.oracles import medico_social

pytestmark = pytest.mark.integration

N = 2026
EJ_A, EJ_B = "010000016", "010000024"
A1, A2 = "010000115", "010000123"
B1 = "2A0000022"
ET = "numero_finess_etablissement_territorial"
DERIVED = (
    "activite_medico_social",
    "budget_et_finances_medico_social",
    "ressources_humaines_medico_social",
    "cpom",
)
MEDICO_SOCIAL = ("ANN_MS_TDP_ET", "ANN_ERRD_EJ_ET", "ANN_CA_EJ_ET", "ANN_ERRD_EJ", "ANN_PER_ERRD_EPRD")


@pytest.fixture(scope="module")
async def database(infra: Infra) -> AsyncIterator[str]:
    async with fresh_database(infra.database_url, "relais_diamant_ms") as url:
        connection = await asyncpg.connect(url)
        try:
            await connection.executemany(
                "INSERT INTO entite_juridique (numero_finess_entite_juridique, raison_sociale) VALUES ($1, $2)",
                [(EJ_A, "Association A"), (EJ_B, "Association B")],
            )
            await connection.executemany(
                f"""INSERT INTO etablissement_territorial ({ET}, numero_finess_entite_juridique, raison_sociale,
                       categorie) VALUES ($1, $2, $3, '500')""",
                [(A1, EJ_A, "EHPAD A1"), (A2, EJ_A, "IME A2"), (B1, EJ_B, "ESAT B1")],
            )
        finally:
            await connection.close()
        yield url


@pytest.fixture(scope="module")
async def conn(database: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database)
    try:
        yield connection
    finally:
        await connection.close()


def csv(source: str, rows: list[dict[str, str]]) -> str:
    return csv_of(labels(source), rows)


async def load(
    conn: asyncpg.Connection,
    tmp_path: Path,
    source: str,
    text: str,
    extracted: date,
    salt: str = "",
    settle: bool = True,
) -> str:
    """Transformed, stored, loaded in one transaction (which recomputes the derived tables too, unless `settle` is
    false: then they wait for a recomputation after the commit)."""
    extract = await transform_extract(conn, tmp_path, source, text, extracted, N, salt)
    async with conn.transaction():
        outcome, _ = await load_file(
            conn,
            file_id=extract.file_id,
            source=source,
            file_name=extract.file_name,
            extraction_date=extracted,
            tables=[TableFile(table, path) for table, path in extract.tables],
            years=extract.years,
            quality_report=json.dumps(extract.report),
            reference_year=N,
            settle_medico_social=settle,
        )
    return outcome


async def snapshot(conn: asyncpg.Connection, xmin: bool = False) -> dict[str, list[tuple[Any, ...]]]:
    """Every medico-social table, rows sorted; with `xmin`, a rewritten row shows even when its values are equal."""
    prefix = "xmin::text, " if xmin else ""
    return {
        table: sorted(
            (tuple(r) for r in await conn.fetch(f"SELECT {prefix}* FROM {table}")),
            key=lambda row: tuple(str(v) for v in row),
        )
        for table in (*SOURCE_TABLES, *DERIVED)
    }


async def empty(conn: asyncpg.Connection) -> None:
    tables = ", ".join((*SOURCE_TABLES, *DERIVED, PENDING, "loaded_file", "date_mise_a_jour_fichier_source"))
    await conn.execute(f"TRUNCATE {tables}")


async def derived_in_python(conn: asyncpg.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """The derived tables as the reference model (relais_testing.oracles.medico_social) computes them from the source tables:
    the loader's SQL must give the same."""
    sources: dict[str, medico_social.EtablissementSources] = {}

    def of(et: str) -> medico_social.EtablissementSources:
        return sources.setdefault(et, medico_social.EtablissementSources(et))

    for r in await conn.fetch("SELECT * FROM diamant_ms_tdp_et"):
        of(r[ET]).tdp[r["annee"]] = dict(r)
    for r in await conn.fetch("SELECT * FROM diamant_ca_ej_et"):
        of(r[ET]).ca[r["annee"]] = dict(r)
    for r in await conn.fetch("SELECT * FROM diamant_errd_ej_et"):
        of(r[ET]).errd[r["annee"]].append(dict(r))
    for r in await conn.fetch(
        f"""SELECT p.annee, p.{ET}, p.id_depot, e.taux_de_caf, e.taux_de_vetuste_construction, e.fonds_de_roulement
            FROM diamant_per_errd_eprd p JOIN diamant_errd_ej e ON e.id_depot = p.id_depot AND e.annee = p.annee"""
    ):
        of(r[ET]).rates[r["annee"]].append(dict(r))
    out: dict[str, list[tuple[Any, ...]]] = {table: [] for table in DERIVED}
    for found in sources.values():
        for table, rows in medico_social.derive(found).items():
            columns = (*medico_social.KEYS[table], *medico_social.COLUMNS[table])
            out[table] += [tuple(row[c] for c in columns) for row in rows]
    return {table: sorted(rows, key=lambda row: tuple(str(v) for v in row)) for table, rows in out.items()}


async def derived_in_sql(conn: asyncpg.Connection) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    for table in DERIVED:
        columns = ", ".join((*medico_social.KEYS[table], *medico_social.COLUMNS[table]))
        rows = [tuple(r) for r in await conn.fetch(f"SELECT {columns} FROM {table}")]
        out[table] = sorted(rows, key=lambda row: tuple(str(v) for v in row))
    return out


async def non_null(conn: asyncpg.Connection, table: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    """A derived table as {key: its non-null value columns}."""
    out = {}
    for record in await conn.fetch(f"SELECT * FROM {table}"):
        row = dict(record)
        key = (row.pop("annee", None), row.pop(ET))
        out[key] = {c: v for c, v in row.items() if v is not None}
    return out


# --- the hand-made files ---------------------------------------------------------------------------------------------
CPOM = "Date d'entrée en vigueur du CPOM"
ESMS = "Taux de réalisation de l’activité Tout ESMS (Hors services CAMSP et CMPP)"
CAMSP = "Taux de réalisation de l’activité CAMSP et CMPP"

TDP = csv(
    "ANN_MS_TDP_ET",
    [
        {
            "Finess": A1,
            "Année": "2023",
            "Nombre moyen de journées d'absence des personnes accompagnées sur la période": "3.5",
            "Durée moyenne de séjour/d'accompagnement": "400",
            "File active des personnes accompagnées sur la période": "80",
            ESMS: ".95",
            "Nombre de CDD de remplacement": "4",
            "Taux d'absentéisme (hors formation)": "0.1",
            CPOM: "01/02/2020",
        },
        {"Finess": A1, "Année": "2024", CAMSP: "0.88"},  # no ESMS rate: the CAMSP/CMPP one; no CPOM date
        {"Finess": A2, "Année": "2024", ESMS: "0.9", CPOM: "15/06/2023"},
        {"Finess": B1, "Année": "2024", "Taux d'ETP vacants au 31/12": "2.5E-2"},
    ],
)
ERRD_ET = csv(
    "ANN_ERRD_EJ_ET",
    [
        # A1 2024: a corrected ERRD (deposit …002) listed before the first one (…001).
        {
            "Finess": A1,
            "Année": "2024",
            "Id Dépôt": "24000002",
            "Taux d'occupation des places autorisées en hébergement permanent": "0.97",
            "Taux d'occupation global ERRD": "0.99",
            "Etat taux d'occupation global ERRD": "KO",
            "Taux d'occupation global Autres ESMS": "0.8",  # status empty: not KO
            "MS Résultat net comptable ERRD": "-5000",
        },
        {
            "Finess": A1,
            "Année": "2024",
            "Id Dépôt": "24000001",
            "Taux d'occupation des lits autorisés en accueil de jour": "0.5",
            "Taux d'occupation des places autorisées en hébergement permanent": "0.9",
            "Taux d'occupation global ERRD": "0.93",
            "Etat taux d'occupation global ERRD": "OK",
            "Dépenses Groupe I ERRD": "-200",
            "MS Résultat net comptable ERRD": "1000",
            "Nombre ETP total réalisé ERRD": "50",
        },
        {
            "Finess": A2,
            "Année": "2023",
            "Id Dépôt": "23000001",
            "Taux d'occupation Externat Autres ESMS": "0.6",
            "Taux d'occupation Internat Autres ESMS": "0.65",
            "Etat taux d'occupation global ERRD": "OK",  # no ERRD rate
            "Taux d'occupation global Autres ESMS": "0.7",
            "Etat taux d'occupation global Autres ESMS": "KO",
            "MS Résultat net comptable ERRD": "700",
            "Nombre ETP total réalisé ERRD": "20",
        },
    ],
)
CA = csv(
    "ANN_CA_EJ_ET",
    [
        {
            "Finess": A1,
            "Année": "2024",
            "Taux d'occupation Externat CA": "0.7",
            "Taux d'occupation global CA": "0.85",
            "Etat taux d'occupation global CA": "KO",
            "MS Résultat net comptable CA PH": "100",
            "Nombre ETP total réalisé CA": "40",
        },
        {
            "Finess": A2,
            "Année": "2023",
            "Taux d'occupation Internat CA": "0.75",
            "Taux d'occupation global CA": "0.88",
            "MS Résultat net comptable CA PA": "300",
        },
        {
            "Finess": A2,
            "Année": "2024",
            "MS Résultat net comptable CA PH": "120",
            "MS Résultat net comptable CA PA": "99",
            "Taux de CAF CA PH": "0.09",
            "Dépenses Groupe I CA": "-80",
            "Nombre ETP total réalisé CA": "30",
        },
        {
            "Finess": B1,
            "Année": "2023",
            "MS Résultat net comptable CA PA": "-50",
            "Charges CA PA": "-1000",
            "Produits CA PA": "950",
        },
        {"Finess": B1, "Année": "2024", "Nombre ETP total réalisé CA": "12"},
    ],
)
ERRD_EJ = csv(
    "ANN_ERRD_EJ",
    [
        {
            "Finess EJ": EJ_A,
            "Id Dépôt": "24000002",
            "Année": "2024",
            "Taux de CAF ERRD": "0.06",
        },
        {
            "Finess EJ": EJ_A,
            "Id Dépôt": "24000001",
            "Année": "2024",
            "Taux de CAF ERRD": "0.05",
            "Taux vétusté Construction ERRD": "0.4",
            "Fonds de roulement net global ERRD": "100000",
        },
        {
            "Finess EJ": EJ_A,
            "Id Dépôt": "23000001",
            "Année": "2023",
            "Taux de CAF ERRD": "0.03",
            "Taux vétusté Construction ERRD": "0.3",
            "Fonds de roulement net global ERRD": "5000",
        },
    ],
)
PER = csv(
    "ANN_PER_ERRD_EPRD",
    [
        {"Finess EJ": EJ_A, "Finess": A1, "Année": "2024", "Id Dépôt": "24000001"},
        {"Finess EJ": EJ_A, "Finess": A1, "Année": "2024", "Id Dépôt": "24000002"},
        {"Finess EJ": EJ_A, "Finess": A2, "Année": "2023", "Id Dépôt": "23000001"},
    ],
)
FILES = {
    "ANN_MS_TDP_ET": TDP,
    "ANN_ERRD_EJ_ET": ERRD_ET,
    "ANN_CA_EJ_ET": CA,
    "ANN_ERRD_EJ": ERRD_EJ,
    "ANN_PER_ERRD_EPRD": PER,
}

EXPECTED: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {
    "activite_medico_social": {
        (2023, A1): {
            "taux_realisation_activite": 0.95,
            "nombre_moyen_journees_absence_personnes_accompagnees": 3.5,
            "duree_moyenne_sejour_accompagnement_personnes_sorties": 400.0,
            "file_active_personnes_accompagnees": 80.0,
        },
        (2024, A1): {
            "taux_realisation_activite": 0.88,
            "taux_occupation_accueil_de_jour": 0.5,  # deposit …001 fills …002's gap
            "taux_occupation_en_hebergement_permanent": 0.97,  # deposit …002 wins
            "taux_occupation_externat": 0.7,  # CA
            "taux_occupation_global": 0.8,  # CA KO; ERRD: …002's ERRD rate KO → its Autres ESMS rate
        },
        (2023, A2): {
            "taux_occupation_externat": 0.6,  # CA has none: ERRD fills
            "taux_occupation_internat": 0.75,  # CA wins over ERRD's 0.65
            "taux_occupation_global": 0.88,  # CA, empty status
        },
        (2024, A2): {"taux_realisation_activite": 0.9},
        (2023, B1): {},
        (2024, B1): {},
    },
    "budget_et_finances_medico_social": {
        (2024, A1): {
            "cadre_budgetaire": "ERRD",  # over the CA PH row
            "resultat_net_comptable": -5000.0,
            "depenses_groupe_i": -200.0,
            "taux_de_caf": 0.06,  # deposit …002
            "taux_de_vetuste_construction": 0.4,  # …001 fills
            "fonds_de_roulement": 100000.0,
        },
        (2023, A2): {
            "cadre_budgetaire": "ERRD",  # over the CA PA row
            "resultat_net_comptable": 700.0,
            "taux_de_caf": 0.03,
            "taux_de_vetuste_construction": 0.3,
            "fonds_de_roulement": 5000.0,
        },
        (2024, A2): {
            "cadre_budgetaire": "CA_PH",
            "resultat_net_comptable": 120.0,
            "taux_de_caf": 0.09,
            "depenses_groupe_i": -80.0,
        },
        (2023, B1): {
            "cadre_budgetaire": "CA_PA",
            "resultat_net_comptable": -50.0,
            "charges": -1000.0,
            "produits": 950.0,
        },
        (2024, B1): {"cadre_budgetaire": "CA_PA"},
    },
    "ressources_humaines_medico_social": {
        (2023, A1): {"nombre_cdd_remplacement": 4.0, "taux_absenteisme_hors_formation": 0.1},
        (2024, A1): {"nombre_etp_realises": 50.0},  # ERRD (…001 fills …002's gap) over CA's 40
        (2023, A2): {"nombre_etp_realises": 20.0},
        (2024, A2): {"nombre_etp_realises": 30.0},  # CA
        (2023, B1): {},
        (2024, B1): {"taux_etp_vacants": 0.025, "nombre_etp_realises": 12.0},
    },
    "cpom": {
        (None, A1): {"date_d_entree_en_vigueur": date(2020, 2, 1)},  # 2024 has none: 2023's
        (None, A2): {"date_d_entree_en_vigueur": date(2023, 6, 15)},
    },
}


async def test_the_five_files_in_two_orders_give_the_hand_computed_tables_and_replay_changes_nothing(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    await empty(conn)
    for source in MEDICO_SOCIAL:
        assert await load(conn, tmp_path, source, FILES[source], date(2026, 1, 5)) == "loaded"
    first = await snapshot(conn)
    for table, expected in EXPECTED.items():
        assert await non_null(conn, table) == expected, table

    await empty(conn)
    for source in reversed(MEDICO_SOCIAL):  # the deposit rates and their mapping before the ERRD rows…
        assert await load(conn, tmp_path, source, FILES[source], date(2026, 1, 5)) == "loaded"
    assert await snapshot(conn) == first

    # Replayed files (the same file again): recognised, and not one row rewritten.
    before = await snapshot(conn, xmin=True)
    for source in MEDICO_SOCIAL:
        assert await load(conn, tmp_path, source, FILES[source], date(2026, 1, 5)) == "already_loaded"
    assert await snapshot(conn, xmin=True) == before
    # Re-sent files (a newer extract, same content): loaded, and the tables say the same.
    for source in MEDICO_SOCIAL:
        assert (
            await load(conn, tmp_path, source, FILES[source], date(2026, 1, 12), salt="re-sent") == "loaded"
        )
    assert await snapshot(conn) == first


async def test_files_loaded_without_recomputing_are_recomputed_once_together_by_the_next_settle(
    conn: asyncpg.Connection, database: str, tmp_path: Path
) -> None:
    """The service's path: each file's transaction only marks the derived tables its source feeds; one
    recomputation after the commits gives the same tables as recomputing in every file's transaction, and leaves
    nothing marked."""
    await empty(conn)
    for source in MEDICO_SOCIAL:
        assert await load(conn, tmp_path, source, FILES[source], date(2026, 1, 5), settle=False) == "loaded"
    for table in DERIVED:  # nothing recomputed yet
        assert not await conn.fetchval(f"SELECT count(*) FROM {table}"), table
    marks = await conn.fetch(f"SELECT derived_table, source_table FROM {PENDING} ORDER BY 1, 2")
    assert ("budget_et_finances_medico_social", "diamant_per_errd_eprd") in [tuple(m) for m in marks]
    assert (
        len(marks) == 3 + 3 + 3 + 1 + 1
    )  # TDP, ERRD by ET and CA feed three tables each; the ERRD rates one
    pending = await pending_medico_social(conn)
    assert pending == list(DERIVED)
    async with asyncpg.create_pool(database, min_size=1, max_size=6) as pool:
        refreshed = await settle_in_parallel(pool)  # the service's way: on several connections at once
    assert sorted(refreshed) == sorted(DERIVED)
    for table, expected in EXPECTED.items():
        assert await non_null(conn, table) == expected, table
    assert not await conn.fetchval(f"SELECT count(*) FROM {PENDING}")
    async with conn.transaction():
        assert await settle_medico_social(conn, DERIVED) == []  # nothing left to recompute

    # Replayed files mark nothing, so the next recomputation has nothing to do.
    for source in MEDICO_SOCIAL:
        assert (
            await load(conn, tmp_path, source, FILES[source], date(2026, 1, 5), settle=False)
            == "already_loaded"
        )
    assert not await conn.fetchval(f"SELECT count(*) FROM {PENDING}")


async def test_a_later_file_changes_only_what_it_changes(conn: asyncpg.Connection, tmp_path: Path) -> None:
    """A newer ANN_CA_EJ_ET where A1 2024's global CA rate is no longer KO: CA wins again; ERRD's budget stays."""
    await empty(conn)
    for source in MEDICO_SOCIAL:
        await load(conn, tmp_path, source, FILES[source], date(2026, 1, 5))
    newer = CA.replace("0.85;KO", "0.85;OK")
    assert newer != CA
    assert await load(conn, tmp_path, "ANN_CA_EJ_ET", newer, date(2026, 2, 2)) == "loaded"
    activite = await non_null(conn, "activite_medico_social")
    assert activite[(2024, A1)]["taux_occupation_global"] == 0.85
    budget = await non_null(conn, "budget_et_finances_medico_social")
    assert budget == EXPECTED["budget_et_finances_medico_social"]


async def test_a_load_inside_a_savepoint_still_refreshes_what_it_changed(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    """A load nested in the caller's transaction (a savepoint) rebuilds and recomputes all the same."""
    await empty(conn)
    for source in MEDICO_SOCIAL:
        await load(conn, tmp_path, source, FILES[source], date(2026, 1, 5))
    newer = TDP.replace("0.88", "0.87")
    async with conn.transaction():  # `load` opens a savepoint inside this one
        assert await load(conn, tmp_path, "ANN_MS_TDP_ET", newer, date(2026, 2, 2)) == "loaded"
    activite = await non_null(conn, "activite_medico_social")
    assert activite[(2024, A1)]["taux_realisation_activite"] == 0.87


async def test_two_files_loaded_at_once_each_see_the_other_when_recomputing(
    conn: asyncpg.Connection, database: str, tmp_path: Path
) -> None:
    """ANN_MS_TDP_ET and ANN_CA_EJ_ET loaded at the same time by two connections, each recomputing in its own
    transaction: the second waits for the first file to commit and combines both (without the shared lock it would
    write A1 2024 without the dashboard's rate, over the first file's row)."""
    await empty(conn)
    other = await asyncpg.connect(database)
    try:
        first = conn.transaction()
        await first.start()
        try:
            await load(
                conn, tmp_path, "ANN_MS_TDP_ET", TDP, date(2026, 1, 5)
            )  # rows and recomputation, uncommitted
            second = asyncio.create_task(load(other, tmp_path, "ANN_CA_EJ_ET", CA, date(2026, 1, 5)))
            for _ in range(200):  # until the second load waits for a lock the first one holds
                waiting = await conn.fetchval(
                    "SELECT count(*) FROM pg_locks WHERE NOT granted AND pid = $1",
                    other.get_server_pid(),
                )
                if waiting or second.done():
                    break
                await asyncio.sleep(0.05)
            assert waiting
        finally:
            await first.commit()
        assert await second == "loaded"
    finally:
        await other.close()
    activite = await non_null(conn, "activite_medico_social")
    assert activite[(2024, A1)] == {
        "taux_realisation_activite": 0.88,  # ANN_MS_TDP_ET
        "taux_occupation_externat": 0.7,  # ANN_CA_EJ_ET
    }


async def test_synthetic_extracts_in_two_orders_give_the_same_tables(infra: Infra, tmp_path: Path) -> None:
    seed = 3
    synthetic = generate_referential(seed, 30)
    chosen = establishments_from(synthetic, seed, sanitaires=0, medico_sociaux=40)
    files = write_diamant_files(
        chosen,
        tmp_path / "extracts",
        seed=seed,
        years=range(2021, 2026),
        extraction_date=date(2026, 1, 5),
        quirks=Quirks(),
        sources=[DiamantSource(s) for s in MEDICO_SOCIAL],
    )
    texts = {f.source.value: f.path.read_text(encoding="utf-8") for f in files}
    async with fresh_database(infra.database_url, "relais_diamant_ms_synthetic") as url:
        connection = await asyncpg.connect(url)
        try:
            await connection.executemany(
                "INSERT INTO entite_juridique (numero_finess_entite_juridique, raison_sociale) VALUES ($1, 'EJ')",
                [(ej.numero,) for ej in synthetic.entites_juridiques],
            )
            await connection.executemany(
                f"""INSERT INTO etablissement_territorial ({ET}, numero_finess_entite_juridique, raison_sociale,
                       categorie) VALUES ($1, $2, 'ET', $3)""",
                [(et.numero, et.numero_ej, et.categorie) for et in synthetic.etablissements],
            )
            snapshots = []
            for order in (
                MEDICO_SOCIAL,
                ("ANN_PER_ERRD_EPRD", "ANN_CA_EJ_ET", "ANN_ERRD_EJ", "ANN_MS_TDP_ET", "ANN_ERRD_EJ_ET"),
            ):
                await empty(connection)
                for source in order:
                    assert (
                        await load(connection, tmp_path, source, texts[source], date(2026, 1, 5)) == "loaded"
                    )
                snapshots.append(await snapshot(connection))
            assert snapshots[0] == snapshots[1]
            # The loader's SQL and the reference model agree, row for row.
            assert await derived_in_sql(connection) == await derived_in_python(connection)
            derived = snapshots[0]
            assert len(derived["activite_medico_social"]) >= 100
            cadres = {row[2] for row in derived["budget_et_finances_medico_social"]}
            assert cadres == {"ERRD", "CA_PA", "CA_PH"}
            re_deposits = await connection.fetchval(
                "SELECT count(*) FROM (SELECT 1 FROM diamant_per_errd_eprd GROUP BY annee, "
                f"{ET} HAVING count(*) > 1) d"
            )
            assert re_deposits > 0  # the highest-deposit rule had work
        finally:
            await connection.close()
