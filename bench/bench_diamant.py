"""`make bench-diamant`: a weekly DIAMANT batch at national scale, from the SFTP inbox to committed rows.

The four pipeline services run as processes on the real broker and database. The batch is the 11 encrypted
extracts for ~3,500 health and ~40,000 medico-social ETs over 5 years (synthetic, `relais generate diamant`); the
FINESS referential is loaded first, untimed. The clock runs from the moment the files appear in the inbox to the
moment every file is loaded or rejected (and the medico-social tables derived from them committed).

In the same run, the reference implementation's method (pandas_baseline): the same rows the pipeline committed to
each Helios table, loaded as Helios loads them — `DELETE` then pandas `to_sql` append, one transaction per table —
into a database of their own with the same schema; only that load is timed. The plain CSVs loaded whole into new
tables without keys (what earlier versions compared with) are timed and printed beside.

Last line: `diamant_batch_s=<s> baseline_s=<s> speedup=<x> peak_rss_mb=<mb>` (baseline: the reference method).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

import asyncpg
from harness import BenchStack, bench_stack, local_sftp, log, peak_rss_mb, wait_until
from pandas_baseline import raw_csvs_to_new_tables, read_tables, replace_like_helios

import relais_stack as stack
from relais_stack.keys import ensure_platform_key
from relais_synthetic.diamant import Quirks, establishments_from, referential_for, write_diamant_extracts
from relais_synthetic.finess import write_referential_files
from relais_testing.infra import fresh_database
from relais_testing.pipeline import Outcomes, fetcher_sftp_env, plaintext_name, publish, sftp_inbox

PIPELINE = ("fetcher", "decryptor", "transformer", "loader")


def worker_peaks(bench: BenchStack) -> dict[str, float]:
    """Peak RSS of each service's worker processes (the transformer's), read before they stop: each must stay under
    the per-service target as well, since together they do the service's work."""
    peaks: dict[str, float] = {}
    for service in PIPELINE:
        pid = stack.service_pid(bench.var, service)
        if pid is None:
            continue
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                try:
                    peaks[f"{service} worker {child}"] = peak_rss_mb(int(child))
                except (OSError, RuntimeError):
                    pass  # gone meanwhile
    return peaks


async def helios_baseline(bench: BenchStack) -> tuple[float, int]:
    """Read the rows the pipeline committed (untimed), then time their load the reference implementation's way into
    a fresh database holding the same referential."""
    tables = await asyncio.to_thread(read_tables, bench.database_url)
    async with fresh_database(bench.infra.database_url, "bench_diamant_baseline") as url:
        source, target = await asyncpg.connect(bench.database_url), await asyncpg.connect(url)
        try:
            for referential in ("entite_juridique", "etablissement_territorial"):
                rows = await source.fetch(f"SELECT * FROM {referential}")
                await target.copy_records_to_table(
                    referential, records=[tuple(r) for r in rows], columns=list(rows[0].keys())
                )
        finally:
            await source.close()
            await target.close()
        return await asyncio.to_thread(replace_like_helios, url, tables)


