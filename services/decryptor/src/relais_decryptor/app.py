"""Composition root of the decryptor: it chooses the adapters; the stage and the use case do the rest."""

from __future__ import annotations

from faststream import FastStream

from relais_contracts import FileDecrypted, FileFetched, FileRejected, Topic
from relais_decryptor.adapters.keystores import key_store_from
from relais_decryptor.adapters.sequoia import SequoiaDecryptor
from relais_decryptor.decrypt import DecryptFile
from relais_decryptor.ports import Decryptor, KeyStore
from relais_decryptor.settings import DecryptorSettings
from relais_platform.runtime import Service, run
from relais_platform.stage import Route, StageSpec

DECRYPT = StageSpec(
    name="decryptor",
    consumes=Topic.FILE_FETCHED,
    model=FileFetched,
    routes={
        # To the transformer's partitions in turn: it takes one file per partition at a time.
        FileDecrypted: Route(Topic.FILE_DECRYPTED, spread=True),
        FileRejected: Route(Topic.FILE_REJECTED, failure=True),
    },
)


def bootstrap(
    settings: DecryptorSettings,
    *,
    keys: KeyStore | None = None,
    decryptor: Decryptor | None = None,
) -> Service:
    """The decryptor's service; tests pass their own key store or decryptor."""
    service = Service("decryptor", settings)
    decrypt = DecryptFile(
        keys or key_store_from(settings), decryptor or SequoiaDecryptor(), service.blobs, settings.work_dir
    )
    service.stage(DECRYPT, decrypt)
    return service


def create_app(settings: DecryptorSettings | None = None) -> FastStream:
    return bootstrap(settings or DecryptorSettings()).app()


def main() -> None:
    run(create_app())
