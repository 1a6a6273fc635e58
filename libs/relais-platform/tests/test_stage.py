"""The stage primitive: what a service declares (consume, use case, routes) and what the stage does for it."""

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from faststream.kafka import TestKafkaBroker

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
from relais_platform.topics import PARTITIONS, ensure_topics

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


def service(tmp_path: Path, namespace: str, bootstrap: str = "127.0.0.1:1") -> Service:
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


async def test_each_outcome_goes_to_the_topic_of_its_route_under_the_namespace(tmp_path: Path) -> None:
    probe = service(tmp_path, "ns1.")
    probe.stage(SPEC, use_case)
    broker = probe.broker
    missing: list[str] = []
    refused: list[str] = []

    @broker.subscriber("ns1." + Topic.SOURCE_MISSING.value)
    async def on_missing(event: SourceMissing) -> None:
        missing.append(event.source)

    @broker.subscriber("ns1." + Topic.FILE_REJECTED.value)
    async def on_rejected(event: FileRejected) -> None:
        refused.append(event.file_name)

    async with TestKafkaBroker(broker) as test_broker:
        for name in ("good", "bad", "quiet"):
            await test_broker.publish(fetched(name), "ns1." + Topic.FILE_FETCHED.value)

    assert missing == ["good-0", "good-1"]
    assert refused == ["bad"]


async def test_an_outcome_without_a_route_is_an_error_not_a_silent_drop(tmp_path: Path) -> None:
    probe = service(tmp_path, "")

    async def wrong(event: FileFetched) -> Event:
        return fetched("loop")  # a FileFetched: no route declared for it

    stage = probe.stage(SPEC, wrong)
    with pytest.raises(TypeError, match="no route for FileFetched"):
        await stage.outputs.publish(fetched("x"))


@pytest.mark.integration
async def test_on_the_real_broker_outcomes_spread_over_partitions_and_the_group_is_the_stages(
    kafka_bootstrap: str, unique: str, tmp_path: Path
) -> None:
    namespace = f"t{unique}."
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, namespace=namespace)
    await ensure_topics(kafka_bootstrap, kafka.all_topics())
    probe = service(tmp_path, namespace, kafka_bootstrap)
    probe.stage(SPEC, use_case)
    async with probe.broker:
        await probe.broker.start()
        for i in range(3):
            await probe.broker.publish(fetched(f"file{i}"), namespace + Topic.FILE_FETCHED.value)
        consumer = AIOKafkaConsumer(
            namespace + Topic.SOURCE_MISSING.value,
            bootstrap_servers=kafka_bootstrap,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        partitions: dict[str, int] = {}
        try:
            async with asyncio.timeout(30):
                while len(partitions) < 6:
                    for records in (await consumer.getmany(timeout_ms=500)).values():
                        for r in records:
                            partitions[json.loads(r.value)["source"]] = r.partition
        finally:
            await consumer.stop()
    # Six events, in turn over the partitions: each partition got two, whatever their keys hash to.
    assert sorted(list(partitions.values()).count(p) for p in range(PARTITIONS)) == [2, 2, 2]
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        groups = {g[0] for g in await admin.list_consumer_groups()}
    finally:
        await admin.close()
    assert f"{namespace}relais-probe" in groups
