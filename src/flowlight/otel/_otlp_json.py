"""OTLP export requests as OTLP JSON lines, and back.

The collector's file receiver (`otlpjsonfile`) reads one export request per line in OTLP's JSON
mapping. That mapping is protobuf's JSON mapping with two differences that matter here: trace and
span ids are lowercase hex (protobuf writes bytes as base64) and enums are integers. We encode
with the OTLP exporters' own protobuf encoders, so the JSON holds exactly what an OTLP exporter
would have sent, and only fix up the id fields.

protobuf, opentelemetry-proto and the encoders are imported on first use: the local files are
written by the direct encoders (`_json_lines`, `_metrics_json`), so a process that only writes
files never loads them; a collector's exporter, a replay or a batch those encoders leave to
this path does.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from google.protobuf.message import Message
    from opentelemetry.sdk._logs import ReadableLogRecord
    from opentelemetry.sdk.metrics.export import MetricsData
    from opentelemetry.sdk.trace import ReadableSpan

__all__ = [
    "SIGNALS",
    "Signal",
    "logs_to_request",
    "metrics_to_request",
    "request_from_document",
    "request_from_json_line",
    "request_to_json_line",
    "request_type",
    "spans_to_request",
]

Signal = Literal["traces", "metrics", "logs"]
SIGNALS: tuple[Signal, ...] = ("traces", "metrics", "logs")

# In OTLP these field names only ever hold ids (spans, links, log records, exemplars).
_ID_FIELDS = frozenset({"traceId", "spanId", "parentSpanId"})


def request_type(signal: Signal) -> type[Message]:
    """The OTLP export request message for `signal`."""
    if signal == "traces":
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
        )

        return ExportTraceServiceRequest
    if signal == "metrics":
        from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
            ExportMetricsServiceRequest,
        )

        return ExportMetricsServiceRequest
    if signal == "logs":
        from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
            ExportLogsServiceRequest,
        )

        return ExportLogsServiceRequest
    raise KeyError(signal)


def spans_to_request(spans: Sequence[ReadableSpan]) -> Message:
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    return encode_spans(spans)


def logs_to_request(records: Sequence[ReadableLogRecord]) -> Message:
    from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs

    return encode_logs(records)


def metrics_to_request(data: MetricsData) -> Message:
    from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics

    return encode_metrics(data)


def request_to_json_line(request: Message) -> str:
    """One OTLP JSON document on one line (no newline at the end)."""
    from google.protobuf.json_format import MessageToDict

    document = MessageToDict(request, use_integers_for_enums=True)
    _convert_ids(document, _base64_to_hex)
    return json.dumps(document, separators=(",", ":"))


def request_from_json_line(signal: Signal, line: str) -> Message:
    """Parse a line written by `request_to_json_line` (or by the collector's file exporter)."""
    return request_from_document(signal, json.loads(line))


def request_from_document(signal: Signal, document: dict[str, Any]) -> Message:
    """The export request one parsed line holds (its ids are converted in place)."""
    from google.protobuf.json_format import ParseDict

    _convert_ids(document, _hex_to_base64)
    message = request_type(signal)()
    ParseDict(document, message, ignore_unknown_fields=True)
    return message


def _convert_ids(node: Any, convert: Any) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _ID_FIELDS and isinstance(value, str):
                node[key] = convert(value)
            else:
                _convert_ids(value, convert)
    elif isinstance(node, list):
        for item in node:
            _convert_ids(item, convert)


def _base64_to_hex(text: str) -> str:
    return base64.b64decode(text).hex()


def _hex_to_base64(text: str) -> str:
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        # Already base64 (a file written by a protobuf JSON printer rather than OTLP JSON).
        try:
            raw = base64.b64decode(text, validate=True)
        except binascii.Error as error:
            raise ValueError(
                f"OTLP JSON id {text!r} is neither hex nor base64; the line is not OTLP JSON"
            ) from error
    return base64.b64encode(raw).decode("ascii")
