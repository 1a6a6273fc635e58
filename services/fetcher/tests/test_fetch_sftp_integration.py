"""The fetch use case against the real OpenSSH SFTP server (deploy/sftp) and the real PostgreSQL ledger."""

import hashlib
import os
import re
import shutil
from datetime import date
from pathlib import Path

import asyncpg
import pytest
from opentelemetry.sdk.trace import TracerProvider

from relais_contracts import Event, FileFetched, SourceMissing, SourceSystem, Topic
from relais_fetcher.adapters.sftp_source import SftpFileSource
from relais_fetcher.fetch import InboxFetch
from relais_fetcher.ports import RemoteFile
from relais_fetcher.settings import SftpSettings
from relais_platform.blobstore import FileSystemBlobStore
from relais_testing.infra import SftpServer

pytestmark = pytest.mark.integration

PREFIXES = ("ANN_ERRD_EJ", "ANN_ERRD_EJ_ET", "ANN_RPU")
NAME = re.compile(r"^(?P<prefix>[A-Z_]+?)_(?P<y>\d{4})_(?P<m>\d{2})_(?P<d>\d{2})\.CSV\.gpg$")


def select(name: str) -> tuple[str, date] | None:
    match = NAME.match(name)
    if not match or match["prefix"] not in PREFIXES:
        return None
    return match["prefix"], date(int(match["y"]), int(match["m"]), int(match["d"]))


class MemoryLedger:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], RemoteFile] = {}

    async def seen_unchanged(self, remote: RemoteFile) -> bool:
        return any(r == remote for r in self.rows.values())

    async def seen_content(self, file_name: str, sha256: str) -> bool:
        return (file_name, sha256) in self.rows

    async def record(self, remote: RemoteFile, sha256: str, source_system: str) -> bool:
        new = (remote.name, sha256) not in self.rows
        self.rows[(remote.name, sha256)] = remote
        return new


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[Event, Topic]] = []

    async def publish(self, event: Event, topic: Topic, key: str) -> None:
        self.events.append((event, topic))

    def fetched(self) -> list[FileFetched]:
        return [e for e, _ in self.events if isinstance(e, FileFetched)]


@pytest.fixture
def inbox(sftp_server: SftpServer, unique: str) -> tuple[SftpServer, str, Path]:
    """A fresh sub-folder of the inbox, writable by the SFTP login, for this test only."""
    folder = sftp_server.inbox / unique
    folder.mkdir()
    shutil.chown(folder, "relais-dnum")
    yield sftp_server, f"DIAMANT/incoming/{unique}", folder
    shutil.rmtree(folder)


def make_fetch(server: SftpServer, remote_inbox: str, tmp_path: Path, ledger, recorder) -> InboxFetch:
    settings = SftpSettings(
        host=server.host,
        port=server.port,
        username=server.username,
        client_key=server.client_key,
        known_hosts=server.known_hosts,
        inbox=remote_inbox,
    )
    return InboxFetch(
        source=SftpFileSource(settings),
        ledger=ledger,
        blobs=FileSystemBlobStore(tmp_path / "blobs"),
        publisher=recorder,
        tracer=TracerProvider().get_tracer("t"),
        select=select,
        expected_sources=PREFIXES,
        source_system=SourceSystem.DIAMANT,
        inbox=remote_inbox,
        partial_dir=tmp_path / "partial",
    )


async def test_exact_names_are_fetched_once_and_missing_sources_reported(inbox, tmp_path: Path) -> None:
    server, remote, folder = inbox
    (folder / "ANN_ERRD_EJ_ET_2026_11_16.CSV.gpg").write_bytes(b"et-level" * 1000)
    (folder / "ANN_ERRD_EJ_2026_11_16.CSV.gpg").write_bytes(b"ej-level" * 1000)
    (folder / "ANN_ERRD_EJ_2026_11_16.csv.gpg").write_bytes(b"wrong case")
    (folder / "notes.txt").write_bytes(b"not a DIAMANT file")
    recorder, ledger = Recorder(), MemoryLedger()
    fetch = make_fetch(server, remote, tmp_path, ledger, recorder)

    report = await fetch.poll()

    assert sorted(report.fetched) == ["ANN_ERRD_EJ_2026_11_16.CSV.gpg", "ANN_ERRD_EJ_ET_2026_11_16.CSV.gpg"]
    assert sorted(report.ignored) == ["ANN_ERRD_EJ_2026_11_16.csv.gpg", "notes.txt"]
    assert report.missing_sources == ["ANN_RPU"]
    missing = [e for e, t in recorder.events if isinstance(e, SourceMissing)]
    assert [m.source for m in missing] == ["ANN_RPU"]
    by_name = {e.file_name: e for e in recorder.fetched()}
    assert by_name["ANN_ERRD_EJ_2026_11_16.CSV.gpg"].source == "ANN_ERRD_EJ"
    assert by_name["ANN_ERRD_EJ_ET_2026_11_16.CSV.gpg"].source == "ANN_ERRD_EJ_ET"
    assert by_name["ANN_ERRD_EJ_2026_11_16.CSV.gpg"].file_id == hashlib.sha256(b"ej-level" * 1000).hexdigest()

    again = await fetch.poll()
    assert again.fetched == [] and len(recorder.fetched()) == 2

    # Same name, same content, but touched: downloaded again to compare, not published again.
    os.utime(folder / "ANN_ERRD_EJ_2026_11_16.CSV.gpg", (1, 1))
    third = await fetch.poll()
    assert third.fetched == [] and len(recorder.fetched()) == 2
    # Same name, new content: a new file.
    (folder / "ANN_ERRD_EJ_2026_11_16.CSV.gpg").write_bytes(b"corrected" * 1000)
    fourth = await fetch.poll()
    assert fourth.fetched == ["ANN_ERRD_EJ_2026_11_16.CSV.gpg"] and len(recorder.fetched()) == 3


