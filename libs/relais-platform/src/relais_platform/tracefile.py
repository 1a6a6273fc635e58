"""Reads the local JSON-lines spans back and renders one trace as a tree with durations."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(slots=True)
class SpanRecord:
    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    service: str
    start_ns: int
    end_ns: int
    status: str
    attributes: dict[str, object] = field(default_factory=dict)

    @property
    def duration_ms(self) -> float:
        return (self.end_ns - self.start_ns) / 1e6


def read_spans(trace_dir: Path, trace_id: str | None = None) -> list[SpanRecord]:
    spans: list[SpanRecord] = []
    for path in sorted(trace_dir.glob("*.jsonl")):
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                if not line.strip():
                    continue
                raw = json.loads(line)
                if trace_id and raw["trace_id"] != trace_id:
                    continue
                spans.append(
                    SpanRecord(
                        trace_id=raw["trace_id"],
                        span_id=raw["span_id"],
                        parent_id=raw["parent_id"],
                        name=raw["name"],
                        service=str(raw.get("service")),
                        start_ns=int(raw["start_ns"]),
                        end_ns=int(raw["end_ns"]),
                        status=raw["status"],
                        attributes=raw.get("attributes") or {},
                    )
                )
    return spans


def render_tree(spans: list[SpanRecord]) -> str:
    """One line per span, children indented under their parent, in start order."""
    if not spans:
        return "no span found"
    ids = {s.span_id for s in spans}
    children: dict[str | None, list[SpanRecord]] = defaultdict(list)
    for span in spans:
        parent = span.parent_id if span.parent_id in ids else None
        children[parent].append(span)
    origin = min(s.start_ns for s in spans)
    lines: list[str] = []

    def walk(parent: str | None, depth: int) -> None:
        for span in sorted(children[parent], key=lambda s: s.start_ns):
            offset = (span.start_ns - origin) / 1e6
            mark = "" if span.status != "ERROR" else "  [ERROR]"
            subject = span.attributes.get("relais.file_name")
            about = f"  ({subject})" if subject else ""
            lines.append(
                f"{'  ' * depth}{span.service}: {span.name}  +{offset:.1f} ms  {span.duration_ms:.1f} ms{about}{mark}"
            )
            walk(span.span_id, depth + 1)

    walk(None, 0)
    return "\n".join(lines)


def recent_traces(trace_dir: Path, limit: int = 20) -> list[tuple[str, str, int]]:
    """(trace id, root span name, span count) of the most recent traces."""
    by_trace: dict[str, list[SpanRecord]] = defaultdict(list)
    for span in read_spans(trace_dir):
        by_trace[span.trace_id].append(span)
    ordered = sorted(by_trace.items(), key=lambda item: min(s.start_ns for s in item[1]), reverse=True)
    result = []
    for trace_id, spans in ordered[:limit]:
        root = min(spans, key=lambda s: s.start_ns)
        result.append((trace_id, f"{root.service}: {root.name}", len(spans)))
    return result
