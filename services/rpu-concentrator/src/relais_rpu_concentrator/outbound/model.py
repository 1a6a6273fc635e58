"""Values the outbound use cases exchange: an export and its files, and the delivery ledger's entries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from relais_contracts import BlobRef


@dataclass(frozen=True)
class ExportFile:
    """One file of an export, already written to the blob store.

    `rpu_per_finess` counts the RPU the file carries per establishment (for the manifest); `trace_parents` are the
    W3C traceparents of the received files whose passages it carries, so its delivery appears in their traces.
    """

    name: str
    blob: BlobRef
    rpu_per_finess: Mapping[str, int] = field(default_factory=dict)
    trace_parents: tuple[str, ...] = ()


@dataclass(frozen=True)
class Export:
    """A set of files sent together to one destination, e.g. `spf-2026-11-25` (the daily OSCOUR export)."""

    export_id: str
    files: tuple[ExportFile, ...]


class DeliveryState(StrEnum):
    PLANNED = "planned"  # recorded, not yet tried (or the last try failed: see last_error)
    SENDING = "sending"  # a try has started; after a crash the receiver may or may not hold the file
    DELIVERED = "delivered"  # the receiver confirmed (SFTP rename done, HTTP 2xx)


@dataclass(frozen=True)
class PlannedFile:
    """What the ledger must remember to (re)send a file after a restart without the exporter's memory."""

    name: str
    sha256: str
    size: int
    seq: int  # send order within the export; the manifest comes last
    media_type: str = "application/octet-stream"
    trace_parents: tuple[str, ...] = ()
    finess: tuple[str, ...] = ()  # the establishments whose RPU the file carries

    @property
    def blob(self) -> BlobRef:
        return BlobRef(sha256=self.sha256, size=self.size, media_type=self.media_type)


@dataclass(frozen=True)
class DeliveryEntry:
    export_id: str
    destination: str
    file: PlannedFile
    state: DeliveryState
    attempts: int = 0
    last_error: str | None = None
    delivered_at: datetime | None = None
