import hashlib
from pathlib import Path

import pytest

from relais_platform.blobstore import BlobCorrupted, BlobNotFound, FileSystemBlobStore


def test_a_blob_is_addressed_by_the_sha256_of_its_content(tmp_path: Path) -> None:
    store = FileSystemBlobStore(tmp_path)
    ref = store.put_bytes(b"Finess;Ann\xc3\xa9e\n")
    assert ref.sha256 == hashlib.sha256(b"Finess;Ann\xc3\xa9e\n").hexdigest()
    assert ref.size == 14
    with store.open(ref) as handle:
        assert handle.read() == b"Finess;Ann\xc3\xa9e\n"


def test_writing_the_same_content_twice_keeps_one_blob(tmp_path: Path) -> None:
    store = FileSystemBlobStore(tmp_path)
    first, second = store.put_bytes(b"x" * 10), store.put_bytes(b"x" * 10)
    assert first == second
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 1


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    store = FileSystemBlobStore(tmp_path)
    with pytest.raises(RuntimeError), store.writer() as (writer, _):
        writer.write(b"partial")
        raise RuntimeError("connection lost")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_verify_detects_a_blob_altered_on_disk(tmp_path: Path) -> None:
    store = FileSystemBlobStore(tmp_path)
    ref = store.put_bytes(b"original")
    store.path(ref).write_bytes(b"tampered")
    with pytest.raises(BlobCorrupted):
        store.verify(ref)


def test_a_missing_blob_is_named(tmp_path: Path) -> None:
    store = FileSystemBlobStore(tmp_path)
    ref = store.put_bytes(b"a")
    store.path(ref).unlink()
    with pytest.raises(BlobNotFound, match=ref.sha256):
        store.open(ref)
