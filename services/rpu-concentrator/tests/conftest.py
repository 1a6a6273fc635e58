"""Shared by the concentrator's tests.

- The real intake server, in-process on an ephemeral loopback port, with a temp intake root and the real PostgreSQL
  accounts table; clients are asyncssh and the OpenSSH `sftp` command.
- In-memory implementations of the integration ports, with the same semantics as the real adapters (a transaction
  is all or nothing; one establishment's integrations are serialised); a contract test runs against both.
- RPU files for the integration tests, and the passages the regional database must hold afterwards, computed from
  the synthetic generator alone (never from the pipeline under test). Each `Sent` file draws its passages from its
  own variant of the region (`version`): two files covering the same day carry different passages, so the tests
  can tell which one won the day.

(One module rather than several: with pytest's importlib mode and several `tests` packages in the workspace, only
`conftest` is reliably importable from a test module.)
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import random
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import asyncssh
import pytest

from relais_contracts import RpuFileIntegrated, RpuFileReceived, RpuFileRejected
from relais_platform.blobstore import FileSystemBlobStore
from relais_rpu.model import RpuHeader
from relais_rpu_concentrator.adapters.pg_accounts import PostgresAccounts
from relais_rpu_concentrator.intake.accounts import ars_account, establishment_account, parse_public_keys
from relais_rpu_concentrator.intake.paths import ensure_establishment_dirs, receipt_path
from relais_rpu_concentrator.intake.reception import FileReception
from relais_rpu_concentrator.intake.server import intake_server
from relais_rpu_concentrator.integration.ports import FileRecord
from relais_rpu_concentrator.integration.reading import DAY_COLUMN, PassageRow, RejectedRow
from relais_rpu_concentrator.integration.rules import OrderKey
from relais_rpu_concentrator.settings import IntakeSettings
from relais_synthetic.finess import random_finess
from relais_synthetic.rpu import (
    SyntheticEstablishment,
    SyntheticRegion,
    day_records,
    synthetic_region,
    write_days,
)

MAX_FILE_BYTES = 64 * 1024


@dataclass
class RecordingSink:
    """The FileReceivedSink of the tests: keeps events; can be made to fail like an unreachable broker."""

    events: list[RpuFileReceived] = field(default_factory=list)
    fail: bool = False

    async def file_received(self, event: RpuFileReceived) -> None:
        if self.fail:
            raise ConnectionError("broker unreachable")
        self.events.append(event)


@dataclass(frozen=True)
class Login:
    name: str
    key: Path  # private key, OpenSSH format, mode 0600
    password: str | None = None


@dataclass
class Intake:
    port: int
    root: Path
    keys: Path
    blobs: FileSystemBlobStore
    sink: RecordingSink
    accounts: PostgresAccounts
    pool: Any

    @property
    def received(self) -> list[RpuFileReceived]:
        return self.sink.events

    def new_key(self) -> Path:
        path = self.keys / uuid.uuid4().hex[:8]
        key = asyncssh.generate_private_key("ssh-ed25519")
        path.write_bytes(key.export_private_key())
        path.chmod(0o600)
        path.with_suffix(".pub").write_bytes(key.export_public_key())
        return path

    async def establishment(self, *, password: str | None = None) -> Login:
        key = self.new_key()
        finess = random_finess(random.Random(uuid.uuid4().int))
        public = parse_public_keys(key.with_suffix(".pub").read_text())
        await self.accounts.add(establishment_account(finess, public, password))
        ensure_establishment_dirs(self.root, finess)
        return Login(finess, key, password)

    async def ars(self) -> Login:
        key = self.new_key()
        name = f"ars-{uuid.uuid4().hex[:8]}"
        await self.accounts.add(ars_account(name, parse_public_keys(key.with_suffix(".pub").read_text())))
        return Login(name, key)

    def write_receipt(self, finess: str, name: str, content: bytes) -> Path:
        path = receipt_path(self.root, finess, name)
        path.write_bytes(content)
        return path

    def depot(self, finess: str) -> list[str]:
        return sorted(p.name for p in (self.root / finess / "depot").iterdir())

    def connect(self, login: Login, *, key: Path | None = None, password: str | None = None) -> Any:
        """An asyncssh connection (async context manager), by key unless a password is given."""
        return asyncssh.connect(
            "127.0.0.1",
            port=self.port,
            username=login.name,
            client_keys=None if password is not None else [str(key or login.key)],
            password=password,
            known_hosts=None,
            agent_path=None,
            preferred_auth="password" if password is not None else "publickey",
        )

    async def openssh(self, login: Login, *commands: str, key: Path | None = None) -> tuple[int, str]:
        """Run the OpenSSH sftp client in batch mode; (exit code, stdout + stderr)."""
        batch = self.keys / f"batch-{uuid.uuid4().hex[:8]}"
        batch.write_text("\n".join(commands) + "\n")
        process = await asyncio.create_subprocess_exec(
            "sftp",
            "-b", str(batch),
            "-i", str(key or login.key),
            "-F", "/dev/null",
            "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null",
            "-o", "IdentitiesOnly=yes",
            "-o", "BatchMode=yes",
            "-o", "LogLevel=ERROR",
            "-P", str(self.port),
            f"{login.name}@127.0.0.1",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
        return process.returncode or 0, output.decode(errors="replace")


@pytest.fixture
async def intake(database_url: str, tmp_path: Path) -> AsyncIterator[Intake]:
    settings = IntakeSettings(
        host="127.0.0.1",
        port=0,
        host_key=tmp_path / "host" / "ssh_host_ed25519_key",
        root=tmp_path / "intake",
        max_file_bytes=MAX_FILE_BYTES,
    )
    keys = tmp_path / "keys"
    keys.mkdir()
    sink = RecordingSink()
    blobs = FileSystemBlobStore(tmp_path / "blobs")
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    accounts = PostgresAccounts(pool)
    reception = FileReception(intake_root=settings.root, blobs=blobs, sink=sink)
    try:
        async with intake_server(settings, accounts, reception) as acceptor:
            yield Intake(acceptor.get_port(), settings.root, keys, blobs, sink, accounts, pool)
    finally:
        await pool.close()


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE OSCOUR [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<OSCOUR><ETABLISSEMENT><FINESS>&xxe;</FINESS></ETABLISSEMENT></OSCOUR>
"""
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<OSCOUR><ETABLISSEMENT><FINESS>&lol3;</FINESS></ETABLISSEMENT></OSCOUR>
"""


# --- in-memory integration ports -----------------------------------------------------------------------------


@dataclass
class Tables:
    files: dict[tuple[str, str], FileRecord] = field(default_factory=dict)
    days: dict[tuple[str, date], tuple[str, OrderKey, int]] = field(default_factory=dict)
    passages: dict[tuple[str, date], list[PassageRow]] = field(default_factory=dict)
    rejected: dict[tuple[str, str, int], RejectedRow] = field(default_factory=dict)


class FakeTransaction:
    def __init__(self, tables: Tables) -> None:
        self._t = tables
        self.staged: list[PassageRow] = []
        self.batches = 0

    async def find_file(self, finess: str, file_id: str) -> FileRecord | None:
        return self._t.files.get((finess, file_id))

    async def stage_passages(self, rows: Sequence[PassageRow]) -> None:
        self.batches += 1
        self.staged.extend(rows)

    async def add_rejected(self, rows: Sequence[RejectedRow]) -> None:
        for row in rows:
            self._t.rejected[(row[0], row[1], row[2])] = row

    async def newer_days(self, finess: str, days: Sequence[date], key: OrderKey) -> set[date]:
        return {d for d in days if (owner := self._t.days.get((finess, d))) and owner[1] > key}

    async def replace_days(
        self, finess: str, days: Sequence[date], *, discard: Sequence[date], file_id: str, key: OrderKey
    ) -> dict[date, int]:
        by_day: dict[date, list[PassageRow]] = defaultdict(list)
        for row in self.staged:
            by_day[row[DAY_COLUMN]].append(row)  # type: ignore[index]
        stored = {}
        for day in days:
            self._t.passages[(finess, day)] = by_day.get(day, [])
            stored[day] = len(by_day.get(day, []))
            self._t.days[(finess, day)] = (file_id, key, stored[day])
        return stored

    async def record_file(self, record: FileRecord) -> None:
        key = (record.finess, record.file_id)
        assert key not in self._t.files, "ledger primary key"
        self._t.files[key] = record


class FakePassageStore:
    def __init__(self) -> None:
        self.tables = Tables()
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.last: FakeTransaction | None = None

    @asynccontextmanager
    async def transaction(self, finess: str) -> AsyncIterator[FakeTransaction]:
        async with self._locks[finess]:
            saved = copy.deepcopy(self.tables)
            self.last = FakeTransaction(self.tables)
            try:
                yield self.last
            except BaseException:
                self.tables.__dict__.update(saved.__dict__)
                raise

    def passages(self, finess: str) -> dict[date, list[PassageRow]]:
        return {day: rows for (f, day), rows in self.tables.passages.items() if f == finess}


@dataclass
class FakeReceipts:
    written: dict[tuple[str, str], str] = field(default_factory=dict)
    writes: int = 0

    async def write(self, finess: str, name: str, text: str) -> None:
        self.writes += 1
        self.written[(finess, name)] = text


@dataclass
class FakeEvents:
    integrated_events: list[RpuFileIntegrated] = field(default_factory=list)
    rejected_events: list[RpuFileRejected] = field(default_factory=list)

    async def integrated(self, event: RpuFileIntegrated) -> None:
        self.integrated_events.append(event)

    async def rejected(self, event: RpuFileRejected) -> None:
        self.rejected_events.append(event)


# --- synthetic RPU files and the expected regional database --------------------------------------------------

ENTREE_DEFECTS = {"missing_entree", "unreadable_entree"}
Fingerprint = tuple[datetime, str, str, str]


def small_establishment(
    seed: int, invalid_rate: float = 0.0
) -> tuple[SyntheticRegion, SyntheticEstablishment]:
    """About 5 passages a day: enough to tell days and files apart, small enough for fast tests."""
    region = synthetic_region(seed, 1, invalid_rate=invalid_rate)
    est = dataclasses.replace(region.establishments[0], annual_passages=1_800)
    return dataclasses.replace(region, establishments=(est,)), est


@dataclasses.dataclass(frozen=True)
class Sent:
    """A file as an establishment sends it: passages of first..last, EXTRACT, and its header window."""

    version: int
    first: date
    last: date
    extract: datetime
    window: tuple[date | None, date | None] | None = None  # None: the passages' own range

    def region(self, base: SyntheticRegion) -> SyntheticRegion:
        return dataclasses.replace(base, seed=base.seed * 1000 + self.version)

    def header(self, est: SyntheticEstablishment) -> RpuHeader:
        debut, fin = self.window if self.window is not None else (self.first, self.last)
        return RpuHeader(est.finess, "0", self.extract, debut, fin)

    def write(self, base: SyntheticRegion, est: SyntheticEstablishment, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"RPU_{est.finess}_{self.extract:%y%m%d%H%M%S}_{self.version}.xml"
        write_days(path, self.region(base), est, self.first, self.last, self.header(est))
        return path

    def days(self) -> set[date]:
        covered = _span(self.first, self.last)
        if self.window is not None:
            debut, fin = self.window
            covered |= _span(debut or fin, fin or debut)
        return covered


def _span(first: date | None, last: date | None) -> set[date]:
    if first is None or last is None:
        return set()
    return {first + timedelta(days=n) for n in range((last - first).days + 1)}


def fingerprint(entree: datetime, naissance: object, sexe: object, gravite: object) -> Fingerprint:
    """A passage as a sortable tuple: a missing item (an empty NAISSANCE, say) becomes "" so that lists of
    fingerprints sort whatever the synthetic region's seed left empty."""
    return (entree, _text(naissance), _text(sexe), _text(gravite))


def _text(item: object) -> str:
    return "" if item is None else str(item)


def expected_by_day(
    base: SyntheticRegion, est: SyntheticEstablishment, integrated: Iterable[Sent]
) -> dict[date, list[Fingerprint]]:
    """Each day holds the passages of the newest EXTRACT among the integrated files covering it."""
    owner: dict[date, Sent] = {}
    for sent in integrated:
        for day in sent.days():
            if day not in owner or sent.extract > owner[day].extract:
                owner[day] = sent
    expected: dict[date, list[Fingerprint]] = {}
    for day, sent in owner.items():
        records = day_records(sent.region(base), est, day) if sent.first <= day <= sent.last else []
        expected[day] = sorted(
            fingerprint(r.passage.entree, r.passage.naissance, r.passage.sexe, r.passage.gravite)
            for r in records
            if r.defect not in ENTREE_DEFECTS
        )
    return expected


def at(day: date, hour: int = 3) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 10, 0)


def rolling(version: int, day: date) -> Sent:
    """The file sent on `day` before 04:00: passages of J−7..J−1."""
    return Sent(version, day - timedelta(days=7), day - timedelta(days=1), at(day))
