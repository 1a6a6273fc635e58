"""The transform use case: a decrypted file in; its rows (one Arrow IPC blob per target table) and its quality report
(or a rejection) out."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, cast

from relais_contracts import FileDecrypted, FileRejected, FileTransformed, Stage, TableRows
from relais_platform.blobstore import FileSystemBlobStore
from relais_transformer.ports import FileUnreadable, KnownFiness, ReferentialReader, SourceTransform

ARROW_IPC = "application/vnd.apache.arrow.file"
RECORD_BATCH_ROWS = 50_000  # the loader reads a table's file one record batch at a time


@dataclass(frozen=True, slots=True)
class TransformJob:
    """One file to transform: all a worker process needs (it pickles)."""

    source: str
    plaintext: Path
    known: KnownFiness
    reference_year: int
    file_name: str


@dataclass(frozen=True, slots=True)
class Written:
    tables: list[TableRows]
    report: dict[str, object]
    years: tuple[int, int] | None


Runner = Callable[[TransformJob], Awaitable[Written]]


def write_table_blobs(transform: SourceTransform, blobs: FileSystemBlobStore, job: TransformJob) -> Written:
    """Transform a file and store each target table's rows as an Arrow IPC file. CPU-bound."""
    result = transform(job.source, job.plaintext, job.known, job.reference_year, job.file_name)
    tables: list[TableRows] = []
    for table in result.tables:
        with blobs.writer(ARROW_IPC) as (writer, refs):
            # The blob writer hashes what polars writes; polars only calls its `write`.
            table.frame.write_ipc(
                cast("IO[bytes]", writer), compression="uncompressed", record_batch_size=RECORD_BATCH_ROWS
            )
        tables.append(TableRows(table=table.table, blob=refs[0], rows=table.frame.height, mode=table.mode))
    return Written(tables, {**result.report, "reference_year": job.reference_year}, result.years)


class TransformFile:
    """`run`, when given, transforms elsewhere (worker processes: relais_transformer.worker); by default a file is
    transformed in a thread of this process."""

    def __init__(
        self,
        transform: SourceTransform,
        referential: ReferentialReader,
        blobs: FileSystemBlobStore,
        reference_year: int | None,
        run: Runner | None = None,
    ) -> None:
        self._transform = transform
        self._referential = referential
        self._blobs = blobs
        self._reference_year = reference_year
        self._run = run or self._in_thread

    async def _in_thread(self, job: TransformJob) -> Written:
        # Parsing is CPU-bound: run it off the event loop so Kafka heartbeats keep flowing.
        return await asyncio.to_thread(write_table_blobs, self._transform, self._blobs, job)

    async def __call__(self, event: FileDecrypted) -> FileTransformed | FileRejected:
        if event.source is None:
            return self._reject(event, "source DIAMANT inconnue (nom de fichier non reconnu)")
        known = await self._referential.current()
        year = self._reference_year or date.today().year
        plaintext: Path = self._blobs.path(event.plaintext)
        try:
            written = await self._run(TransformJob(event.source, plaintext, known, year, event.file_name))
        except FileUnreadable as error:
            return self._reject(event, str(error))
        return FileTransformed(
            source_system=event.source_system,
            file_name=event.file_name,
            file_id=event.file_id,
            source=event.source,
            extraction_date=event.extraction_date,
            tables=written.tables,
            years=written.years,
            quality_report=written.report,
        )

    @staticmethod
    def _reject(event: FileDecrypted, reason: str) -> FileRejected:
        return FileRejected(
            stage=Stage.TRANSFORM,
            file_name=event.file_name,
            file_id=event.file_id,
            reason=reason,
            blob=event.plaintext,
        )
