"""pytest fixtures: real infrastructure for integration tests, one fresh database per test session."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from relais_testing.gpg import GpgKey, make_gpg_key
from relais_testing.infra import Infra, SftpServer, fresh_database, provide_infra, provide_sftp
from relais_testing.pipeline import delete_topics_named_after


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    with provide_infra() as provided:
        yield provided


# What a session used on the broker, so its topics are deleted when it ends (see pytest_sessionfinish).
_SESSION_KAFKA: dict[str, object] = {"bootstrap": None, "suffixes": set()}


@pytest.fixture(scope="session")
def kafka_bootstrap(infra: Infra) -> str:
    _SESSION_KAFKA["bootstrap"] = infra.kafka_bootstrap
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
    """A short unique suffix for topics, groups and rows of one test; its topics are deleted at session end."""
    suffix = uuid.uuid4().hex[:8]
    suffixes = _SESSION_KAFKA["suffixes"]
    assert isinstance(suffixes, set)
    suffixes.add(suffix)
    return suffix


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Delete every topic named after a test's unique suffix.

    The local broker keeps its data across runs and each test namespace creates the full topic set: left behind,
    thousands of partitions accumulate until the broker's heap no longer holds its metadata."""
    bootstrap, suffixes = _SESSION_KAFKA["bootstrap"], _SESSION_KAFKA["suffixes"]
    if isinstance(bootstrap, str) and isinstance(suffixes, set) and suffixes:
        asyncio.run(delete_topics_named_after(bootstrap, suffixes))


@pytest.fixture(scope="session")
def platform_key(tmp_path_factory: pytest.TempPathFactory) -> GpgKey:
    """The platform's key pair, made by GnuPG itself."""
    return make_gpg_key(tmp_path_factory.mktemp("gpg") / "home", "diamant@relais.invalid")


@pytest.fixture(scope="session")
def other_key(tmp_path_factory: pytest.TempPathFactory) -> GpgKey:
    return make_gpg_key(tmp_path_factory.mktemp("gpg-other") / "home", "someone-else@relais.invalid")
