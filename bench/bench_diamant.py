"""`make bench-diamant`: a weekly DIAMANT batch at national scale, from the SFTP inbox to committed rows.

The four pipeline services run as processes on the real broker and database. The batch is the 11 encrypted
extracts for ~3,500 health and ~40,000 medico-social ETs over 5 years (synthetic, `relais generate diamant`); the
FINESS referential is loaded first, untimed. The clock runs from the moment the files appear in the inbox to the
moment every file is loaded or rejected. In the same run, the reference implementation's method (pandas
`read_csv` + `to_sql` full replace) loads the same plain CSVs.

Last line: `diamant_batch_s=<s> baseline_s=<s> speedup=<x> peak_rss_mb=<mb>`.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

from aiokafka import AIOKafkaConsumer
from harness import BenchStack, bench_stack, local_sftp, log, sftp_inbox, wait_until
from pandas_baseline import load_with_pandas

from relais_cli.generate import write_diamant_extracts, write_finess_files
from relais_cli.keys import ensure_platform_key
from relais_contracts import FileLoaded, FileRejected, Topic
from relais_diamant.synthetic import Quirks, establishments_from, referential_for

PIPELINE = ("fetcher", "decryptor", "transformer", "loader")


def publish(files: list[Path], inbox: Path) -> None:
    """Each file appears whole (copy beside, then one rename), as a real SFTP upload-then-rename does."""
    for path in files:
        staging = inbox / f".{path.name}.part"
        shutil.copyfile(path, staging)
        shutil.chown(staging, "relais-dnum")
        staging.replace(inbox / path.name)


def plaintext_name(file_name: str) -> str:
    """Files keep their name through the pipeline, less `.gpg` once decrypted."""
    return file_name.removesuffix(".gpg")


class Outcomes:
    """What the pipeline said of each file: loaded (with outcome and rows) or rejected (with reason)."""

    def __init__(self, bench: BenchStack) -> None:
        self._bench = bench
        self.loaded: dict[str, FileLoaded] = {}
        self.rejected: dict[str, FileRejected] = {}
        self._consumer: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        ns = self._bench.namespace
        self._consumer = AIOKafkaConsumer(
            ns + Topic.FILE_LOADED.value,
            ns + Topic.FILE_REJECTED.value,
            bootstrap_servers=self._bench.infra.kafka_bootstrap,
            auto_offset_reset="earliest",
        )
        await self._consumer.start()

    async def poll(self) -> None:
        assert self._consumer is not None
        for partition, records in (await self._consumer.getmany(timeout_ms=100)).items():
            for record in records:
                if partition.topic.endswith(Topic.FILE_LOADED.value):
                    loaded = FileLoaded.model_validate_json(record.value)
                    self.loaded[plaintext_name(loaded.file_name)] = loaded
                else:
                    rejected = FileRejected.model_validate_json(record.value)
                    self.rejected[plaintext_name(rejected.file_name)] = rejected

    def done(self, names: set[str]) -> bool:
        return names <= (set(self.loaded) | set(self.rejected))

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()


async def run(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="relais-bench-diamant-"))
    extraction = date.today()
    years = list(range(extraction.year - 5, extraction.year))
    sftp = local_sftp()
    inboxes: list[Path] = []
    try:
        async with bench_stack("diamant", work) as bench:
            private_key, public_key = ensure_platform_key(work / "keys")
            log(f"generating: {args.sanitaires} health + {args.medico_sociaux} medico-social ETs, years {years}")
            generated_at = time.perf_counter()
            referential, entites = referential_for(args.seed, args.sanitaires, args.medico_sociaux)
            chosen = establishments_from(referential, args.seed, args.sanitaires, args.medico_sociaux)
            finess_files = write_finess_files(work / "finess", entites, args.seed, extraction, False)
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
                    "RELAIS_FETCHER_SFTP_PORT": str(sftp.port),
                    "RELAIS_FETCHER_SFTP_CLIENT_KEY": str(sftp.client_key),
                    "RELAIS_FETCHER_SFTP_KNOWN_HOSTS": str(sftp.known_hosts),
                    "RELAIS_FETCHER_SFTP_INBOX": diamant_remote,
                    "RELAIS_FETCHER_FINESS_INBOX": finess_remote,
                    "RELAIS_FETCHER_POLL_INTERVAL_S": "1",
                    "RELAIS_FETCHER_PARTIAL_DIR": str(bench.var / "partial"),
                    "RELAIS_DECRYPTOR_KEY_STORE": "file",
                    "RELAIS_DECRYPTOR_PRIVATE_KEY_FILE": str(private_key),
                    "RELAIS_TRANSFORMER_REFERENCE_YEAR": str(extraction.year),
                },
            )
            await processes.wait_healthy(timeout_s=120)
            outcomes = Outcomes(bench)
            await outcomes.start()
            try:

                async def done(names: set[str]) -> bool:
                    await outcomes.poll()
                    return outcomes.done(names)

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
                peaks = bench.peak_rss()
            finally:
                await outcomes.stop()
            for name in sorted(names):
                if name in outcomes.loaded:
                    event = outcomes.loaded[name]
                    print(f"{name:45s} {event.outcome:15s} {event.rows_written:>10,} rows")
                else:
                    print(f"{name:45s} rejected        {outcomes.rejected[name].reason}")
            processes.stop()

            log("baseline: pandas read_csv + to_sql full replace of the same plain CSVs")
            baseline_s, baseline_rows = await asyncio.to_thread(load_with_pandas, bench.database_url, plaintexts)
            print(f"baseline loaded {baseline_rows:,} rows in {baseline_s:.1f} s")
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
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sanitaires", type=int, default=3500, help="health ETs")
    parser.add_argument("--medico-sociaux", type=int, default=40000, help="medico-social ETs")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the generated files and service logs")
    parser.add_argument("--timeout", type=float, default=900, help="seconds before the batch is declared stuck")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
