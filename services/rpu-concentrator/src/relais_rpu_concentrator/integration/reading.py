"""Reading one RPU file into bounded batches of rows, with everything the receipt and the ledger need on the side.

Synchronous and free of I/O choices: the use case runs it in one dedicated thread (lxml parsers must stay on the
thread that created them) and sends each batch to the store before asking for the next, so memory depends on the
batch size, never on the file. The counters (quality failures per check, completeness per item, ENTREE range) are
fixed-size; the detailed error list kept for the receipt is capped.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from json.encoder import encode_basestring as _json_string
from typing import BinaryIO

from relais_rpu import (
    CHECKS,
    CompletenessAccumulator,
    Passage,
    RejectedRecord,
    RpuFile,
    RpuHeader,
    check_passage,
    open_rpu,
)

# Column order of the rows handed to the store (table rpu_passage, migration 0021).
PASSAGE_COLUMNS: tuple[str, ...] = (
    "finess", "day", "file_id", "record_number", "cp", "commune", "naissance", "sexe", "entree", "mode_entree",
    "provenance", "transport", "transport_pec", "motif", "gravite", "dp", "da", "actes", "sortie", "mode_sortie",
    "destination", "orient", "extras", "unparsed", "checks",
)  # fmt: skip
DAY_COLUMN = PASSAGE_COLUMNS.index("day")
REJECTED_COLUMNS: tuple[str, ...] = ("finess", "file_id", "record_number", "reason", "items")

PassageRow = tuple[object, ...]
RejectedRow = tuple[str, str, int, str, str]

MAX_DETAILED_ERRORS = 1000
REJECTION_RULE = "REJET_ENTREE"


@dataclass(frozen=True, slots=True)
class RecordError:
    """One line of the receipt: the record's rank in the file, the rule it breaks, the detail in French."""

    record_number: int
    rule: str
    detail: str


@dataclass(slots=True)
class Batch:
    passages: list[PassageRow] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.passages) + len(self.rejected)


@dataclass(slots=True)
class ReadingSummary:
    """What one pass over the file established; complete once `FileReader.next_batch` returned None."""

    header: RpuHeader
    accepted: int = 0
    rejected: int = 0
    first_entree: datetime | None = None
    last_entree: datetime | None = None
    completeness: CompletenessAccumulator = field(default_factory=CompletenessAccumulator)
    failures: Counter[str] = field(default_factory=Counter)
    errors: list[RecordError] = field(default_factory=list)
    errors_omitted: int = 0

    def entree_days(self) -> tuple[date, date] | None:
        if self.first_entree is None or self.last_entree is None:
            return None
        return self.first_entree.date(), self.last_entree.date()

    def note(self, error: RecordError) -> None:
        if len(self.errors) < MAX_DETAILED_ERRORS:
            self.errors.append(error)
        else:
            self.errors_omitted += 1

    def quality(self) -> dict[str, object]:
        return {
            "checks": dict(sorted(self.failures.items())),
            "completeness": {
                c.item: {"filled": c.filled, "expected": c.expected} for c in self.completeness.report()
            },
        }


def _pairs(pairs: tuple[tuple[str, str], ...]) -> str | None:
    """`[[tag, text], ...]` as JSON text. Built from the C string encoder rather than `json.dumps`, which builds an
    encoder per call: a third of an extras-carrying passage's conversion time went there."""
    if not pairs:
        return None
    return "[" + ",".join([f"[{_json_string(tag)},{_json_string(text)}]" for tag, text in pairs]) + "]"


class FileReader:
    """Opens the stream (raises `RpuFormatError` / `RpuRejected`), then yields batches until the end of the file."""

    def __init__(self, stream: BinaryIO, *, finess: str, file_id: str, batch_size: int = 5000) -> None:
        self._rpu: RpuFile = open_rpu(stream)
        self._records = iter(self._rpu)
        self._finess = finess
        self._file_id = file_id
        self._batch_size = batch_size
        self.summary = ReadingSummary(self._rpu.header)

    @property
    def header(self) -> RpuHeader:
        return self._rpu.header

    def next_batch(self) -> Batch | None:
        """The next rows, or None at the end. Raises `RpuFormatError` where the XML breaks."""
        batch = Batch()
        accepted: list[Passage] = []
        size = self._batch_size
        for record in self._records:
            if isinstance(record, RejectedRecord):
                batch.rejected.append(self._rejected(record))
            else:
                accepted.append(record)
                batch.passages.append(self._row(record))
            if len(batch) >= size:
                break
        # Completeness is tallied per batch, its rules unrolled (per passage it cost a fifth of the read).
        self.summary.completeness.add_all(accepted)
        return batch if len(batch) else None

    def close(self) -> None:
        self._rpu.close()

    def _rejected(self, record: RejectedRecord) -> RejectedRow:
        summary = self.summary
        summary.rejected += 1
        summary.note(RecordError(record.record_number, REJECTION_RULE, record.reason))
        items = json.dumps([list(p) for p in record.items], ensure_ascii=False)
        return (self._finess, self._file_id, record.record_number, record.reason, items)

    def _row(self, p: Passage) -> PassageRow:
        summary = self.summary
        summary.accepted += 1
        if summary.first_entree is None or p.entree < summary.first_entree:
            summary.first_entree = p.entree
        if summary.last_entree is None or p.entree > summary.last_entree:
            summary.last_entree = p.entree
        failed = check_passage(p)
        for code in failed:
            summary.failures[code] += 1
            summary.note(RecordError(p.record_number, code, CHECKS[code]))
        return (
            self._finess, p.entree.date(), self._file_id, p.record_number, p.cp, p.commune, p.naissance, p.sexe,
            p.entree, p.mode_entree, p.provenance, p.transport, p.transport_pec, p.motif, p.gravite, p.dp,
            list(p.da), list(p.actes), p.sortie, p.mode_sortie, p.destination, p.orient, _pairs(p.extras),
            _pairs(p.unparsed), failed,
        )  # fmt: skip
