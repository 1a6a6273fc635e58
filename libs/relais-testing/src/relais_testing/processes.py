"""Run Relais services as separate OS processes, exactly as `relais up` does (relais_stack), for end-to-end tests."""

from __future__ import annotations

import asyncio
from pathlib import Path

from relais_platform.heartbeat import read_status
from relais_stack import kill_service, read_log, service_pid, start_service, stop_service


class ServiceProcesses:
    def __init__(self, var_dir: Path, env: dict[str, str]) -> None:
        self.var_dir = var_dir
        self.env = {**env, "RELAIS_VAR_DIR": str(var_dir)}
        self.started: list[str] = []

    def start(self, *services: str) -> None:
        for service in services:
            start_service(self.var_dir, service, self.env)
            self.started.append(service)

    async def wait_healthy(self, *services: str, timeout_s: float = 60.0) -> None:
        names = services or tuple(self.started)
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            states = {s: read_status(self.var_dir / "run", s)[0] for s in names}
            if all(state == "healthy" for state in states.values()):
                return
            for service in names:
                if service_pid(self.var_dir, service) is None:
                    raise AssertionError(f"{service} exited:\n{self.log(service)[-4000:]}")
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"services not healthy after {timeout_s} s: {states}")
            await asyncio.sleep(0.5)

    def kill(self, service: str) -> None:
        kill_service(self.var_dir, service)

    def stop(self) -> None:
        for service in reversed(self.started):
            stop_service(self.var_dir, service)
        self.started.clear()

    def log(self, service: str) -> str:
        return read_log(self.var_dir, service)
