"""SFTP inbox over asyncssh: key authentication, host key pinned, downloads resumed from the partial file."""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncssh

from relais_fetcher.ports import RemoteFile
from relais_fetcher.settings import SftpSettings

CHUNK = 1 << 20


class IncompleteDownload(OSError):
    pass


class SftpFileSource:
    def __init__(self, settings: SftpSettings, inbox: str | None = None) -> None:
        self._settings = settings
        self._inbox = inbox or settings.inbox

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[asyncssh.SFTPClient]:
        s = self._settings
        async with (
            asyncssh.connect(
                s.host,
                port=s.port,
                username=s.username,
                client_keys=[str(s.client_key)],
                known_hosts=str(s.known_hosts),  # pinned: an unknown or changed host key fails the connection
                agent_path=None,
            ) as conn,
            conn.start_sftp_client() as sftp,
        ):
            yield sftp

    async def list_files(self) -> list[RemoteFile]:
        inbox = self._inbox
        async with self._session() as sftp:
            entries = await sftp.readdir(inbox)
        files = []
        for entry in entries:
            attrs = entry.attrs
            if attrs.permissions is None or not stat.S_ISREG(attrs.permissions):
                continue
            name = str(entry.filename)
            files.append(
                RemoteFile(name=name, path=f"{inbox}/{name}", size=attrs.size or 0, mtime=attrs.mtime or 0)
            )
        return sorted(files, key=lambda f: f.name)

    async def download(self, remote: RemoteFile, partial: Path) -> None:
        partial.parent.mkdir(parents=True, exist_ok=True)
        offset = partial.stat().st_size if partial.exists() else 0
        if offset > remote.size:  # the remote file was replaced by a shorter one: start again
            partial.unlink()
            offset = 0
        async with self._session() as sftp, sftp.open(remote.path, "rb") as source:
            await source.seek(offset)
            with partial.open("ab") as target:
                while offset < remote.size:
                    chunk = await source.read(min(CHUNK, remote.size - offset))
                    if not chunk:
                        break
                    assert isinstance(chunk, bytes)  # opened in binary mode
                    target.write(chunk)
                    offset += len(chunk)
        if partial.stat().st_size != remote.size:
            raise IncompleteDownload(
                f"{remote.path}: {partial.stat().st_size} octets reçus sur {remote.size} annoncés"
            )
