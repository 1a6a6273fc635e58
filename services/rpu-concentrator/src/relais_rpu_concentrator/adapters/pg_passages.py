"""The regional RPU database in PostgreSQL (migration 0021): one transaction per file.

Accepted passages are COPYed straight into rpu_passage as they are read (memory bounded by the batch size; one write
per row, no staging copy): the primary key holds the file_id, so they never collide with the rows they are about to
replace, and nobody else sees them before the commit. Once the file is read and the days it wins are known, the
other files' passages of those days are deleted by primary-key range, and this file's passages of the days it lost
(to a newer extract) are deleted too. The establishment's integrations are serialised by a transaction-scoped
advisory lock, so "is a newer extract already the owner of this day?" cannot race with another consumer after a
rebalance.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import asyncpg

from relais_contracts import BlobRef
from relais_rpu_concentrator.integration.ports import FileRecord, FileStatus
from relais_rpu_concentrator.integration.reading import (
    PASSAGE_COLUMNS,
    REJECTED_COLUMNS,
    PassageRow,
    RejectedRow,
)
from relais_rpu_concentrator.integration.rules import OrderKey

_FILE_COLUMNS = (
    "file_id, finess, account, file_name, header_finess, ordre, extract, date_debut, date_fin, first_day, "
    "last_day, status, error, passages_accepted, passages_rejected, passages_stored, days_replaced, quality, "
    "receipt_name, receipt, blob_sha256, blob_size, blob_media_type, received_at"
)


def _record(row: Any) -> FileRecord:
    return FileRecord(
        file_id=row["file_id"],
        finess=row["finess"],
        account=row["account"],
        file_name=row["file_name"],
        blob=BlobRef(sha256=row["blob_sha256"], size=row["blob_size"], media_type=row["blob_media_type"]),
        received_at=row["received_at"],
        status=FileStatus(row["status"]),
        error=row["error"],
        header_finess=row["header_finess"],
        ordre=row["ordre"],
        extract=row["extract"],
        date_debut=row["date_debut"],
        date_fin=row["date_fin"],
        first_day=row["first_day"],
        last_day=row["last_day"],
        passages_accepted=row["passages_accepted"],
        passages_rejected=row["passages_rejected"],
        passages_stored=row["passages_stored"],
        days_replaced=tuple(row["days_replaced"]),
        quality=json.loads(row["quality"]),
        receipt_name=row["receipt_name"],
        receipt=row["receipt"],
    )


class PostgresIntegrationTransaction:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def find_file(self, finess: str, file_id: str) -> FileRecord | None:
        row = await self._conn.fetchrow(
            f"SELECT {_FILE_COLUMNS} FROM rpu_file WHERE finess = $1 AND file_id = $2", finess, file_id
        )
        return None if row is None else _record(row)

    async def stage_passages(self, rows: Sequence[PassageRow]) -> None:
        await self._conn.copy_records_to_table("rpu_passage", records=rows, columns=list(PASSAGE_COLUMNS))

    async def add_rejected(self, rows: Sequence[RejectedRow]) -> None:
        # The ledger row comes at the end of the transaction: the foreign key is checked at commit (deferred).
        await self._conn.copy_records_to_table(
            "rpu_rejected_record", records=rows, columns=list(REJECTED_COLUMNS)
        )

    async def newer_days(self, finess: str, days: Sequence[date], key: OrderKey) -> set[date]:
        rows = await self._conn.fetch(
            """SELECT day FROM rpu_day
               WHERE finess = $1 AND day = ANY($2::date[]) AND (extract, received_at) > ($3, $4)""",
            finess,
            list(days),
            key.extract,
            key.received_at,
        )
        return {row["day"] for row in rows}

    async def replace_days(
        self, finess: str, days: Sequence[date], *, discard: Sequence[date], file_id: str, key: OrderKey
    ) -> dict[date, int]:
        conn, wanted = self._conn, list(days)
        await conn.execute(
            "DELETE FROM rpu_passage WHERE finess = $1 AND day = ANY($2::date[]) AND file_id <> $3",
            finess,
            wanted,
            file_id,
        )
        if discard:
            await conn.execute(
                "DELETE FROM rpu_passage WHERE finess = $1 AND day = ANY($2::date[]) AND file_id = $3",
                finess,
                list(discard),
                file_id,
            )
        counts = {
            row["day"]: row["n"]
            for row in await conn.fetch(
                """SELECT day, count(*)::int AS n FROM rpu_passage
                   WHERE finess = $1 AND day = ANY($2::date[]) AND file_id = $3 GROUP BY day""",
                finess,
                wanted,
                file_id,
            )
        }
        stored = {day: counts.get(day, 0) for day in wanted}
        await conn.executemany(
            """INSERT INTO rpu_day (finess, day, file_id, extract, received_at, passages)
               VALUES ($1, $2, $3, $4, $5, $6)
               ON CONFLICT (finess, day) DO UPDATE SET file_id = EXCLUDED.file_id, extract = EXCLUDED.extract,
                   received_at = EXCLUDED.received_at, passages = EXCLUDED.passages, replaced_at = now()""",
            [(finess, day, file_id, key.extract, key.received_at, n) for day, n in stored.items()],
        )
        return stored

    async def record_file(self, record: FileRecord) -> None:
        await self._conn.execute(
            f"""INSERT INTO rpu_file ({_FILE_COLUMNS})
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
                        $20, $21, $22, $23, $24)""",
            record.file_id,
            record.finess,
            record.account,
            record.file_name,
            record.header_finess,
            record.ordre,
            record.extract,
            record.date_debut,
            record.date_fin,
            record.first_day,
            record.last_day,
            record.status.value,
            record.error,
            record.passages_accepted,
            record.passages_rejected,
            record.passages_stored,
            list(record.days_replaced),
            json.dumps(record.quality, ensure_ascii=False, default=str),
            record.receipt_name,
            record.receipt,
            record.blob.sha256,
            record.blob.size,
            record.blob.media_type,
            record.received_at,
        )


class PostgresPassageStore:
    def __init__(self, pool: Any) -> None:
        self._pool = pool

    @asynccontextmanager
    async def transaction(self, finess: str) -> AsyncIterator[PostgresIntegrationTransaction]:
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('rpu-integration/' || $1))", finess)
            yield PostgresIntegrationTransaction(conn)
