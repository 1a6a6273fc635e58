"""Worker processes for CPU-bound handlers: the one way a service uses more than one core.

A Python service is one process and one GIL: parsing and checking a file in Python keeps one core busy while the
other waits. `WorkerPool` starts `size` long-lived worker processes (`python -m relais_platform.workers`), each
running its own asyncio loop and its own resources (database pool, blob store…), and hands each job to an idle one.

- The worker's code is named by an entry point "package.module:function": an async context manager factory that
  receives the pool's `config` (pickled once at start) and yields the async handler `job -> result`. Workers are
  fresh interpreters importing only that module — not the service's composition root, its broker or its exports.
- Jobs and results travel pickled over a socket pair. An exception raised by the handler is re-raised by `run`
  (its type kept when it pickles, a `WorkerError` naming it otherwise); the worker carries on with the next job.
- A worker that dies (killed, out of memory) fails its job with `WorkerLost` and is replaced; a job whose caller is
  cancelled (shutdown) takes its worker down with it, since the job's outcome can no longer be read. Either way the
  caller's message is not acknowledged and comes back: handlers run in workers must be idempotent, as every Relais
  handler already is.
- Jobs run with the cyclic garbage collector paused (`_run_job`): workers exist for allocation-heavy batch work.
- A worker dies with its service (Linux parent-death signal): a service killed with SIGKILL takes its workers'
  open transactions with it, exactly as when it settled files itself; elsewhere the worker exits when it sees its
  socket close, after the job in hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import importlib
import logging
import os
import pickle
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager
from multiprocessing.connection import Connection
from typing import Any

log = logging.getLogger(__name__)

Handler = Callable[[Any], Awaitable[Any]]
WorkerEntry = Callable[[Any], AbstractAsyncContextManager[Handler]]

START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 10.0


class WorkerError(RuntimeError):
    """A job failed in a worker with an exception that could not travel back as itself."""


class WorkerLost(RuntimeError):
    """The worker running the job died before answering."""


def _load_entry(path: str) -> WorkerEntry:
    module, _, name = path.partition(":")
    entry: WorkerEntry = getattr(importlib.import_module(module), name)
    return entry


def _portable(error: BaseException) -> BaseException:
    """The exception itself when it survives a pickle round trip, else a `WorkerError` that names it."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return WorkerError(f"{type(error).__qualname__}: {error}")
    return error


class _Worker:
    """One worker process and the parent's end of its socket."""

    def __init__(self, name: str, entry: str, config: bytes) -> None:
        parent, child = socket.socketpair()
        self.name = name
        self.process = subprocess.Popen(
            [sys.executable, "-m", "relais_platform.workers", entry, str(child.fileno()), str(os.getpid())],
            pass_fds=(child.fileno(),),
            close_fds=True,
        )
        child.close()
        self.connection = Connection(parent.detach())
        self.connection.send_bytes(config)
        # recv blocks: one thread per worker keeps the event loop free while the worker computes.
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    async def receive(self) -> Any:
        try:
            return await asyncio.get_running_loop().run_in_executor(self.thread, self.connection.recv)
        except (EOFError, OSError) as lost:
            raise WorkerLost(
                f"{self.name} (pid {self.process.pid}) died: exit code {self.process.poll()}"
            ) from lost

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.connection.close()
        self.thread.shutdown(wait=False)

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.send(None)
        try:
            self.process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            log.warning("worker did not stop in time, killed", extra={"worker": self.name})
            self.process.kill()
            self.process.wait()
        self.connection.close()
        self.thread.shutdown(wait=False)


