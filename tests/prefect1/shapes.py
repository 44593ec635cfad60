"""A trace reduced to what must be the same on both engines: its structure, not its ids or times.

Prefect 1's local runner orders independent tasks by set iteration, so nothing here depends on
the order of spans; within a span the order of events is kept, because it is the order of the
run's transitions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.otel.receivers import SpanView

__all__ = ["SpanShape", "label_of", "trace_shapes"]

_STATUS = {0: "UNSET", 1: "OK", 2: "ERROR"}


@dataclass(frozen=True, order=True)
class SpanShape:
    """One span: where it sits (names from the flow run's span down), what happened, how it ended.

    A transition event is written `Old->New`; an exception event `exception:ClassName` (the
    module differs between engines, the class does not).
    """

    path: tuple[str, ...]
    events: tuple[str, ...]
    status: str
    status_message: str
    state: str


def label_of(span: SpanView) -> str:
    """The span's name (`name[i]` for mapped child i), checked against its map index."""
    index = span.attributes.get("flowlight.task.map_index")
    assert index is None or span.name.endswith(f"[{index}]"), span.name
    return span.name


def _event_label(name: str, attributes: dict[str, Any]) -> str:
    if name == "exception":
        return "exception:" + str(attributes.get("exception.type", "")).rsplit(".", 1)[-1]
    old = attributes.get("flowlight.state.old", "?")
    return f"{old}->{name}"


def trace_shapes(spans: list[SpanView]) -> dict[str, list[SpanShape]]:
    """Shapes of every trace, by the name of its root span (the flow); spans sorted by path.

    Raises AssertionError when a flow's spans are spread over more than one trace or a span's
    parent is missing: both would make the comparison meaningless.
    """
    by_id = {span.span_id: span for span in spans}
    traces: dict[str, list[SpanView]] = {}
    for span in spans:
        traces.setdefault(span.trace_id, []).append(span)
    shapes: dict[str, list[SpanShape]] = {}
    for trace_spans in traces.values():
        roots = [span for span in trace_spans if not span.parent_span_id]
        assert len(roots) == 1, f"a trace has {len(roots)} root spans: {[s.name for s in roots]}"
        root = roots[0]
        assert root.name not in shapes, f"flow {root.name!r} ran in more than one trace"
        shapes[root.name] = sorted(_shape(span, by_id) for span in trace_spans)
    return shapes


def _shape(span: SpanView, by_id: dict[str, SpanView]) -> SpanShape:
    path = [label_of(span)]
    current = span
    while current.parent_span_id:
        parent = by_id.get(current.parent_span_id)
        assert parent is not None, f"span {label_of(current)!r} names a parent never exported"
        path.append(label_of(parent))
        current = parent
    return SpanShape(
        path=tuple(reversed(path)),
        events=tuple(_event_label(name, attributes) for name, attributes in span.events),
        status=_STATUS.get(span.status_code, str(span.status_code)),
        status_message=span.status_message,
        state=str(span.attributes.get("flowlight.state", "")),
    )
