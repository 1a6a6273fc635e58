"""Announces integration outcomes on Kafka, keyed by FINESS like the received files they answer."""

from __future__ import annotations

from faststream.kafka import KafkaBroker

from relais_contracts import RpuFileIntegrated, RpuFileRejected, Topic
from relais_platform.settings import KafkaSettings


class KafkaIntegrationEvents:
    def __init__(self, broker: KafkaBroker, kafka: KafkaSettings) -> None:
        self._broker = broker
        self._integrated = kafka.topic(Topic.RPU_FILE_INTEGRATED)
        self._rejected = kafka.topic(Topic.RPU_FILE_REJECTED)

    async def integrated(self, event: RpuFileIntegrated) -> None:
        await self._broker.publish(event, self._integrated, key=event.finess.encode())

    async def rejected(self, event: RpuFileRejected) -> None:
        await self._broker.publish(event, self._rejected, key=event.finess.encode())
