"""DIAMANT extracts for tests, taken through the transformer's half of the pipeline without the broker: a plain-text
file written, transformed against the database's referential, each target table's rows stored as the transformer
stores them (Arrow IPC). Loading them is the loader's business: its tests call its `load_file` with these tables."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import polars as pl

from relais_diamant.definitions import definition
from relais_diamant.rules import Referential, year_window
from relais_diamant.transform import transform_file

ET = "numero_finess_etablissement_territorial"
EJ = "numero_finess_entite_juridique"


def csv(header: list[str], rows: list[dict[str, str]]) -> str:
    """A DIAMANT plain-text file: `;`, CRLF, cells by label (absent = empty)."""
    return (
        "\r\n".join([";".join(header)] + [";".join(row.get(label, "") for label in header) for row in rows])
        + "\r\n"
    )


async def referential(conn: asyncpg.Connection) -> Referential:
    """The FINESS numbers known in the database, as the transformer reads them (caduc ETs excluded)."""
    ets = await conn.fetch(f"SELECT {ET} AS et, {EJ} AS ej FROM etablissement_territorial WHERE NOT caduc")
    ejs = await conn.fetch(f"SELECT {EJ} AS ej FROM entite_juridique")
    return Referential(
        frozenset(r["et"] for r in ets), frozenset(r["ej"] for r in ejs), {r["et"]: r["ej"] for r in ets}
    )


def arrow_rows(directory: Path, table: str, rows: list[dict[str, Any]]) -> Path:
    """`rows` of `table` stored as the transformer stores them."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{table}-{len(list(directory.iterdir()))}.arrow"
    pl.DataFrame(rows, infer_schema_length=None).write_ipc(path)
    return path


@dataclass(frozen=True, slots=True)
class Extract:
    """A transformed extract: what the loader is given for it."""

    file_id: str  # the digest of its content, as in the pipeline
    file_name: str
    tables: list[tuple[str, Path]]  # target table, its rows
    years: tuple[int, int]
    report: dict[str, Any]


async def transform_extract(
    conn: asyncpg.Connection,
    directory: Path,
    source: str,
    text: str,
    extracted: date,
    reference_year: int,
    salt: str = "",
) -> Extract:
    """`text` as the extract of `source` dated `extracted`, transformed (`salt`: the same content as another file)."""
    file_id = hashlib.sha256((text + salt).encode()).hexdigest()
    name = f"{source}_{extracted:%Y_%m_%d}.CSV"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    found = definition(source)
    assert found is not None, source
    result = transform_file(path, found, await referential(conn), reference_year, name)
    tables = []
    for table, frame in result.tables.items():
        stored = directory / f"{file_id[:12]}-{table}.arrow"
        frame.write_ipc(stored)
        tables.append((table, stored))
    window = year_window(found.period, reference_year)
    return Extract(file_id, name, tables, (window.first, window.last), result.report.as_dict())
