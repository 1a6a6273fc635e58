"""Every Kafka topic of Relais, declared once. A topic name carries the major version of its event contract."""

from enum import StrEnum


class Topic(StrEnum):
    # The file pipeline (fetcher → decryptor → transformer → loader), for DIAMANT and the FINESS referential alike.
    FILE_FETCHED = "pipeline.file.fetched.v1"
    SOURCE_MISSING = "pipeline.source.missing.v1"
    FILE_DECRYPTED = "pipeline.file.decrypted.v1"
    FILE_TRANSFORMED = "pipeline.file.transformed.v2"
    FILE_LOADED = "pipeline.file.loaded.v1"
    FILE_REJECTED = "pipeline.file.rejected.v1"
    RPU_FILE_RECEIVED = "rpu.file.received.v1"
    RPU_FILE_INTEGRATED = "rpu.file.integrated.v1"
    RPU_FILE_REJECTED = "rpu.file.rejected.v1"
    RPU_ABSENCE_ALERTED = "rpu.absence.alerted.v1"

    @property
    def dead_letter(self) -> str:
        """Where poison messages of this topic go, with the error in their headers."""
        return dead_letter_topic(self.value)


def dead_letter_topic(topic: str) -> str:
    return f"{topic}.dlq"


ALL_TOPICS: tuple[str, ...] = tuple(t.value for t in Topic) + tuple(t.dead_letter for t in Topic)
