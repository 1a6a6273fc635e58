"""The local stack: infrastructure scripts under deploy/ and the five services as background processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

SERVICES = ("fetcher", "decryptor", "transformer", "loader", "rpu-concentrator")
INFRA = ("kafka", "postgres", "sftp")


def project_root() -> Path:
    here = Path.cwd()
    for candidate in (here, *here.parents):
        if (candidate / "deploy" / "kafka" / "kafka.sh").exists():
            return candidate
    raise SystemExit("relais: run this from the Relais checkout (deploy/ not found)")


def infra_script(name: str) -> Path:
    return project_root() / "deploy" / name / f"{name}.sh"


def run_infra(name: str, action: str, *args: str) -> tuple[bool, str]:
    done = subprocess.run([str(infra_script(name)), action, *args], capture_output=True, text=True)
    return done.returncode == 0, (done.stdout + done.stderr).strip()


def service_executable(service: str) -> str:
    return str(Path(sys.executable).parent / f"relais-{service}")


def _pidfile(var: Path, service: str) -> Path:
    return var / "run" / f"{service}.pid"


def alive(pid: int) -> bool:
    """Whether a process runs; reaps it when it is our exited child (a zombie still answers kill(pid, 0))."""
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        if reaped == pid:
            return False
    except ChildProcessError:
        pass  # not our child: kill(pid, 0) tells
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def service_pid(var: Path, service: str) -> int | None:
    pidfile = _pidfile(var, service)
    if not pidfile.exists():
        return None
    pid = int(pidfile.read_text())
    return pid if alive(pid) else None


def start_service(var: Path, service: str, env: dict[str, str] | None = None) -> int:
    running = service_pid(var, service)
    if running:
        return running
    (var / "run").mkdir(parents=True, exist_ok=True)
    (var / "log").mkdir(parents=True, exist_ok=True)
    log = (var / "log" / f"{service}.log").open("ab")
    process = subprocess.Popen(
        [service_executable(service)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
        start_new_session=True,  # survives the terminal that ran `relais up`
    )
    _pidfile(var, service).write_text(str(process.pid))
    return process.pid


def stop_service(var: Path, service: str, timeout_s: float = 35.0) -> bool:
    pid = service_pid(var, service)
    if pid is None:
        _pidfile(var, service).unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)  # graceful: in-flight handlers finish, offsets are committed
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not alive(pid):
            break
        time.sleep(0.2)
    else:
        os.kill(pid, signal.SIGKILL)
    _pidfile(var, service).unlink(missing_ok=True)
    return True
