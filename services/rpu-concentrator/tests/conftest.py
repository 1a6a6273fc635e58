"""The real intake server, in-process on an ephemeral loopback port, with a temp intake root and the real
PostgreSQL accounts table; clients are asyncssh and the OpenSSH `sftp` command."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import asyncssh
import pytest

from relais_contracts import RpuFileReceived
from relais_finess import random_finess
from relais_platform.blobstore import FileSystemBlobStore
from relais_rpu_concentrator.adapters.pg_accounts import PostgresAccounts
from relais_rpu_concentrator.intake.accounts import ars_account, establishment_account, parse_public_keys
from relais_rpu_concentrator.intake.paths import ensure_establishment_dirs, receipt_path
from relais_rpu_concentrator.intake.reception import FileReception
from relais_rpu_concentrator.intake.server import intake_server
from relais_rpu_concentrator.settings import IntakeSettings

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
