"""The concentrator as it runs (its composition root, real Kafka, real PostgreSQL, real SFTP intake): files in,
exactly the expected passages out, whatever the order of arrival, redeliveries and rejected files."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import asyncssh
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from faststream import TestApp

from relais_contracts import RpuFileIntegrated, RpuFileReceived, Topic
from relais_platform.blobstore import FileSystemBlobStore
from relais_platform.settings import DatabaseSettings, KafkaSettings, StorageSettings
from relais_platform.topics import ensure_topics
from relais_rpu_concentrator.adapters.pg_accounts import PostgresAccounts
from relais_rpu_concentrator.app import create_app
from relais_rpu_concentrator.intake.accounts import establishment_account, parse_public_keys
from relais_rpu_concentrator.settings import ConcentratorSettings, IntakeSettings
from relais_synthetic.rpu import SyntheticEstablishment, SyntheticRegion

from .conftest import XXE, Fingerprint, Sent, at, expected_by_day, fingerprint, rolling, small_establishment

pytestmark = pytest.mark.integration

D = date(2026, 9, 10)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Concentrator:
    settings: ConcentratorSettings
    blobs: FileSystemBlobStore
    db: asyncpg.Connection
    base: SyntheticRegion
    est: SyntheticEstablishment
    files: Path
    clock: datetime = datetime(2026, 9, 30, tzinfo=UTC)

    def event(self, data: bytes, name: str) -> RpuFileReceived:
        self.clock += timedelta(minutes=1)
        ref = self.blobs.put_bytes(data, "application/xml")
        finess = self.est.finess
        return RpuFileReceived(
            finess=finess,
            account=finess,
            file_name=name,
            file_id=ref.sha256,
            blob=ref,
            received_at=self.clock,
        )

    def sent(self, sent: Sent) -> RpuFileReceived:
        path = sent.write(self.base, self.est, self.files)
        return self.event(path.read_bytes(), path.name)

    async def publish(self, *events: RpuFileReceived) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.settings.kafka.bootstrap_servers)
        await producer.start()
        try:
            for event in events:
                await producer.send_and_wait(
                    self.settings.kafka.topic(Topic.RPU_FILE_RECEIVED),
                    event.model_dump_json().encode(),
                    key=event.finess.encode(),
                )
        finally:
            await producer.stop()

    async def integrated_events(self, expected: int, timeout: float = 30.0) -> list[RpuFileIntegrated]:
        topic = self.settings.kafka.topic(Topic.RPU_FILE_INTEGRATED)
        consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=self.settings.kafka.bootstrap_servers, auto_offset_reset="earliest"
        )
        await consumer.start()
        seen: list[RpuFileIntegrated] = []
        try:
            async with asyncio.timeout(timeout):
                while len(seen) < expected:
                    for records in (await consumer.getmany(timeout_ms=500)).values():
                        seen += [RpuFileIntegrated.model_validate_json(r.value) for r in records]
        finally:
            await consumer.stop()
        return seen

    async def processed(self, file_id: str, timeout: float = 30.0) -> str:
        async with asyncio.timeout(timeout):
            while (
                status := await self.db.fetchval("SELECT status FROM rpu_file WHERE file_id = $1", file_id)
            ) is None:
                await asyncio.sleep(0.1)
        return str(status)

    async def stored(self) -> dict[date, list[Fingerprint]]:
        rows = await self.db.fetch(
            "SELECT day, entree, naissance, sexe, gravite FROM rpu_passage WHERE finess = $1", self.est.finess
        )
        days: dict[date, list[Fingerprint]] = {}
        for r in rows:
            days.setdefault(r["day"], []).append(
                fingerprint(r["entree"], r["naissance"], r["sexe"], r["gravite"])
            )
        owned = await self.db.fetch("SELECT day FROM rpu_day WHERE finess = $1", self.est.finess)
        return {r["day"]: sorted(days.get(r["day"], [])) for r in owned}


@pytest.fixture
async def concentrator(
    kafka_bootstrap: str, database_url: str, db: asyncpg.Connection, tmp_path: Path, unique: str
) -> AsyncIterator[Concentrator]:
    var = tmp_path / "var"
    settings = ConcentratorSettings(
        kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap, namespace=f"t{unique}."),
        database=DatabaseSettings(database_url=database_url, database_pool_max_size=3),
        storage=StorageSettings(var_dir=var),
        intake=IntakeSettings(port=free_port(), root=tmp_path / "intake", host_key=tmp_path / "host" / "key"),
    )
    await ensure_topics(kafka_bootstrap, settings.kafka.all_topics())
    base, est = small_establishment(int(unique, 16) % 1_000_003, invalid_rate=0.05)
    app = create_app(settings)
    async with TestApp(app):
        yield Concentrator(
            settings, FileSystemBlobStore(settings.storage.blobs), db, base, est, tmp_path / "files"
        )


async def test_overlapping_late_redelivered_and_rejected_files_leave_exactly_the_expected_passages(
    concentrator: Concentrator,
) -> None:
    c = concentrator
    day1, day2, day3 = rolling(1, D), rolling(2, D + timedelta(days=1)), rolling(3, D + timedelta(days=2))
    late = rolling(4, D - timedelta(days=2))  # an older extract, arriving last
    inside = Sent(5, D - timedelta(days=4), D - timedelta(days=3), at(D - timedelta(days=1)))  # fully covered
    e1, e2, e3 = c.sent(day1), c.sent(day2), c.sent(day3)
    bad = c.event(XXE, "RPU_xxe.xml")
    e_late, e_inside = c.sent(late), c.sent(inside)
    await c.publish(e1, bad, e2, e1, e3, e_late, e_inside, e2)  # e1 and e2 delivered twice

    assert await c.processed(e_inside.file_id) == "superseded"
    assert [await c.processed(e.file_id) for e in (e1, e2, e3, e_late)] == ["integrated"] * 4
    assert await c.processed(bad.file_id) == "rejected"
    # 7 deliveries of integrable files, redeliveries included: every event has been handled, the last e2 too
    outcomes = [(e.file_id, e.outcome) for e in await c.integrated_events(7)]
    assert outcomes.count((e1.file_id, "already_integrated")) == 1
    assert outcomes.count((e2.file_id, "already_integrated")) == 1
    assert await c.stored() == expected_by_day(c.base, c.est, [day1, day2, day3, late, inside])
    assert sorted(await c.stored()) == sorted(day3.days() | late.days())

    counts = await c.db.fetchrow(
        "SELECT sum(passages_accepted) AS accepted, sum(passages_rejected) AS rejected, count(*) AS files "
        "FROM rpu_file WHERE finess = $1",
        c.est.finess,
    )
    assert counts["files"] == 6  # redeliveries added no ledger row
    stored = await c.db.fetchval("SELECT count(*) FROM rpu_passage WHERE finess = $1", c.est.finess)
    assert stored == sum(len(v) for v in (await c.stored()).values())
    quarantined = await c.db.fetchrow(
        "SELECT error, blob_sha256 FROM rpu_file WHERE file_id = $1", bad.file_id
    )
    assert "DOCTYPE" in quarantined["error"] and c.blobs.path(bad.blob).read_bytes() == XXE


async def test_an_establishment_pushing_over_sftp_reads_its_receipts_and_an_xxe_file_is_refused_alone(
    concentrator: Concentrator,
) -> None:
    c = concentrator
    key = asyncssh.generate_private_key("ssh-ed25519")
    accounts = PostgresAccounts(c.db)
    await accounts.add(
        establishment_account(c.est.finess, parse_public_keys(key.export_public_key().decode()))
    )
    first, last = rolling(1, D), rolling(2, D + timedelta(days=1))
    uploads = [
        (first.write(c.base, c.est, c.files).name, first.write(c.base, c.est, c.files).read_bytes()),
        ("RPU_xxe.xml", XXE),
        (last.write(c.base, c.est, c.files).name, last.write(c.base, c.est, c.files).read_bytes()),
    ]
    intake = c.settings.intake
    async with (
        asyncssh.connect(
            intake.host,
            port=intake.port,
            username=c.est.finess,
            client_keys=[key],
            known_hosts=None,
            agent_path=None,
        ) as conn,
        conn.start_sftp_client() as sftp,
    ):
        for name, data in uploads:
            async with sftp.open(f"depot/{name}", "wb") as remote:
                await remote.write(data)
        async with asyncio.timeout(30):
            while len(await sftp.listdir("accuses")) < 2 + 3:  # '.', '..' and three receipts
                await asyncio.sleep(0.1)
        receipts = {}
        for name in await sftp.listdir("accuses"):
            if name.endswith(".accuse.txt"):
                async with sftp.open(f"accuses/{name}", "rb") as handle:
                    receipts[name] = (await handle.read()).decode("utf-8")

    [xxe] = [text for name, text in receipts.items() if name.startswith("RPU_xxe.xml.")]
    assert "FICHIER REJETÉ" in xxe and "DOCTYPE/ENTITY interdite" in xxe
    assert sum("FICHIER INTÉGRÉ" in text for text in receipts.values()) == 2
    assert await c.stored() == expected_by_day(c.base, c.est, [first, last])
