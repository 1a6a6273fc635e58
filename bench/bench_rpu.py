"""`make bench-rpu`: one year of a large region's RPU, from the establishments' SFTP pushes to integrated passages.

3 million RPUs in monthly catch-up files (one per establishment and month) from 40 establishments (synthetic,
`relais generate rpu --monthly`, 1 % invalid records), generated untimed. The concentrator runs as a process on
the real broker and database; each establishment has its account and pushes its twelve files over SFTP (asyncssh,
a few establishments at a time). The clock runs from the first push to the moment the last file is in the
regional database's ledger (integrated or rejected). In the same run, the physical floor: the same rows, parsed
untimed by the concentrator's own reader, written with a plain asyncpg `copy_records_to_table` into a copy of
rpu_passage (only the COPY is timed).

`--big-file`: instead, one establishment's single ~1 GB yearly file, pushed and integrated by a fresh concentrator;
prints its peak RSS.

Last line: `rpu_ingest_per_s=<n> copy_per_s=<n> ratio=<r> peak_rss_mb=<mb>`.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import shutil
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from datetime import date
from pathlib import Path

import asyncpg
from harness import BenchStack, bench_stack, log, service_peak_rss_mb

from relais_platform.settings import KafkaSettings
from relais_platform.topics import ensure_topics
from relais_rpu.model import RpuHeader
from relais_rpu_concentrator.integration.reading import PASSAGE_COLUMNS, FileReader
from relais_synthetic.rpu import (
    GeneratedFile,
    SyntheticRegion,
    synthetic_region,
    with_annual_total,
    write_days,
    write_monthly_file,
)
from relais_testing.rpu import RpuConcentratorProcess, processed_files

DEPARTEMENTS = ("67", "68", "75", "93")


def _establishment_year(region: SyntheticRegion, index: int, year: int, out: Path) -> list[GeneratedFile]:
    est = region.establishments[index]
    return [write_monthly_file(region, est, year, month, out / est.finess) for month in range(1, 13)]


def generate_year(region: SyntheticRegion, year: int, out: Path, workers: int) -> list[GeneratedFile]:
    """Every establishment's twelve catch-up files, establishments spread over `workers` processes."""
    files: list[GeneratedFile] = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(_establishment_year, region, i, year, out) for i in range(len(region.establishments))
        ]
        for n, future in enumerate(futures, 1):
            files += future.result()
            if n % 5 == 0 or n == len(futures):
                log(f"generated {n}/{len(futures)} establishments, {sum(f.records for f in files):,} RPU")
    return files


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


async def push_all(
    concentrator: RpuConcentratorProcess, by_finess: dict[str, list[Path]], concurrency: int
) -> None:
    """Each establishment pushes its files in order on its own connection; `concurrency` establishments at once."""
    gate = asyncio.Semaphore(concurrency)

    async def one(finess: str, paths: list[Path]) -> None:
        async with gate:
            await concentrator.push_asyncssh(finess, paths)

    await asyncio.gather(*(one(finess, paths) for finess, paths in by_finess.items()))


async def integrate(
    bench: BenchStack, concentrator: RpuConcentratorProcess, files: list[Path], args: argparse.Namespace
) -> tuple[float, int, float]:
    """Push every file and wait for each in the ledger: (seconds, RPU read from the files, service peak RSS MB)."""
    by_finess: dict[str, list[Path]] = {}
    for path in files:
        by_finess.setdefault(path.parent.name, []).append(path)
    ids = [sha256(p) for p in files]
    await concentrator.add_establishments(by_finess)
    pool = await asyncpg.create_pool(bench.database_url, min_size=1, max_size=2)
    try:
        log(f"pushing {len(files)} files from {len(by_finess)} establishments over SFTP, clock started")
        started = time.perf_counter()
        pushing = asyncio.create_task(push_all(concentrator, by_finess, args.push_concurrency))
        last_report, done = started, {}
        while len(done) < len(ids):
            if pushing.done() and pushing.exception() is not None:
                raise pushing.exception()  # type: ignore[misc]
            if concentrator.pid() is None:
                raise SystemExit(f"the concentrator exited:\n{concentrator.log()[-4000:]}")
            now = time.perf_counter()
            if now - started > args.timeout:
                raise SystemExit(f"timed out after {args.timeout:.0f} s:\n{concentrator.log()[-4000:]}")
            if now - last_report > 5:
                last_report = now
                rpu = await pool.fetchval(
                    "SELECT coalesce(sum(passages_accepted + passages_rejected), 0) FROM rpu_file"
                )
                log(
                    f"{len(done)}/{len(ids)} files integrated, {rpu:,} RPU, {rpu / (now - started):,.0f} RPU/s, "
                    f"service RSS peak {service_peak_rss_mb(concentrator.pid() or 0):.0f} MB"
                )
            await asyncio.sleep(0.1)
            done = await processed_files(pool, ids)
        elapsed = time.perf_counter() - started
        await pushing
        peak = service_peak_rss_mb(concentrator.pid() or 0)
        row = await pool.fetchrow(
            "SELECT sum(passages_accepted + passages_rejected) AS rpu, sum(passages_rejected) AS rejected, "
            "count(*) FILTER (WHERE status <> 'integrated') AS not_integrated FROM rpu_file"
        )
        log(f"done: {row['rpu']:,} RPU ({row['rejected']:,} rejected records), "
            f"{row['not_integrated']} files not integrated")  # fmt: skip
        return elapsed, int(row["rpu"]), peak
    finally:
        await pool.close()


