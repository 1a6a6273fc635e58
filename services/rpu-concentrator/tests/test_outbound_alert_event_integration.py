"""The absence alert as a Kafka event on the real broker: the contract, keyed by FINESS, readable by any consumer."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
from aiokafka import AIOKafkaConsumer
from faststream.kafka import KafkaBroker

from relais_contracts import RpuAbsenceAlerted, Topic
from relais_platform.settings import KafkaSettings
from relais_platform.topics import ensure_topics
from relais_rpu_concentrator.outbound.absence import AbsenceAlert, AlertReason, LastFile
from relais_rpu_concentrator.outbound.adapters.kafka_alerts import KafkaAlertEvents

pytestmark = pytest.mark.integration


async def test_an_alert_is_published_as_rpu_absence_alerted_keyed_by_finess(
    kafka_bootstrap: str, unique: str
) -> None:
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, namespace=f"t{unique}.")
    await ensure_topics(kafka_bootstrap, kafka.all_topics())
    alert = AbsenceAlert(
        finess="670780055", day=date(2026, 9, 18), reason=AlertReason.ABSENCE,
        message="L'établissement FINESS 670780055 n'a transmis aucun fichier RPU le 18/09/2026.",
        last_file=LastFile("RPU_670780055_260917.xml", datetime(2026, 9, 17, 1, 10, tzinfo=UTC)),
        missing_days=(date(2026, 9, 18),),
    )  # fmt: skip
    broker = KafkaBroker(kafka_bootstrap)
    await broker.start()
    try:
        await KafkaAlertEvents(broker, kafka).notify(alert)
    finally:
        await broker.stop()
    consumer = AIOKafkaConsumer(
        kafka.topic(Topic.RPU_ABSENCE_ALERTED),
        bootstrap_servers=kafka_bootstrap,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        async with asyncio.timeout(20):
            while not (batches := await consumer.getmany(timeout_ms=500)):
                pass
    finally:
        await consumer.stop()
    [record] = [r for records in batches.values() for r in records]
    event = RpuAbsenceAlerted.model_validate_json(record.value)
    assert record.key == b"670780055"
    assert (event.finess, event.day, event.reason) == ("670780055", date(2026, 9, 18), "absence")
    assert event.last_file == "RPU_670780055_260917.xml" and event.missing_days == [date(2026, 9, 18)]
    assert "aucun fichier RPU" in event.message
