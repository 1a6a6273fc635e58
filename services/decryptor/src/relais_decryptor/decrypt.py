"""The decrypt use case: a fetched file in, its plaintext (or a rejection naming the reason) out.

The encrypted original stays in the blob store whatever happens; a rejection points at it.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from relais_contracts import BlobRef, FileDecrypted, FileFetched, FileRejected, SourceSystem, Stage
from relais_decryptor.ports import DecryptionFailed, Decryptor, KeyStore
from relais_platform.blobstore import BlobCorrupted, FileSystemBlobStore

# Producers whose files always arrive encrypted: a plain file named like theirs is not theirs (and carries no
# integrity check), so it is refused, never passed on as a public source's file is.
ENCRYPTED_SYSTEMS = frozenset({SourceSystem.DIAMANT})


def is_encrypted(file_name: str) -> bool:
    return file_name.lower().endswith((".gpg", ".pgp"))


def plaintext_name(file_name: str) -> str:
    return file_name[: -len(".gpg")] if is_encrypted(file_name) else file_name


class DecryptFile:
    def __init__(
        self, keys: KeyStore, decryptor: Decryptor, blobs: FileSystemBlobStore, work_dir: Path
    ) -> None:
        self._keys = keys
        self._decryptor = decryptor
        self._blobs = blobs
        self._work_dir = work_dir

    async def __call__(self, event: FileFetched) -> FileDecrypted | FileRejected:
        try:
            self._blobs.verify(event.blob)
        except BlobCorrupted as error:
            return self._reject(event, f"fichier altéré depuis sa réception : {error}")
        if not is_encrypted(event.file_name):
            if event.source_system in ENCRYPTED_SYSTEMS:
                return self._reject(
                    event,
                    f"fichier {event.source_system.value} non chiffré : refusé (les extraits "
                    f"{event.source_system.value} arrivent chiffrés OpenPGP, `.CSV.gpg`, et seul le chiffrement en "
                    "garantit l'intégrité)",
                )
            # Public sources (the FINESS referential) are not encrypted: integrity checked, passed on as they are.
            return self._decrypted(event, event.blob)
        key = await self._keys.private_key()
        self._work_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self._work_dir) as scratch:
            plaintext = Path(scratch) / plaintext_name(event.file_name)
            try:
                # Decryption is CPU-bound and synchronous: keep the event loop (and Kafka heartbeats) responsive.
                await asyncio.to_thread(
                    self._decryptor.decrypt_file, key, self._blobs.path(event.blob), plaintext
                )
            except DecryptionFailed as error:
                return self._reject(event, str(error))
            ref = self._blobs.put_file(plaintext, media_type="text/csv")
        return self._decrypted(event, ref)

    @staticmethod
    def _decrypted(event: FileFetched, plaintext: BlobRef) -> FileDecrypted:
        return FileDecrypted(
            source_system=event.source_system,
            file_name=plaintext_name(event.file_name),
            file_id=event.file_id,
            source=event.source,
            extraction_date=event.extraction_date,
            encrypted=event.blob,
            plaintext=plaintext,
        )

    @staticmethod
    def _reject(event: FileFetched, reason: str) -> FileRejected:
        return FileRejected(
            stage=Stage.DECRYPT,
            file_name=event.file_name,
            file_id=event.file_id,
            reason=reason,
            blob=event.blob,
        )
