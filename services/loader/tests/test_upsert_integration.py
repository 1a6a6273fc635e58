"""Partial-row upserts on the real PostgreSQL: only the columns a source owns are touched."""

import asyncpg
import pytest

from relais_loader.adapters.pg_indicators import upsert_rows

pytestmark = pytest.mark.integration


@pytest.fixture
async def conn(database_url: str):
    connection = await asyncpg.connect(database_url)
    transaction = connection.transaction()
    await transaction.start()
    try:
        yield connection
    finally:
        await transaction.rollback()
        await connection.close()


async def test_rows_are_inserted_then_only_owned_columns_updated(conn: asyncpg.Connection) -> None:
    written = await upsert_rows(
        conn,
        [
            (
                "entite_juridique",
                {
                    "numero_finess_entite_juridique": "010008407",
                    "raison_sociale": "CH A",
                    "statut_juridique": "13",
                    "date_fermeture": None,
                },
            ),
            (
                "entite_juridique",
                {
                    "numero_finess_entite_juridique": "2A0000014",
                    "raison_sociale": "CH Ajaccio",
                    "statut_juridique": "13",
                    "date_fermeture": "2025-12-31",
                },
            ),
        ],
    )
    assert written == 2
    # A second source owning only raison_sociale: statut_juridique and date_fermeture stay as they were.
    await upsert_rows(
        conn,
        [
            (
                "entite_juridique",
                {"numero_finess_entite_juridique": "010008407", "raison_sociale": "CH A renamed"},
            )
        ],
    )
    rows = {
        r["numero_finess_entite_juridique"]: r for r in await conn.fetch("SELECT * FROM entite_juridique")
    }
    assert rows["010008407"]["raison_sociale"] == "CH A renamed"
    assert rows["010008407"]["statut_juridique"] == "13"
    assert str(rows["2A0000014"]["date_fermeture"]) == "2025-12-31"


async def test_a_key_repeated_within_a_file_does_not_abort_the_load(conn: asyncpg.Connection) -> None:
    await upsert_rows(
        conn,
        [
            ("entite_juridique", {"numero_finess_entite_juridique": "010008407", "raison_sociale": "first"}),
            ("entite_juridique", {"numero_finess_entite_juridique": "010008407", "raison_sociale": "last"}),
        ],
    )
    assert await conn.fetchval("SELECT raison_sociale FROM entite_juridique") == "last"


async def test_an_unknown_column_is_named(conn: asyncpg.Connection) -> None:
    with pytest.raises(KeyError, match="colonne 'nope'"):
        await upsert_rows(
            conn,
            [
                (
                    "entite_juridique",
                    {"numero_finess_entite_juridique": "010008407", "raison_sociale": "x", "nope": 1},
                )
            ],
        )


async def test_ensure_rows_insert_a_missing_parent_but_never_overwrite_one(conn: asyncpg.Connection) -> None:
    await upsert_rows(
        conn,
        [
            (
                "entite_juridique",
                {"numero_finess_entite_juridique": "010008407", "raison_sociale": "CH A (full record)"},
            )
        ],
    )
    await upsert_rows(
        conn,
        [
            (
                "entite_juridique",
                {"numero_finess_entite_juridique": "010008407", "raison_sociale": "?"},
                "ensure",
            ),
            (
                "entite_juridique",
                {"numero_finess_entite_juridique": "2A0000014", "raison_sociale": "?"},
                "ensure",
            ),
        ],
    )
    rows = dict(
        await conn.fetch("SELECT numero_finess_entite_juridique, raison_sociale FROM entite_juridique")
    )
    assert rows == {"010008407": "CH A (full record)", "2A0000014": "?"}
