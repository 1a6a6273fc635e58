"""The ARS replay API on a real uvicorn server on loopback, against PostgreSQL: who gets in, idempotence, audit."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import asyncpg
import httpx
import pytest

from relais_rpu_concentrator.adapters.http_replay_api import serve_replay_api
from relais_rpu_concentrator.adapters.pg_accounts import PostgresAccounts
from relais_rpu_concentrator.adapters.pg_replay import PostgresReplayStore
from relais_rpu_concentrator.intake.accounts import ars_account, establishment_account
from relais_rpu_concentrator.replay.replays import Replays
from relais_rpu_concentrator.replay.settings import ReplayApiSettings
from relais_synthetic.finess import random_finess

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"


@dataclass
class Api:
    client: httpx.AsyncClient
    pool: asyncpg.Pool
    ars: str
    establishment: str

    def as_ars(self) -> httpx.BasicAuth:
        return httpx.BasicAuth(self.ars, PASSWORD)


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    accounts = PostgresAccounts(pool)
    ars = f"ars-{uuid.uuid4().hex[:8]}"
    establishment = random_finess(random.Random(uuid.uuid4().int))
    await accounts.add(ars_account(ars, (), PASSWORD))
    await accounts.add(establishment_account(establishment, (), PASSWORD))
    settings = ReplayApiSettings(host="127.0.0.1", port=0, progress_interval_s=3600)
    replays = Replays(PostgresReplayStore(pool), clock=lambda: NOW)
    try:
        async with serve_replay_api(settings, replays, accounts) as running:
            async with httpx.AsyncClient(base_url=running.url, timeout=10) as client:
                yield Api(client, pool, ars, establishment)
    finally:
        await pool.close()


def a_period() -> dict[str, str]:
    return {
        "finess": random_finess(random.Random(uuid.uuid4().int)),
        "first_day": "2026-10-01",
        "last_day": "2026-10-31",
    }


async def test_an_ars_account_requests_a_replay_and_asking_again_changes_nothing(api: Api) -> None:
    body = a_period()
    first = await api.client.post("/replays", json=body, auth=api.as_ars())
    assert first.status_code == 201, first.text
    created = first.json()
    assert created["created"] is True and created["needed"] is True and created["state"] == "requested"
    assert created["requested_by"] == api.ars and len(created["missing_days"]) == 31
    assert "reprise nécessaire" in created["reason"]

    again = await api.client.post("/replays", json=body, auth=api.as_ars())
    assert again.status_code == 200
    assert {**again.json(), "created": True} == created

    shown = await api.client.get(f"/replays/{created['id']}", auth=api.as_ars())
    assert shown.status_code == 200
    [entry] = shown.json()["audit"]
    assert entry["actor"] == api.ars and entry["action"] == "requested"
    assert body["finess"] in entry["detail"] and "01/10/2026" in entry["detail"]
    assert datetime.fromisoformat(entry["at"]) <= datetime.now(UTC)

    listed = await api.client.get("/replays", params={"open": "1"}, auth=api.as_ars())
    assert [r["id"] for r in listed.json()].count(created["id"]) == 1


async def test_the_request_shows_data_received_once_the_period_is_held(api: Api) -> None:
    body = a_period()
    created = (await api.client.post("/replays", json=body, auth=api.as_ars())).json()
    file_id = uuid.uuid4().hex * 2
    await api.pool.execute(
        """INSERT INTO rpu_file (file_id, finess, account, file_name, status, blob_sha256, blob_size,
               blob_media_type, received_at)
           VALUES ($1, $2, $3, 'RPU.xml', 'integrated', $1, 1, 'application/xml', now())""",
        file_id, body["finess"], body["finess"],
    )  # fmt: skip
    await api.pool.executemany(
        "INSERT INTO rpu_day (finess, day, file_id, extract, received_at, passages) VALUES ($1, $2, $3, now(), now(), 5)",
        [(body["finess"], date(2026, 10, 1) + timedelta(days=i), file_id) for i in range(31)],
    )
    shown = (await api.client.get(f"/replays/{created['id']}", auth=api.as_ars())).json()
    assert shown["state"] == "data_received"
    assert [(e["actor"], e["action"]) for e in shown["audit"]] == [
        (api.ars, "requested"),
        ("relais", "data_received"),
    ]


async def test_an_establishment_is_refused_with_403_and_bad_credentials_with_401(api: Api) -> None:
    body = a_period()
    establishment = await api.client.post(
        "/replays", json=body, auth=httpx.BasicAuth(api.establishment, PASSWORD)
    )
    assert establishment.status_code == 403
    for auth in (
        httpx.BasicAuth(api.ars, "wrong"),
        httpx.BasicAuth("ars-nobody", PASSWORD),
        httpx.BasicAuth(api.establishment, "wrong"),
        None,
    ):
        refused = await api.client.post("/replays", json=body, auth=auth)
        assert refused.status_code == 401, auth
        assert refused.headers["www-authenticate"].startswith("Basic")
    assert (
        await api.client.get("/replays", auth=httpx.BasicAuth(api.establishment, PASSWORD))
    ).status_code == 403
    listed = await api.client.get("/replays", auth=api.as_ars())
    assert body["finess"] not in [r["finess"] for r in listed.json()]  # nothing refused was recorded


async def test_a_disabled_ars_account_is_refused(api: Api) -> None:
    await PostgresAccounts(api.pool).disable(api.ars)
    assert (await api.client.get("/replays", auth=api.as_ars())).status_code == 401


async def test_an_invalid_request_gets_422_with_the_reason_and_an_unknown_id_404(api: Api) -> None:
    bad = await api.client.post("/replays", json={**a_period(), "last_day": "2026-09-01"}, auth=api.as_ars())
    assert bad.status_code == 422 and "inversée" in bad.json()["error"]
    not_json = await api.client.post("/replays", content=b"{", auth=api.as_ars())
    assert not_json.status_code == 422
    assert (await api.client.get("/replays/999999999", auth=api.as_ars())).status_code == 404
