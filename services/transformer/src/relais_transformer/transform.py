"""The transform use case: a decrypted file in; a rows blob and its quality report (or a rejection) out."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from relais_contracts import BlobRef, FileDecrypted, FileRejected, FileTransformed, Stage
from relais_contracts.rows import write_rows
from relais_platform.blobstore import FileSystemBlobStore
from relais_transformer.ports import FileUnreadable, KnownFiness, ReferentialReader, SourceTransform


@dataclass(frozen=True, slots=True)
class TransformJob:
    """One file to transform: all a worker process needs (it pickles)."""

    source: str
    plaintext: Path
    known: KnownFiness
    reference_year: int
    file_name: str


Written = tuple[BlobRef, int, dict[str, object]]
Runner = Callable[[TransformJob], Awaitable[Written]]


def write_rows_blob(transform: SourceTransform, blobs: FileSystemBlobStore, job: TransformJob) -> Written:
    """Transform a file and stream its rows into a blob: (blob, row count, quality report). CPU-bound."""
    result = transform(job.source, job.plaintext, job.known, job.reference_year, job.file_name)
    with blobs.writer("application/x-ndjson") as (writer, refs):
        count = write_rows(writer, result.rows)
    # Read the report only now: a streaming transform completes it while its rows are consumed.
    return refs[0], count, {**result.report, "reference_year": job.reference_year}


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
        return await asyncio.to_thread(write_rows_blob, self._transform, self._blobs, job)

    async def __call__(self, event: FileDecrypted) -> FileTransformed | FileRejected:
        if event.source is None:
            return self._reject(event, "source DIAMANT inconnue (nom de fichier non reconnu)")
        known = await self._referential.current()
        year = self._reference_year or date.today().year
        plaintext: Path = self._blobs.path(event.plaintext)
        try:
            ref, count, report = await self._run(
                TransformJob(event.source, plaintext, known, year, event.file_name)
            )
        except FileUnreadable as error:
            return self._reject(event, str(error))
        return FileTransformed(
            source_system=event.source_system,
            file_name=event.file_name,
            file_id=event.file_id,
            source=event.source,
            extraction_date=event.extraction_date,
            rows=ref,
            row_count=count,
            quality_report=report,
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
