"""The daily export to the ARS: the regional database extract and the transmission statistics.

Export `ars-<YYYY-MM-DD>` for day D, through the delivery ledger (planned once, each file sent once, manifest last).
It holds the year to date as the regional database has it on D: every current passage with ENTREE in 1 January of
D−1's year … D−1, so each day's extract replaces the previous one whole (no merge on the ARS side):
- `rpu_ars_<YYYYMMDD>.csv.gz`: CSV (RFC 4180, `,`, header row, UTF-8, gzip), written by PostgreSQL's COPY;
- `rpu_ars_<YYYYMMDD>.parquet`: the same rows and columns, typed (dates, timestamps, integers);
- `rpu_ars_<YYYYMMDD>_stats.csv`: per establishment and month, the transmission statistics (`relais rpu stats`);
- the manifest (SHA-256 of each file; rows per FINESS, counted on the CSV).
The extract is delivered in the traces of the files integrated on D−1 (the news it brings).
Both extracts are streamed in batches (bounded memory whatever the region's volume).
"""

from __future__ import annotations

import gzip
import io
import logging
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import asyncpg
import pyarrow as pa
import pyarrow.parquet as pq
from opentelemetry.trace import Tracer

from relais_platform.blobstore import BlobStore
from relais_rpu_concentrator.adapters.pg_stats import month_stats
from relais_rpu_concentrator.outbound.delivery import DeliveryReport, ExportDelivery
from relais_rpu_concentrator.outbound.model import Export, ExportFile
from relais_rpu_concentrator.outbound.ports import DeliveryLedger

log = logging.getLogger(__name__)

PREFIX = "ars-"
BATCH_ROWS = 10_000

# (column, Parquet type, meaning) — the documented layout of both extracts, in order.
COLUMNS: tuple[tuple[str, pa.DataType, str], ...] = (
    ("finess", pa.string(), "FINESS géographique of the establishment"),
    ("day", pa.date32(), "day of ENTREE (local time); the unit of replacement with finess"),
    ("entree", pa.timestamp("s"), "ENTREE, local time"),
    ("sortie", pa.timestamp("s"), "SORTIE, local time (empty when not sent or unreadable)"),
    ("cp", pa.string(), "CP as sent"),
    ("commune", pa.string(), "COMMUNE as sent"),
    ("naissance", pa.date32(), "NAISSANCE"),
    ("sexe", pa.string(), "SEXE (M, F, I)"),
    ("mode_entree", pa.string(), "MODE_ENTREE"),
    ("provenance", pa.string(), "PROVENANCE"),
    ("transport", pa.string(), "TRANSPORT"),
    ("transport_pec", pa.string(), "TRANSPORT_PEC"),
    ("motif", pa.string(), "MOTIF as sent"),
    ("gravite", pa.string(), "GRAVITE (CCMU)"),
    ("dp", pa.string(), "DP, normalised CIM-10"),
    ("da", pa.string(), "DA codes, normalised, separated by |"),
    ("actes", pa.string(), "CCAM acts, separated by |"),
    ("mode_sortie", pa.string(), "MODE_SORTIE"),
    ("destination", pa.string(), "DESTINATION"),
    ("orient", pa.string(), "ORIENT"),
    ("checks", pa.string(), "FEDORU quality checks the passage fails, separated by |"),
    ("file_id", pa.string(), "SHA-256 of the received file the passage comes from"),
    ("record_number", pa.int32(), "rank of the PATIENT element in that file"),
)
SCHEMA = pa.schema([(name, kind) for name, kind, _ in COLUMNS])
_LISTS = {"da", "actes", "checks"}
_SELECT = (
    "SELECT "
    + ", ".join(f"array_to_string({c}, '|') AS {c}" if c in _LISTS else c for c, _, _ in COLUMNS)
    + " FROM rpu_passage WHERE day >= $1 AND day <= $2 ORDER BY finess, day, file_id, record_number"
)
_PER_FINESS = (
    "SELECT finess, sum(passages)::bigint AS n FROM rpu_day WHERE day >= $1 AND day <= $2 GROUP BY finess"
)
# The files integrated on D−1 (local day): the day's extract is delivered in their traces.
_DAY_TRACES = """
    SELECT traceparent FROM rpu_file
    WHERE status = 'integrated' AND traceparent IS NOT NULL
      AND processed_at >= ($1::date::timestamp AT TIME ZONE 'Europe/Paris')
      AND processed_at < ($2::date::timestamp AT TIME ZONE 'Europe/Paris')
    ORDER BY processed_at
"""
STATS_HEADER = (
    "finess,month,files_integrated,files_rejected,files_superseded,rpu,days_transmitted,suspicious_days"
)


def export_id(day: date) -> str:
    return f"{PREFIX}{day.isoformat()}"


def period(day: date) -> tuple[date, date]:
    last = day - timedelta(days=1)
    return last.replace(month=1, day=1), last


