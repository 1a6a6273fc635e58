"""What every benchmark shares: the real infrastructure, a throw-away database, services as processes, peak RSS.

Benchmarks print their figures; they never assert speed in a test. Each run uses its own database, topic
namespace and inbox folders, so it can run beside a live `make up` stack without touching it.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import relais_stack as stack
from relais_testing.infra import Infra, SftpServer, fresh_database, provide_infra, provide_sftp
from relais_testing.pipeline import delete_namespace_topics
from relais_testing.processes import ServiceProcesses


def log(message: str) -> None:
    """Progress on stderr; the figures go to stdout."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def peak_rss_mb(pid: int) -> float:
    """The process's high-water resident set (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for pid {pid}")


def descendants(pid: int) -> list[int]:
    """Every live process below `pid` (a service's worker processes)."""
    found: list[int] = []
    pending = [pid]
    while pending:
        parent = pending.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            found += children
            pending += children
    return found


def service_peak_rss_mb(pid: int) -> float:
    """A service's peak RSS: its own high-water mark plus each of its worker processes' (an upper bound of what the
    service held at once)."""
    total = 0.0
    for member in (pid, *descendants(pid)):
        try:
            total += peak_rss_mb(member)
        except (OSError, RuntimeError):
            pass  # exited between listing and reading
    return total


@dataclass
class BenchStack:
    infra: Infra
    database_url: str
    run_id: str
    var: Path
    processes: ServiceProcesses | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def namespace(self) -> str:
        return f"bench{self.run_id}."

    def start(self, services: tuple[str, ...], env: dict[str, str]) -> ServiceProcesses:
        self.env = {
            "KAFKA_BOOTSTRAP_SERVERS": self.infra.kafka_bootstrap,
            "KAFKA_NAMESPACE": self.namespace,
            "DATABASE_URL": self.database_url,
            "RELAIS_LOG_LEVEL": "WARNING",
            "OTEL_TRACES_EXPORTER": "none",
            **env,
        }
        self.processes = ServiceProcesses(self.var, self.env)
        self.processes.start(*services)
        return self.processes

    def peak_rss(self) -> dict[str, float]:
        """Peak RSS of every running service, read before they stop."""
        assert self.processes is not None
        peaks = {}
        for service in self.processes.started:
            pid = stack.service_pid(self.var, service)
            if pid is not None:
                peaks[service] = peak_rss_mb(pid)
        return peaks


@asynccontextmanager
async def bench_stack(name: str, work: Path) -> AsyncIterator[BenchStack]:
    run_id = uuid.uuid4().hex[:8]
    log(f"{name}: starting the infrastructure (Kafka, PostgreSQL) if needed")
    with provide_infra() as infra:
        async with fresh_database(infra.database_url, f"bench_{name}") as url:
            bench = BenchStack(infra, url, run_id, work / "var")
            try:
                yield bench
            finally:
                if bench.processes is not None:
                    bench.processes.stop()
                # The local broker keeps its topics across runs: a run's would pile up (and slow its restarts).
                await delete_namespace_topics(infra.kafka_bootstrap, bench.namespace)


def local_sftp() -> SftpServer:
    log("starting the local SFTP server if needed")
    return provide_sftp()


async def wait_until(
    predicate: Callable[[], Awaitable[bool]],
    timeout_s: float,
    what: str,
    bench: BenchStack,
    progress: Callable[[], Awaitable[str]] | None = None,
) -> None:
    """Poll (bounded) until `predicate`; on timeout, fail with the services' last log lines."""
    deadline = time.monotonic() + timeout_s
    last_report = time.monotonic()
    while not await predicate():
        now = time.monotonic()
        if now > deadline:
            logs = ""
            if bench.processes is not None:
                logs = "\n".join(
                    f"--- {s}\n{bench.processes.log(s)[-2000:]}" for s in bench.processes.started
                )
            raise SystemExit(f"timed out after {timeout_s:.0f} s waiting for {what}\n{logs}")
        if progress is not None and now - last_report > 5:
            log(await progress())
            last_report = now
        await asyncio.sleep(0.05)  # the clock stops at most this late (plus the 0.1 s poll of the outcomes)
