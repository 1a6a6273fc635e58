"""The one way a Relais service gets a Kafka broker.

Delivery semantics, explicitly:
- at-least-once: every subscriber belongs to a consumer group and its offset is committed only after the handler
  returned (AckPolicy.NACK_ON_ERROR); a failing handler seeks back and the message is delivered again;
- poison messages (a body that does not match its contract, or a handler raising `PoisonMessage`) go at once to
  `<topic>.dlq` with the error in headers, then are acknowledged, so they never block their partition;
- infrastructure failures (database, broker, network) are retried without limit, with a capped backoff: nothing is
  lost while a dependency is down;
- any other exception is retried `max_handler_attempts` times, then dead-lettered.
Effects must therefore be idempotent: handlers key their writes on the event's `file_id` (see the services).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any

import asyncpg
from aiokafka.errors import KafkaError
from faststream import AckPolicy
from faststream._internal.middlewares import BaseMiddleware
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.message import StreamMessage
from opentelemetry.sdk.trace import TracerProvider
from pydantic import ValidationError

from relais_contracts import dead_letter_topic
from relais_platform.settings import KafkaSettings

log = logging.getLogger(__name__)

INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    KafkaError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
)


class PoisonMessage(Exception):
    """Raised by a handler for input that can never be processed; the message goes to the dead-letter topic."""


class DeadLetterPolicy:
    """Classifies handler failures; one instance per broker, bound to it once the broker exists."""

    def __init__(self, max_attempts: int, backoff_s: float = 0.5, max_backoff_s: float = 10.0) -> None:
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self._broker: KafkaBroker | None = None
        self._attempts: OrderedDict[tuple[str, int, int], int] = OrderedDict()

    def bind(self, broker: KafkaBroker) -> None:
        self._broker = broker

    def middleware(self, msg: Any, /, *, context: Any) -> BaseMiddleware[Any, Any]:
        return _DeadLetterMiddleware(msg, context=context, policy=self)

    def attempt(self, key: tuple[str, int, int]) -> int:
        count = self._attempts.pop(key, 0) + 1
        self._attempts[key] = count
        while len(self._attempts) > 10_000:  # bounded memory: old keys were long since settled
            self._attempts.popitem(last=False)
        return count

    def settle(self, key: tuple[str, int, int]) -> None:
        self._attempts.pop(key, None)

    async def dead_letter(self, msg: StreamMessage[Any], error: BaseException) -> None:
        assert self._broker is not None, "DeadLetterPolicy.bind(broker) was not called"
        record = msg.raw_message
        topic = getattr(record, "topic", "unknown")
        headers = {k: v for k, v in (msg.headers or {}).items() if isinstance(v, str)}
        headers |= {
            "relais-error-type": type(error).__name__,
            "relais-error": str(error)[:4000],
            "relais-original-topic": topic,
            "relais-original-partition": str(getattr(record, "partition", "")),
            "relais-original-offset": str(getattr(record, "offset", "")),
        }
        key = getattr(record, "key", None)
        await self._broker.publish(msg.body, dead_letter_topic(topic), key=key, headers=headers)
        log.error("message sent to dead-letter topic", extra={"topic": topic, "error": str(error)[:500]})


class _DeadLetterMiddleware(BaseMiddleware[Any, Any]):
    def __init__(self, msg: Any, /, *, context: Any, policy: DeadLetterPolicy) -> None:
        super().__init__(msg, context=context)
        self._policy = policy

    async def consume_scope(self, call_next: Any, msg: StreamMessage[Any]) -> Any:
        record = msg.raw_message
        key = (getattr(record, "topic", ""), getattr(record, "partition", -1), getattr(record, "offset", -1))
        try:
            result = await call_next(msg)
        except (PoisonMessage, ValidationError) as error:
            await self._policy.dead_letter(msg, error)
            self._policy.settle(key)
            return None
        except INFRASTRUCTURE_ERRORS as error:
            attempt = self._policy.attempt(key)
            delay = min(self._policy.backoff_s * 2 ** min(attempt - 1, 10), self._policy.max_backoff_s)
            log.warning(
                "infrastructure failure, will retry", extra={"attempt": attempt, "error": repr(error)}
            )
            await asyncio.sleep(delay)
            raise
        except Exception as error:
            attempt = self._policy.attempt(key)
            if attempt >= self._policy.max_attempts:
                log.exception("handler failed %d times, dead-lettering", attempt)
                await self._policy.dead_letter(msg, error)
                self._policy.settle(key)
                return None
            await asyncio.sleep(min(self._policy.backoff_s * attempt, self._policy.max_backoff_s))
            raise
        self._policy.settle(key)
        return result


def make_broker(settings: KafkaSettings, tracer_provider: TracerProvider, *, client_id: str) -> KafkaBroker:
    """A KafkaBroker with tracing in message headers, at-least-once acks and a dead-letter policy."""
    policy = DeadLetterPolicy(max_attempts=settings.max_handler_attempts)
    broker = KafkaBroker(
        settings.bootstrap_servers,
        client_id=client_id,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        graceful_timeout=30.0,
        enable_idempotence=True,
        middlewares=[KafkaTelemetryMiddleware(tracer_provider=tracer_provider), policy.middleware],
    )
    policy.bind(broker)
    return broker
