"""Putting outbound work into the traces of the files it concerns.

A delivery carries many received files: its span links them all, and once delivered a short `rpu.delivered` span is
added inside each file's own trace (child of its traceparent), so `relais trace <trace-id>` of a received file shows
where it went. An alert concerns one establishment: its span continues the trace of the establishment's last file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Link, SpanContext, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_PROPAGATOR = TraceContextTextMapPropagator()


def context_of(trace_parent: str | None) -> otel_context.Context | None:
    """The OpenTelemetry context of a W3C traceparent, or None when absent or malformed."""
    if not trace_parent:
        return None
    ctx = _PROPAGATOR.extract({"traceparent": trace_parent})
    span_context = trace.get_current_span(ctx).get_span_context()
    return ctx if span_context.is_valid else None


def span_context_of(trace_parent: str | None) -> SpanContext | None:
    ctx = context_of(trace_parent)
    return trace.get_current_span(ctx).get_span_context() if ctx is not None else None


def links_to(trace_parents: Iterable[str]) -> list[Link]:
    return [Link(sc) for tp in trace_parents if (sc := span_context_of(tp)) is not None]


def trace_parent_of(span_context: SpanContext) -> str:
    return f"00-{span_context.trace_id:032x}-{span_context.span_id:016x}-{int(span_context.trace_flags):02x}"


def mark_in_file_traces(
    tracer: Tracer,
    name: str,
    trace_parents: Iterable[str],
    attributes: Mapping[str, str | int | list[str]],
    source: SpanContext,
) -> None:
    """A zero-length span in each file's trace, linking back to the span that did the work."""
    for tp in trace_parents:
        ctx = context_of(tp)
        if ctx is None:
            continue
        with tracer.start_as_current_span(name, context=ctx, attributes=attributes, links=[Link(source)]):
            pass
