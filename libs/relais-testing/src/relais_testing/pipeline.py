"""Driving the file pipeline (fetcher → decryptor → transformer → loader) from the outside, as an operator would:
files dropped in an SFTP inbox folder of their own, outcomes read from the `FILE_LOADED` / `FILE_REJECTED` topics of
one namespace. Shared by the end-to-end tests and the benchmarks."""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from types import TracebackType

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from relais_contracts import FileLoaded, FileRejected, Topic
from relais_testing.infra import SftpServer
from relais_testing.processes import ServiceProcesses

log = logging.getLogger(__name__)


def sftp_inbox(sftp: SftpServer, kind: str, folder: str) -> tuple[Path, str]:
    """A fresh folder under `<kind>/incoming` (DIAMANT, FINESS) of the local SFTP server: (path on disk, path for
    the fetcher's `RELAIS_FETCHER_SFTP_INBOX` / `RELAIS_FETCHER_FINESS_INBOX`)."""
    path = sftp.inbox.parent.parent / kind / "incoming" / folder
    path.mkdir(parents=True)
    shutil.chown(path, "relais-dnum")
    return path, f"{kind}/incoming/{folder}"


def fetcher_sftp_env(sftp: SftpServer, diamant_inbox: str, finess_inbox: str, var: Path) -> dict[str, str]:
    """The fetcher's settings for the local SFTP server, polling every second."""
    return {
        "RELAIS_FETCHER_SFTP_PORT": str(sftp.port),
        "RELAIS_FETCHER_SFTP_CLIENT_KEY": str(sftp.client_key),
        "RELAIS_FETCHER_SFTP_KNOWN_HOSTS": str(sftp.known_hosts),
        "RELAIS_FETCHER_SFTP_INBOX": diamant_inbox,
        "RELAIS_FETCHER_FINESS_INBOX": finess_inbox,
        "RELAIS_FETCHER_POLL_INTERVAL_S": "1",
        "RELAIS_FETCHER_PARTIAL_DIR": str(var / "partial"),
    }


def publish(files: Iterable[Path], inbox: Path, names: dict[Path, str] | None = None) -> list[Path]:
    """Each file appears whole under its name (or the one `names` gives it): copied beside as a dot-file the
    fetcher ignores, then renamed in one step, as a real SFTP upload-then-rename does. Returns the published paths."""
    published = []
    for path in files:
        name = (names or {}).get(path, path.name)
        staging = inbox / f".{name}.part"
        shutil.copyfile(path, staging)
        shutil.chown(staging, "relais-dnum")
        published.append(staging.replace(inbox / name))
    return published


def plaintext_name(file_name: str) -> str:
    """Files keep their name through the pipeline, less `.gpg` once decrypted: the key outcomes are filed under."""
    return file_name.removesuffix(".gpg")


class Outcomes:
    """What the pipeline said of each file, read from the namespace's FILE_LOADED and FILE_REJECTED topics: every
    event, filed under the file's plaintext name (a decryptor rejection names the `.gpg` file, later stages the
    plaintext one). Use as an async context manager; call `poll()` (or `wait_for()`) to read what arrived."""

    def __init__(self, bootstrap: str, namespace: str) -> None:
        self._topics = (namespace + Topic.FILE_LOADED.value, namespace + Topic.FILE_REJECTED.value)
        self._bootstrap = bootstrap
        self.loaded: dict[str, list[FileLoaded]] = {}
        self.rejected: dict[str, list[FileRejected]] = {}
        self._consumer: AIOKafkaConsumer | None = None

    async def __aenter__(self) -> Outcomes:
        self._consumer = AIOKafkaConsumer(
            *self._topics, bootstrap_servers=self._bootstrap, auto_offset_reset="earliest"
        )
        await self._consumer.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    async def poll(self) -> None:
        assert self._consumer is not None, "use Outcomes as an async context manager"
        for partition, records in (await self._consumer.getmany(timeout_ms=100)).items():
            for record in records:
                assert record.value is not None
                if partition.topic == self._topics[0]:
                    loaded = FileLoaded.model_validate_json(record.value)
                    self.loaded.setdefault(plaintext_name(loaded.file_name), []).append(loaded)
                else:
                    rejected = FileRejected.model_validate_json(record.value)
                    self.rejected.setdefault(plaintext_name(rejected.file_name), []).append(rejected)

    def settled(self, names: Iterable[str]) -> bool:
        """Every named file (plaintext names) has been loaded or rejected at least once."""
        return all(self.loaded.get(name) or self.rejected.get(name) for name in names)

    async def wait_for(
        self, names: Iterable[str], timeout_s: float, processes: ServiceProcesses | None = None
    ) -> None:
        wanted = sorted(set(names))

        async def settled() -> bool:
            await self.poll()
            return self.settled(wanted)

        async def progress() -> str:
            missing = [name for name in wanted if not (self.loaded.get(name) or self.rejected.get(name))]
            return f"{len(wanted) - len(missing)} of {len(wanted)} files settled; waiting for {missing}"

        await wait_until(settled, timeout_s, f"outcomes of {wanted}", processes, progress)


async def wait_until(
    predicate: Callable[[], Awaitable[bool]],
    timeout_s: float,
    what: str,
    processes: ServiceProcesses | None = None,
    progress: Callable[[], Awaitable[str]] | None = None,
    interval_s: float = 0.2,
) -> None:
    """Poll `predicate` (bounded); on timeout fail with `progress()` and each service's last log lines."""
    deadline = time.monotonic() + timeout_s
    while not await predicate():
        if time.monotonic() > deadline:
            detail = await progress() if progress is not None else ""
            logs = ""
            if processes is not None:
                logs = "\n".join(f"--- {s}\n{processes.log(s)[-2500:]}" for s in processes.started)
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}\n{detail}\n{logs}")
        await asyncio.sleep(interval_s)


async def delete_topics_named_after(
    bootstrap: str, fragments: set[str], timeout_s: float = 60.0
) -> list[str]:
    """Delete every topic whose name contains one of `fragments` (tests' unique suffixes); best effort, bounded."""

    async def delete() -> list[str]:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="relais-test-cleanup")
        await admin.start()
        try:
            names = [t for t in await admin.list_topics() if any(f in t for f in fragments)]
            for start in range(0, len(names), 200):
                await admin.delete_topics(names[start : start + 200])
            return names
        finally:
            await admin.close()

    try:
        return await asyncio.wait_for(delete(), timeout_s)
    except Exception as error:  # cleanup must never hide the tests' own outcome
        log.warning("could not delete the tests' topics: %r", error)
        return []


async def delete_namespace_topics(bootstrap: str, namespace: str, timeout_s: float = 20.0) -> list[str]:
    """Delete the topics of one test's namespace (`<namespace>pipeline.…` and their dead-letter topics); returns
    their names. Best effort, bounded: a test cleans up after itself but never fails for it.

    The local broker keeps its data across restarts, and every namespace creates the full set of topics (3
    partitions each): left behind, thousands of partitions accumulate until a full metadata request no longer fits
    the broker's heap and every client sees it fenced."""
    if not namespace:
        raise ValueError("refusing to delete the topics of the default namespace")

    async def delete() -> list[str]:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="relais-test-cleanup")
        await admin.start()
        try:
            names = [t for t in await admin.list_topics() if t.startswith(namespace)]
            if names:
                await admin.delete_topics(names)
            return names
        finally:
            await admin.close()

    try:
        return await asyncio.wait_for(delete(), timeout_s)
    except Exception as error:  # cleanup must not hide the test's own outcome
        log.warning("could not delete the topics of namespace %s: %r", namespace, error)
        return []
