"""Nothing is dropped between the handler and the exporter, however far the exporter falls behind.

The SDK's batch processors drop what arrives while their 2,048-item queue is full; a 10,000-child
map written to the local files lost about a fifth of its spans that way.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

import flowlight.otel as otel
from flowlight import Flow, task
from flowlight.otel._batching import HANDOFF_AT_MOST, LosslessBatcher, LosslessSpanProcessor
from flowlight.otel._spool import JsonLinesFile, SpoolingSpanExporter
from flowlight.otel._stats import STATS
from flowlight.telemetry_files import signal_files

from .receivers import spans_in


def test_a_slow_exporter_slows_the_producer_instead_of_losing_items() -> None:
    exported: list[int] = []
    lock = threading.Lock()

    def slow_export(batch: Sequence[int]) -> None:
        time.sleep(0.002)
        with lock:
            exported.extend(batch)

    STATS.reset()
    batcher: LosslessBatcher[int] = LosslessBatcher(
        slow_export, "test", batch_size=10, max_pending=2, interval_s=60
    )
    for i in range(5_000):
        batcher.add(i)
    assert batcher.flush(timeout_s=30)
    batcher.shutdown()
    assert sorted(exported) == list(range(5_000))
    assert STATS.snapshot().get("batches_exported_inline", 0) > 0


def test_flush_exports_a_partial_batch_and_waits_for_it() -> None:
    exported: list[str] = []
    batcher: LosslessBatcher[str] = LosslessBatcher(
        exported.extend, "test", batch_size=100, interval_s=60
    )
    batcher.add("only one")
    assert exported == []
    assert batcher.flush(timeout_s=10)
    assert exported == ["only one"]
    batcher.shutdown()


def test_a_map_larger_than_the_sdk_queue_reaches_the_local_files_whole(local_files: Path) -> None:
    @task
    def noop(x: int) -> int:
        return x

    with Flow("big-map") as flow:
        noop.map(list(range(10_000)))
    assert otel.instrument(flow).run().is_successful()
    otel.flush()
    # flow, mapped parent, children; the live file and the ones rotated as it grew
    written = [span for path in signal_files(local_files, "traces") for span in spans_in(path)]
    assert len(written) == 10_002


def test_what_waits_for_export_is_bounded_by_the_pending_batches() -> None:
    """However slow the exporter, the items added but not yet exported never exceed the batch
    being filled, the pending batches and the two being exported (the thread's and the
    producer's own); and every item still arrives."""
    exported: list[int] = []
    added = 0
    most_waiting = 0
    lock = threading.Lock()

    def slow_export(batch: Sequence[int]) -> None:
        nonlocal most_waiting
        time.sleep(0.001)  # a slow exporter
        with lock:
            most_waiting = max(most_waiting, added - len(exported))
            exported.extend(batch)

    batcher: LosslessBatcher[int] = LosslessBatcher(
        slow_export, "test", batch_size=10, max_pending=2, interval_s=60
    )
    for i in range(3_000):
        with lock:
            added += 1
        batcher.add(i)
    assert batcher.flush(timeout_s=30)
    batcher.shutdown()
    assert sorted(exported) == list(range(3_000))
    assert 0 < most_waiting <= 10 * (1 + 2 + 2)


def test_the_bridge_hands_batches_of_at_most_handoff_items_to_its_export_thread() -> None:
    """A configured export batch size above `HANDOFF_AT_MOST` still bounds what a batch holds;
    each export gets at most `HANDOFF_AT_MOST` spans, and all of them arrive."""
    sizes: list[int] = []

    class CountingExporter(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            sizes.append(len(spans))
            return SpanExportResult.SUCCESS

    processor = LosslessSpanProcessor(CountingExporter(), batch_size=10_000)
    provider = TracerProvider()
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("handoff")
    for i in range(1_000):
        tracer.start_span(f"s{i}").end()
    provider.shutdown()
    assert sum(sizes) == 1_000
    assert max(sizes) == HANDOFF_AT_MOST


def test_a_batch_for_the_local_files_is_written_by_the_thread_that_filled_it(
    tmp_path: Path,
) -> None:
    """No collector: the span that fills a batch returns only once the batch is in the file (no
    hand-off to the export thread, which costs more than the writing); what is left is written
    on flush."""
    processor = LosslessSpanProcessor(
        SpoolingSpanExporter(None, JsonLinesFile(tmp_path, "traces")), batch_size=512
    )
    provider = TracerProvider()
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("in-place")
    for i in range(HANDOFF_AT_MOST + 5):
        tracer.start_span(f"s{i}").end()
    assert len(spans_in(tmp_path / "traces.jsonl")) == HANDOFF_AT_MOST
    assert processor.force_flush()
    assert len(spans_in(tmp_path / "traces.jsonl")) == HANDOFF_AT_MOST + 5
    provider.shutdown()
