"""The walking skeleton: the five services run as separate processes on the real broker and database. A file dropped
in the real SFTP inbox is fetched, passes decryptor → transformer → loader and lands as rows in PostgreSQL, with one
trace id across the whole path, readable with `relais trace`."""

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import asyncpg

from relais_platform.tracefile import read_spans
from relais_stack import SERVICES
from relais_synthetic.finess import generate_referential, write_referential_files
from relais_testing.infra import Infra, SftpServer
from relais_testing.processes import ServiceProcesses

PIPELINE = ("fetcher", "decryptor", "transformer", "loader")


async def wait_for(predicate, timeout: float, what: str, processes: ServiceProcesses):
    deadline = asyncio.get_running_loop().time() + timeout
    while not (result := await predicate()):
        if asyncio.get_running_loop().time() > deadline:
            logs = "\n".join(f"--- {s}\n{processes.log(s)[-3000:]}" for s in SERVICES)
            raise AssertionError(f"timed out waiting for {what}\n{logs}")
        await asyncio.sleep(0.5)
    return result


async def test_a_file_travels_from_sftp_to_postgres_in_one_trace(
    infra: Infra, database_url: str, sftp_server: SftpServer, tmp_path: Path, unique: str
) -> None:
    from datetime import date

    inbox = sftp_server.inbox.parent.parent / "FINESS" / "incoming" / unique
    inbox.mkdir(parents=True)
    shutil.chown(inbox, "relais-dnum")
    ej_file, et_file = write_referential_files(
        tmp_path / "gen", entites=12, seed=5, extract=date(2026, 11, 20), opendata=False
    )
    expected = generate_referential(5, 12)
    for path in (ej_file, et_file):
        shutil.copyfile(path, inbox / path.name)

    var = tmp_path / "var"
    processes = ServiceProcesses(
        var,
        {
            "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap,
            "KAFKA_NAMESPACE": f"t{unique}.",
            "DATABASE_URL": database_url,
            "RELAIS_FETCHER_SFTP_PORT": str(sftp_server.port),
            "RELAIS_FETCHER_SFTP_CLIENT_KEY": str(sftp_server.client_key),
            "RELAIS_FETCHER_SFTP_KNOWN_HOSTS": str(sftp_server.known_hosts),
            "RELAIS_FETCHER_SFTP_INBOX": f"DIAMANT/incoming/{unique}-none",
            "RELAIS_FETCHER_FINESS_INBOX": f"FINESS/incoming/{unique}",
            "RELAIS_FETCHER_POLL_INTERVAL_S": "1",
            "RELAIS_FETCHER_PARTIAL_DIR": str(var / "partial"),
        },
    )
    conn = await asyncpg.connect(database_url)
    processes.start(*SERVICES)
    try:
        await processes.wait_healthy()
        status = subprocess.run(
            [str(Path(sys.executable).parent / "relais"), "status"],
            capture_output=True,
            text=True,
            env={**os.environ, "RELAIS_VAR_DIR": str(var)},
        ).stdout
        for service in SERVICES:
            assert f"{service}: healthy (kafka ok" in status, status
        for infrastructure in ("kafka", "postgres", "sftp"):
            assert f"{infrastructure}: reachable" in status, status

        async def all_ets_loaded() -> bool:
            count = await conn.fetchval("SELECT count(*) FROM etablissement_territorial")
            return count == len(expected.etablissements)

        await wait_for(all_ets_loaded, 90, "the ETs in etablissement_territorial", processes)
        names = dict(
            await conn.fetch("SELECT numero_finess_entite_juridique, raison_sociale FROM entite_juridique")
        )
        assert names == {ej.numero: ej.raison_sociale for ej in expected.entites_juridiques}
        caduc = {
            r[0]
            for r in await conn.fetch(
                "SELECT numero_finess_etablissement_territorial FROM etablissement_territorial WHERE caduc"
            )
        }
        assert caduc == {et.numero for et in expected.etablissements if et.caduc}
    finally:
        processes.stop()
        shutil.rmtree(inbox)
        await conn.close()

    spans = read_spans(var / "traces")
    fetch_span = next(s for s in spans if s.name == f"fetch {et_file.name}")
    trace = read_spans(var / "traces", fetch_span.trace_id)
    assert set(PIPELINE) <= {s.service for s in trace}
    printed = subprocess.run(
        [str(Path(sys.executable).parent / "relais"), "trace", fetch_span.trace_id],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "RELAIS_VAR_DIR": str(var)},
    ).stdout
    assert printed.splitlines()[0].startswith(f"fetcher: fetch {et_file.name}")
    for service in PIPELINE:
        assert f"{service}: " in printed, printed
