"""Announces received RPU files on Kafka, keyed by FINESS so that one establishment's files stay in order."""

from __future__ import annotations

from faststream.kafka import KafkaBroker

from relais_contracts import RpuFileReceived, Topic
from relais_platform.settings import KafkaSettings


class KafkaReceiptPublisher:
    def __init__(self, broker: KafkaBroker, kafka: KafkaSettings) -> None:
        self._broker = broker
        self._topic = kafka.topic(Topic.RPU_FILE_RECEIVED)

    async def file_received(self, event: RpuFileReceived) -> None:
        await self._broker.publish(event, self._topic, key=event.finess.encode())
