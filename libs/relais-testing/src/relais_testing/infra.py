"""Where the tests' infrastructure comes from — decided here, once.

1. `KAFKA_BOOTSTRAP_SERVERS` / `DATABASE_URL` set: use them.
2. Otherwise, when a Docker engine answers: testcontainers (Kafka and PostgreSQL images).
3. Otherwise: the project's own local processes (deploy/kafka, deploy/postgres), started when not running.
Tests never care which: they receive a bootstrap address and a database URL.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from relais_platform.database import apply_migrations

ROOT = Path(__file__).resolve().parents[4]
DEPLOY = ROOT / "deploy"


def docker_available() -> bool:
    # testcontainers fails when the container object is created: decide before creating it.
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


def _script(*args: str) -> str:
    done = subprocess.run(args, check=True, capture_output=True, text=True, timeout=600)
    return done.stdout.strip()


@dataclass(frozen=True)
class Infra:
    kafka_bootstrap: str
    database_url: str  # the server's maintenance database; tests create their own databases on it
    mode: str  # "external" | "testcontainers" | "local"

    @property
    def local(self) -> bool:
        return self.mode == "local"


@contextmanager
def provide_infra() -> Iterator[Infra]:
    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    database = os.environ.get("DATABASE_URL")
    if kafka and database:
        yield Infra(kafka, database, "external")
        return
    if docker_available():
        from testcontainers.kafka import KafkaContainer
        from testcontainers.postgres import PostgresContainer

        with KafkaContainer("apache/kafka:4.1.1").with_kraft() as k, PostgresContainer("postgres:15") as pg:
            url = pg.get_connection_url().replace("postgresql+psycopg2://", "postgresql://")
            yield Infra(kafka or k.get_bootstrap_server(), database or url, "testcontainers")
        return
    _script(str(DEPLOY / "kafka" / "kafka.sh"), "start")
    _script(str(DEPLOY / "postgres" / "postgres.sh"), "start")
    yield Infra(
        kafka or f"127.0.0.1:{os.environ.get('RELAIS_KAFKA_PORT', '19092')}",
        database or _script(str(DEPLOY / "postgres" / "postgres.sh"), "url"),
        "local",
    )


@dataclass(frozen=True)
class SftpServer:
    host: str
    port: int
    username: str
    client_key: Path
    known_hosts: Path
    inbox: Path  # the inbox on local disk (DIAMANT/incoming inside the chroot)


def provide_sftp() -> SftpServer:
    """The local OpenSSH stand-in for the DNUM SFTP server (deploy/sftp), started when not running."""
    _script(str(DEPLOY / "sftp" / "sftp.sh"), "start")
    var = Path(os.environ.get("RELAIS_VAR_DIR", ROOT / "var"))
    return SftpServer(
        host="127.0.0.1",
        port=int(os.environ.get("RELAIS_SFTP_PORT", "12222")),
        username="relais-dnum",
        client_key=var / "sftp" / "client_ed25519",
        known_hosts=var / "sftp" / "known_hosts",
        inbox=Path(_script(str(DEPLOY / "sftp" / "sftp.sh"), "inbox")),
    )


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@asynccontextmanager
async def fresh_database(server_url: str, prefix: str) -> AsyncIterator[str]:
    """A new database on the server of `server_url`, every migration applied; dropped on exit.

    Tests and benchmarks each get their own, so nothing they write is seen by anything else."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = _with_database(server_url, name)
    try:
        apply_migrations(url, DEPLOY / "postgres" / "migrations")
        yield url
    finally:
        admin = await asyncpg.connect(server_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
