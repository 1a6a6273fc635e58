"""Composition root of the decryptor."""

from __future__ import annotations

import itertools
import logging

from faststream import FastStream

from relais_contracts import FileDecrypted, FileFetched, Topic
from relais_decryptor.adapters.keystores import key_store_from
from relais_decryptor.adapters.sequoia import SequoiaDecryptor
from relais_decryptor.decrypt import DecryptFile
from relais_decryptor.settings import DecryptorSettings
from relais_platform.runtime import Service, run
from relais_platform.topics import PARTITIONS

log = logging.getLogger(__name__)


def create_app(settings: DecryptorSettings | None = None) -> FastStream:
    settings = settings or DecryptorSettings()
    service = Service("decryptor", settings)
    decrypt = DecryptFile(key_store_from(settings), SequoiaDecryptor(), service.blobs, settings.work_dir)
    broker, kafka = service.broker, settings.kafka
    # Decrypted files go to the partitions in turn, not by the hash of their name: the transformer takes one file per
    # partition at a time, and hashing put four of a batch's eleven files, the biggest among them, in one partition.
    # Nothing needs one file's events in order beyond this one event (the loader orders a source's files by date).
    spread = itertools.cycle(range(PARTITIONS))

    @broker.subscriber(
        kafka.topic(Topic.FILE_FETCHED),
        group_id=kafka.group("decryptor"),
        auto_offset_reset="earliest",
    )
    async def on_file_fetched(event: FileFetched) -> None:
        outcome = await decrypt(event)
        key = event.file_name.encode()
        if isinstance(outcome, FileDecrypted):
            await broker.publish(outcome, kafka.topic(Topic.FILE_DECRYPTED), key=key, partition=next(spread))
            log.info(
                "file decrypted", extra={"file": event.file_name, "plaintext_size": outcome.plaintext.size}
            )
        else:
            await broker.publish(outcome, kafka.topic(Topic.FILE_REJECTED), key=key)
            log.error("file rejected", extra={"file": event.file_name, "reason": outcome.reason})

    return service.app()


def main() -> None:
    run(create_app())
