"""Integrating one received RPU file: read, validate, replace the establishment's passages for the days it covers.

One transaction per file, holding the establishment's lock: the ledger lookup (a redelivered event changes nothing),
the staged passages, the replacement of the days this file wins in EXTRACT order (see `rules`), the rejected
records and the ledger row. A file refused as a whole (XML not well-formed, DOCTYPE/entities, FINESS missing or
invalid or not the account's) rolls that transaction back and is recorded as rejected in a second one, its raw
bytes staying in the blob store. Only after the commit are the receipt written and the event published; both are
repeated identically from the ledger row when the event is delivered again, so a crash in between loses neither.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from relais_contracts import RpuFileIntegrated, RpuFileReceived, RpuFileRejected
from relais_rpu import RpuFormatError, RpuRejected
from relais_rpu_concentrator.integration.ports import (
    BlobSource,
    FileRecord,
    FileStatus,
    IntegrationEvents,
    IntegrationTransaction,
    PassageStore,
    ReceiptWriter,
)
from relais_rpu_concentrator.integration.reading import Batch, FileReader
from relais_rpu_concentrator.integration.receipt import ReceiptFacts, receipt_name, render_receipt
from relais_rpu_concentrator.integration.rules import (
    MAX_WINDOW_DAYS,
    FileRefused,
    check_establishment,
    check_window,
    covered_days,
    days_to_replace,
    name_finess_warning,
    order_key,
)

log = logging.getLogger(__name__)

Outcome = Literal["integrated", "already_integrated", "superseded", "rejected", "already_rejected"]


@dataclass(frozen=True, slots=True)
class Settled:
    """What the database transaction of one file decided: its ledger row, and whether it was already there."""

    record: FileRecord
    again: bool


class Settlement(Protocol):
    async def settle(self, event: RpuFileReceived) -> Settled: ...


class FileSettlement:
    """The CPU- and database-heavy half: read and check the file, apply it in one transaction, return its ledger row.

    Picklable in, picklable out, free of Kafka and of the receipts folder: the service runs it in worker processes
    (`integration.worker`), one file per worker at a time, so that several files are parsed on several cores."""

    def __init__(
        self,
        *,
        store: PassageStore,
        blobs: BlobSource,
        batch_size: int = 5000,
        max_window_days: int = MAX_WINDOW_DAYS,
    ) -> None:
        self._store = store
        self._blobs = blobs
        self._batch_size = batch_size
        self._max_window_days = max_window_days

    async def settle(self, event: RpuFileReceived) -> Settled:
        try:
            async with self._store.transaction(event.finess) as tx:
                record = await tx.find_file(event.finess, event.file_id)
                if record is not None:
                    return Settled(record, again=True)
                record = await self._apply(tx, event)
                await tx.record_file(record)
                return Settled(record, again=False)
        except (RpuFormatError, RpuRejected, FileRefused) as refusal:
            reason = refusal.reason if isinstance(refusal, RpuFormatError | RpuRejected) else str(refusal)
            if isinstance(refusal, RpuFormatError):
                where = f"ligne {refusal.line} : " if refusal.line is not None else ""
                reason = f"XML invalide, {where}{reason}"
            async with self._store.transaction(event.finess) as tx:
                record = await tx.find_file(event.finess, event.file_id)
                if record is not None:
                    return Settled(record, again=True)
                record = _rejected(event, reason)
                await tx.record_file(record)
                return Settled(record, again=False)

    async def _apply(self, tx: IntegrationTransaction, event: RpuFileReceived) -> FileRecord:
        loop = asyncio.get_running_loop()
        # One thread for the whole file: the lxml parser lives and dies on the thread that created it.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rpu-read") as thread:
            stream = await loop.run_in_executor(thread, self._blobs.open, event.blob)
            pending: asyncio.Future[Batch | None] | None = None
            try:

                def open_reader() -> FileReader:
                    return FileReader(
                        stream, finess=event.finess, file_id=event.file_id, batch_size=self._batch_size
                    )

                reader = await loop.run_in_executor(thread, open_reader)
                check_establishment(reader.header, event.finess)
                # The next batch is parsed while this one is written: parsing and the database's COPY work
                # overlap, and at most two batches are in memory.
                pending = loop.run_in_executor(thread, reader.next_batch)
                while (batch := await pending) is not None:
                    pending = loop.run_in_executor(thread, reader.next_batch)
                    if batch.passages:
                        await tx.stage_passages(batch.passages)
                    if batch.rejected:
                        await tx.add_rejected(batch.rejected)
            finally:
                if pending is not None:
                    # When a write failed while the next batch was being read, let the read finish: its outcome
                    # no longer matters (the transaction is rolled back) but must not be left unretrieved.
                    with contextlib.suppress(Exception):
                        await pending
                await loop.run_in_executor(thread, stream.close)
        summary = reader.summary
        header = summary.header
        covered = covered_days(header, summary.entree_days())
        check_window(covered, self._max_window_days)
        key = order_key(header, event.received_at)
        won = days_to_replace(covered, await tx.newer_days(event.finess, covered, key))
        lost = sorted(set(covered) - set(won))
        stored = await tx.replace_days(event.finess, won, discard=lost, file_id=event.file_id, key=key)
        status = FileStatus.SUPERSEDED if covered and not won else FileStatus.INTEGRATED
        warning = name_finess_warning(event.file_name, header)
        facts = ReceiptFacts(
            file_name=event.file_name,
            file_id=event.file_id,
            finess=event.finess,
            received_at=event.received_at,
            status=status.value,
            summary=summary,
            covered=tuple(covered),
            replaced=tuple(won),
            warnings=(warning,) if warning else (),
        )
        quality = summary.quality() | {"warnings": list(facts.warnings)}
        return FileRecord(
            file_id=event.file_id,
            finess=event.finess,
            account=event.account,
            file_name=event.file_name,
            blob=event.blob,
            received_at=event.received_at,
            status=status,
            header_finess=header.finess,
            ordre=header.ordre,
            extract=header.extract,
            date_debut=header.date_debut,
            date_fin=header.date_fin,
            first_day=covered[0] if covered else None,
            last_day=covered[-1] if covered else None,
            passages_accepted=summary.accepted,
            passages_rejected=summary.rejected,
            passages_stored=sum(stored.values()),
            days_replaced=tuple(won),
            quality=quality,
            receipt_name=receipt_name(event.file_name, event.file_id),
            receipt=render_receipt(facts),
        )


class RpuIntegration:
    """One received file, from its event to its outcome: settle it (here or in a worker), then tell the
    establishment (receipt) and the platform (event). Both are repeated identically from the ledger row when the
    event is delivered again, so a crash between the commit and them loses neither."""

    def __init__(self, *, settlement: Settlement, receipts: ReceiptWriter, events: IntegrationEvents) -> None:
        self._settlement = settlement
        self._receipts = receipts
        self._events = events

    async def integrate(self, event: RpuFileReceived) -> Outcome:
        settled = await self._settlement.settle(event)
        record, again = settled.record, settled.again
        await self._announce(record, event, again=again)
        outcome: Outcome = record.status.value
        if again:
            outcome = "already_rejected" if record.status is FileStatus.REJECTED else "already_integrated"
        log.info(
            "rpu file processed",
            extra={"finess": event.finess, "file": event.file_name, "outcome": outcome,
                   "accepted": record.passages_accepted, "rejected": record.passages_rejected},
        )  # fmt: skip
        return outcome

    async def _announce(self, record: FileRecord, event: RpuFileReceived, *, again: bool) -> None:
        if record.receipt_name and record.receipt:
            await self._receipts.write(record.finess, record.receipt_name, record.receipt)
        if record.status is FileStatus.REJECTED:
            await self._events.rejected(
                RpuFileRejected(
                    finess=record.finess,
                    file_name=event.file_name,
                    file_id=record.file_id,
                    reason=record.error or "",
                    blob=record.blob,
                )
            )
            return
        await self._events.integrated(
            RpuFileIntegrated(
                finess=record.finess,
                file_name=event.file_name,
                file_id=record.file_id,
                outcome="already_integrated" if again else record.status.value,
                passages_accepted=record.passages_accepted,
                passages_rejected=record.passages_rejected,
                days_replaced=list(record.days_replaced),
            )
        )


def _rejected(event: RpuFileReceived, reason: str) -> FileRecord:
    facts = ReceiptFacts(
        file_name=event.file_name,
        file_id=event.file_id,
        finess=event.finess,
        received_at=event.received_at,
        status=FileStatus.REJECTED.value,
        error=reason,
    )
    record = FileRecord(
        file_id=event.file_id,
        finess=event.finess,
        account=event.account,
        file_name=event.file_name,
        blob=event.blob,
        received_at=event.received_at,
        status=FileStatus.REJECTED,
        error=reason,
        receipt_name=receipt_name(event.file_name, event.file_id),
    )
    return replace(record, receipt=render_receipt(facts))
