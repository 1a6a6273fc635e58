"""Consumer-group lag per topic and partition."""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient


@dataclass(frozen=True)
class Lag:
    group: str
    topic: str
    partition: int
    committed: int
    end: int

    @property
    def lag(self) -> int:
        return max(self.end - self.committed, 0)


async def consumer_lag(bootstrap: str, group_prefix: str = "relais-") -> list[Lag]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="relais-cli")
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, client_id="relais-cli")
    await admin.start()
    await consumer.start()
    try:
        groups = sorted(g[0] for g in await admin.list_consumer_groups() if g[0].startswith(group_prefix))
        result: list[Lag] = []
        for group in groups:
            offsets = await admin.list_consumer_group_offsets(group)
            if not offsets:
                continue
            ends = await consumer.end_offsets(list(offsets))
            for tp, meta in sorted(offsets.items(), key=lambda item: (item[0].topic, item[0].partition)):
                result.append(Lag(group, tp.topic, tp.partition, meta.offset, ends[tp]))
        return result
    finally:
        await consumer.stop()
        await admin.close()
