"""A worker entry for the tests of `relais_platform.workers`: it must be importable by name in a fresh interpreter."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any


class Unpicklable(Exception):
    def __init__(self, a: str, b: str) -> None:  # two arguments: pickle's default reconstruction fails
        super().__init__(a)
        self.b = b


@asynccontextmanager
async def probe_worker(config: dict[str, Any]) -> AsyncIterator[Callable[[Any], Awaitable[Any]]]:
    if config.get("fail_start"):
        raise RuntimeError("refusing to start")

    async def handle(job: tuple[str, Any]) -> Any:
        kind, value = job
        if kind == "echo":
            return (config["tag"], value)
        if kind == "pid":
            return os.getpid()
        if kind == "raise":
            raise ValueError(value)
        if kind == "raise-unpicklable":
            raise Unpicklable(value, "second")
        if kind == "die":
            os._exit(3)
        if kind == "sleep":
            await asyncio.sleep(value)
            return "slept"
        raise LookupError(kind)

    yield handle
