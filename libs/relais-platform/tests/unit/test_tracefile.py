from pathlib import Path

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from relais_platform.telemetry import JsonLinesSpanExporter
from relais_platform.tracefile import read_spans, recent_traces, render_tree


def test_spans_written_as_json_lines_render_as_a_tree(tmp_path: Path) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "fetcher"}))
    provider.add_span_processor(SimpleSpanProcessor(JsonLinesSpanExporter(tmp_path / "fetcher.1.jsonl")))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("fetch ANN_RPU_2026_01_01.CSV.gpg") as root:
        with tracer.start_as_current_span("publish"):
            pass
    with tracer.start_as_current_span("another trace"):
        pass
    provider.shutdown()

    trace_id = f"{root.get_span_context().trace_id:032x}"
    spans = read_spans(tmp_path, trace_id)
    assert [s.name for s in spans] == ["publish", "fetch ANN_RPU_2026_01_01.CSV.gpg"]
    lines = render_tree(spans).splitlines()
    assert lines[0].startswith("fetcher: fetch ANN_RPU_2026_01_01.CSV.gpg")
    assert lines[1].startswith("  fetcher: publish")
    assert len(recent_traces(tmp_path)) == 2
