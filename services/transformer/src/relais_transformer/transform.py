"""The transform use case: a decrypted file in; a rows blob and its quality report (or a rejection) out."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

from relais_contracts import BlobRef, FileDecrypted, FileRejected, FileTransformed, Stage
from relais_contracts.rows import write_rows
from relais_platform.blobstore import FileSystemBlobStore
from relais_transformer.ports import FileUnreadable, KnownFiness, ReferentialReader, SourceTransform


class TransformFile:
    def __init__(
        self,
        transform: SourceTransform,
        referential: ReferentialReader,
        blobs: FileSystemBlobStore,
        reference_year: int | None,
    ) -> None:
        self._transform = transform
        self._referential = referential
        self._blobs = blobs
        self._reference_year = reference_year

    async def __call__(self, event: FileDecrypted) -> FileTransformed | FileRejected:
        if event.source is None:
            return self._reject(event, "source DIAMANT inconnue (nom de fichier non reconnu)")
        known = await self._referential.current()
        year = self._reference_year or date.today().year
        plaintext: Path = self._blobs.path(event.plaintext)
        try:
            # Parsing is CPU-bound: run it off the event loop so Kafka heartbeats keep flowing.
            ref, count, report = await asyncio.to_thread(
                self._write, event.source, plaintext, known, year, event.file_name
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

    def _write(
        self, source: str, plaintext: Path, known: KnownFiness, year: int, file_name: str
    ) -> tuple[BlobRef, int, dict[str, object]]:
        result = self._transform(source, plaintext, known, year, file_name)
        with self._blobs.writer("application/x-ndjson") as (writer, refs):
            count = write_rows(writer, result.rows)
        # Read the report only now: a streaming transform completes it while its rows are consumed.
        return refs[0], count, {**result.report, "reference_year": year}

    @staticmethod
    def _reject(event: FileDecrypted, reason: str) -> FileRejected:
        return FileRejected(
            stage=Stage.TRANSFORM,
            file_name=event.file_name,
            file_id=event.file_id,
            reason=reason,
            blob=event.plaintext,
        )