class ArsDailyExport:
    def __init__(
        self,
        *,
        pool: Callable[[], asyncpg.Pool],
        blobs: BlobStore,
        delivery: ExportDelivery,
        ledger: DeliveryLedger,
        destination: str,
        tracer: Tracer,
        batch_rows: int = BATCH_ROWS,
    ) -> None:
        self._pool = pool
        self._blobs = blobs
        self._delivery = delivery
        self._ledger = ledger
        self._destination = destination
        self._tracer = tracer
        self._batch = batch_rows

    async def run(self, day: date) -> DeliveryReport:
        if export_id(day) not in await self._ledger.exports(self._destination, PREFIX):
            await self._delivery.plan(await self.build(day), self._destination)
        return await self._delivery.resume(self._destination)

    async def build(self, day: date) -> Export:
        first, last = period(day)
        stem = f"rpu_ars_{day:%Y%m%d}"
        with self._tracer.start_as_current_span(
            f"rpu.ars_export.build {export_id(day)}", attributes={"relais.export_id": export_id(day)}
        ) as span:
            # One snapshot for the three files: they agree with each other even while files are integrated.
            async with (
                self._pool().acquire() as conn,
                conn.transaction(readonly=True, isolation="repeatable_read"),
            ):
                parents = tuple(r[0] for r in await conn.fetch(_DAY_TRACES, day - timedelta(days=1), day))
                parquet_file, per_finess = await self._parquet(conn, f"{stem}.parquet", first, last)
                csv_file = await self._csv(conn, f"{stem}.csv.gz", first, last, per_finess, parents)
                await self._compare(conn, first, last, per_finess)
                stats_file = await self._stats(conn, f"{stem}_stats.csv", first, last)
            span.set_attribute("relais.rows", sum(per_finess.values()))
        return Export(export_id(day), (csv_file, parquet_file, stats_file))

    async def _csv(
        self,
        conn: asyncpg.Connection,
        name: str,
        first: date,
        last: date,
        per_finess: dict[str, int],
        parents: tuple[str, ...],
    ) -> ExportFile:
        with self._blobs.writer("application/gzip") as (out, refs):
            with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=3, mtime=0) as zipped:

                async def write(chunk: bytes) -> None:
                    zipped.write(chunk)

                await conn.copy_from_query(_SELECT, first, last, output=write, format="csv", header=True)
        return ExportFile(name, refs[0], per_finess, parents)

    async def _parquet(
        self, conn: asyncpg.Connection, name: str, first: date, last: date
    ) -> tuple[ExportFile, dict[str, int]]:
        seen: Counter[str] = Counter()
        with self._blobs.writer("application/vnd.apache.parquet") as (out, refs):
            with pq.ParquetWriter(_Sink(out), SCHEMA, compression="zstd") as writer:
                cursor = await conn.cursor(_SELECT, first, last)
                while batch := await cursor.fetch(self._batch):
                    writer.write_batch(_record_batch(batch))
                    seen.update(r[0] for r in batch)
        # Counted once in the manifest, on the CSV: the Parquet file holds the same rows (same snapshot).
        return ExportFile(name, refs[0]), dict(seen)

    async def _compare(
        self, conn: asyncpg.Connection, first: date, last: date, per_finess: dict[str, int]
    ) -> None:
        """rpu_day's counts should equal the rows sent; a difference is a fault of the database worth a look, not
        a reason to withhold the ARS's extract."""
        expected = {r["finess"]: int(r["n"]) for r in await conn.fetch(_PER_FINESS, first, last) if r["n"]}
        if expected != per_finess:
            differ = sorted(
                f for f in expected.keys() | per_finess.keys() if expected.get(f) != per_finess.get(f)
            )
            log.error("ARS extract rows differ from rpu_day counts", extra={"finess": differ[:50]})

    async def _stats(self, conn: asyncpg.Connection, name: str, first: date, last: date) -> ExportFile:
        lines = [STATS_HEADER]
        month = first
        while month <= last:
            stats = await month_stats(conn, month)
            for e in stats.establishments:
                lines.append(
                    f"{e.finess},{month:%Y-%m},{e.files_integrated},{e.files_rejected},{e.files_superseded},"
                    f"{e.rpu},{len(e.daily)},{len(e.suspicious_days())}"
                )
            month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
        ref = self._blobs.put_bytes(("\n".join(lines) + "\n").encode("utf-8"), "text/csv")
        return ExportFile(name, ref)


class _Sink(io.RawIOBase):
    """The blob store's writer as the file object pyarrow expects (write, tell, closed)."""

    def __init__(self, out: Any) -> None:
        self._out = out
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._out.write(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position


def _record_batch(rows: list[Any]) -> pa.RecordBatch:
    columns = list(zip(*rows, strict=True))
    return pa.RecordBatch.from_arrays(
        [pa.array(values, type=kind) for values, (_, kind, _) in zip(columns, COLUMNS, strict=True)],
        schema=SCHEMA,
    )
