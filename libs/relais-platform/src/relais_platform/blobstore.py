"""Content-addressed blob store for file payloads.

Events carry a `BlobRef` (SHA-256 + size), never bytes. A blob is written to a temporary file while its hash is
computed, then renamed into place: a reader never sees a partial blob and writing the same content twice is a no-op.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from relais_contracts import BlobRef

CHUNK = 1 << 20


class BlobNotFound(FileNotFoundError):
    pass


class BlobCorrupted(ValueError):
    pass


class BlobWriter:
    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> int:
        """Like a file's `write`: returns the number of bytes written (writers such as polars rely on it)."""
        self._handle.write(chunk)
        self._hash.update(chunk)
        self.size += len(chunk)
        return len(chunk)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


class BlobStore(Protocol):
    """Where file payloads live between stages."""

    def writer(self, media_type: str = ...) -> Any: ...

    def put_bytes(self, data: bytes, media_type: str = ...) -> BlobRef: ...

    def put_file(self, path: Path, media_type: str = ...) -> BlobRef: ...

    def path(self, ref: BlobRef) -> Path: ...

    def open(self, ref: BlobRef) -> BinaryIO: ...

    def verify(self, ref: BlobRef) -> None: ...


class FileSystemBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "tmp").mkdir(parents=True, exist_ok=True)

    def _location(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:]

    @contextmanager
    def writer(
        self, media_type: str = "application/octet-stream"
    ) -> Iterator[tuple[BlobWriter, list[BlobRef]]]:
        """Stream a blob in; the ref is appended to the yielded list when the block exits without error."""
        fd, tmp = tempfile.mkstemp(dir=self.root / "tmp")
        refs: list[BlobRef] = []
        try:
            with os.fdopen(fd, "wb") as handle:
                writer = BlobWriter(handle)
                yield writer, refs
                handle.flush()
                os.fsync(handle.fileno())
            target = self._location(writer.sha256)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, target)
            refs.append(BlobRef(sha256=writer.sha256, size=writer.size, media_type=media_type))
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def put_bytes(self, data: bytes, media_type: str = "application/octet-stream") -> BlobRef:
        with self.writer(media_type) as (writer, refs):
            writer.write(data)
        return refs[0]

    def put_file(self, path: Path, media_type: str = "application/octet-stream") -> BlobRef:
        with self.writer(media_type) as (writer, refs), path.open("rb") as source:
            while chunk := source.read(CHUNK):
                writer.write(chunk)
        return refs[0]

    def path(self, ref: BlobRef) -> Path:
        location = self._location(ref.sha256)
        if not location.exists():
            raise BlobNotFound(f"blob {ref.sha256} absent from {self.root}")
        return location

    def open(self, ref: BlobRef) -> BinaryIO:
        return self.path(ref).open("rb")

    def verify(self, ref: BlobRef) -> None:
        """Re-hash a stored blob; raises BlobCorrupted when its bytes no longer match its address."""
        digest = hashlib.sha256()
        size = 0
        with self.open(ref) as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
        if digest.hexdigest() != ref.sha256 or size != ref.size:
            raise BlobCorrupted(f"blob {ref.sha256}: content no longer matches its address")
