"""Services as background processes (pid file, log, graceful stop, kill) and the deploy/ scripts' failures, with a
stand-in executable instead of a real service."""

import asyncio
import socket
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import relais_stack
from relais_stack import services

# Logs a line, then runs until SIGTERM, which it acknowledges in the log before leaving.
STAND_IN = """
import signal, sys, time
print("started", flush=True)
signal.signal(signal.SIGTERM, lambda *_: (print("terminated", flush=True), sys.exit(0)))
while True:
    time.sleep(0.1)
"""


@pytest.fixture
def stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    executable = tmp_path / "stand-in"
    executable.write_text(f"#!{sys.executable}\n{STAND_IN}")
    executable.chmod(0o755)
    monkeypatch.setattr(services, "service_executable", lambda service: str(executable))
    return tmp_path / "var"


async def _until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.05)


async def test_a_started_service_runs_once_logs_and_stops_gracefully(stand_in: Path) -> None:
    var = stand_in
    pid = relais_stack.start_service(var, "loader", {"RELAIS_PROBE": "1"})
    assert relais_stack.service_pid(var, "loader") == pid
    assert relais_stack.start_service(var, "loader") == pid  # already running: not started twice
    await _until(lambda: "started" in relais_stack.read_log(var, "loader"))

    assert relais_stack.stop_service(var, "loader") is True
    assert relais_stack.service_pid(var, "loader") is None
    assert not (var / "run" / "loader.pid").exists()
    assert "terminated" in relais_stack.read_log(var, "loader")  # SIGTERM, not SIGKILL
    assert relais_stack.stop_service(var, "loader") is False


async def test_a_killed_service_is_seen_gone(stand_in: Path) -> None:
    var = stand_in
    relais_stack.start_service(var, "fetcher")
    assert relais_stack.kill_service(var, "fetcher") is True
    await _until(lambda: relais_stack.service_pid(var, "fetcher") is None)
    assert relais_stack.kill_service(var, "fetcher") is False


async def test_waiting_for_a_port_returns_once_it_listens_and_names_it_when_it_never_does() -> None:
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        port = listening.getsockname()[1]
        await relais_stack.wait_for_port("127.0.0.1", port, timeout_s=5)
    with pytest.raises(TimeoutError, match=f"127.0.0.1:{port}"):
        await relais_stack.wait_for_port("127.0.0.1", port, timeout_s=0.3)


def test_a_failing_deploy_script_raises_with_its_output() -> None:
    ok, output = relais_stack.run_infra("kafka", "no-such-action")
    assert not ok and "usage" in output
    with pytest.raises(relais_stack.InfraError, match=r"(?s)kafka\.sh no-such-action failed \(2\).*usage"):
        relais_stack.require_infra("kafka", "no-such-action")
    with pytest.raises(ValueError, match="unknown infrastructure 'redis'"):
        relais_stack.run_infra("redis", "start")
