"""The stage primitive: what a service declares (consume, use case, routes) and what the stage does for it."""

from pathlib import Path

import pytest
from faststream.kafka import TestKafkaBroker

from relais_contracts import Event, FileFetched, FileRejected, SourceMissing, Topic
from relais_testing.stage_probe import SPEC, fetched, probe_service, use_case


async def test_each_outcome_goes_to_the_topic_of_its_route_under_the_namespace(tmp_path: Path) -> None:
    probe = probe_service(tmp_path, "ns1.")
    probe.stage(SPEC, use_case)
    broker = probe.broker
    missing: list[str] = []
    refused: list[str] = []

    @broker.subscriber("ns1." + Topic.SOURCE_MISSING.value)
    async def on_missing(event: SourceMissing) -> None:
        missing.append(event.source)

    @broker.subscriber("ns1." + Topic.FILE_REJECTED.value)
    async def on_rejected(event: FileRejected) -> None:
        refused.append(event.file_name)

    async with TestKafkaBroker(broker) as test_broker:
        for name in ("good", "bad", "quiet"):
            await test_broker.publish(fetched(name), "ns1." + Topic.FILE_FETCHED.value)

    assert missing == ["good-0", "good-1"]
    assert refused == ["bad"]


async def test_an_outcome_without_a_route_is_an_error_not_a_silent_drop(tmp_path: Path) -> None:
    probe = probe_service(tmp_path, "")

    async def wrong(event: FileFetched) -> Event:
        return fetched("loop")  # a FileFetched: no route declared for it

    stage = probe.stage(SPEC, wrong)
    with pytest.raises(TypeError, match="no route for FileFetched"):
        await stage.outputs.publish(fetched("x"))
