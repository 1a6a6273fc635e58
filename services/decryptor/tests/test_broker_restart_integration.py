"""Kill -9 the Kafka broker while the decryptor runs as a process; restart it: nothing is lost, and an instance
started while the broker was down waits for it instead of exiting."""

import asyncio
import subprocess
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer

import relais_stack as stack
from relais_contracts import FileDecrypted, FileFetched, SourceSystem, Topic
from relais_platform.blobstore import FileSystemBlobStore
from relais_platform.settings import KafkaSettings
from relais_platform.topics import ensure_topics
from relais_testing.gpg import GpgKey
from relais_testing.infra import DEPLOY, Infra
from relais_testing.processes import ServiceProcesses

pytestmark = pytest.mark.integration


def kafka(action: str) -> None:
    subprocess.run([str(DEPLOY / "kafka" / "kafka.sh"), action], check=True, capture_output=True, timeout=180)


def kafka_pid() -> int:
    return int((DEPLOY.parent / "var" / "kafka" / "kafka.pid").read_text())


async def publish(bootstrap: str, topic: str, events: list[FileFetched]) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(
                topic, event.model_dump_json().encode(), key=event.file_name.encode()
            )
    finally:
        await producer.stop()


async def collect(bootstrap: str, topic: str, expected: int, timeout: float) -> set[str]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    seen: set[str] = set()
    try:
        async with asyncio.timeout(timeout):
            while len(seen) < expected:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    seen |= {FileDecrypted.model_validate_json(r.value).file_id for r in records}
    finally:
        await consumer.stop()
    return seen


async def test_services_reconnect_after_the_broker_is_killed_and_nothing_is_lost(
    infra: Infra, database_url: str, platform_key: GpgKey, tmp_path: Path, unique: str
) -> None:
    if not infra.local:
        pytest.skip("the broker can only be killed when this project runs it as a local process")
    var = tmp_path / "var"
    blobs = FileSystemBlobStore(var / "blobs")
    (var / "keys").mkdir(parents=True)
    (var / "keys" / "key.asc").write_bytes(platform_key.secret_armored)
    namespace = f"t{unique}."
    settings = KafkaSettings(bootstrap_servers=infra.kafka_bootstrap, namespace=namespace)
    await ensure_topics(infra.kafka_bootstrap, settings.all_topics())

    def batch(start: int, count: int) -> list[FileFetched]:
        events = []
        for n in range(start, start + count):
            plain = tmp_path / f"ANN_RPU_{n:04d}.CSV"
            plain.write_text(f"Finess;Année;Nombre de passages aux urgences\n010000024;2024;{n}\n")
            ref = blobs.put_file(platform_key.encrypt(plain, tmp_path / f"{plain.name}.gpg"))
            events.append(
                FileFetched(
                    source_system=SourceSystem.DIAMANT,
                    file_name=f"{plain.name}.gpg",
                    remote_path="x",
                    file_id=ref.sha256,
                    blob=ref,
                    source="ANN_RPU",
                )
            )
        return events

    first, second = batch(0, 20), batch(20, 20)
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap,
        "KAFKA_NAMESPACE": namespace,
        "DATABASE_URL": database_url,
        "RELAIS_DECRYPTOR_PRIVATE_KEY_FILE": str(var / "keys" / "key.asc"),
    }
    processes = ServiceProcesses(var, env)
    # A second instance of the same group, started while the broker is down: it must wait, not exit.
    late = ServiceProcesses(tmp_path / "var-late", env)
    processes.start("decryptor")
    try:
        await processes.wait_healthy()
        fetched_topic = settings.topic(Topic.FILE_FETCHED)
        await publish(infra.kafka_bootstrap, fetched_topic, first)
        subprocess.run(["kill", "-9", str(kafka_pid())], check=True)
        late.start("decryptor")
        await asyncio.sleep(3)  # the services see the broker gone and keep retrying
        assert stack.service_pid(late.var_dir, "decryptor") is not None, late.log("decryptor")
        kafka("start")
        await publish(infra.kafka_bootstrap, fetched_topic, second)
        decrypted = await collect(
            infra.kafka_bootstrap, settings.topic(Topic.FILE_DECRYPTED), expected=40, timeout=120
        )
        assert decrypted == {e.file_id for e in first + second}
        await processes.wait_healthy(timeout_s=30)
        await late.wait_healthy(timeout_s=60)
    finally:
        late.stop()
        processes.stop()
        kafka("start")  # leave a running broker for the next tests whatever happened
