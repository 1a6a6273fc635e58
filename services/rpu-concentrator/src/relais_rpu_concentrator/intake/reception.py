"""The reception use case: a file completely written to a depot becomes a stored blob and one RpuFileReceived.

Order matters for "nothing lost": the bytes go to the blob store, then the event is published, then the file leaves
the depot for the archive. If storing or publishing fails, the file is removed from the depot and the client's
close (or rename) fails with a French message asking it to send again: the client, which still has the file, is the
one place that can retry. A crash after publishing and before archiving leaves the file in the depot, visible
to the establishment; it is not received again on its own, because the server cannot tell such a file from a
partial one (downstream is idempotent on file_id anyway, should the establishment re-send it).
"""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import UTC
from pathlib import Path

from relais_contracts import RpuFileReceived
from relais_platform.blobstore import FileSystemBlobStore
from relais_rpu_concentrator.intake.paths import archive_path, ensure_real_dir
from relais_rpu_concentrator.ports import FileReceivedSink

log = logging.getLogger(__name__)


class ReceptionFailed(Exception):
    """The file could not be stored or announced; the message is for the client, in French."""


def _media_type(file_name: str) -> str:
    return "application/xml" if file_name.lower().endswith(".xml") else "application/octet-stream"


def _archive(source: Path, target: Path) -> None:
    ensure_real_dir(target.parent.parent)
    ensure_real_dir(target.parent)
    os.replace(source, target)


class FileReception:
    def __init__(self, *, intake_root: Path, blobs: FileSystemBlobStore, sink: FileReceivedSink) -> None:
        self._root = intake_root
        self._blobs = blobs
        self._sink = sink

    async def receive(self, *, finess: str, account: str, path: Path, file_name: str) -> RpuFileReceived:
        """Store, announce and archive the file at `path` (complete, in `finess`'s depot)."""
        try:
            # Hashing and copying up to the size limit is disk and CPU work: off the event loop.
            ref = await asyncio.to_thread(self._blobs.put_file, path, _media_type(file_name))
            event = RpuFileReceived(
                finess=finess, account=account, file_name=file_name, file_id=ref.sha256, blob=ref
            )
            await self._sink.file_received(event)
        except Exception as error:
            log.exception("reception failed", extra={"finess": finess, "file": file_name})
            path.unlink(missing_ok=True)
            raise ReceptionFailed(
                f"{file_name} : le fichier n'a pas pu être enregistré par le concentrateur, merci de le renvoyer"
            ) from error
        target = archive_path(self._root, finess, file_name, event.received_at.astimezone(UTC))
        try:
            await asyncio.to_thread(_archive, path, target)
        except OSError:
            # Received and announced all the same: the client must not be told to send again for a local move.
            log.exception("received file left in the depot", extra={"finess": finess, "file": file_name})
        log.info(
            "rpu file received",
            extra={
                "finess": finess,
                "account": account,
                "file": file_name,
                "sha256": ref.sha256,
                "size": ref.size,
            },
        )
        return event
