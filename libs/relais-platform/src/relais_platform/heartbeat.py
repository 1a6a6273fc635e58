"""Each service process writes a small status file every few seconds; `relais status` reads them."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

Probe = Callable[[], Awaitable[bool]]
STALE_AFTER_S = 20.0


async def run_heartbeat(run_dir: Path, service: str, probes: dict[str, Probe], every_s: float = 5.0) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    target = run_dir / f"{service}.json"
    started = time.time()
    while True:
        checks: dict[str, bool] = {}
        for name, probe in probes.items():
            try:
                checks[name] = await asyncio.wait_for(probe(), timeout=3.0)
            except Exception:
                checks[name] = False
        status = {
            "service": service,
            "pid": os.getpid(),
            "started_at": started,
            "at": time.time(),
            "checks": checks,
        }
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(status))
        tmp.replace(target)
        await asyncio.sleep(every_s)


def read_status(run_dir: Path, service: str) -> tuple[str, dict[str, object]]:
    """('healthy' | 'degraded' | 'stale' | 'down', raw status) for one service."""
    path = run_dir / f"{service}.json"
    if not path.exists():
        return "down", {}
    status = json.loads(path.read_text())
    try:
        os.kill(int(status["pid"]), 0)
    except (ProcessLookupError, PermissionError, ValueError):
        return "down", status
    if time.time() - float(status["at"]) > STALE_AFTER_S:
        return "stale", status
    return ("healthy" if all(status["checks"].values()) else "degraded"), status
