"""The broker factory's delivery semantics on the real Kafka broker."""

import asyncio
import json

from aiokafka import AIOKafkaConsumer
from opentelemetry.sdk.trace import TracerProvider

from relais_contracts import SourceMissing, SourceSystem, Topic
from relais_platform.broker import PoisonMessage, make_broker
from relais_platform.settings import KafkaSettings
from relais_platform.topics import ensure_topics


async def _drain(
    bootstrap: str, topic: str, expected: int, timeout: float = 30.0
) -> list[tuple[bytes, dict]]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    got: list[tuple[bytes, dict]] = []
    try:
        async with asyncio.timeout(timeout):
            while len(got) < expected:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    got += [(r.value, {k: v.decode() for k, v in r.headers}) for r in records]
    finally:
        await consumer.stop()
    return got


async def test_poison_goes_to_dead_letter_and_later_messages_still_flow(
    kafka_bootstrap: str, unique: str
) -> None:
    topic = f"test.poison.{unique}"
    await ensure_topics(kafka_bootstrap, [topic, f"{topic}.dlq"], partitions=1)
    broker = make_broker(KafkaSettings(bootstrap_servers=kafka_bootstrap), TracerProvider(), client_id="test")
    handled: list[str] = []
    done = asyncio.Event()

    @broker.subscriber(topic, group_id=f"g-{unique}", auto_offset_reset="earliest")
    async def handle(event: SourceMissing) -> None:
        if event.source == "BAD":
            raise PoisonMessage("source BAD is not a DIAMANT source")
        handled.append(event.source)
        if event.source == "LAST":
            done.set()

    async with broker:
        await broker.start()
        await broker.publish(b'{"not": "a SourceMissing"}', topic)
        for source in ["BAD", "ANN_RPU", "LAST"]:
            await broker.publish(
                SourceMissing(source_system=SourceSystem.DIAMANT, source=source, inbox="x"), topic
            )
        await asyncio.wait_for(done.wait(), 30)

    assert handled == ["ANN_RPU", "LAST"]
    dead = await _drain(kafka_bootstrap, f"{topic}.dlq", 2)
    assert json.loads(dead[0][0]) == {"not": "a SourceMissing"}
    assert dead[0][1]["relais-error-type"] == "ValidationError"
    assert dead[0][1]["relais-original-topic"] == topic
    assert dead[1][1]["relais-error-type"] == "PoisonMessage"
    assert "source BAD" in dead[1][1]["relais-error"]


async def test_a_transient_failure_is_redelivered_not_lost(kafka_bootstrap: str, unique: str) -> None:
    topic = f"test.transient.{unique}"
    await ensure_topics(kafka_bootstrap, [topic, f"{topic}.dlq"], partitions=1)
    broker = make_broker(KafkaSettings(bootstrap_servers=kafka_bootstrap), TracerProvider(), client_id="test")
    attempts: list[str] = []
    done = asyncio.Event()

    @broker.subscriber(topic, group_id=f"g-{unique}", auto_offset_reset="earliest")
    async def handle(event: SourceMissing) -> None:
        attempts.append(event.source)
        if len(attempts) < 3:
            raise ConnectionRefusedError("database down")
        done.set()

    async with broker:
        await broker.start()
        await broker.publish(
            SourceMissing(source_system=SourceSystem.DIAMANT, source="ANN_SAE", inbox="x"), topic
        )
        await asyncio.wait_for(done.wait(), 30)

    assert attempts == ["ANN_SAE"] * 3


async def test_a_resource_may_publish_as_soon_as_it_starts(
    kafka_bootstrap: str, unique: str, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """The service's lifespan connects the broker before it enters the resources: the RPU intake, a resource,
    announces files pushed the moment it listens."""
    from contextlib import asynccontextmanager

    from relais_platform.runtime import Service
    from relais_platform.settings import PlatformSettings, StorageSettings

    settings = PlatformSettings(
        kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap, namespace=f"t{unique}."),
        storage=StorageSettings(var_dir=tmp_path),
    )
    service = Service("test", settings)
    topic = settings.kafka.topic(Topic.SOURCE_MISSING)

    @asynccontextmanager
    async def announcing():  # type: ignore[no-untyped-def]
        await service.broker.publish(
            SourceMissing(source_system=SourceSystem.DIAMANT, source="ANN_RPU", inbox=unique), topic
        )
        yield

    service.add_resource(announcing)
    try:
        async with service._lifespan():
            pass
    finally:
        await service.broker.stop()
    [(value, _)] = await _drain(kafka_bootstrap, topic, expected=1)
    assert json.loads(value)["inbox"] == unique
