"""Is the infrastructure reachable at the configured addresses? (Whoever runs it: local scripts, compose, a cloud.)"""

from __future__ import annotations

import asyncio

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient


async def kafka_reachable(bootstrap: str, timeout_s: float = 5.0) -> tuple[bool, str]:
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, client_id="relais-status", request_timeout_ms=4000
    )
    try:
        await asyncio.wait_for(admin.start(), timeout_s)
        topics = await asyncio.wait_for(admin.list_topics(), timeout_s)
        return True, f"reachable at {bootstrap} ({len(topics)} topics)"
    except Exception as error:
        return False, f"unreachable at {bootstrap}: {type(error).__name__}"
    finally:
        await admin.close()


async def postgres_reachable(url: str, timeout_s: float = 5.0) -> tuple[bool, str]:
    where = url.rsplit("@", 1)[-1]
    try:
        conn = await asyncpg.connect(url, timeout=timeout_s)
    except Exception as error:
        return False, f"unreachable at {where}: {type(error).__name__}"
    try:
        version = await conn.fetchval("SHOW server_version")
        return True, f"reachable at {where} (PostgreSQL {version})"
    finally:
        await conn.close()


async def ssh_reachable(host: str, port: int, timeout_s: float = 5.0) -> tuple[bool, str]:
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout_s)
        banner = await asyncio.wait_for(reader.readline(), timeout_s)
        writer.close()
        ok = banner.startswith(b"SSH-")
        return ok, f"{'reachable' if ok else 'not an SSH server'} at {host}:{port}"
    except Exception as error:
        return False, f"unreachable at {host}:{port}: {type(error).__name__}"
