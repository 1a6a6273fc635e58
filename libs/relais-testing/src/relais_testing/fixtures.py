"""pytest fixtures: real infrastructure for integration tests, one fresh database per test session."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from relais_testing.gpg import GpgKey, make_gpg_key
from relais_testing.infra import Infra, SftpServer, fresh_database, provide_infra, provide_sftp


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    with provide_infra() as provided:
        yield provided


@pytest.fixture(scope="session")
def kafka_bootstrap(infra: Infra) -> str:
    return infra.kafka_bootstrap


@pytest.fixture(scope="session")
async def database_url(infra: Infra) -> AsyncIterator[str]:
    """A database created for this test session, all migrations applied, dropped afterwards."""
    async with fresh_database(infra.database_url, "relais_test") as url:
        yield url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def sftp_server() -> SftpServer:
    return provide_sftp()


@pytest.fixture
def unique() -> str:
    """A short unique suffix for topics, groups and rows of one test."""
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def platform_key(tmp_path_factory: pytest.TempPathFactory) -> GpgKey:
    """The platform's key pair, made by GnuPG itself."""
    return make_gpg_key(tmp_path_factory.mktemp("gpg") / "home", "diamant@relais.invalid")


@pytest.fixture(scope="session")
def other_key(tmp_path_factory: pytest.TempPathFactory) -> GpgKey:
    return make_gpg_key(tmp_path_factory.mktemp("gpg-other") / "home", "someone-else@relais.invalid")