async def run(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="relais-bench-diamant-"))
    extraction = date.today()
    years = list(range(extraction.year - 5, extraction.year))
    sftp = local_sftp()
    inboxes: list[Path] = []
    try:
        async with bench_stack("diamant", work) as bench:
            private_key, public_key = ensure_platform_key(work / "keys")
            log(
                f"generating: {args.sanitaires} health + {args.medico_sociaux} medico-social ETs, years {years}"
            )
            generated_at = time.perf_counter()
            referential, entites = referential_for(args.seed, args.sanitaires, args.medico_sociaux)
            chosen = establishments_from(referential, args.seed, args.sanitaires, args.medico_sociaux)
            finess_files = write_referential_files(work / "finess", entites, args.seed, extraction, False)
            extracts = write_diamant_extracts(
                work / "diamant",
                chosen,
                seed=args.seed,
                years=years,
                extraction_date=extraction,
                quirks=Quirks(),
                encrypt_to=public_key,
                keep_plaintext=True,
            )
            encrypted = [path for path, _ in extracts]
            source_rows = sum(rows for _, rows in extracts)
            plaintexts = [path.with_suffix("") for path in encrypted]  # X.CSV.gpg -> X.CSV
            size_mb = sum(p.stat().st_size for p in encrypted) / 1e6
            log(
                f"generated {len(encrypted)} extracts, {source_rows:,} rows, {size_mb:.1f} MB encrypted, "
                f"in {time.perf_counter() - generated_at:.0f} s"
            )

            finess_inbox, finess_remote = sftp_inbox(sftp, "FINESS", f"bench-{bench.run_id}")
            diamant_inbox, diamant_remote = sftp_inbox(sftp, "DIAMANT", f"bench-{bench.run_id}")
            inboxes += [finess_inbox, diamant_inbox]
            processes = bench.start(
                PIPELINE,
                {
                    **fetcher_sftp_env(sftp, diamant_remote, finess_remote, bench.var),
                    "RELAIS_DECRYPTOR_KEY_STORE": "file",
                    "RELAIS_DECRYPTOR_PRIVATE_KEY_FILE": str(private_key),
                    "RELAIS_TRANSFORMER_REFERENCE_YEAR": str(extraction.year),
                },
            )
            await processes.wait_healthy(timeout_s=120)
            async with Outcomes(bench.infra.kafka_bootstrap, bench.namespace) as outcomes:

                async def done(names: set[str]) -> bool:
                    await outcomes.poll()
                    return outcomes.settled(names)

                log("loading the FINESS referential (untimed)")
                publish(finess_files, finess_inbox)
                finess_names = {plaintext_name(p.name) for p in finess_files}
                await wait_until(lambda: done(finess_names), 600, "the FINESS referential", bench)

                names = {plaintext_name(p.name) for p in encrypted}

                async def progress() -> str:
                    return f"batch: {len(set(outcomes.loaded) & names)} loaded, {len(set(outcomes.rejected) & names)} rejected of {len(names)}"

                log("batch: files in the inbox, clock started")
                started = time.perf_counter()
                publish(encrypted, diamant_inbox)
                await wait_until(lambda: done(names), args.timeout, "the DIAMANT batch", bench, progress)
                batch_s = time.perf_counter() - started
                peaks = bench.peak_rss() | worker_peaks(bench)
            for name in sorted(names):
                if name in outcomes.loaded:
                    event = outcomes.loaded[name][-1]
                    print(f"{name:45s} {event.outcome:15s} {event.rows_written:>10,} rows")
                else:
                    print(f"{name:45s} rejected        {outcomes.rejected[name][-1].reason}")
            processes.stop()

            log(
                "baseline: the same rows, each Helios table replaced by DELETE + pandas to_sql (Helios's load)"
            )
            baseline_s, baseline_rows = await helios_baseline(bench)
            print(
                f"baseline (reference method, same rows) loaded {baseline_rows:,} rows in {baseline_s:.1f} s"
            )
            log("for comparison: the plain CSVs whole, pandas to_sql into new tables without keys")
            raw_s, raw_rows = await asyncio.to_thread(raw_csvs_to_new_tables, bench.database_url, plaintexts)
            print(
                f"plain CSVs into new keyless tables: {raw_rows:,} rows in {raw_s:.1f} s "
                f"(the batch is {raw_s / batch_s:.2f}x faster)"
            )
            for service, mb in sorted(peaks.items()):
                print(f"peak RSS {service}: {mb:.0f} MB")
            peak = max(peaks.values())
            print(
                f"diamant_batch_s={batch_s:.1f} baseline_s={baseline_s:.1f} "
                f"speedup={baseline_s / batch_s:.2f} peak_rss_mb={peak:.0f}"
            )
    finally:
        for folder in inboxes if args.keep else [*inboxes, work]:
            shutil.rmtree(folder, ignore_errors=True)
        if args.keep:
            log(f"kept the generated files and service logs in {work}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sanitaires", type=int, default=3500, help="health ETs")
    parser.add_argument("--medico-sociaux", type=int, default=40000, help="medico-social ETs")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the generated files and service logs")
    parser.add_argument(
        "--timeout", type=float, default=900, help="seconds before the batch is declared stuck"
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
