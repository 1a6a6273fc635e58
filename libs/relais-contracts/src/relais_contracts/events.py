"""Event contracts exchanged over Kafka.

Every event is a frozen pydantic model with an explicit `schema_version`; a breaking change gets a new model and a new
topic version. Events never carry file bytes: they carry a `BlobRef` (content address + SHA-256 + size) into the blob
store. The `file_id` of a file is the SHA-256 of its original bytes and follows the file from stage to stage, so every
effect can be made idempotent on it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


def _now() -> datetime:
    return datetime.now(UTC)


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    occurred_at: datetime = Field(default_factory=_now)

    def partition_key(self) -> str:
        """The Kafka key of the event: what must stay in order (one establishment's RPU files) or together."""
        raise NotImplementedError(f"{type(self).__name__} declares no partition key")


class BlobRef(BaseModel):
    """A payload in the blob store, addressed by its content."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)
    media_type: str = "application/octet-stream"


class SourceSystem(StrEnum):
    DIAMANT = "DIAMANT"
    FINESS = "FINESS"
    SCANSANTE = "SCANSANTE"


class Stage(StrEnum):
    FETCH = "fetch"
    DECRYPT = "decrypt"
    TRANSFORM = "transform"
    LOAD = "load"


class FileFetched(Event):
    """A file was downloaded from a source and stored; `file_id` is the SHA-256 of the downloaded bytes."""

    schema_version: Literal[1] = 1
    source_system: SourceSystem
    file_name: str
    remote_path: str
    file_id: str
    blob: BlobRef
    source: str | None = None  # e.g. a DIAMANT prefix such as QUO_SAN_FINANCE
    extraction_date: date | None = None

    def partition_key(self) -> str:
        return self.file_name


class SourceMissing(Event):
    """An expected source had no file in the inbox at a poll."""

    schema_version: Literal[1] = 1
    source_system: SourceSystem
    source: str
    inbox: str

    def partition_key(self) -> str:
        return self.source


class FileDecrypted(Event):
    schema_version: Literal[1] = 1
    source_system: SourceSystem
    file_name: str
    file_id: str
    source: str | None = None
    extraction_date: date | None = None
    encrypted: BlobRef
    plaintext: BlobRef

    def partition_key(self) -> str:
        return self.file_name


WriteMode = Literal["upsert", "ensure"]


class TableRows(BaseModel):
    """One target table's rows of a transformed file: an Arrow IPC file in the blob store, one column per table column
    the file's source owns (the table's key columns always among them).

    `mode` `upsert` inserts or updates those columns; `ensure` inserts a row only when its key is absent and never
    changes an existing row (a referenced parent that another file describes in full)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    table: str
    blob: BlobRef
    rows: int = Field(ge=0)
    mode: WriteMode = "upsert"


class FileTransformed(Event):
    """Rows ready for loading, one Arrow IPC blob per target table, in the order they must be written (parents first).

    `years` is the year window a DIAMANT extract speaks for (N−5..N−1 or N−4..N): loading it replaces what its source
    said about those years. None for files that only add and update (the FINESS referential).

    Version 2: the rows travel as Arrow IPC per table (version 1 carried one blob of JSON lines)."""

    schema_version: Literal[2] = 2
    source_system: SourceSystem
    file_name: str
    file_id: str
    source: str | None = None
    extraction_date: date | None = None
    tables: list[TableRows]
    years: tuple[int, int] | None = None
    quality_report: dict[str, object] = Field(default_factory=dict)

    @property
    def row_count(self) -> int:
        return sum(table.rows for table in self.tables)

    def partition_key(self) -> str:
        return self.file_name


class FileLoaded(Event):
    schema_version: Literal[1] = 1
    file_name: str
    file_id: str
    source: str | None = None
    rows_written: int
    outcome: Literal["loaded", "already_loaded", "superseded"]

    def partition_key(self) -> str:
        return self.file_name


class FileRejected(Event):
    """A file that a stage refused; the original stays in the blob store."""

    schema_version: Literal[1] = 1
    stage: Stage
    file_name: str
    file_id: str
    reason: str
    blob: BlobRef | None = None

    def partition_key(self) -> str:
        return self.file_name


class RpuFileReceived(Event):
    """An establishment's RPU file, completely written to its SFTP inbox and stored; keyed by FINESS on Kafka."""

    schema_version: Literal[1] = 1
    finess: str  # the account's FINESS géographique (the file's content may name another: checked downstream)
    account: str
    file_name: str
    file_id: str
    blob: BlobRef
    received_at: datetime = Field(default_factory=_now)

    def partition_key(self) -> str:
        return self.finess


class RpuFileIntegrated(Event):
    schema_version: Literal[1] = 1
    finess: str
    file_name: str
    file_id: str
    outcome: Literal["integrated", "already_integrated", "superseded"]
    passages_accepted: int
    passages_rejected: int
    days_replaced: list[date] = Field(default_factory=list)

    def partition_key(self) -> str:
        return self.finess


class RpuFileRejected(Event):
    """A whole file refused (XML not well-formed, FINESS missing or invalid, unsafe XML); kept in quarantine."""

    schema_version: Literal[1] = 1
    finess: str
    file_name: str
    file_id: str
    reason: str
    blob: BlobRef

    def partition_key(self) -> str:
        return self.finess


class RpuAbsenceAlerted(Event):
    """An active establishment sent no file on `day`, or too few passages (mean − 3 SD): the same-day alert to the
    ARS, published once per (FINESS, day) whatever the number of checks; keyed by FINESS. `message` is the French
    text the ARS receives by mail; the event is in the trace of the establishment's last file when it is known."""

    schema_version: Literal[1] = 1
    finess: str
    day: date
    reason: Literal["absence", "volume"]
    message: str
    establishment_name: str | None = None
    last_file: str | None = None
    last_file_received_at: datetime | None = None
    missing_days: list[date] = Field(default_factory=list)
    day_count: int | None = None  # "volume": passages of the day counted, and the threshold it fell below
    threshold: float | None = None

    def partition_key(self) -> str:
        return self.finess
