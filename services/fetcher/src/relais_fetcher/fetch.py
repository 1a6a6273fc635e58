"""The fetch use case: one poll of an inbox.

Order matters for "nothing lost": a file is published before it is recorded in the ledger, so a crash between the
two re-publishes it on the next poll (downstream stages are idempotent on `file_id`), never skips it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Protocol

from opentelemetry import context as otel_context
from opentelemetry.trace import Tracer

from relais_contracts import Event, FileFetched, SourceMissing, SourceSystem, Topic
from relais_fetcher.ports import FetchLedger, FileSource, RemoteFile
from relais_platform.blobstore import FileSystemBlobStore

log = logging.getLogger(__name__)

# A file name → (source, extraction date) when the file is one we want, else None.
Selector = Callable[[str], tuple[str, date] | None]


class EventPublisher(Protocol):
    async def publish(self, event: Event, topic: Topic, key: str) -> None: ...


@dataclass(slots=True)
class PollReport:
    fetched: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    missing_sources: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


class InboxFetch:
    def __init__(
        self,
        *,
        source: FileSource,
        ledger: FetchLedger,
        blobs: FileSystemBlobStore,
        publisher: EventPublisher,
        tracer: Tracer,
        select: Selector,
        expected_sources: Iterable[str],
        source_system: SourceSystem,
        inbox: str,
        partial_dir: Path,
        first_sources: Iterable[str] = (),
    ) -> None:
        self._source = source
        self._first = frozenset(first_sources)
        self._ledger = ledger
        self._blobs = blobs
        self._publisher = publisher
        self._tracer = tracer
        self._select = select
        self._expected = sorted(expected_sources)
        self.source_system = source_system
        self._inbox = inbox
        self._partial_dir = partial_dir

    async def poll(self) -> PollReport:
        report = PollReport()
        with self._tracer.start_as_current_span("fetcher.poll") as poll_span:
            files = await self._source.list_files()
            wanted: list[tuple[RemoteFile, str, date]] = []
            for remote in files:
                selected = self._select(remote.name)
                if selected is None:
                    report.ignored.append(remote.name)
                else:
                    wanted.append((remote, *selected))
            present = {source for _, source, _ in wanted}
            for source in self._expected:
                if source not in present:
                    report.missing_sources.append(source)
                    log.warning(
                        "expected source absent from inbox", extra={"source": source, "inbox": self._inbox}
                    )
                    await self._publisher.publish(
                        SourceMissing(source_system=self.source_system, source=source, inbox=self._inbox),
                        Topic.SOURCE_MISSING,
                        key=source,
                    )
            poll_span.set_attribute("relais.files_listed", len(files))
        # `first_sources` first, then the biggest first: the services after this one work on several files at once, and
        # a batch ends sooner when its longest files start first.
        wanted.sort(key=lambda found: (found[1] not in self._first, -found[0].size))
        for remote, source, extraction_date in wanted:
            if await self._ledger.seen_unchanged(remote):
                report.unchanged.append(remote.name)
                continue
            try:
                if await self._fetch_one(remote, source, extraction_date):
                    report.fetched.append(remote.name)
                else:
                    report.unchanged.append(remote.name)
            except OSError as error:  # one bad transfer must not stop the others; retried at the next poll
                report.failed[remote.name] = str(error)
                log.error("download failed", extra={"file": remote.name, "error": str(error)})
        return report

    def _partial(self, remote: RemoteFile) -> Path:
        """Where a download of this version of the file (name, size, mtime) accumulates. A partial left by another
        version (the file was replaced on the server after a download was interrupted) is discarded, never resumed:
        its bytes spliced with the new version's would make a corrupt file that the ledger then records as seen."""
        partial = self._partial_dir / f"{remote.name}.{remote.size}-{remote.mtime}.part"
        # `<name>.part` is what versions before this rule left: of an unknown version, so discarded too.
        same_name = re.compile(re.escape(remote.name) + r"(\.\d+-\d+)?\.part")
        if self._partial_dir.is_dir():
            for other in self._partial_dir.iterdir():
                if other != partial and same_name.fullmatch(other.name):
                    other.unlink(missing_ok=True)
        return partial

    async def _fetch_one(self, remote: RemoteFile, source: str, extraction_date: date) -> bool:
        # Each file starts its own trace: the trace follows the file through every service.
        with self._tracer.start_as_current_span(
            f"fetch {remote.name}",
            context=otel_context.Context(),
            attributes={"relais.file_name": remote.name},
        ) as span:
            partial = self._partial(remote)
            await self._source.download(remote, partial)
            ref = self._blobs.put_file(partial)
            partial.unlink()
            span.set_attribute("relais.file_id", ref.sha256)
            event = FileFetched(
                source_system=self.source_system,
                file_name=remote.name,
                remote_path=remote.path,
                file_id=ref.sha256,
                blob=ref,
                source=source,
                extraction_date=extraction_date,
            )
            if await self._ledger.seen_content(remote.name, ref.sha256):
                await self._ledger.record(remote, ref.sha256, self.source_system.value)
                return False
            await self._publisher.publish(event, Topic.FILE_FETCHED, key=remote.name)
            await self._ledger.record(remote, ref.sha256, self.source_system.value)
            log.info("file fetched", extra={"file": remote.name, "sha256": ref.sha256, "size": ref.size})
            return True
