"""The delivery ledger in PostgreSQL (table rpu_delivery, migration 0022)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from relais_rpu_concentrator.outbound.model import DeliveryEntry, DeliveryState, PlannedFile

_COLUMNS = """export_id, destination, file_name, seq, sha256, size, media_type, finess, trace_parents,
              state, attempts, last_error, delivered_at"""


def _entry(row: Any) -> DeliveryEntry:
    return DeliveryEntry(
        export_id=row["export_id"],
        destination=row["destination"],
        file=PlannedFile(
            name=row["file_name"],
            sha256=row["sha256"],
            size=row["size"],
            seq=row["seq"],
            media_type=row["media_type"],
            trace_parents=tuple(row["trace_parents"]),
            finess=tuple(row["finess"]),
        ),
        state=DeliveryState(row["state"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
        delivered_at=row["delivered_at"],
    )


class PostgresDeliveryLedger:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def plan(self, export_id: str, destination: str, files: Sequence[PlannedFile]) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            # One plan per export and destination: a second call (restart before the first send) keeps the first.
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext($1 || '/' || $2))", export_id, destination
            )
            if await conn.fetchval(
                "SELECT 1 FROM rpu_delivery WHERE export_id = $1 AND destination = $2 LIMIT 1",
                export_id,
                destination,
            ):
                return
            await conn.executemany(
                """INSERT INTO rpu_delivery
                       (export_id, destination, file_name, seq, sha256, size, media_type, finess, trace_parents)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
                [
                    (export_id, destination, f.name, f.seq, f.sha256, f.size, f.media_type, list(f.finess),
                     list(f.trace_parents))
                    for f in files
                ],
            )  # fmt: skip

    async def pending(self, destination: str, export_id: str | None = None) -> list[DeliveryEntry]:
        rows = await self._pool.fetch(
            f"""SELECT {_COLUMNS} FROM rpu_delivery
                WHERE destination = $1 AND state <> 'delivered' AND ($2::text IS NULL OR export_id = $2)
                ORDER BY export_id, seq""",
            destination,
            export_id,
        )
        return [_entry(row) for row in rows]

    async def mark_sending(self, entry: DeliveryEntry) -> DeliveryEntry:
        row = await self._pool.fetchrow(
            f"""UPDATE rpu_delivery SET state = 'sending', attempts = attempts + 1, sending_at = now()
                WHERE export_id = $1 AND destination = $2 AND file_name = $3 AND state <> 'delivered'
                RETURNING {_COLUMNS}""",
            entry.export_id,
            entry.destination,
            entry.file.name,
        )
        if row is None:
            raise RuntimeError(f"{entry.export_id}/{entry.file.name} is not pending for {entry.destination}")
        return _entry(row)

    async def mark_delivered(self, entry: DeliveryEntry) -> None:
        await self._pool.execute(
            """UPDATE rpu_delivery SET state = 'delivered', delivered_at = now(), last_error = NULL
               WHERE export_id = $1 AND destination = $2 AND file_name = $3""",
            entry.export_id,
            entry.destination,
            entry.file.name,
        )

    async def mark_failed(self, entry: DeliveryEntry, error: str) -> None:
        await self._pool.execute(
            """UPDATE rpu_delivery SET state = 'planned', last_error = $4
               WHERE export_id = $1 AND destination = $2 AND file_name = $3 AND state <> 'delivered'""",
            entry.export_id,
            entry.destination,
            entry.file.name,
            error[:2000],
        )

    async def exports(self, destination: str, prefix: str) -> list[str]:
        rows = await self._pool.fetch(
            """SELECT DISTINCT export_id FROM rpu_delivery
               WHERE destination = $1 AND starts_with(export_id, $2) ORDER BY export_id""",
            destination,
            prefix,
        )
        return [row["export_id"] for row in rows]

    @asynccontextmanager
    async def exclusive(self, destination: str) -> AsyncIterator[None]:
        # A session-level advisory lock on a connection kept for the whole sending: released on exit, and by
        # PostgreSQL itself when a killed process's connection drops.
        async with self._pool.acquire() as conn:
            await conn.execute("SELECT pg_advisory_lock(hashtext('rpu_delivery/' || $1))", destination)
            try:
                yield
            finally:
                await conn.execute("SELECT pg_advisory_unlock(hashtext('rpu_delivery/' || $1))", destination)

    async def entries(self, export_id: str, destination: str | None = None) -> list[DeliveryEntry]:
        rows = await self._pool.fetch(
            f"""SELECT {_COLUMNS} FROM rpu_delivery
                WHERE export_id = $1 AND ($2::text IS NULL OR destination = $2) ORDER BY destination, seq""",
            export_id,
            destination,
        )
        return [_entry(row) for row in rows]


def format_ledger(entries: Sequence[DeliveryEntry]) -> str:
    """The ledger as an operator reads it (and as the tests print it)."""
    lines = [f"{'export':<24} {'destination':<12} {'file':<40} {'state':<10} {'attempts':>8}  last error"]
    for e in entries:
        lines.append(
            f"{e.export_id:<24} {e.destination:<12} {e.file.name:<40} {e.state.value:<10} {e.attempts:>8}  "
            f"{e.last_error or ''}"
        )
    return "\n".join(lines)
