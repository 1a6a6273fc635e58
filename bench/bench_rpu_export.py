"""`make bench-rpu-export`: the ATIH cumulative export of 3 million RPUs and a region's daily SPF export.

The regional database is filled untimed and fast: passages drawn from the synthetic generator (1 % invalid
records' shapes included) are COPYed straight into rpu_passage, re-dated across 1 January → 30 September, with
rpu_day and rpu_file rows as the integration would leave them (one catch-up file per establishment and month, and
the last 7 days owned by each establishment's rolling file integrated in the night of 1 October, so that the SPF
export of 1 October carries them). The bench measures the exports, not the intake.

The exports run in a child process (its peak RSS is the figure, the fill's memory does not count), with the
concentrator's own code and PostgreSQL adapters:
- ATIH: `AtihMonthlyExport.build` for September: one anonymised file per establishment, 1 January → 30 September
  (timed: RPU written per second), then planned and delivered through the ledger to a local directory (reported);
- SPF: `SpfDailyExport.run` for 1 October: build, plan and deliver the region's per-establishment OSCOUR files.

Last line: `atih_export_per_s=<n> spf_daily_s=<s> peak_rss_mb=<mb>`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from harness import bench_stack, log, peak_rss_mb

from relais_rpu.quality import check_passage
from relais_synthetic.rpu import day_records, synthetic_region

DEPARTEMENTS = ("67", "68", "75", "93")
YEAR = 2026
MONTH = date(YEAR, 9, 1)
FIRST, LAST = date(YEAR, 1, 1), date(YEAR, 9, 30)
SPF_DAY = date(YEAR, 10, 1)
PARIS = ZoneInfo("Europe/Paris")
COLUMNS = (
    "finess", "day", "file_id", "record_number", "cp", "commune", "naissance", "sexe", "entree", "mode_entree",
    "provenance", "transport", "transport_pec", "motif", "gravite", "dp", "da", "actes", "sortie", "mode_sortie",
    "destination", "orient", "extras", "unparsed", "checks",
)  # fmt: skip


def file_id(finess: str, label: str) -> str:
    import hashlib

    return hashlib.sha256(f"{finess}/{label}".encode()).hexdigest()


def templates(seed: int, count: int) -> list[tuple[Any, ...]]:
    """Rows (without finess, day, file_id, record_number) from the synthetic generator, ENTREE as an offset."""
    region = synthetic_region(seed, 8, DEPARTEMENTS, invalid_rate=0.01)
    rows: list[tuple[Any, ...]] = []
    day = FIRST  # re-dated later only: ages never go below the template's
    while len(rows) < count:
        for est in region.establishments:
            for record in day_records(region, est, day):
                p = record.passage
                if record.defect in ("missing_entree", "unreadable_entree"):
                    continue
                midnight = datetime.combine(p.entree.date(), clock_time())
                sortie = p.sortie - midnight if p.sortie else None
                extras = json.dumps([list(x) for x in p.extras]) if p.extras else None
                unparsed = json.dumps([list(x) for x in p.unparsed]) if p.unparsed else None
                rows.append(
                    (p.cp, p.commune, p.naissance, p.sexe, p.entree - midnight, p.mode_entree, p.provenance,
                     p.transport, p.transport_pec, p.motif, p.gravite, p.dp, list(p.da), list(p.actes), sortie,
                     p.mode_sortie, p.destination, p.orient, extras, unparsed, check_passage(p))
                )  # fmt: skip
        day += timedelta(days=1)
    return rows[:count]


async def fill(database_url: str, rpus: int, establishments: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    region = synthetic_region(seed, establishments, DEPARTEMENTS)
    finess = sorted({e.finess for e in region.establishments})
    days = [FIRST + timedelta(days=n) for n in range((LAST - FIRST).days + 1)]
    weights = [rng.lognormvariate(0, 0.5) for _ in finess]
    per_day = {f: w / sum(weights) * rpus / len(days) for f, w in zip(finess, weights, strict=True)}
    pool = templates(seed, 20_000)
    log(f"fill: {len(finess)} establishments, {len(days)} days, ~{rpus:,} RPU, {len(pool):,} template rows")
    rolling_from = LAST - timedelta(days=6)
    conn = await asyncpg.connect(database_url)
    counts: dict[str, int] = {}
    started = time.perf_counter()
    try:
        await conn.execute("SET synchronous_commit = off")
        batch: list[tuple[Any, ...]] = []
        day_rows: list[tuple[Any, ...]] = []
        file_rows: list[tuple[Any, ...]] = []
        written, t = 0, 0
        carry = 0.0
        for f in finess:
            monthly: dict[int, list[date]] = {}
            for day in days:
                carry += per_day[f]
                n = int(carry)
                carry -= n
                owner = file_id(f, "rolling") if day >= rolling_from else file_id(f, f"month-{day.month}")
                monthly.setdefault(0 if day >= rolling_from else day.month, []).append(day)
                midnight = datetime.combine(day, clock_time())
                for number in range(1, n + 1):
                    row = pool[t % len(pool)]
                    t += 1
                    sortie = midnight + row[14] if row[14] is not None else None
                    batch.append(
                        (f, day, owner, number, *row[:4], midnight + row[4], *row[5:14], sortie, *row[15:])
                    )
                extract = datetime.combine(day, clock_time(3))
                day_rows.append((f, day, owner, extract, extract.replace(tzinfo=PARIS), n))
                counts[f] = counts.get(f, 0) + n
                if len(batch) >= 50_000:
                    await conn.copy_records_to_table("rpu_passage", records=batch, columns=COLUMNS)
                    written += len(batch)
                    batch.clear()
            for month, covered in monthly.items():
                rolling = month == 0
                processed = (
                    datetime.combine(SPF_DAY, clock_time(3, 10), tzinfo=PARIS)
                    if rolling
                    else datetime(YEAR, 10, 1, tzinfo=UTC) - timedelta(days=30)
                )
                label = "rolling" if rolling else f"month-{month}"
                file_rows.append(
                    (file_id(f, label), f, f, f"RPU_{f}_{label}.xml", "integrated", min(covered), max(covered),
                     covered, file_id(f, label), processed, processed)
                )  # fmt: skip
            if len(counts) % 20 == 0:
                log(f"fill: {len(counts)}/{len(finess)} establishments, {written + len(batch):,} rows")
        await conn.copy_records_to_table("rpu_passage", records=batch, columns=COLUMNS)
        written += len(batch)
        async with conn.transaction():
            await conn.copy_records_to_table(
                "rpu_file", records=[(*r, 0, "application/xml") for r in file_rows],
                columns=["file_id", "finess", "account", "file_name", "status", "first_day", "last_day",
                         "days_replaced", "blob_sha256", "received_at", "processed_at", "blob_size",
                         "blob_media_type"],
            )  # fmt: skip
            await conn.copy_records_to_table(
                "rpu_day",
                records=day_rows,
                columns=["finess", "day", "file_id", "extract", "received_at", "passages"],
            )
        await conn.execute("ANALYZE rpu_passage; ANALYZE rpu_day; ANALYZE rpu_file")
        log(f"fill: {written:,} rows in {time.perf_counter() - started:.0f} s")
    finally:
        await conn.close()
    return counts


class LocalDirectory:
    """The receiver: a copy into a directory (the bench measures the export, not a network)."""

    def __init__(self, name: str, root: Path) -> None:
        self.name = name
        self._root = root
        root.mkdir(parents=True, exist_ok=True)

    async def send(self, export_id: str, file: Any, content: Path) -> None:
        await asyncio.to_thread(shutil.copyfile, content, self._root / file.name)


async def child(database_url: str, work: Path) -> dict[str, float]:
    """Runs in its own process: both exports with the concentrator's code; returns the figures."""
    from opentelemetry.sdk.trace import TracerProvider

    from relais_platform.blobstore import FileSystemBlobStore
    from relais_rpu.geo import PmsiGeoCodes
    from relais_rpu_concentrator.adapters.pg_exports import PostgresExportSource
    from relais_rpu_concentrator.outbound.adapters.pg_deliveries import PostgresDeliveryLedger
    from relais_rpu_concentrator.outbound.atih_export import AtihMonthlyExport
    from relais_rpu_concentrator.outbound.delivery import ExportDelivery
    from relais_rpu_concentrator.outbound.spf_export import SpfDailyExport

    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=3)
    tracer = TracerProvider().get_tracer("bench")
    blobs = FileSystemBlobStore(work / "blobs")
    ledger = PostgresDeliveryLedger(pool)
    figures: dict[str, float] = {}
    try:
        source = PostgresExportSource(lambda: pool)
        atih_dest = LocalDirectory("atih", work / "out" / "atih")
        delivery = ExportDelivery(ledger=ledger, blobs=blobs, destinations={"atih": atih_dest}, tracer=tracer)
        atih = AtihMonthlyExport(
            source=source, blobs=blobs, delivery=delivery, ledger=ledger, destination="atih", tracer=tracer,
            geo_code=PmsiGeoCodes(),
        )  # fmt: skip
        started, cpu = time.perf_counter(), time.process_time()
        export = await atih.build(MONTH)
        figures["atih_s"] = time.perf_counter() - started
        # The exporter's own CPU time: on a shared machine, wall time also counts the neighbours' load.
        figures["atih_cpu_s"] = time.process_time() - cpu
        figures["atih_rpu"] = sum(sum(f.rpu_per_finess.values()) for f in export.files)
        figures["atih_mb"] = sum(f.blob.size for f in export.files) / 1e6
        started = time.perf_counter()
        await delivery.plan(export, "atih")
        report = await delivery.resume("atih")
        figures["atih_deliver_s"] = time.perf_counter() - started
        figures["atih_files"] = len(report.delivered)

        spf_dest = LocalDirectory("spf", work / "out" / "spf")
        spf_delivery = ExportDelivery(
            ledger=ledger, blobs=blobs, destinations={"spf": spf_dest}, tracer=tracer
        )
        spf = SpfDailyExport(
            source=source, blobs=blobs, delivery=spf_delivery, ledger=ledger, destination="spf", tracer=tracer,
            at=clock_time(4, 0), zone=PARIS,
        )  # fmt: skip
        started = time.perf_counter()
        spf_report = await spf.run(SPF_DAY)
        figures["spf_s"] = time.perf_counter() - started
        figures["spf_files"] = len(spf_report.delivered)
        manifest = json.loads((work / "out" / "spf" / f"spf-{SPF_DAY}.manifest.json").read_text())
        figures["spf_rpu"] = manifest["rpu_total"]
    finally:
        await pool.close()
    figures["peak_rss_mb"] = peak_rss_mb(int(Path("/proc/self/stat").read_text().split()[0]))
    return figures


