"""The concentrator as a separate process on the real stack (Kafka, PostgreSQL, its SFTP intake), fed by the OpenSSH
`sftp` client, and killed (SIGKILL) in the middle of integrating a large file: the regional database holds exactly
the passages the generator says it must, computed from the generator alone."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import os
import signal
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from relais_platform.topics import ensure_topics
from relais_synthetic.rpu import SyntheticEstablishment, SyntheticRegion, day_records
from relais_testing.rpu import RpuConcentratorProcess, processed_files

from .conftest import XXE, Fingerprint, Sent, at, expected_by_day, fingerprint, rolling, small_establishment

pytestmark = pytest.mark.integration

D = date(2026, 9, 10)


@pytest.fixture
async def concentrator(
    kafka_bootstrap: str, database_url: str, tmp_path: Path, unique: str
) -> AsyncIterator[RpuConcentratorProcess]:
    process = RpuConcentratorProcess(
        tmp_path / "var",
        kafka_bootstrap,
        database_url,
        namespace=f"t{unique}.",
        # Small batches: a large file is many COPYs in one transaction, so the kill lands between two of them.
        env_extra={"RELAIS_RPU_INTEGRATION_BATCH_SIZE": "500"},
    )
    from relais_platform.settings import KafkaSettings

    await ensure_topics(kafka_bootstrap, KafkaSettings(namespace=process.namespace).all_topics())
    try:
        await process.start()
        yield process
    finally:
        process.stop()


def file_id(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def wait_processed(
    db: asyncpg.Connection, ids: list[str], process: RpuConcentratorProcess
) -> dict[str, str]:
    async with asyncio.timeout(60):
        while len(done := await processed_files(db, ids)) < len(ids):
            assert process.pid() is not None, process.log()[-3000:]
            await asyncio.sleep(0.2)
    return done


async def copying_passages(db: asyncpg.Connection) -> None:
    """Until a transaction of this test's database is COPYing passages."""
    async with asyncio.timeout(60):
        while not await db.fetchval(
            "SELECT count(*) FROM pg_stat_progress_copy p JOIN pg_stat_activity a USING (pid) "
            "WHERE p.datname = current_database() AND a.query LIKE 'COPY%rpu_passage%'"
        ):
            await asyncio.sleep(0.02)


