"""The reference implementation's load method, for comparison (Helios, datacrawler/load/sauvegarde.py): for each
target table, in one transaction, `DELETE FROM <table>` then pandas `to_sql(<table>, if_exists="append")` of the
table's new rows, through SQLAlchemy's default PostgreSQL driver (psycopg2), into tables with the keys and foreign
keys of spec §6 — the same tables, and the same rows, the pipeline committed.

Only the load is timed: Helios also reads each CSV with pandas and merges the medico-social files before loading,
which is not counted here (it flatters the baseline). The rows are read from the pipeline's database beforehand,
and the referential is copied into the baseline's own database, both untimed.

`raw_csvs_to_new_tables` is the comparison earlier versions of the benchmark made: every plain CSV, all its columns
and rows (including those the rules reject), `to_sql(if_exists="replace")` into a table of its own without keys or
indexes. It is printed beside, as a floor of what pandas can do, not as the reference implementation's method.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from relais_diamant import medico_social
from relais_diamant.definitions import definition
from relais_diamant.definitions_medico_social import SOURCE_TABLES
from relais_diamant.sources import DiamantSource
from relais_loader.adapters.pg_aggregates import AGGREGATES

FINESS_COLUMNS = {"Finess": str, "Finess EJ": str, "Finess ET": str}

# The Helios tables the pipeline writes (spec §6): the health sources' own tables, their EJ aggregates and the derived
# medico-social tables; not the pipeline's diamant_* source tables, which Helios has no equivalent of (it merges the
# medico-social files in memory).
HELIOS_TABLES = (
    *dict.fromkeys(
        table
        for source in DiamantSource
        if (found := definition(source)) is not None
        for table in found.tables
        if table not in SOURCE_TABLES
    ),
    *(aggregate.target for aggregate in AGGREGATES),
    *medico_social.COLUMNS,
)


def _engine(database_url: str, driver: str) -> Engine:
    return create_engine(database_url.replace("postgresql://", f"postgresql+{driver}://", 1))


def read_tables(database_url: str) -> dict[str, pd.DataFrame]:
    """The rows of every Helios table, as the pipeline committed them (untimed)."""
    engine = _engine(database_url, "psycopg2")
    try:
        return {table: pd.read_sql_table(table, engine) for table in HELIOS_TABLES}
    finally:
        engine.dispose()


def replace_like_helios(database_url: str, tables: dict[str, pd.DataFrame]) -> tuple[float, int]:
    """(seconds, rows) to replace every table's content as Helios does, one transaction per table."""
    engine = _engine(database_url, "psycopg2")
    rows = 0
    started = time.perf_counter()
    try:
        for table, frame in tables.items():
            with engine.begin() as connection:
                connection.execute(text(f"DELETE FROM {table}"))
                frame.to_sql(table, connection, if_exists="append", index=False)
            rows += len(frame)
    finally:
        engine.dispose()
    return time.perf_counter() - started, rows


def raw_csvs_to_new_tables(database_url: str, csv_files: list[Path]) -> tuple[float, int]:
    """(seconds, rows) to load every plain CSV whole into a new table of its own, replacing it."""
    engine = _engine(database_url, "psycopg")
    rows = 0
    started = time.perf_counter()
    try:
        for path in csv_files:
            frame = pd.read_csv(path, sep=";", dtype=FINESS_COLUMNS, encoding="utf-8")
            table = "baseline_" + path.name.split(".")[0].lower()
            with engine.begin() as connection:
                frame.to_sql(table, connection, if_exists="replace", index=False, chunksize=10_000)
            rows += len(frame)
    finally:
        engine.dispose()
    return time.perf_counter() - started, rows