async def run(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="relais-bench-rpu-export-"))
    try:
        async with bench_stack("rpu_export", work) as bench:
            counts = await fill(bench.database_url, args.rpus, args.etablissements, args.seed)
            total = sum(counts.values())
            log("exports in a child process")
            done = await asyncio.create_subprocess_exec(
                sys.executable, __file__, "--child", bench.database_url, str(work),
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            out, err = await done.communicate()
            sys.stderr.write(err.decode()[-3000:])
            if done.returncode != 0:
                raise SystemExit(f"export process failed ({done.returncode})")
            figures = json.loads(out.decode().strip().splitlines()[-1])
        if figures["atih_rpu"] != total:
            raise SystemExit(f"ATIH export carried {figures['atih_rpu']:,} RPU, the database holds {total:,}")
        atih_per_s = figures["atih_rpu"] / figures["atih_s"]
        print(f"database: {total:,} RPU from {len(counts)} establishments, 1 January → 30 September {YEAR}")
        print(
            f"ATIH {MONTH:%Y-%m} cumulative: {figures['atih_rpu']:,.0f} RPU, {figures['atih_mb']:,.0f} MB written "
            f"in {figures['atih_s']:.1f} s ({atih_per_s:,.0f} RPU/s; exporter CPU {figures['atih_cpu_s']:.1f} s, "
            f"{figures['atih_rpu'] / figures['atih_cpu_s']:,.0f} RPU per CPU second); planned and delivered "
            f"({figures['atih_files']:.0f} files) in {figures['atih_deliver_s']:.1f} s"
        )
        print(
            f"SPF daily export of {SPF_DAY}: {figures['spf_rpu']:,} RPU in {figures['spf_files']:.0f} files, "
            f"built and delivered in {figures['spf_s']:.1f} s"
        )
        print(f"load average at the end (1 min): {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(
            f"atih_export_per_s={atih_per_s:.0f} spf_daily_s={figures['spf_s']:.1f} "
            f"peak_rss_mb={figures['peak_rss_mb']:.0f}"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        print(json.dumps(asyncio.run(child(sys.argv[2], Path(sys.argv[3])))))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rpus", type=int, default=3_000_000, help="RPU in the database (scale down to try)")
    parser.add_argument("--etablissements", type=int, default=120)
    parser.add_argument("--seed", type=int, default=2026)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