class WorkerPool:
    """`size` worker processes running the handler `entry` yields; `run(job)` awaits one idle worker's answer."""

    def __init__(self, entry: str, config: object, *, size: int, name: str = "worker") -> None:
        if size < 1:
            raise ValueError("a worker pool needs at least one worker")
        self._entry = entry
        self._config = pickle.dumps(config)
        self._size = size
        self._name = name
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._all: set[_Worker] = set()
        self._spawned = 0
        self._closing = False

    @property
    def pids(self) -> list[int]:
        return [w.process.pid for w in self._all]

    async def start(self) -> None:
        workers = [self._spawn() for _ in range(self._size)]
        try:
            await asyncio.gather(*(self._ready(w) for w in workers))
        except BaseException:
            for worker in workers:
                worker.kill()
            raise
        for worker in workers:
            self._idle.put_nowait(worker)
        log.info("worker processes started", extra={"pool": self._name, "pids": self.pids})

    async def close(self) -> None:
        self._closing = True
        workers, self._all = self._all, set()
        await asyncio.gather(*(asyncio.to_thread(w.stop) for w in workers))

    async def run(self, job: object) -> Any:
        worker = await self._idle.get()
        healthy = False
        try:
            worker.connection.send(job)
            kind, value = await worker.receive()
            healthy = True
        finally:
            if healthy:
                self._idle.put_nowait(worker)
            else:
                await self._replace(worker)
        if kind == "error":
            raise value
        return value

    def _spawn(self) -> _Worker:
        self._spawned += 1
        worker = _Worker(f"{self._name}-{self._spawned}", self._entry, self._config)
        self._all.add(worker)
        return worker

    async def _ready(self, worker: _Worker) -> None:
        kind, value = await asyncio.wait_for(worker.receive(), START_TIMEOUT_S)
        if kind != "ready":
            raise WorkerError(f"{worker.name} could not start: {value}")

    async def _replace(self, worker: _Worker) -> None:
        """Kill a worker whose state is unknown (died, or its job was abandoned) and start another in its place."""
        worker.kill()
        self._all.discard(worker)
        if self._closing:
            return
        log.warning("worker replaced", extra={"pool": self._name, "worker": worker.name})
        replacement = self._spawn()
        try:
            await asyncio.shield(self._ready(replacement))
        except BaseException:
            replacement.kill()
            self._all.discard(replacement)
            raise
        self._idle.put_nowait(replacement)


@contextlib.asynccontextmanager
async def running(pool: WorkerPool) -> AsyncIterator[WorkerPool]:
    """The pool's workers for the life of the block (a service lifespan resource)."""
    await pool.start()
    try:
        yield pool
    finally:
        await pool.close()


async def _run_job(handler: Handler, job: object) -> tuple[str, Any]:
    """One job, with the cyclic garbage collector off until it ends and run once after it.

    A job is a file: hundreds of thousands of short-lived, acyclic objects (elements, cells, rows) that reference
    counting frees; the collector would walk the live ones again and again for nothing (a tenth of a file's read
    time). Collecting once per job still bounds whatever cycles a job leaves."""
    gc.disable()
    try:
        return ("ok", await handler(job))
    except Exception as error:
        return ("error", _portable(error))
    finally:
        gc.enable()
        gc.collect()


async def _serve(entry: str, connection: Connection) -> None:
    loop = asyncio.get_running_loop()
    config = pickle.loads(connection.recv_bytes())
    try:
        context = _load_entry(entry)(config)
        handler = await context.__aenter__()
    except BaseException as error:
        connection.send(("failed", f"{type(error).__qualname__}: {error}"))
        raise
    # What the worker holds for its whole life (modules, pools) is never garbage: out of the collector's sight.
    gc.freeze()
    try:
        connection.send(("ready", None))
        with ThreadPoolExecutor(max_workers=1) as thread:
            while True:
                try:
                    job = await loop.run_in_executor(thread, connection.recv)
                except (EOFError, OSError):
                    return  # the parent is gone
                if job is None:
                    return
                answer = await _run_job(handler, job)
                connection.send(answer)
    finally:
        await context.__aexit__(None, None, None)


def _die_with(parent: int) -> None:
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)


def main() -> None:
    # Ctrl-C reaches the whole process group: the parent stops its workers itself, after its in-flight jobs.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    entry, fd, parent = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    _die_with(parent)
    # Run as `python -m`, this module is `__main__`: serve from its importable twin, so that the `WorkerError`s it
    # sends unpickle in the parent as `relais_platform.workers.WorkerError`.
    from relais_platform import workers

    asyncio.run(workers._serve(entry, Connection(fd)))


if __name__ == "__main__":
    main()
