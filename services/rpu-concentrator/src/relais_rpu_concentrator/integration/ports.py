"""What the integration use case needs from the outside world, and the ledger entry it writes for every file."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import BinaryIO, Protocol

from relais_contracts import BlobRef, RpuFileIntegrated, RpuFileRejected
from relais_rpu_concentrator.integration.reading import PassageRow, RejectedRow
from relais_rpu_concentrator.integration.rules import OrderKey


class FileStatus(StrEnum):
    INTEGRATED = "integrated"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"  # every day it covers belongs to a newer extract: nothing applied


@dataclass(frozen=True, slots=True)
class FileRecord:
    """One row of the file ledger (rpu_file): enough to answer a redelivered event without reading the file again."""

    file_id: str
    finess: str
    account: str
    file_name: str
    blob: BlobRef
    received_at: datetime
    status: FileStatus
    error: str | None = None
    header_finess: str | None = None
    ordre: str | None = None
    extract: datetime | None = None
    date_debut: date | None = None
    date_fin: date | None = None
    first_day: date | None = None
    last_day: date | None = None
    passages_accepted: int = 0
    passages_rejected: int = 0
    passages_stored: int = 0
    days_replaced: tuple[date, ...] = ()
    quality: dict[str, object] = field(default_factory=dict)
    receipt_name: str | None = None
    receipt: str | None = None


class IntegrationTransaction(Protocol):
    """One database transaction, holding the establishment's integration lock until it ends."""

    async def find_file(self, finess: str, file_id: str) -> FileRecord | None:
        """The ledger entry of a file this establishment already sent (integrated, superseded or rejected)."""
        ...

    async def stage_passages(self, rows: Sequence[PassageRow]) -> None:
        """Write a batch of accepted passages, provisionally: `replace_days` decides which of them stay."""
        ...

    async def add_rejected(self, rows: Sequence[RejectedRow]) -> None:
        """Archive records refused on their own (ENTREE missing or unreadable)."""
        ...

    async def newer_days(self, finess: str, days: Sequence[date], key: OrderKey) -> set[date]:
        """Among `days`, those whose current owner is a newer file than `key`."""
        ...

    async def replace_days(
        self, finess: str, days: Sequence[date], *, discard: Sequence[date], file_id: str, key: OrderKey
    ) -> dict[date, int]:
        """Keep this file's staged passages of `days` in place of every other file's and make this file their owner;
        drop its staged passages of `discard` (days a newer extract owns). Returns the number of passages now stored
        per day of `days` (0 for a covered day without passages)."""
        ...

    async def record_file(self, record: FileRecord) -> None: ...


class PassageStore(Protocol):
    def transaction(self, finess: str) -> AbstractAsyncContextManager[IntegrationTransaction]:
        """Begin a transaction that serialises the integrations of one establishment; commit on normal exit,
        roll back on exception."""
        ...


class BlobSource(Protocol):
    def open(self, ref: BlobRef) -> BinaryIO: ...


class ReceiptWriter(Protocol):
    """The establishment's receipts folder (accuses/ on its SFTP account)."""

    async def write(self, finess: str, name: str, text: str) -> None:
        """Write (or rewrite identically) the receipt; a reader never sees it half written."""
        ...


class IntegrationEvents(Protocol):
    async def integrated(self, event: RpuFileIntegrated) -> None: ...

    async def rejected(self, event: RpuFileRejected) -> None: ...
