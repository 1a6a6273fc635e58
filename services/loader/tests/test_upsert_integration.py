"""Partial-row upserts from Arrow files on the real PostgreSQL: only the columns a source owns are touched, the last
row of a repeated key wins, `ensure` rows never overwrite, and copying slice by slice writes what one slice writes."""

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from relais_contracts import WriteMode
from relais_loader.adapters import arrow_copy
from relais_loader.adapters.arrow_copy import ArrowRows, table_shape
from relais_loader.adapters.pg_indicators import TableFile
from relais_loader.adapters.pg_upsert import clear_absent, stage, upsert
from relais_testing.diamant import EJ, ET, arrow_rows

pytestmark = pytest.mark.integration


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url)
    transaction = connection.transaction()
    await transaction.start()
    try:
        yield connection
    finally:
        await transaction.rollback()
        await connection.close()


def table_file(
    directory: Path, table: str, rows: list[dict[str, Any]], mode: WriteMode = "upsert"
) -> TableFile:
    return TableFile(table, arrow_rows(directory, table, rows), mode)


async def write(conn: asyncpg.Connection, *files: TableFile) -> int:
    written = 0
    for index, item in enumerate(files):
        staged = await stage(conn, ArrowRows(item.path), await table_shape(conn, item.table), index)
        written += await upsert(conn, staged, item.mode)
    return written


async def ejs(conn: asyncpg.Connection) -> dict[str, tuple[object, ...]]:
    rows = await conn.fetch(
        f"SELECT {EJ}, raison_sociale, statut_juridique, date_fermeture FROM entite_juridique"
    )
    return {r[0]: tuple(r)[1:] for r in rows}


async def test_rows_are_inserted_then_only_owned_columns_updated(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    first = [
        {EJ: "010008407", "raison_sociale": "CH A", "statut_juridique": "13", "date_fermeture": None},
        {EJ: "2A0000014", "raison_sociale": "CH Ajaccio", "statut_juridique": "13", "date_fermeture": date(2025, 12, 31)},
    ]  # fmt: skip
    assert await write(conn, table_file(tmp_path, "entite_juridique", first)) == 2
    # A second source owning only raison_sociale: statut_juridique and date_fermeture stay as they were.
    renamed = [{EJ: "010008407", "raison_sociale": "CH A renamed"}]
    await write(conn, table_file(tmp_path, "entite_juridique", renamed))
    assert await ejs(conn) == {
        "010008407": ("CH A renamed", "13", None),
        "2A0000014": ("CH Ajaccio", "13", date(2025, 12, 31)),
    }


async def test_the_last_row_of_a_repeated_key_wins(conn: asyncpg.Connection, tmp_path: Path) -> None:
    rows = [{EJ: "010008407", "raison_sociale": "first"}, {EJ: "010008407", "raison_sociale": "last"}]
    assert await write(conn, table_file(tmp_path, "entite_juridique", rows)) == 1
    assert await conn.fetchval("SELECT raison_sociale FROM entite_juridique") == "last"


async def test_an_unknown_column_is_named(conn: asyncpg.Connection, tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="colonne 'nope'"):
        await write(
            conn,
            table_file(tmp_path, "entite_juridique", [{EJ: "010008407", "raison_sociale": "x", "nope": 1}]),
        )


async def test_ensure_rows_insert_a_missing_parent_but_never_overwrite_one(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    await write(conn, table_file(tmp_path, "entite_juridique", [{EJ: "010008407", "raison_sociale": "CH A"}]))
    announced = [{EJ: "010008407", "raison_sociale": "?"}, {EJ: "2A0000014", "raison_sociale": "?"}]
    site = [{ET: "2A0000022", EJ: "2A0000014", "raison_sociale": "Site", "categorie": "355"}]
    await write(
        conn,
        table_file(tmp_path, "entite_juridique", announced, "ensure"),
        table_file(tmp_path, "etablissement_territorial", site),
    )
    assert {k: v[0] for k, v in (await ejs(conn)).items()} == {"010008407": "CH A", "2A0000014": "?"}


async def test_copying_slice_by_slice_writes_what_one_slice_writes(
    conn: asyncpg.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [{EJ: f"0100{n:04d}{n % 10}", "raison_sociale": f"EJ {n}", "date_fermeture": date(2020, 1, 1 + n % 28)}
            for n in range(50)]  # fmt: skip
    item = table_file(tmp_path, "entite_juridique", rows)
    await write(conn, item)
    whole = await ejs(conn)
    await conn.execute("DELETE FROM entite_juridique")
    monkeypatch.setattr(arrow_copy, "SLICE_ROWS", 7)
    assert len(list(ArrowRows(item.path).slices())) == 8
    await write(conn, item)
    assert await ejs(conn) == whole and len(whole) == 50


async def test_an_extract_clears_its_columns_for_the_keys_it_no_longer_lists(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    await write(conn, table_file(tmp_path, "entite_juridique", [{EJ: "010008407", "raison_sociale": "EJ"}]))
    sites = [{ET: f"01000011{n}", EJ: "010008407", "raison_sociale": "S", "categorie": "355"} for n in (5, 6)]
    await conn.executemany(
        f"INSERT INTO etablissement_territorial ({ET}, {EJ}, raison_sociale, categorie) VALUES ($1, $2, $3, $4)",
        [(s[ET], s[EJ], s["raison_sociale"], s["categorie"]) for s in sites],
    )
    a, b = sites[0][ET], sites[1][ET]
    await conn.executemany(
        f"INSERT INTO activite_sanitaire (annee, {ET}, nombre_passages_urgences, nombre_journees_usld) "
        "VALUES ($1, $2, $3, $4)",
        [(2019, b, 9.0, None), (2024, a, 1.0, 5.0), (2024, b, 2.0, 6.0)],
    )
    newer = table_file(
        tmp_path, "activite_sanitaire", [{"annee": 2024, ET: a, "nombre_passages_urgences": 3.0}]
    )
    staged = await stage(conn, ArrowRows(newer.path), await table_shape(conn, "activite_sanitaire"), 0)
    await upsert(conn, staged, "upsert")
    assert await clear_absent(conn, staged, (2021, 2025), ET) == [b]
    rows = await conn.fetch(
        f"SELECT annee, {ET}, nombre_passages_urgences, nombre_journees_usld FROM activite_sanitaire ORDER BY 1, 2"
    )
    # b's 2024 passages cleared (its USLD days, another source's, kept); 2019 is before the window: kept.
    assert [tuple(r) for r in rows] == [(2019, b, 9.0, None), (2024, a, 3.0, 5.0), (2024, b, None, 6.0)]
