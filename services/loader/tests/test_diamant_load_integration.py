"""Health-sector DIAMANT files, transformed and loaded through the loader's functions on the real PostgreSQL: table
contents against expectations worked out by hand below, EJ aggregates (DMS weighted by stays, not summed), replay
changing nothing, supersession, a newer extract restating its source for its window. The tests share one database of
their own and run in order: each starts from what the previous one left."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from relais_diamant.definitions import MENCUMU_GENERATION_BEFORE_2024, labels
from relais_loader.adapters.pg_indicators import TableFile, load_file
from relais_testing.diamant import arrow_rows, csv, transform_extract
from relais_testing.infra import Infra, fresh_database

pytestmark = pytest.mark.integration

N = 2026
EJ_A, EJ_B = "010000016", "010000024"
A1, A2 = "010000115", "010000123"  # ETs of EJ A
B1 = "2A0000022"  # the ET of EJ B (Corsica: FINESS stays text)
UNKNOWN = "750000010"


@pytest.fixture(scope="module")
async def database(infra: Infra) -> AsyncIterator[str]:
    """A database of its own: the ledger's supersession is per source, so no other test's DIAMANT loads may count."""
    async with fresh_database(infra.database_url, "relais_diamant_load") as url:
        conn = await asyncpg.connect(url)
        try:
            await conn.executemany(
                "INSERT INTO entite_juridique (numero_finess_entite_juridique, raison_sociale) VALUES ($1, $2)",
                [(EJ_A, "CH A"), (EJ_B, "CH B")],
            )
            await conn.executemany(
                """INSERT INTO etablissement_territorial (numero_finess_etablissement_territorial,
                       numero_finess_entite_juridique, raison_sociale, categorie) VALUES ($1, $2, $3, '355')""",
                [(A1, EJ_A, "Site A1"), (A2, EJ_A, "Site A2"), (B1, EJ_B, "Site B1")],
            )
        finally:
            await conn.close()
        yield url


@pytest.fixture(scope="module")
async def conn(database: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database)
    try:
        yield connection
    finally:
        await connection.close()


async def load(
    conn: asyncpg.Connection,
    tmp_path: Path,
    source: str,
    text: str,
    extracted: date,
    *,
    salt: str = "",
) -> tuple[str, int, dict[str, Any]]:
    """The pipeline's path without the broker: transformed, stored, loaded in one transaction."""
    extract = await transform_extract(conn, tmp_path, source, text, extracted, N, salt)
    async with conn.transaction():
        outcome, written = await load_file(
            conn,
            file_id=extract.file_id,
            source=source,
            file_name=extract.file_name,
            extraction_date=extracted,
            tables=[TableFile(table, path) for table, path in extract.tables],
            years=extract.years,
            quality_report=json.dumps(extract.report),
            reference_year=N,
        )
    return outcome, written, extract.report


async def table(conn: asyncpg.Connection, name: str, columns: str, order: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in await conn.fetch(f"SELECT {columns} FROM {name} ORDER BY {order}")]


