"""Where the tests' infrastructure comes from — decided here, once.

1. `KAFKA_BOOTSTRAP_SERVERS` / `DATABASE_URL` set: use them.
2. Otherwise, when a Docker engine answers: testcontainers (Kafka and PostgreSQL images).
3. Otherwise: the project's own local processes (deploy/kafka, deploy/postgres through relais_stack), started when
   not running.
Tests never care which: they receive a bootstrap address and a database URL.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

import asyncpg

from relais_platform.database import apply_migrations
from relais_stack import (
    SftpServer,
    kafka_bootstrap,
    migrations_dir,
    postgres_url,
    project_root,
    require_infra,
    start_local_sftp,
)

ROOT = project_root()
DEPLOY = ROOT / "deploy"

__all__ = ["DEPLOY", "ROOT", "Infra", "SftpServer", "fresh_database", "provide_infra", "provide_sftp"]


def docker_available() -> bool:
    # testcontainers fails when the container object is created: decide before creating it.
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


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
    require_infra("kafka", "start")
    require_infra("postgres", "start")
    yield Infra(kafka or kafka_bootstrap(), database or postgres_url(), "local")


def provide_sftp() -> SftpServer:
    """The local OpenSSH stand-in for the DNUM SFTP server, started when not running."""
    return start_local_sftp()


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
        apply_migrations(url, migrations_dir())
        yield url
    finally:
        admin = await asyncpg.connect(server_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
