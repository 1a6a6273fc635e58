"""The RPU concentrator driven from the outside, as establishments and operators meet it: the service as a separate
OS process on its own topic namespace, intake port and folders; establishments with accounts pushing files over SFTP
with the OpenSSH `sftp` client or asyncssh; outcomes read from the regional database's file ledger. Shared by the
concentrator's end-to-end tests and `bench/bench_rpu.py`.

Accounts are rows of the concentrator's `rpu_account` table (migration 0020), written here directly as test
arrangement: a library never imports the application it drives, and the account commands have tests of their own."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from relais_stack import service_pid, wait_for_port
from relais_stack.keys import establishment_key
from relais_testing.processes import ServiceProcesses

SERVICE = "rpu-concentrator"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RpuConcentratorProcess:
    """`relais-rpu-concentrator` as `relais up` runs it, isolated under `var` (blobs, intake, logs, pid file)."""

    var: Path
    kafka_bootstrap: str
    database_url: str
    namespace: str = field(default_factory=lambda: f"t{uuid.uuid4().hex[:8]}.")
    port: int = field(default_factory=free_port)
    env_extra: dict[str, str] = field(default_factory=dict)
    processes: ServiceProcesses | None = None

    @property
    def intake_root(self) -> Path:
        return self.var / "rpu" / "intake"

    @property
    def client_key(self) -> Path:
        """The establishments' private key (one pair for all the accounts this helper creates)."""
        return establishment_key(self.var / "rpu" / "clients")

    def env(self) -> dict[str, str]:
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            "KAFKA_NAMESPACE": self.namespace,
            "DATABASE_URL": self.database_url,
            "OTEL_TRACES_EXPORTER": "none",
            "RELAIS_LOG_LEVEL": "WARNING",
            "RELAIS_RPU_INTAKE_HOST": "127.0.0.1",
            "RELAIS_RPU_INTAKE_PORT": str(self.port),
            "RELAIS_RPU_INTAKE_ROOT": str(self.intake_root),
            "RELAIS_RPU_INTAKE_HOST_KEY": str(self.var / "rpu" / "ssh_host_ed25519_key"),
            **self.env_extra,
        }

    async def start(self, timeout_s: float = 60.0) -> None:
        """Start (or restart after a kill) and wait until healthy and its intake port accepts connections."""
        if self.processes is None:
            self.processes = ServiceProcesses(self.var, self.env())
        self.processes.start(SERVICE)
        await self.processes.wait_healthy(SERVICE, timeout_s=timeout_s)
        await wait_for_port("127.0.0.1", self.port, timeout_s)

    def pid(self) -> int | None:
        return service_pid(self.var, SERVICE)

    def kill(self) -> None:
        """SIGKILL: no handler finishes, no offset is committed, the open transaction dies with its connection."""
        assert self.processes is not None
        self.processes.kill(SERVICE)
        self.processes.started.remove(SERVICE)

    def stop(self) -> None:
        if self.processes is not None:
            self.processes.stop()

    def log(self) -> str:
        return self.processes.log(SERVICE) if self.processes is not None else ""

    async def add_establishments(self, finess: Iterable[str]) -> None:
        """An account per FINESS (when it has none yet), authenticated by `client_key`."""
        await add_establishment_accounts(self.database_url, finess, self.client_key.with_suffix(".pub"))

    async def push_openssh(self, finess: str, files: Iterable[Path]) -> tuple[int, str]:
        """Upload with the OpenSSH `sftp` client in batch mode, as most establishments' scripts do: each file put
        under a temporary name then renamed. (exit code, output)."""
        commands = []
        for path in files:
            commands += [
                f'put "{path}" "depot/{path.name}.part"',
                f'rename "depot/{path.name}.part" "depot/{path.name}"',
            ]
        batch = self.var / f"sftp-batch-{uuid.uuid4().hex[:8]}"
        batch.write_text("\n".join(commands) + "\n")
        process = await asyncio.create_subprocess_exec(
            "sftp", "-b", str(batch), "-i", str(self.client_key), "-F", "/dev/null",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "IdentitiesOnly=yes",
            "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-P", str(self.port), f"{finess}@127.0.0.1",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await asyncio.wait_for(process.communicate(), timeout=300)
        return process.returncode or 0, output.decode(errors="replace")

    async def push_asyncssh(self, finess: str, files: Iterable[Path]) -> None:
        """Upload with asyncssh on one connection, each file written to its final name (received on close)."""
        import asyncssh

        async with (
            asyncssh.connect(
                "127.0.0.1", port=self.port, username=finess, client_keys=[str(self.client_key)],
                known_hosts=None, agent_path=None, preferred_auth="publickey",
            ) as conn,
            conn.start_sftp_client() as sftp,
        ):  # fmt: skip
            for path in files:
                await sftp.put(str(path), f"depot/{path.name}")


async def add_establishment_accounts(database_url: str, finess: Iterable[str], public_key: Path) -> None:
    """Active establishment accounts (named by their FINESS) with this OpenSSH public key; existing ones kept."""
    key = public_key.read_text().strip()
    conn = await asyncpg.connect(database_url)
    try:
        await conn.executemany(
            """INSERT INTO rpu_account (account, role, finess, public_keys)
               VALUES ($1::text, 'etablissement', $1::text, $2::text[])
               ON CONFLICT (account) DO NOTHING""",
            [(number, [key]) for number in finess],
        )
    finally:
        await conn.close()


async def processed_files(db: asyncpg.Connection | asyncpg.Pool, file_ids: Iterable[str]) -> dict[str, str]:
    """file_id → ledger status (integrated, superseded, rejected) of the files among `file_ids` already processed."""
    rows = await db.fetch(
        "SELECT file_id, status FROM rpu_file WHERE file_id = ANY($1::text[])", list(file_ids)
    )
    return {row["file_id"].strip(): row["status"] for row in rows}