async def snapshot(conn: asyncpg.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every DIAMANT table with each row's xmin: a rewritten row shows even when its values are equal."""
    names = [
        "activite_sanitaire",
        "activite_sanitaire_mensuel",
        "capacite_autorisation_sanitaire",
        "budget_et_finances_sanitaire",
        "ressources_humaines_sanitaire",
        "budget_et_finances_entite_juridique",
        "ressources_humaines_entite_juridique",
        "allocations",
        "activite_sanitaire_entite_juridique",
        "activite_sanitaire_mensuel_entite_juridique",
        "capacite_autorisation_entite_juridique",
    ]
    return {
        n: [tuple(r) for r in await conn.fetch(f"SELECT xmin::text, * FROM {n} ORDER BY 2, 3, 4")]
        for n in names
    }


PMSI = csv(
    labels("MEN_PMSI_ANNUEL"),
    [
        # A1: 100 stays of 4.0 days; A2: 300 stays of 6.0 days → EJ A: 400 stays, DMS (400 + 1800) / 400 = 5.5
        {
            "Finess": A1,
            "Finess EJ": EJ_A,
            "Année": "2024",
            "Nombre de séjours HC Médecine": "100",
            "DMS MCO Médecine": "4.0",
            "Nombre de séjours HTP/AMBU Médecine": "10",
            "Nb journées HTP PSY": "1.5E2",
        },
        {
            "Finess": A2,
            "Finess EJ": EJ_A,
            "Année": "2024",
            "Nombre de séjours HC Médecine": "300",
            "DMS MCO Médecine": "6.0",
        },
        # B1: a DMS without its stays cannot be weighted → EJ B's DMS stays null
        {"Finess": B1, "Finess EJ": EJ_B, "Année": "2024", "DMS MCO Médecine": "5"},
        {
            "Finess": A1,
            "Finess EJ": EJ_A,
            "Année": "2023",
            "Nombre de séjours HC Médecine": "90",
            "DMS MCO Médecine": ".5",
        },
        {"Finess": A1, "Finess EJ": EJ_A, "Année": "", "Nombre de séjours HC Médecine": "1"},  # blank year
        {"Finess": UNKNOWN, "Finess EJ": EJ_A, "Année": "2024", "Nombre de séjours HC Médecine": "1"},
    ],
)
RPU = csv(
    labels("ANN_RPU"),
    [
        {"Finess": A1, "Année": "2024", "Nombre de passages aux urgences": "1000"},
        {"Finess": A2, "Année": "2024", "Nombre de passages aux urgences": "500"},
        {"Finess": B1, "Année": "2022", "Nombre de passages aux urgences": "70"},
    ],
)
SAE = csv(
    labels("ANN_SAE"),
    [
        # A1 twice (attached to two EJs): the row naming A1's EJ in the referential wins, the load does not abort
        {
            "Finess": A1,
            "Finess EJ": EJ_B,
            "Année": "2024",
            "Nombre de lits de médecine": "99",
            "Nombre journées USLD": "1",
        },
        {
            "Finess": A1,
            "Finess EJ": EJ_A,
            "Année": "2024",
            "Nombre de lits de médecine": "20",
            "Nombre journées USLD": "100",
            "Nombre de places de SSR": "5",
        },
        {"Finess": A2, "Finess EJ": EJ_A, "Année": "2024", "Nombre de lits de médecine": "10"},
    ],
)
MENCUMU_2025 = csv(
    labels("MEN_PMSI_MENCUMU"),
    [
        # A1: 10 stays of 3 days, A2: 30 stays of 5 days → EJ A in 2025-01: DMS (30 + 150) / 40 = 4.5
        {
            "Finess": A1,
            "Année": "2025",
            "Mois": "1",
            "Nombre de séjours mensuels Médecine": "10",
            "DMS mensuel MCO Médecine": "3",
            "Nombre de séjours mensuels  HTP/AMBU Chirurgie": "4",
        },
        {
            "Finess": A2,
            "Année": "2025",
            "Mois": "1",
            "Nombre de séjours mensuels Médecine": "30",
            "DMS mensuel MCO Médecine": "5",
            "Nombre total de journées cumulés mensuels HTP PSY": "8",
        },
        {"Finess": A1, "Année": "2025", "Mois": "2", "Nombre de séjours mensuels Médecine": "11"},
    ],
)
MENCUMU_OLD = csv(
    labels("MEN_PMSI_MENCUMU", MENCUMU_GENERATION_BEFORE_2024),
    # An old-generation file: it says nothing about DMS and PSY, so it leaves them as they are for the keys it lists;
    # the keys it no longer lists are gone (it restates the source for its window).
    [{"Finess": A1, "Année": "2025", "Mois": "1", "Nombre de séjours mensuels cumulés Médecine": "12"}],
)
QUO_HEADER = labels("QUO_SAN_FINANCE")
QUO = csv(
    QUO_HEADER,
    [
        # The ET row of EJ A comes before the EJ row of the same EJ and year: both are kept.
        {
            "Finess EJ": EJ_A,
            "Finess ET": A1,
            "Année": "2024",
            "Nombre d'ETP PM": "120",
            "Dépenses Titre I Budget global": "-35000.5",
            "SAN Taux de CAF nette": ".1197",
        },
        {
            "Finess EJ": EJ_A,
            "Finess ET": "",
            "Année": "2024",
            "Nombre d'ETP PM": "500",
            "Dépenses Titre I Budget global": "-90000",
            "Ratio de dépendance financière": "2.112E-2",
            "Trésorerie": "1250000",
        },
        {"Finess EJ": EJ_B, "Finess ET": "", "Année": "2023", "Jours d'absentéisme PNM": "42"},
    ],
)
HAPI = csv(
    labels("MEN_HAPI"),
    [
        {
            "Finess EJ": EJ_A,
            "Finess": A1,
            "Année Campagne HAPI": "2025",
            "Mois Année": "03/2025",
            "Enveloppe": "MIG",
            "Sous Enveloppe": "Urgences",
            "Mode de Délégation": "Délégué",
            "HAPI - Montant Notifié": "125000.5",
        },
        {
            "Finess EJ": EJ_A,
            "Finess": "",
            "Année Campagne HAPI": "2025",
            "Mois Année": "03/2025",
            "Enveloppe": "FIR",
            "Sous Enveloppe": "",
            "Mode de Délégation": "Délégué",
            "HAPI - Montant Notifié": "-2000",
        },
    ],
)


async def test_health_sources_load_into_their_tables_with_weighted_ej_aggregates(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    outcome, written, report = await load(conn, tmp_path, "MEN_PMSI_ANNUEL", PMSI, date(2026, 1, 5))
    assert (outcome, written) == ("loaded", 4)
    assert report["rejected_by_reason"] == {"annee_vide": 1, "finess_inconnu": 1}
    assert report["unknown_finess"]["numbers"] == [UNKNOWN]
    assert (await load(conn, tmp_path, "ANN_RPU", RPU, date(2026, 1, 5)))[:2] == ("loaded", 3)
    outcome, written, report = await load(conn, tmp_path, "ANN_SAE", SAE, date(2025, 9, 30))
    assert (outcome, written) == ("loaded", 4)  # 2 activity + 2 capacity rows
    assert report["duplicates"]["count"] == 2

    # activite_sanitaire: PMSI, RPU and SAE columns side by side, each source touching only its own.
    assert await table(
        conn,
        "activite_sanitaire",
        "annee, numero_finess_etablissement_territorial, nombre_sejours_complets_medecine, "
        "duree_moyenne_sejour_medecine, nombre_sejours_partiels_medecine, nombre_journees_partielles_psy, "
        "nombre_passages_urgences, nombre_journees_usld",
        "1, 2",
    ) == [
        (2022, B1, None, None, None, None, 70.0, None),
        (2023, A1, 90.0, 0.5, None, None, None, None),
        (2024, A1, 100.0, 4.0, 10.0, 150.0, 1000.0, 100.0),
        (2024, A2, 300.0, 6.0, None, None, 500.0, None),
        (2024, B1, None, 5.0, None, None, None, None),
    ]
    assert await table(
        conn,
        "activite_sanitaire_entite_juridique",
        "annee, numero_finess_entite_juridique, nombre_sejours_complets_medecine, duree_moyenne_sejour_medecine, "
        "nombre_sejours_partiels_medecine, nombre_sejours_complets_chirurgie, duree_moyenne_sejour_chirurgie, "
        "nombre_passages_urgences, nombre_journees_usld",
        "1, 2",
    ) == [
        (2022, EJ_B, None, None, None, None, None, 70.0, None),
        (2023, EJ_A, 90.0, 0.5, None, None, None, None, None),
        # 5.5, not the 10.0 a sum of DMS would give; all-null columns stay null
        (2024, EJ_A, 400.0, 5.5, 10.0, None, None, 1500.0, 100.0),
        (2024, EJ_B, None, None, None, None, None, None, None),
    ]
    assert await table(
        conn,
        "capacite_autorisation_sanitaire",
        "annee, numero_finess_etablissement_territorial, nombre_lits_medecine, nombre_places_ssr, nombre_lits_usld",
        "1, 2",
    ) == [(2024, A1, 20, 5, None), (2024, A2, 10, None, None)]
    assert await table(
        conn,
        "capacite_autorisation_entite_juridique",
        "annee, numero_finess_entite_juridique, nombre_lits_medecine, nombre_places_ssr, nombre_lits_usld",
        "1, 2",
    ) == [(2024, EJ_A, 30, 5, None)]

    # MEN_PMSI_MENCUMU, 2025 generation, then an old-generation file that leaves DMS and PSY alone.
    assert (await load(conn, tmp_path, "MEN_PMSI_MENCUMU", MENCUMU_2025, date(2026, 1, 5)))[:2] == (
        "loaded",
        3,
    )
    monthly_ej = (
        "annee, mois, numero_finess_entite_juridique, nombre_sejours_complets_medecine, duree_moyenne_sejour_medecine, "
        "nombre_sejours_partiels_chirurgie, nombre_journees_partielles_psy"
    )
    assert await table(conn, "activite_sanitaire_mensuel_entite_juridique", monthly_ej, "1, 2, 3") == [
        (2025, 1, EJ_A, 40.0, 4.5, 4.0, 8.0),
        (2025, 2, EJ_A, 11.0, None, None, None),
    ]
    outcome, _, report = await load(conn, tmp_path, "MEN_PMSI_MENCUMU", MENCUMU_OLD, date(2026, 2, 2))
    assert outcome == "loaded" and report["generation"] == MENCUMU_GENERATION_BEFORE_2024
    # A1's January: 12 stays now, its DMS (which this generation does not carry) kept; A2's January and A1's
    # February, which the newer extract no longer lists, gone — and with them EJ A's February.
    assert await table(
        conn,
        "activite_sanitaire_mensuel",
        "annee, mois, numero_finess_etablissement_territorial, nombre_sejours_complets_medecine, "
        "duree_moyenne_sejour_medecine",
        "1, 2, 3",
    ) == [(2025, 1, A1, 12.0, 3.0)]
    assert await table(conn, "activite_sanitaire_mensuel_entite_juridique", monthly_ej, "1, 2, 3") == [
        (2025, 1, EJ_A, 12.0, 3.0, None, None)
    ]

    # QUO_SAN_FINANCE: the ET row came first, the EJ row is kept all the same.
    outcome, written, report = await load(conn, tmp_path, "QUO_SAN_FINANCE", QUO, date(2026, 1, 6))
    assert (outcome, written) == ("loaded", 6)  # ET: budget + HR; two EJ rows: budget + HR each
    assert report["duplicates"]["count"] == 0
    assert await table(
        conn,
        "budget_et_finances_sanitaire",
        "annee, numero_finess_etablissement_territorial, depenses_titre_i_global, taux_de_caf_nette_san, tresorerie",
        "1, 2",
    ) == [(2024, A1, -35000.5, 0.1197, None)]
    assert await table(
        conn,
        "budget_et_finances_entite_juridique",
        "annee, numero_finess_entite_juridique, depenses_titre_i_budget_global, ratio_dependance_financiere, tresorerie",
        "1, 2",
    ) == [(2023, EJ_B, None, None, None), (2024, EJ_A, -90000.0, 0.02112, 1250000.0)]
    assert await table(
        conn,
        "ressources_humaines_sanitaire",
        "annee, numero_finess_etablissement_territorial, nombre_etp_pm",
        "1, 2",
    ) == [(2024, A1, 120.0)]
    assert await table(
        conn,
        "ressources_humaines_entite_juridique",
        "annee, numero_finess_entite_juridique, nombre_etp_pm, jours_absenteisme_pnm",
        "1, 2",
    ) == [(2023, EJ_B, None, 42.0), (2024, EJ_A, 500.0, None)]

    # MEN_HAPI: imported, to an ET and to the EJ itself.
    assert (await load(conn, tmp_path, "MEN_HAPI", HAPI, date(2026, 1, 7)))[:2] == ("loaded", 2)
    assert await table(
        conn,
        "allocations",
        "annee, beneficiaire, numero_finess_entite_juridique, numero_finess_etablissement_territorial, mois_annee, "
        "enveloppe, sous_enveloppe, mode_delegation, montant_notifie",
        "2, 6",
    ) == [
        (2025, EJ_A, EJ_A, None, "03/2025", "FIR", "", "Délégué", -2000.0),
        (2025, A1, EJ_A, A1, "03/2025", "MIG", "Urgences", "Délégué", 125000.5),
    ]

    # Every source dated, N recorded with every load.
    dates = dict(
        await conn.fetch("SELECT fichier, derniere_mise_a_jour FROM date_mise_a_jour_fichier_source")
    )
    assert dates == {
        "MEN_PMSI_ANNUEL": date(2026, 1, 5),
        "ANN_RPU": date(2026, 1, 5),
        "ANN_SAE": date(2025, 9, 30),
        "MEN_PMSI_MENCUMU": date(2026, 2, 2),
        "QUO_SAN_FINANCE": date(2026, 1, 6),
        "MEN_HAPI": date(2026, 1, 7),
    }
    assert await conn.fetchval("SELECT count(*) FROM loaded_file WHERE reference_year = $1", N) == 7
    stored = json.loads(
        await conn.fetchval("SELECT quality_report FROM loaded_file WHERE source = 'MEN_PMSI_ANNUEL'")
    )
    assert stored["rejected_by_reason"] == {"annee_vide": 1, "finess_inconnu": 1}


async def test_replaying_files_changes_nothing(conn: asyncpg.Connection, tmp_path: Path) -> None:
    before = await snapshot(conn)
    assert before["activite_sanitaire"], "runs after the loading test, on its data"
    # The same files again: recognised by their file id, nothing written.
    for source, text, extracted in [
        ("MEN_PMSI_ANNUEL", PMSI, date(2026, 1, 5)),
        ("ANN_SAE", SAE, date(2025, 9, 30)),
        ("QUO_SAN_FINANCE", QUO, date(2026, 1, 6)),
    ]:
        assert (await load(conn, tmp_path, source, text, extracted))[:2] == ("already_loaded", 0)
    assert await snapshot(conn) == before
    # The same content under another identity (a re-sent extract of the same day): loaded, yet no row rewritten,
    # aggregates included.
    outcome, _, _ = await load(conn, tmp_path, "MEN_PMSI_ANNUEL", PMSI, date(2026, 1, 5), salt="again")
    assert outcome == "loaded"
    assert await snapshot(conn) == before


async def test_an_older_extract_arriving_late_changes_nothing(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    before = await snapshot(conn)
    older = RPU.replace(";2024;1000\r\n", ";2024;1\r\n")
    assert older != RPU
    outcome, written, _ = await load(conn, tmp_path, "ANN_RPU", older, date(2025, 12, 1))
    assert (outcome, written) == ("superseded", 0)
    assert await snapshot(conn) == before
    # A newer one supersedes: A1's passages change, and so does EJ A's sum.
    outcome, _, _ = await load(conn, tmp_path, "ANN_RPU", older, date(2026, 2, 1), salt="newer")
    assert outcome == "loaded"
    assert (
        await conn.fetchval(
            "SELECT nombre_passages_urgences FROM activite_sanitaire_entite_juridique "
            "WHERE annee = 2024 AND numero_finess_entite_juridique = $1",
            EJ_A,
        )
        == 501.0
    )


async def test_a_newer_extract_restates_its_source_for_the_years_of_its_window(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    # A year before the window (2021..2025 for N = 2026), left by some old extract: no newer extract speaks for it.
    await conn.execute(
        "INSERT INTO capacite_autorisation_sanitaire (annee, numero_finess_etablissement_territorial, "
        "nombre_lits_medecine) VALUES (2019, $1, 7)",
        A1,
    )
    # ANN_SAE without A2: A2's capacities are gone, and its USLD days (SAE's column of the shared activity table)
    # cleared, the PMSI and RPU columns of the same row staying.
    sae = csv(
        labels("ANN_SAE"),
        [{"Finess": A1, "Finess EJ": EJ_A, "Année": "2024", "Nombre de lits de médecine": "21"}],
    )
    assert (await load(conn, tmp_path, "ANN_SAE", sae, date(2026, 9, 30)))[0] == "loaded"
    assert await table(
        conn,
        "capacite_autorisation_sanitaire",
        "annee, numero_finess_etablissement_territorial, nombre_lits_medecine",
        "1, 2",
    ) == [(2019, A1, 7), (2024, A1, 21)]
    assert await table(
        conn,
        "capacite_autorisation_entite_juridique",
        "annee, numero_finess_entite_juridique, nombre_lits_medecine",
        "1, 2",
    ) == [(2019, EJ_A, 7), (2024, EJ_A, 21)]
    # A1's USLD days came from ANN_SAE: this extract leaves the cell empty, so it is now empty.
    assert await table(
        conn,
        "activite_sanitaire",
        "annee, numero_finess_etablissement_territorial, nombre_journees_usld, nombre_passages_urgences",
        "1, 2",
    ) == [(2022, B1, None, 70.0), (2023, A1, None, None), (2024, A1, None, 1.0), (2024, A2, None, 500.0),
          (2024, B1, None, None)]  # fmt: skip
    # ANN_RPU without B1: B1's passages cleared, its row (and EJ B's) staying for the other sources' columns.
    rpu = csv(labels("ANN_RPU"), [{"Finess": A1, "Année": "2024", "Nombre de passages aux urgences": "1001"}])
    assert (await load(conn, tmp_path, "ANN_RPU", rpu, date(2026, 3, 1)))[0] == "loaded"
    assert await table(
        conn,
        "activite_sanitaire",
        "annee, numero_finess_etablissement_territorial, nombre_passages_urgences",
        "1, 2",
    ) == [(2022, B1, None), (2023, A1, None), (2024, A1, 1001.0), (2024, A2, None), (2024, B1, None)]
    assert await table(
        conn,
        "activite_sanitaire_entite_juridique",
        "annee, numero_finess_entite_juridique, nombre_passages_urgences",
        "1, 2",
    ) == [(2022, EJ_B, None), (2023, EJ_A, None), (2024, EJ_A, 1001.0), (2024, EJ_B, None)]


async def test_a_referential_move_of_an_et_refreshes_both_ejs(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    # A FINESS referential file moves A2 from EJ A to EJ B: every EJ's aggregates are recomputed.
    moved = {
        "numero_finess_etablissement_territorial": A2,
        "numero_finess_entite_juridique": EJ_B,
        "raison_sociale": "Site A2",
        "categorie": "355",
    }
    async with conn.transaction():
        outcome, _ = await load_file(
            conn,
            file_id="f" * 64,
            source="finess_cs1400102",
            file_name="finess_cs1400102_stock_20260110-0400.xml.gz",
            extraction_date=date(2026, 1, 10),
            tables=[
                TableFile(
                    "etablissement_territorial", arrow_rows(tmp_path, "etablissement_territorial", [moved])
                )
            ],
            quality_report="{}",
        )
    assert outcome == "loaded"
    # 2024: A1 alone in EJ A (100 stays of 4.0); A2 (300 stays of 6.0) with B1 (a DMS without stays) in EJ B.
    assert await table(
        conn,
        "activite_sanitaire_entite_juridique",
        "annee, numero_finess_entite_juridique, nombre_sejours_complets_medecine, duree_moyenne_sejour_medecine",
        "1, 2",
    ) == [
        (2022, EJ_B, None, None),
        (2023, EJ_A, 90.0, 0.5),
        (2024, EJ_A, 100.0, 4.0),
        (2024, EJ_B, 300.0, 6.0),
    ]
    # A2 has no capacity since the last ANN_SAE: EJ B has none.
    assert await table(
        conn,
        "capacite_autorisation_entite_juridique",
        "annee, numero_finess_entite_juridique, nombre_lits_medecine",
        "1, 2",
    ) == [(2019, EJ_A, 7), (2024, EJ_A, 21)]
