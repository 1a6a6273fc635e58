"""A probe stage for the tests of `relais_platform.stage`: one spec with a spread route and a failure route, and a
use case whose outcome depends on the file name, shared by the in-memory and the real-broker tests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from relais_contracts import (
    BlobRef,
    Event,
    FileFetched,
    FileRejected,
    SourceMissing,
    SourceSystem,
    Stage,
    Topic,
)
from relais_platform.runtime import Service
from relais_platform.settings import KafkaSettings, PlatformSettings, StorageSettings
from relais_platform.stage import Route, StageSpec

BLOB = BlobRef(sha256="0" * 64, size=0)


def fetched(name: str) -> FileFetched:
    return FileFetched(
        source_system=SourceSystem.DIAMANT, file_name=name, remote_path=name, file_id="f" * 64, blob=BLOB
    )


def rejected(event: FileFetched) -> FileRejected:
    return FileRejected(
        stage=Stage.DECRYPT, file_name=event.file_name, file_id=event.file_id, reason="illisible"
    )


SPEC = StageSpec(
    name="probe",
    consumes=Topic.FILE_FETCHED,
    model=FileFetched,
    routes={
        SourceMissing: Route(Topic.SOURCE_MISSING, spread=True),
        FileRejected: Route(Topic.FILE_REJECTED, failure=True),
    },
)


def probe_service(tmp_path: Path, namespace: str, bootstrap: str = "127.0.0.1:1") -> Service:
    settings = PlatformSettings(
        kafka=KafkaSettings(bootstrap_servers=bootstrap, namespace=namespace),
        storage=StorageSettings(var_dir=tmp_path),
    )
    return Service("probe", settings)


async def use_case(event: FileFetched) -> Event | Sequence[Event] | None:
    """Rejects `bad*`, announces nothing for `quiet*`, two events for the others."""
    if event.file_name.startswith("bad"):
        return rejected(event)
    if event.file_name.startswith("quiet"):
        return None
    return [
        SourceMissing(source_system=SourceSystem.DIAMANT, source=f"{event.file_name}-{i}", inbox="x")
        for i in range(2)
    ]
