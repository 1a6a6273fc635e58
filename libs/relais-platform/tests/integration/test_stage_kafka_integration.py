"""The stage primitive on the real Kafka broker: partitions and consumer group."""

import asyncio
import json
from pathlib import Path

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from relais_contracts import Topic
from relais_platform.settings import KafkaSettings
from relais_platform.topics import PARTITIONS, ensure_topics
from relais_testing.stage_probe import SPEC, fetched, probe_service, use_case


async def test_on_the_real_broker_outcomes_spread_over_partitions_and_the_group_is_the_stages(
    kafka_bootstrap: str, unique: str, tmp_path: Path
) -> None:
    namespace = f"t{unique}."
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, namespace=namespace)
    await ensure_topics(kafka_bootstrap, kafka.all_topics())
    probe = probe_service(tmp_path, namespace, kafka_bootstrap)
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
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        groups = {g[0] for g in await admin.list_consumer_groups()}
    finally:
        await admin.close()
    assert f"{namespace}relais-probe" in groups
