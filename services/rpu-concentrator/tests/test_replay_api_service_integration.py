"""The replay API as the concentrator serves it: the real service process with RELAIS_RPU_API_ENABLED, on its
own loopback port, answering an ARS account and recording the request in PostgreSQL."""

from __future__ import annotations

import asyncio
import random
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest

from relais_platform.settings import KafkaSettings
from relais_platform.topics import ensure_topics
from relais_rpu_concentrator.adapters.pg_accounts import PostgresAccounts
from relais_rpu_concentrator.intake.accounts import ars_account
from relais_synthetic.finess import random_finess
from relais_testing.rpu import RpuConcentratorProcess, free_port

pytestmark = pytest.mark.integration


async def test_the_service_serves_the_replay_api_when_enabled(
    kafka_bootstrap: str, database_url: str, db: asyncpg.Connection, tmp_path: Path, unique: str
) -> None:
    port = free_port()
    process = RpuConcentratorProcess(
        tmp_path / "var",
        kafka_bootstrap,
        database_url,
        namespace=f"t{unique}.",
        env_extra={"RELAIS_RPU_API_ENABLED": "true", "RELAIS_RPU_API_PORT": str(port)},
    )
    await ensure_topics(kafka_bootstrap, KafkaSettings(namespace=process.namespace).all_topics())
    ars = f"ars-{unique}"
    await PostgresAccounts(db).add(ars_account(ars, (), "mot de passe de test"))
    finess = random_finess(random.Random(uuid.uuid4().int))
    try:
        await process.start()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            async with asyncio.timeout(30):
                while True:  # the API resource opens after the health file may already say healthy
                    try:
                        answer = await client.post(
                            "/replays",
                            json={"finess": finess, "first_day": "2026-01-01", "last_day": "2026-01-31"},
                            auth=(ars, "mot de passe de test"),
                        )
                        break
                    except httpx.ConnectError:
                        assert process.pid() is not None, process.log()[-3000:]
                        await asyncio.sleep(0.2)
        assert answer.status_code == 201, answer.text
        assert answer.json()["needed"] is True
        row = await db.fetchrow(
            "SELECT requested_by, state FROM rpu_replay_request WHERE finess = $1", finess
        )
        assert row is not None and dict(row) == {"requested_by": ars, "state": "requested"}
    finally:
        process.stop()
