"""The five services as background processes, as `relais up` runs them: one pid file (`<var>/run/<service>.pid`)
and one log (`<var>/log/<service>.log`) each, under the var directory given."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

SERVICES = ("fetcher", "decryptor", "transformer", "loader", "rpu-concentrator")


def service_executable(service: str) -> str:
    """The service's entry point (`relais-<service>`), installed beside this interpreter."""
    return str(Path(sys.executable).parent / f"relais-{service}")


def _pidfile(var: Path, service: str) -> Path:
    return var / "run" / f"{service}.pid"


def log_path(var: Path, service: str) -> Path:
    return var / "log" / f"{service}.log"


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
    """The pid of the service started under `var`, when it still runs."""
    pidfile = _pidfile(var, service)
    if not pidfile.exists():
        return None
    pid = int(pidfile.read_text())
    return pid if alive(pid) else None


def start_service(var: Path, service: str, env: dict[str, str] | None = None) -> int:
    """Start the service in the background (unless it runs already), its output appended to its log: its pid."""
    running = service_pid(var, service)
    if running:
        return running
    _pidfile(var, service).parent.mkdir(parents=True, exist_ok=True)
    log_path(var, service).parent.mkdir(parents=True, exist_ok=True)
    with log_path(var, service).open("ab") as log:
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
    """SIGTERM (in-flight handlers finish, offsets are committed), SIGKILL after `timeout_s`: whether it ran."""
    pid = service_pid(var, service)
    if pid is None:
        _pidfile(var, service).unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not alive(pid):
            break
        time.sleep(0.2)
    else:
        os.kill(pid, signal.SIGKILL)
    _pidfile(var, service).unlink(missing_ok=True)
    return True


def kill_service(var: Path, service: str) -> bool:
    """SIGKILL, no grace: what a crash does. Whether it ran."""
    pid = service_pid(var, service)
    if pid is None:
        return False
    os.kill(pid, signal.SIGKILL)
    return True


def read_log(var: Path, service: str) -> str:
    path = log_path(var, service)
    return path.read_text(errors="replace") if path.exists() else ""


async def wait_for_port(host: str, port: int, timeout_s: float) -> None:
    """Bounded poll until something accepts TCP connections there (a service may still be starting); TimeoutError
    naming the address otherwise."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError as error:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"nothing listens on {host}:{port} after {timeout_s:.0f} s ({error})"
                ) from None
            await asyncio.sleep(0.5)
            continue
        writer.close()
        await writer.wait_closed()
        return