def integration_workers(service_pid: int) -> list[int]:
    """The service's worker processes (`relais_platform.workers`), from /proc."""
    workers = []
    for task in Path(f"/proc/{service_pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            if b"relais_platform.workers" in Path(f"/proc/{child}/cmdline").read_bytes():
                workers.append(int(child))
    return workers


def as_counts(days: dict[date, list[Fingerprint]]) -> dict[date, Counter[Fingerprint]]:
    # Multisets rather than sorted lists: in a large file two passages may share ENTREE with a missing NAISSANCE.
    return {day: Counter(passages) for day, passages in days.items()}


def expected_counts(
    base: SyntheticRegion, est: SyntheticEstablishment, files: list[Sent]
) -> dict[date, Counter[Fingerprint]]:
    """Files covering disjoint days, without invalid records: each day holds exactly its file's passages."""
    expected: dict[date, Counter[Fingerprint]] = {}
    for sent in files:
        for day in sent.days():
            records = day_records(sent.region(base), est, day)
            expected[day] = Counter(
                fingerprint(r.passage.entree, r.passage.naissance, r.passage.sexe, r.passage.gravite)
                for r in records
            )
    return expected


async def stored_counts(db: asyncpg.Connection, finess: str) -> dict[date, Counter[Fingerprint]]:
    rows = await db.fetch(
        "SELECT day, entree, naissance, sexe, gravite FROM rpu_passage WHERE finess = $1", finess
    )
    days: dict[date, Counter[Fingerprint]] = {r["day"]: Counter() for r in await db.fetch(
        "SELECT day FROM rpu_day WHERE finess = $1", finess)}  # fmt: skip
    for r in rows:
        days[r["day"]][fingerprint(r["entree"], r["naissance"], r["sexe"], r["gravite"])] += 1
    return days


async def stored(db: asyncpg.Connection, finess: str) -> dict[date, list[Fingerprint]]:
    rows = await db.fetch(
        "SELECT day, entree, naissance, sexe, gravite FROM rpu_passage WHERE finess = $1", finess
    )
    days: dict[date, list[Fingerprint]] = {}
    for r in rows:
        days.setdefault(r["day"], []).append(
            fingerprint(r["entree"], r["naissance"], r["sexe"], r["gravite"])
        )
    owned = await db.fetch("SELECT day FROM rpu_day WHERE finess = $1", finess)
    return {r["day"]: sorted(days.get(r["day"], [])) for r in owned}


def write(sent: Sent, base: SyntheticRegion, est: SyntheticEstablishment, directory: Path, name: str) -> Path:
    path = sent.write(base, est, directory)
    return path.rename(directory / name)


async def test_openssh_client_pushes_overlapping_late_and_hostile_files_and_exactly_the_expected_passages_remain(
    concentrator: RpuConcentratorProcess, db: asyncpg.Connection, tmp_path: Path, unique: str
) -> None:
    base, est = small_establishment(int(unique, 16) % 1_000_003, invalid_rate=0.05)
    await concentrator.add_establishments([est.finess])
    files = tmp_path / "files"
    day1, day2 = rolling(1, D), rolling(2, D + timedelta(days=1))
    late = rolling(3, D - timedelta(days=2))  # an older extract, pushed last
    paths = [
        write(day1, base, est, files, f"RPU_{est.finess}_{D:%y%m%d}.xml"),
        write(day2, base, est, files, f"O{est.finess}_0_{day2.extract:%Y%m%d%H%M%S}.xml"),
        files / "RPU_xxe.xml",
        write(late, base, est, files, f"RPU_{est.finess}_{late.extract:%y%m%d}.xml"),
    ]
    paths[2].write_bytes(XXE)

    code, output = await concentrator.push_openssh(est.finess, paths)

    assert code == 0, output
    outcomes = await wait_processed(db, [file_id(p) for p in paths], concentrator)
    assert [outcomes[file_id(p)] for p in paths] == ["integrated", "integrated", "rejected", "integrated"]
    assert await stored(db, est.finess) == expected_by_day(base, est, [day1, day2, late])
    receipts = sorted(p.name for p in (concentrator.intake_root / est.finess / "accuses").iterdir())
    assert len(receipts) == 4 and any(name.startswith("RPU_xxe.xml.") for name in receipts)


async def test_killed_in_the_middle_of_a_large_file_then_restarted_integrates_it_exactly_once(
    concentrator: RpuConcentratorProcess, db: asyncpg.Connection, tmp_path: Path, unique: str
) -> None:
    base, small = small_establishment(int(unique, 16) % 999_983)
    est = dataclasses.replace(small, annual_passages=250_000)  # a month is ~20,000 passages, ~12 MB
    before = Sent(1, D - timedelta(days=40), D - timedelta(days=31), at(D - timedelta(days=30)))
    month = Sent(2, D - timedelta(days=30), D - timedelta(days=1), datetime(2026, 9, 10, 3))
    await concentrator.add_establishments([est.finess])
    old, large = before.write(base, est, tmp_path / "f1"), month.write(base, est, tmp_path / "f2")
    await concentrator.push_asyncssh(est.finess, [old])
    await wait_processed(db, [file_id(old)], concentrator)
    assert await stored_counts(db, est.finess) == expected_counts(base, est, [before])

    await concentrator.push_asyncssh(est.finess, [large])
    await copying_passages(db)  # the file's transaction is COPYing its batches: kill it there
    concentrator.kill()  # its integration workers die with it

    assert await processed_files(db, [file_id(large)]) == {}
    # Nothing of the killed transaction is visible: the days before are intact, the month's days absent.
    assert await stored_counts(db, est.finess) == expected_counts(base, est, [before])
    await concentrator.start(timeout_s=120)  # the group rebalances around the dead member first
    outcomes = await wait_processed(db, [file_id(large)], concentrator)  # the event is delivered again

    assert outcomes == {file_id(large): "integrated"}
    assert await stored_counts(db, est.finess) == expected_counts(base, est, [before, month])
    accepted = await db.fetchval("SELECT passages_accepted FROM rpu_file WHERE file_id = $1", file_id(large))
    assert accepted == sum(sum(expected_counts(base, est, [month]).values(), Counter()).values())


async def test_a_worker_killed_in_the_middle_of_a_file_is_replaced_and_the_file_integrated_exactly_once(
    concentrator: RpuConcentratorProcess, db: asyncpg.Connection, tmp_path: Path, unique: str
) -> None:
    base, small = small_establishment(int(unique, 16) % 999_979)
    est = dataclasses.replace(small, annual_passages=250_000)
    month = Sent(1, D - timedelta(days=30), D - timedelta(days=1), datetime(2026, 9, 10, 3))
    await concentrator.add_establishments([est.finess])
    large = month.write(base, est, tmp_path / "f")
    service = concentrator.pid()
    assert service is not None
    before = integration_workers(service)
    assert before, "the concentrator runs its integration in worker processes"

    await concentrator.push_asyncssh(est.finess, [large])
    await copying_passages(db)
    for worker in before:  # the one COPYing among them: its transaction dies with its connection
        os.kill(worker, signal.SIGKILL)

    outcomes = await wait_processed(db, [file_id(large)], concentrator)  # retried on a replacement worker

    assert outcomes == {file_id(large): "integrated"}
    assert concentrator.pid() == service  # the service itself carried on
    assert set(integration_workers(service)).isdisjoint(before)
    assert await stored_counts(db, est.finess) == expected_counts(base, est, [month])