async def test_an_interrupted_download_resumes_where_it_stopped(inbox, tmp_path: Path) -> None:
    server, remote, folder = inbox
    payload = os.urandom(3 * (1 << 20) + 123)
    (folder / "ANN_RPU_2026_11_16.CSV.gpg").write_bytes(payload)
    mtime = int((folder / "ANN_RPU_2026_11_16.CSV.gpg").stat().st_mtime)
    partial = tmp_path / "partial" / f"ANN_RPU_2026_11_16.CSV.gpg.{len(payload)}-{mtime}.part"
    partial.parent.mkdir(parents=True)
    partial.write_bytes(payload[: 1 << 20])  # what a previous, killed download had written
    recorder = Recorder()
    fetch = make_fetch(server, remote, tmp_path, MemoryLedger(), recorder)

    report = await fetch.poll()

    assert report.fetched == ["ANN_RPU_2026_11_16.CSV.gpg"]
    assert recorder.fetched()[0].blob.sha256 == hashlib.sha256(payload).hexdigest()
    assert not partial.exists()


async def test_a_partial_download_of_a_since_replaced_file_is_not_resumed(inbox, tmp_path: Path) -> None:
    server, remote, folder = inbox
    previous, current = os.urandom(2 * (1 << 20)), os.urandom(3 * (1 << 20) + 7)
    (folder / "ANN_RPU_2026_11_16.CSV.gpg").write_bytes(current)
    # What killed downloads of the previous version (other size and date) had written, in both partial namings.
    partials = tmp_path / "partial"
    partials.mkdir()
    stale = partials / f"ANN_RPU_2026_11_16.CSV.gpg.{len(previous)}-1600000000.part"
    stale.write_bytes(previous[: 1 << 20])
    legacy = partials / "ANN_RPU_2026_11_16.CSV.gpg.part"
    legacy.write_bytes(previous[:1000])
    other_file = partials / "ANN_RPU_2026_11_16.CSV.1000-1600000000.part"  # another name: left alone
    other_file.write_bytes(b"x")
    recorder = Recorder()
    fetch = make_fetch(server, remote, tmp_path, MemoryLedger(), recorder)

    report = await fetch.poll()

    assert report.fetched == ["ANN_RPU_2026_11_16.CSV.gpg"]
    assert recorder.fetched()[0].blob.sha256 == hashlib.sha256(current).hexdigest()
    assert not stale.exists() and not legacy.exists() and other_file.exists()


async def test_an_unpinned_host_key_is_refused(inbox, tmp_path: Path) -> None:
    server, remote, _ = inbox
    wrong = tmp_path / "known_hosts"
    wrong.write_text(
        f"[127.0.0.1]:{server.port} " + server.known_hosts.read_text().split(" ", 1)[1].replace("A", "B", 3)
    )
    settings = SftpSettings(
        host=server.host,
        port=server.port,
        username=server.username,
        client_key=server.client_key,
        known_hosts=wrong,
        inbox=remote,
    )
    with pytest.raises(Exception, match=r"(?i)host key"):
        await SftpFileSource(settings).list_files()


async def test_the_postgres_ledger_remembers_name_and_content(database_url: str, unique: str) -> None:
    from relais_fetcher.adapters.pg_ledger import PostgresFetchLedger
    from relais_platform.runtime import DatabaseHandle

    handle = DatabaseHandle()
    handle._pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        ledger = PostgresFetchLedger(handle)
        remote = RemoteFile(name=f"ANN_RPU_{unique}.CSV.gpg", path="x", size=10, mtime=5)
        assert not await ledger.seen_unchanged(remote)
        assert await ledger.record(remote, "a" * 64, "DIAMANT")
        assert not await ledger.record(remote, "a" * 64, "DIAMANT")
        assert await ledger.seen_unchanged(remote)
        assert await ledger.seen_content(remote.name, "a" * 64)
        assert not await ledger.seen_content(remote.name, "b" * 64)
    finally:
        await handle._pool.close()
