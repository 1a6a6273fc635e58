"""The reference implementation's load method, for comparison: pandas reads each plain CSV, then `to_sql` replaces
the whole table in one transaction (Helios DELETEs and re-inserts every table on every run).

It is given the plain CSVs (no SFTP, no decryption): the baseline's time is parse + load only, which flatters it.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
from sqlalchemy import create_engine

FINESS_COLUMNS = {"Finess": str, "Finess EJ": str, "Finess ET": str}


def load_with_pandas(database_url: str, csv_files: list[Path]) -> tuple[float, int]:
    """(seconds, rows) to load every file into its own table, replacing it, one transaction per file."""
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
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
