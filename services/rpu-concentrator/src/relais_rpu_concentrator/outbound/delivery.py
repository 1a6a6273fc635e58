"""Delivering an export to one destination so that a restart never sends twice and never skips.

1. Plan: every file (data files, then the manifest) is recorded in the ledger in one transaction, with its blob
   SHA-256 — the bytes stay in the content-addressed blob store, so a restarted process can resend them.
2. Send, in order, each planned or sending entry: `sending` (attempts + 1) is recorded before any byte leaves,
   `delivered` only after the receiver confirmed. A crash in between leaves `sending`: the restart sends the file
   again, which the destination makes harmless (SFTP: same final name, atomically replaced; HTTPS: the same
   Idempotency-Key, the file's SHA-256, for the receiver to dedupe).
3. A failed try waits a capped exponential backoff; after `max_attempts` the entry returns to `planned` with its
   error and the export stops there (the manifest is never sent before all its files).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from itertools import groupby

from opentelemetry import context as otel_context
from opentelemetry.trace import Status, StatusCode, Tracer

from relais_platform.blobstore import BlobStore
from relais_rpu_concentrator.outbound.manifest import MANIFEST_MEDIA_TYPE, build_manifest, manifest_name
from relais_rpu_concentrator.outbound.model import DeliveryEntry, Export, PlannedFile
from relais_rpu_concentrator.outbound.ports import DeliveryError, DeliveryLedger, DeliveryRefused, Destination
from relais_rpu_concentrator.outbound.retry import RetryPolicy
from relais_rpu_concentrator.outbound.tracing import links_to, mark_in_file_traces

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
DEFAULT_RETRY = RetryPolicy()
MAX_LINKS = 128  # a regional bundle may carry hundreds of files; each still gets its rpu.delivered span


@dataclass
class DeliveryReport:
    delivered: list[str] = field(default_factory=list)  # "export_id/file"
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.failed


def plan_files(export: Export, blobs: BlobStore) -> list[PlannedFile]:
    """The export's files in send order, the manifest (written to the blob store here) last."""
    files = [
        PlannedFile(
            f.name,
            f.blob.sha256,
            f.blob.size,
            seq,
            f.blob.media_type,
            f.trace_parents,
            tuple(sorted(f.rpu_per_finess)),
        )
        for seq, f in enumerate(export.files)
    ]
    ref = blobs.put_bytes(build_manifest(export), MANIFEST_MEDIA_TYPE)
    parents = tuple(dict.fromkeys(tp for f in export.files for tp in f.trace_parents))
    finess = tuple(sorted({n for f in export.files for n in f.rpu_per_finess}))
    name = manifest_name(export.export_id)
    files.append(PlannedFile(name, ref.sha256, ref.size, len(files), ref.media_type, parents, finess))
    return files


class ExportDelivery:
    def __init__(
        self,
        *,
        ledger: DeliveryLedger,
        blobs: BlobStore,
        destinations: Mapping[str, Destination],
        tracer: Tracer,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._ledger = ledger
        self._blobs = blobs
        self._destinations = destinations
        self._tracer = tracer
        self._retry = retry
        self._sleep = sleep

    async def deliver(self, export: Export, destination: str) -> DeliveryReport:
        """Plan the export for the destination (once) and send what is not delivered yet."""
        await self.plan(export, destination)
        return await self.resume(destination, export.export_id)

    async def plan(self, export: Export, destination: str) -> None:
        """Record the export in the ledger without sending: from then on no restart can skip it."""
        if destination not in self._destinations:
            raise KeyError(f"unknown destination {destination!r}")
        await self._ledger.plan(export.export_id, destination, plan_files(export, self._blobs))

    async def resume(self, destination: str, export_id: str | None = None) -> DeliveryReport:
        """Send every planned or sending entry (all exports, or one): what a restart calls first."""
        target = self._destinations[destination]
        report = DeliveryReport()
        # One sender per destination at a time, even with several exporter processes: two concurrent resumes
        # would both find the same pending entries.
        async with self._ledger.exclusive(destination):
            pending = await self._ledger.pending(destination, export_id)
            for pending_export, entries in groupby(pending, key=lambda e: e.export_id):
                await self._resume_export(target, pending_export, list(entries), report)
        return report

    async def _resume_export(
        self, target: Destination, export_id: str, entries: list[DeliveryEntry], report: DeliveryReport
    ) -> None:
        parents = list(dict.fromkeys(tp for e in entries for tp in e.file.trace_parents))
        with (
            self._tracer.start_as_current_span(
                f"rpu.deliver_export {export_id}",
                context=otel_context.Context(),  # its own trace, linked to every received file it carries
                attributes={
                    "relais.export_id": export_id,
                    "relais.destination": target.name,
                    "relais.finess": sorted({f for e in entries for f in e.file.finess}),
                    "relais.files": len(entries),
                },
                links=links_to(parents[:MAX_LINKS]),
            ) as span
        ):
            for i, entry in enumerate(entries):
                error = await self._send_with_retries(target, entry)
                if error is None:
                    report.delivered.append(f"{export_id}/{entry.file.name}")
                    continue
                report.failed[f"{export_id}/{entry.file.name}"] = error
                for later in entries[i + 1 :]:
                    report.failed[f"{export_id}/{later.file.name}"] = (
                        "not sent: an earlier file of the export failed"
                    )
                span.set_status(Status(StatusCode.ERROR, error))
                return

    async def _send_with_retries(self, target: Destination, entry: DeliveryEntry) -> str | None:
        attributes: dict[str, str | int | list[str]] = {
            "relais.export_id": entry.export_id,
            "relais.finess": list(entry.file.finess),
            "relais.destination": entry.destination,
            "relais.file_name": entry.file.name,
            "relais.sha256": entry.file.sha256,
            "relais.size": entry.file.size,
        }
        with self._tracer.start_as_current_span(
            f"rpu.deliver {entry.file.name}",
            attributes=attributes,
            links=links_to(entry.file.trace_parents[:MAX_LINKS]),
        ) as span:
            content = self._blobs.path(entry.file.blob)
            error = "no attempt"
            for attempt in range(1, self._retry.max_attempts + 1):
                entry = await self._ledger.mark_sending(entry)
                try:
                    await target.send(entry.export_id, entry.file, content)
                except DeliveryError as failure:
                    error = f"{type(failure).__name__}: {failure}"
                    span.add_event("attempt failed", {"relais.attempt": entry.attempts, "error": error})
                    log.warning("delivery attempt failed", extra={"file": entry.file.name, "error": error})
                    if isinstance(failure, DeliveryRefused) or attempt == self._retry.max_attempts:
                        break
                    await self._sleep(self._retry.delay(attempt))
                    continue
                await self._ledger.mark_delivered(entry)
                span.set_attribute("relais.attempts", entry.attempts)
                mark_in_file_traces(
                    self._tracer,
                    "rpu.delivered",
                    entry.file.trace_parents,
                    attributes,
                    span.get_span_context(),
                )
                log.info("file delivered", extra={"file": entry.file.name, "export_id": entry.export_id})
                return None
            await self._ledger.mark_failed(entry, error)
            span.set_attribute("relais.attempts", entry.attempts)
            span.set_status(Status(StatusCode.ERROR, error))
            return error
