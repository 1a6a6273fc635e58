"""Relais event contracts and topic names."""

from relais_contracts.events import (
    BlobRef,
    Event,
    FileDecrypted,
    FileFetched,
    FileLoaded,
    FileRejected,
    FileTransformed,
    RpuAbsenceAlerted,
    RpuFileIntegrated,
    RpuFileReceived,
    RpuFileRejected,
    SourceMissing,
    SourceSystem,
    Stage,
    TableRows,
    WriteMode,
)
from relais_contracts.topics import ALL_TOPICS, Topic, dead_letter_topic

__all__ = [
    "ALL_TOPICS",
    "BlobRef",
    "Event",
    "FileDecrypted",
    "FileFetched",
    "FileLoaded",
    "FileRejected",
    "FileTransformed",
    "RpuAbsenceAlerted",
    "RpuFileIntegrated",
    "RpuFileReceived",
    "RpuFileRejected",
    "SourceMissing",
    "SourceSystem",
    "Stage",
    "TableRows",
    "Topic",
    "WriteMode",
    "dead_letter_topic",
]
