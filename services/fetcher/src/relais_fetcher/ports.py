"""What the fetch use case needs from the outside world."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RemoteFile:
    name: str
    path: str
    size: int
    mtime: int


class FileSource(Protocol):
    """A remote inbox (SFTP, HTTP…)."""

    async def list_files(self) -> list[RemoteFile]:
        """Regular files of the inbox (not directories, not links)."""
        ...

    async def download(self, remote: RemoteFile, partial: Path) -> None:
        """Download into `partial`, resuming from its current size; raises when the final size differs."""
        ...


class FetchLedger(Protocol):
    """Files already fetched, so that the same name with the same content is fetched once."""

    async def seen_unchanged(self, remote: RemoteFile) -> bool:
        """Same name, size and modification time as a file already fetched: no need to download it."""
        ...

    async def seen_content(self, file_name: str, sha256: str) -> bool: ...

    async def record(self, remote: RemoteFile, sha256: str, source_system: str) -> bool:
        """Record a fetched file; False when the same name and content had already been recorded."""
        ...
