"""What `make up` (`relais seed`) does for the RPU concentrator: accounts for a few synthetic establishments, and
their rolling files pushed over SFTP to the intake as it runs (here in-process on an ephemeral port)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import asyncpg
import pytest

from relais_cli.seed import RPU_ESTABLISHMENTS, RPU_SENDING_DAYS, seed_rpu_intake
from relais_platform.blobstore import FileSystemBlobStore
from relais_rpu_concentrator.adapters.pg_accounts import PostgresAccounts
from relais_rpu_concentrator.intake.reception import FileReception
from relais_rpu_concentrator.intake.server import intake_server
from relais_rpu_concentrator.settings import IntakeSettings

from .conftest import RecordingSink

pytestmark = pytest.mark.integration


@pytest.fixture
async def running_intake(
    database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[IntakeSettings, RecordingSink]]:
    settings = IntakeSettings(
        port=0, host_key=tmp_path / "host" / "ssh_host_ed25519_key", root=tmp_path / "intake"
    )
    sink = RecordingSink()
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    reception = FileReception(
        intake_root=settings.root, blobs=FileSystemBlobStore(tmp_path / "blobs"), sink=sink
    )
    try:
        async with intake_server(settings, PostgresAccounts(pool), reception) as acceptor:
            yield settings.model_copy(update={"port": acceptor.get_port()}), sink
    finally:
        await pool.close()


async def test_seed_creates_establishment_accounts_and_pushes_their_rolling_files_over_sftp(
    running_intake: tuple[IntakeSettings, RecordingSink], database_url: str, tmp_path: Path
) -> None:
    settings, sink = running_intake
    pushed = await seed_rpu_intake(settings, database_url, tmp_path / "rpu-seed", date(2026, 9, 10))

    assert len(pushed) == RPU_ESTABLISHMENTS * RPU_SENDING_DAYS
    assert sorted((e.finess, e.file_name) for e in sink.events) == sorted(pushed)
    assert (tmp_path / "rpu-seed" / "establishment_ed25519").stat().st_mode & 0o077 == 0
    names = {name for _, name in pushed}
    assert any(n.startswith("RPU_") for n in names) and any(n.startswith("O") for n in names)

    again = await seed_rpu_intake(settings, database_url, tmp_path / "rpu-seed", date(2026, 9, 10))
    assert again == pushed  # accounts already there: kept; the same bytes are sent again
    assert [e.file_id for e in sink.events[len(pushed) :]] == [e.file_id for e in sink.events[: len(pushed)]]
