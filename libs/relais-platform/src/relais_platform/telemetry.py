"""Tracing set-up: OTLP export when the standard OTEL_* variables ask for it, and always a local JSON-lines file so
that an operator without a collector can still read a trace with `relais trace <trace-id>`."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from relais_platform.settings import PlatformSettings


class JsonLinesSpanExporter(SpanExporter):
    """Appends finished spans to one file per process; `relais_platform.tracefile` reads them back."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = [json.dumps(span_record(span), default=str) for span in spans]
        with self._lock, self._path.open("a", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


def span_record(span: ReadableSpan) -> dict[str, object]:
    ctx = span.get_span_context()
    assert ctx is not None
    return {
        "trace_id": f"{ctx.trace_id:032x}",
        "span_id": f"{ctx.span_id:016x}",
        "parent_id": f"{span.parent.span_id:016x}" if span.parent else None,
        "links": [f"{link.context.trace_id:032x}:{link.context.span_id:016x}" for link in span.links],
        "name": span.name,
        "service": span.resource.attributes.get("service.name"),
        "start_ns": span.start_time,
        "end_ns": span.end_time,
        "status": span.status.status_code.name,
        "attributes": dict(span.attributes or {}),
    }


def setup_tracing(service_name: str, settings: PlatformSettings) -> TracerProvider:
    """A tracer provider for one service process; the caller shuts it down (flushes) on exit."""
    name = settings.telemetry.otel_service_name or service_name
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    trace_file = settings.trace_dir / f"{name}.{os.getpid()}.jsonl"
    provider.add_span_processor(
        BatchSpanProcessor(JsonLinesSpanExporter(trace_file), schedule_delay_millis=500)
    )
    if settings.telemetry.otlp_enabled:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider
