"""What the loader's tests share: rows as the transformer stores them (Arrow IPC files), and the pipeline's path
without the broker — a DIAMANT extract transformed, its tables stored, loaded in one transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import polars as pl

from relais_contracts import WriteMode
from relais_diamant.definitions import definition
from relais_diamant.rules import Referential, year_window
from relais_diamant.transform import transform_file
from relais_loader.adapters.pg_indicators import LoadOutcome, TableFile, load_file

ET = "numero_finess_etablissement_territorial"
EJ = "numero_finess_entite_juridique"


def table_file(
    directory: Path, table: str, rows: list[dict[str, Any]], mode: WriteMode = "upsert"
) -> TableFile:
    """`rows` of `table` stored as the transformer stores them."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{table}-{len(list(directory.iterdir()))}.arrow"
    pl.DataFrame(rows, infer_schema_length=None).write_ipc(path)
    return TableFile(table, path, mode)


async def referential(conn: asyncpg.Connection) -> Referential:
    """The FINESS numbers known in the database, as the transformer reads them (caduc ETs excluded)."""
    ets = await conn.fetch(f"SELECT {ET} AS et, {EJ} AS ej FROM etablissement_territorial WHERE NOT caduc")
    ejs = await conn.fetch(f"SELECT {EJ} AS ej FROM entite_juridique")
    return Referential(
        frozenset(r["et"] for r in ets), frozenset(r["ej"] for r in ejs), {r["et"]: r["ej"] for r in ets}
    )


def csv(header: list[str], rows: list[dict[str, str]]) -> str:
    """A DIAMANT plain-text file: `;`, CRLF, cells by label (absent = empty)."""
    return (
        "\r\n".join([";".join(header)] + [";".join(row.get(label, "") for label in header) for row in rows])
        + "\r\n"
    )


@dataclass(frozen=True, slots=True)
class Loaded:
    outcome: LoadOutcome
    written: int
    report: dict[str, Any]


async def load_extract(
    conn: asyncpg.Connection,
    directory: Path,
    source: str,
    text: str,
    extracted: date,
    *,
    file_id: str,
    reference_year: int,
    settle_medico_social: bool = True,
) -> Loaded:
    """Transform `text` as an extract of `source` dated `extracted`, store its tables, load them in one
    transaction."""
    name = f"{source}_{extracted:%Y_%m_%d}.CSV"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    found = definition(source)
    assert found is not None
    result = transform_file(path, found, await referential(conn), reference_year, name)
    tables = []
    for table, frame in result.tables.items():
        stored = directory / f"{file_id[:12]}-{table}.arrow"
        frame.write_ipc(stored)
        tables.append(TableFile(table, stored))
    window = year_window(found.period, reference_year)
    report = result.report.as_dict()
    async with conn.transaction():
        outcome, written = await load_file(
            conn,
            file_id=file_id,
            source=source,
            file_name=name,
            extraction_date=extracted,
            tables=tables,
            years=(window.first, window.last),
            quality_report=json.dumps(report, default=str),
            reference_year=reference_year,
            settle_medico_social=settle_medico_social,
        )
    return Loaded(outcome, written, report)
