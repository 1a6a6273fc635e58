"""Worker processes (`relais_platform.workers`): real child interpreters, jobs and failures across the socket."""

from __future__ import annotations

import asyncio
import os

import pytest

from relais_platform.workers import WorkerError, WorkerLost, WorkerPool, running

ENTRY = "relais_testing.worker_probe:probe_worker"


async def test_jobs_run_in_other_processes_with_the_config() -> None:
    async with running(WorkerPool(ENTRY, {"tag": "t1"}, size=2, name="probe")) as pool:
        assert await pool.run(("echo", [1, "a"])) == ("t1", [1, "a"])
        pids = set(await asyncio.gather(*(pool.run(("pid", None)) for _ in range(6))))
        assert os.getpid() not in pids
        assert pids <= set(pool.pids) and len(pool.pids) == 2


async def test_an_exception_travels_back_and_the_worker_carries_on() -> None:
    async with running(WorkerPool(ENTRY, {"tag": "t"}, size=1, name="probe")) as pool:
        with pytest.raises(ValueError, match="bad row 12"):
            await pool.run(("raise", "bad row 12"))
        with pytest.raises(WorkerError, match="Unpicklable: x"):
            await pool.run(("raise-unpicklable", "x"))
        before = pool.pids
        assert await pool.run(("echo", 2)) == ("t", 2)
        assert pool.pids == before


async def test_a_dead_worker_fails_its_job_and_is_replaced() -> None:
    async with running(WorkerPool(ENTRY, {"tag": "t"}, size=1, name="probe")) as pool:
        first = pool.pids
        with pytest.raises(WorkerLost, match="exit code 3"):
            await pool.run(("die", None))
        assert await pool.run(("echo", "after")) == ("t", "after")
        assert pool.pids != first


async def test_an_abandoned_job_takes_its_worker_down() -> None:
    async with running(WorkerPool(ENTRY, {"tag": "t"}, size=1, name="probe")) as pool:
        first = pool.pids
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(pool.run(("sleep", 30)), 0.5)
        assert await pool.run(("echo", 1)) == ("t", 1)
        assert pool.pids != first


async def test_a_worker_that_cannot_start_fails_the_start() -> None:
    pool = WorkerPool(ENTRY, {"fail_start": True}, size=1, name="probe")
    with pytest.raises(WorkerError, match="refusing to start"):
        await pool.start()


async def test_close_stops_every_worker() -> None:
    pool = WorkerPool(ENTRY, {"tag": "t"}, size=2, name="probe")
    async with running(pool):
        pids = pool.pids
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_a_worker_dies_with_its_parent(tmp_path) -> None:
    """The parent is a separate interpreter killed with SIGKILL while its worker is busy on a job (so the worker
    is not waiting on its socket, whose closing it would notice): the worker must not outlive it."""
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "parent.py"
    script.write_text(
        "import asyncio, sys\n"
        "from relais_platform.workers import WorkerPool\n"
        "async def main():\n"
        f"    pool = WorkerPool({ENTRY!r}, {{'tag': 't'}}, size=1, name='probe')\n"
        "    await pool.start()\n"
        "    busy = asyncio.create_task(pool.run(('sleep', 60)))\n"
        "    await asyncio.sleep(0.2)\n"
        "    print(pool.pids[0], flush=True)\n"
        "    await busy\n"
        "asyncio.run(main())\n"
    )
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    worker = int(parent.stdout.readline())
    os.kill(worker, 0)  # alive
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError(f"worker {worker} outlived its parent")
