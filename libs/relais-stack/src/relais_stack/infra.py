"""The local infrastructure: Kafka, PostgreSQL and the SFTP inbox as processes run by the checkout's deploy/
scripts (`<name>.sh start|stop|status|url|inbox`), on the ports the environment gives them."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from relais_stack.root import deploy_dir, var_dir

INFRA = ("kafka", "postgres", "sftp")
# A first start downloads Kafka's jars or installs Debian packages: minutes, not seconds.
SCRIPT_TIMEOUT_S = 600.0


class InfraError(RuntimeError):
    """A deploy/ script failed; the message carries its output."""


def script(name: str) -> Path:
    if name not in INFRA:
        raise ValueError(f"unknown infrastructure {name!r}; one of {', '.join(INFRA)}")
    return deploy_dir() / name / f"{name}.sh"


def _run(name: str, action: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(script(name)), action, *args]
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=SCRIPT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        message = f"{name}.sh {action}: no answer after {SCRIPT_TIMEOUT_S:.0f} s"
        return subprocess.CompletedProcess(command, 124, "", message)


def run_infra(name: str, action: str, *args: str) -> tuple[bool, str]:
    """Run `deploy/<name>/<name>.sh action args…`: (succeeded, what it printed)."""
    done = _run(name, action, *args)
    return done.returncode == 0, (done.stdout + done.stderr).strip()


def require_infra(name: str, action: str, *args: str) -> str:
    """Like `run_infra`, for callers that cannot go on without it: what it printed on stdout, or InfraError."""
    done = _run(name, action, *args)
    if done.returncode != 0:
        raise InfraError(
            f"deploy/{name}/{name}.sh {' '.join((action, *args))} failed ({done.returncode}):\n"
            f"{(done.stdout + done.stderr).strip()}"
        )
    return done.stdout.strip()


def kafka_bootstrap() -> str:
    """The local broker's address (kafka.sh listens on RELAIS_KAFKA_PORT)."""
    return f"127.0.0.1:{os.environ.get('RELAIS_KAFKA_PORT', '19092')}"


def postgres_url() -> str:
    """The local server's maintenance database, as postgres.sh prints it."""
    return require_infra("postgres", "url")


@dataclass(frozen=True)
class SftpServer:
    host: str
    port: int
    username: str
    client_key: Path
    known_hosts: Path
    inbox: Path  # the DIAMANT inbox on local disk (DIAMANT/incoming inside the chroot)


def start_local_sftp() -> SftpServer:
    """The local OpenSSH stand-in for the DNUM SFTP server (deploy/sftp), started when not running."""
    require_infra("sftp", "start")
    state = var_dir() / "sftp"
    return SftpServer(
        host="127.0.0.1",
        port=int(os.environ.get("RELAIS_SFTP_PORT", "12222")),
        username="relais-dnum",
        client_key=state / "client_ed25519",
        known_hosts=state / "known_hosts",
        inbox=Path(require_infra("sftp", "inbox")),
    )


def sftp_inbox(kind: str) -> Path:
    """An inbox of the local SFTP server on local disk: `DIAMANT` or `FINESS` (`<kind>/incoming`)."""
    return Path(require_infra("sftp", "inbox", kind))
