"""Creates the Relais topics (and their dead-letter topics) before any service subscribes to them."""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from relais_contracts import ALL_TOPICS

# Partitions of every topic this module creates: a publisher that spreads its messages itself (round robin) may
# address partitions 0..PARTITIONS-1.
PARTITIONS = 3


async def ensure_topics(
    bootstrap_servers: str,
    topics: Iterable[str] = ALL_TOPICS,
    partitions: int = PARTITIONS,
    replication: int = 1,
) -> list[str]:
    """Create missing topics; returns those created. Safe to call from several processes at once."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="relais-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if missing:
            try:
                await admin.create_topics([NewTopic(t, partitions, replication) for t in missing])
            except TopicAlreadyExistsError:
                pass  # another service created it between our list and create
        return missing
    finally:
        await admin.close()
