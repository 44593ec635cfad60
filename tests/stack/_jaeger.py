"""Reading traces back from Jaeger's query API (API v3: OTLP JSON), and from the bridge's local
OTLP JSON files, as the same decoded spans (tests/otel/receivers.SpanView) so they compare.

`raw_traces=true` asks Jaeger for the spans as stored, without its adjusters (clock skew, span
id deduplication): a span delivered twice shows up twice.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from tests.ops._servers import get_json
from tests.otel.receivers import ReceivedTelemetry, SpanView

from flowlight.otel._otlp_json import request_from_json_line


def spans_of(documents: Iterable[dict[str, Any]]) -> list[SpanView]:
    """The spans of OTLP JSON trace documents (each with "resourceSpans"), in order."""
    decoded = ReceivedTelemetry()
    for document in documents:
        request = request_from_json_line("traces", json.dumps(document))
        decoded.add("traces", request.SerializeToString())
    return decoded.spans()


def spans_in_files(telemetry_dir: Path) -> list[SpanView]:
    """Every span the bridge wrote to the local traces file(s) under `telemetry_dir`."""
    return spans_of(
        json.loads(line)
        for path in sorted(telemetry_dir.glob("*traces*.jsonl"))
        for line in path.read_text().splitlines()
        if line.strip()
    )


class JaegerQuery:
    """Jaeger's HTTP query API at `url` (the jaeger_query extension's http endpoint)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def spans(self, service: str, lookback: timedelta = timedelta(hours=1)) -> list[SpanView]:
        """Every stored span of every trace with a span of `service`, raw."""
        now = datetime.now(timezone.utc)
        query = urllib.parse.urlencode(
            {
                "query.service_name": service,
                "query.start_time_min": (now - lookback).isoformat(),
                "query.start_time_max": (now + timedelta(minutes=1)).isoformat(),
                "query.num_traces": 1000,
                "query.raw_traces": "true",
            }
        )
        try:
            answer = get_json(f"{self.url}/api/v3/traces?{query}", timeout=10)
        except OSError as error:
            if "404" in str(error):  # no trace of that service (yet)
                return []
            raise
        return spans_of([answer["result"]])

    def services(self) -> list[str]:
        return list(get_json(f"{self.url}/api/v3/services")["services"])

    def wait_for_spans(
        self, service: str, count: int, timeout: float = 60, settle: float = 2.0
    ) -> list[SpanView]:
        """The spans of `service` once there are at least `count`, and then no more arrive for
        `settle` seconds (so a duplicate still in flight is seen); fails on the bound."""
        deadline = time.monotonic() + timeout
        spans: list[SpanView] = []
        while time.monotonic() < deadline:
            spans = self.spans(service)
            if len(spans) >= count:
                settled_at = time.monotonic() + settle
                while time.monotonic() < settled_at:
                    time.sleep(0.2)  # watching for late duplicates: no event to wait on
                    later = self.spans(service)
                    if len(later) != len(spans):
                        spans, settled_at = later, time.monotonic() + settle
                return spans
            time.sleep(0.2)  # polling an HTTP API: there is no event to wait on
        raise AssertionError(
            f"Jaeger holds {len(spans)} spans of {service}, not {count}, after {timeout} s"
        )
