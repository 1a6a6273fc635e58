"""A stage: consume one event type, run one use case, publish what it returns — the one way a Relais service
declares a Kafka consumer.

A service says *what* (the topic it consumes, its use case, where each kind of outcome goes); the stage owns *how*,
the same for every service:
- the consumer group `<namespace>relais-<name>` and the topics' namespace prefix (a `KafkaRouter(prefix=…)`);
- the ack policy: a message's offset is committed only after the use case returned and every event it returned was
  published (at-least-once; `AckPolicy.NACK_ON_ERROR`, stated here once rather than on each subscriber);
- dead-lettering and bounded retries (the broker's `DeadLetterPolicy`, relais_platform.broker): a body that does not
  match its contract, or a use case raising `PoisonMessage`, goes to `<topic>.dlq`; infrastructure failures are
  retried; other failures retried `max_handler_attempts` times, then dead-lettered;
- tracing: the broker's telemetry middleware continues the producer's trace; the stage names the event and its key
  on the span;
- publishing: each returned event goes to the topic its `Route` names, through FastStream publisher objects, keyed by
  the event's own `partition_key()` or spread over the partitions in turn;
- concurrency: up to `concurrency` messages at once, one consumer each (partitions stay in order).

A use case returns one event, a sequence of events, or None (nothing to announce now: the loader announces the
medico-social files once their derived tables are committed, through the same `Outputs`).
"""

from __future__ import annotations

import inspect
import itertools
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from faststream import AckPolicy
from faststream.kafka import KafkaRouter
from faststream.kafka.publisher.usecase import DefaultPublisher
from opentelemetry import trace

from relais_contracts import Event, Topic
from relais_platform.settings import KafkaSettings
from relais_platform.topics import PARTITIONS

log = logging.getLogger(__name__)

In = TypeVar("In", bound=Event)
Outcome = Event | Sequence[Event] | None


@dataclass(frozen=True, slots=True)
class Route:
    """Where one kind of event goes.

    `spread`: to the partitions in turn rather than by the hash of its key — for files, which the next stage takes one
    per partition at a time (hashing put four of a national batch's eleven files in one partition). `failure`: the
    event reports a refusal (a rejected file): logged as an error, with its reason."""

    topic: Topic
    spread: bool = False
    failure: bool = False


class Outputs:
    """The publishers of a service's events, one per route; also used by pollers and background tasks that publish
    without consuming (the fetcher, the loader's settler)."""

    def __init__(self, router: KafkaRouter, routes: Mapping[type[Event], Route], *, source: str) -> None:
        self._routes = dict(routes)
        self._source = source
        self._publishers: dict[Topic, DefaultPublisher] = {}
        for route in self._routes.values():
            if route.topic not in self._publishers:
                self._publishers[route.topic] = router.publisher(route.topic.value)
        self._in_turn = itertools.cycle(range(PARTITIONS))

    def route(self, event: Event) -> Route:
        for kind, route in self._routes.items():
            if isinstance(event, kind):
                return route
        raise TypeError(
            f"{self._source}: no route for {type(event).__name__} (routes: {sorted(self._names())})"
        )

    def _names(self) -> list[str]:
        return [kind.__name__ for kind in self._routes]

    async def publish(self, event: Event) -> None:
        route = self.route(event)
        key = event.partition_key()
        partition = next(self._in_turn) if route.spread else None
        await self._publishers[route.topic].publish(event, key=key.encode(), partition=partition)
        fields: dict[str, object] = {"stage": self._source, "event": type(event).__name__, "key": key}
        if route.failure:
            log.error(
                "%s published",
                type(event).__name__,
                extra={**fields, "reason": getattr(event, "reason", None)},
            )
        else:
            log.info("%s published", type(event).__name__, extra=fields)

    async def publish_all(self, outcome: Outcome) -> None:
        if outcome is None:
            return
        for event in [outcome] if isinstance(outcome, Event) else outcome:
            await self.publish(event)


@dataclass(frozen=True, slots=True)
class StageSpec(Generic[In]):
    """A stage's declaration: its name (the consumer group), what it consumes and where its outcomes go."""

    name: str
    consumes: Topic
    model: type[In]
    routes: Mapping[type[Event], Route]
    concurrency: int = 1


class Stage(Generic[In]):
    """A declared stage mounted on a service's router; `outputs` publishes outside the consumer too."""

    def __init__(
        self,
        router: KafkaRouter,
        kafka: KafkaSettings,
        spec: StageSpec[In],
        use_case: Callable[[In], Awaitable[Outcome]],
    ) -> None:
        self.spec = spec
        self.outputs = Outputs(router, spec.routes, source=spec.name)
        self._use_case = use_case

        async def consume(event: Any) -> None:
            span = trace.get_current_span()
            span.set_attribute("relais.stage", spec.name)
            span.set_attribute("relais.key", event.partition_key())
            await self.outputs.publish_all(await self._use_case(event))

        # FastStream decodes the body into the handler's annotated type: the stage's model, stated at run time.
        consume.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [inspect.Parameter("event", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=spec.model)],
            return_annotation=None,
        )
        consume.__name__ = f"on_{spec.consumes.name.lower()}"
        router.subscriber(
            spec.consumes.value,
            group_id=kafka.group(spec.name),
            auto_offset_reset="earliest",
            max_workers=spec.concurrency,
            ack_policy=AckPolicy.NACK_ON_ERROR,
        )(consume)