async def copy_floor(database_url: str, files: Iterable[Path]) -> tuple[float, int]:
    """The same rows through a plain COPY: parsing untimed, only `copy_records_to_table` on the clock."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("CREATE TABLE rpu_passage_floor (LIKE rpu_passage INCLUDING ALL)")
        copy_s, rows = 0.0, 0
        for n, path in enumerate(files, 1):
            with path.open("rb") as stream:
                reader = FileReader(stream, finess=path.parent.name, file_id=sha256(path), batch_size=20_000)
                while (batch := reader.next_batch()) is not None:
                    started = time.perf_counter()
                    await conn.copy_records_to_table(
                        "rpu_passage_floor", records=batch.passages, columns=list(PASSAGE_COLUMNS)
                    )
                    copy_s += time.perf_counter() - started
                    rows += len(batch.passages)
                reader.close()
            if n % 50 == 0:
                log(f"floor: {n} files, {rows:,} rows COPYed in {copy_s:.1f} s")
        return copy_s, rows
    finally:
        await conn.close()


async def start_concentrator(bench: BenchStack) -> RpuConcentratorProcess:
    concentrator = RpuConcentratorProcess(
        bench.var, bench.infra.kafka_bootstrap, bench.database_url, namespace=bench.namespace
    )
    await ensure_topics(bench.infra.kafka_bootstrap, KafkaSettings(namespace=bench.namespace).all_topics())
    await concentrator.start(timeout_s=120)
    return concentrator


async def run_year(args: argparse.Namespace, work: Path) -> None:
    region = with_annual_total(
        synthetic_region(args.seed, args.etablissements, DEPARTEMENTS, invalid_rate=0.01), args.rpus
    )
    # The infrastructure first: a broker that cannot be reached fails the run before minutes of generation.
    async with bench_stack("rpu", work) as bench:
        log(
            f"generating {args.year}: {args.etablissements} establishments, ~{args.rpus:,} RPU, monthly files"
        )
        generated_at = time.perf_counter()
        generated = generate_year(region, args.year, work / "files", workers=2)
        files = [g.path for g in generated]
        records = sum(g.records for g in generated)
        size_mb = sum(p.stat().st_size for p in files) / 1e6
        log(
            f"generated {len(files)} files, {records:,} RPU, {size_mb:,.0f} MB in {time.perf_counter() - generated_at:.0f} s"
        )
        concentrator = await start_concentrator(bench)
        try:
            elapsed, rpu, peak = await integrate(bench, concentrator, files, args)
        finally:
            concentrator.stop()
        log("floor: the same parsed rows with copy_records_to_table")
        copy_s, copied = await copy_floor(bench.database_url, files)
    ingest = rpu / elapsed
    copy = copied / copy_s
    print(f"files {len(files)}  size {size_mb:,.0f} MB  RPU in files {records:,}  RPU integrated {rpu:,}")
    print(f"end to end (SFTP push → Kafka → integration): {elapsed:.1f} s, {ingest:,.0f} RPU/s")
    print(f"floor (COPY of the same parsed rows): {copied:,} rows in {copy_s:.1f} s, {copy:,.0f} rows/s")
    print(f"peak RSS rpu-concentrator (service process + integration workers): {peak:.0f} MB")
    print(
        f"rpu_ingest_per_s={ingest:.0f} copy_per_s={copy:.0f} ratio={ingest / copy:.2f} peak_rss_mb={peak:.0f}"
    )


async def run_big_file(args: argparse.Namespace, work: Path) -> None:
    """One establishment, one yearly file of about `--big-file-mb` MB (~545 bytes per RPU)."""
    passages = int(args.big_file_mb * 1e6 / 545)
    region = synthetic_region(args.seed, 1, ("67",), invalid_rate=0.01)
    est = replace(region.establishments[0], annual_passages=passages)
    region = replace(region, establishments=(est,))
    first, last = date(args.year, 1, 1), date(args.year, 12, 31)
    path = work / "files" / est.finess / f"RPU_{est.finess}_{args.year % 100:02d}1231.xml"
    path.parent.mkdir(parents=True)
    async with bench_stack("rpu_big", work) as bench:
        log(f"generating one file of ~{passages:,} RPU (~{args.big_file_mb} MB)")
        header = RpuHeader(est.finess, "0", None, first, last)
        records = write_days(path, region, est, first, last, header)
        size_mb = path.stat().st_size / 1e6
        log(f"generated {path.name}: {records:,} RPU, {size_mb:,.0f} MB")
        concentrator = await start_concentrator(bench)
        try:
            elapsed, rpu, peak = await integrate(bench, concentrator, [path], args)
        finally:
            concentrator.stop()
    print(
        f"big file: {size_mb:,.0f} MB, {rpu:,} RPU integrated in {elapsed:.1f} s ({rpu / elapsed:,.0f} RPU/s)"
    )
    print(f"big_file_mb={size_mb:.0f} big_file_rpu_per_s={rpu / elapsed:.0f} peak_rss_mb={peak:.0f}")


async def run(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="relais-bench-rpu-"))
    try:
        await (run_big_file(args, work) if args.big_file else run_year(args, work))
    finally:
        if args.keep:
            log(f"kept the generated files and service logs in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rpus", type=int, default=3_000_000, help="RPU in the year (scale down for quick runs)"
    )
    parser.add_argument("--etablissements", type=int, default=40)
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--push-concurrency", type=int, default=4, help="establishments pushing at once")
    parser.add_argument("--big-file", action="store_true", help="measure one ~1 GB file instead of the year")
    parser.add_argument("--big-file-mb", type=int, default=1000)
    parser.add_argument("--keep", action="store_true", help="keep the generated files and service logs")
    parser.add_argument(
        "--timeout", type=float, default=1800, help="seconds before the run is declared stuck"
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
