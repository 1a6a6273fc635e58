"""The loader streams a file's rows in chunks (bounded memory): on the real PostgreSQL, a load cut into chunks of one
row writes exactly what a load in one chunk writes, the last row of a repeated key still wins across chunk
boundaries, and a parent's `ensure` rows still precede the rows that reference it."""

from collections.abc import AsyncIterator
from datetime import date

import asyncpg
import pytest

from relais_contracts.rows import TableRow
from relais_loader.adapters.pg_indicators import upsert_rows

pytestmark = pytest.mark.integration

EJ = "numero_finess_entite_juridique"
ET = "numero_finess_etablissement_territorial"

ROWS: list[TableRow] = [
    ("entite_juridique", {EJ: "010008407", "raison_sociale": "with a date", "date_fermeture": "2025-12-31"}),
    ("entite_juridique", {EJ: "010008407", "raison_sociale": "first"}),
    ("entite_juridique", {EJ: "2A0000014", "raison_sociale": "?"}, "ensure"),
    # Same columns in another order: the same batch, so the row order of the file still decides.
    ("entite_juridique", {"raison_sociale": "second", EJ: "010008407"}),
    (
        "etablissement_territorial",
        {ET: "2A0000022", EJ: "2A0000014", "raison_sociale": "Site", "categorie": "355"},
    ),
    ("entite_juridique", {EJ: "010008407", "raison_sociale": "last"}),
]


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url)
    try:
        yield connection
    finally:
        await connection.close()


async def load(conn: asyncpg.Connection, chunk_rows: int) -> tuple[int, list[asyncpg.Record]]:
    """Load ROWS in a transaction rolled back afterwards; what was written and what the tables then held."""
    transaction = conn.transaction()
    await transaction.start()
    try:
        written = await upsert_rows(conn, iter(ROWS), chunk_rows=chunk_rows)
        tables = await conn.fetch(
            f"""SELECT e.{EJ}, e.raison_sociale, e.date_fermeture, t.{ET}
                FROM entite_juridique e LEFT JOIN etablissement_territorial t USING ({EJ})
                WHERE e.{EJ} IN ('010008407', '2A0000014') ORDER BY e.{EJ}"""
        )
        return written, tables
    finally:
        await transaction.rollback()


async def test_a_load_in_chunks_of_one_row_writes_what_a_load_in_one_chunk_writes(
    conn: asyncpg.Connection,
) -> None:
    assert await load(conn, chunk_rows=1) == await load(conn, chunk_rows=10_000)


async def test_the_last_row_of_a_key_wins_across_chunks_and_ensure_rows_never_overwrite(
    conn: asyncpg.Connection,
) -> None:
    written, tables = await load(conn, chunk_rows=2)
    # One row per key and batch: EJ 010008407 in two batches (two column sets), 2A0000014 once, one ET.
    assert written == 4
    assert [tuple(r) for r in tables] == [
        ("010008407", "last", date(2025, 12, 31), None),
        ("2A0000014", "?", None, "2A0000022"),
    ]
