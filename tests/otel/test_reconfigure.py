"""A second `configure()` in one process: an application's tracers, meters and loggers, fetched
from the global API before it, record into the new providers (the globals forward to whatever the
bridge has now). In a fresh interpreter, since a process sets each global provider only once;
real OTLP receivers over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from .receivers import HttpReceiver

SCRIPT = """
    import sys
    from opentelemetry import _logs, metrics, trace
    import flowlight.otel as otel
    from flowlight import Flow, task

    first, second, directory = sys.argv[1:4]
    otel.configure(endpoint=first, protocol="http/protobuf", telemetry_dir=directory + "/a")
    # Fetched once, at import time, as applications do.
    tracer = trace.get_tracer("app")
    meter = metrics.get_meter("app")
    items = meter.create_counter("app.items")
    sizes = meter.create_histogram("app.sizes")
    metrics.get_meter("app").create_observable_gauge(
        "app.queue", callbacks=[lambda options: [metrics.Observation(7)]]
    )
    logger = _logs.get_logger("app")
    with tracer.start_as_current_span("before"):
        items.add(1)
    otel.shutdown()

    otel.configure(endpoint=second, protocol="http/protobuf", telemetry_dir=directory + "/b")

    @task
    def step():
        with tracer.start_as_current_span("inside-a-task"):
            pass

    with Flow("again") as flow:
        step()
    otel.instrument(flow).run()
    with tracer.start_as_current_span("after"):
        items.add(3)
        sizes.record(12.5)
        logger.emit(body="application log after reconfiguring")
    span = tracer.start_span("started-and-ended")
    span.end()
    # What an application calls on the provider it takes for the SDK's, before exiting.
    assert trace.get_tracer_provider().force_flush() is True
    assert metrics.get_meter_provider().force_flush() is True
    otel.shutdown()
    assert trace.get_tracer_provider().force_flush() is True
    trace.get_tracer_provider().shutdown()
    print("done")
"""


def test_application_telemetry_keeps_flowing_after_a_second_configure(tmp_path: Path) -> None:
    first, second = HttpReceiver(), HttpReceiver()
    first.start()
    second.start()
    try:
        environment = {
            k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "FLOWLIGHT"))
        }
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                textwrap.dedent(SCRIPT),
                first.endpoint,
                second.endpoint,
                str(tmp_path),
            ],
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "done"
        names_first = {span.name for span in first.received.spans()}
        names_second = {span.name for span in second.received.spans()}
        assert names_first == {"before"}
        assert {"after", "inside-a-task", "started-and-ended", "again", "step"} <= names_second
        assert "before" not in names_second
        inside = next(s for s in second.received.spans() if s.name == "inside-a-task")
        step = next(s for s in second.received.spans() if s.name == "step")
        assert inside.parent_span_id == step.span_id
        assert second.received.metric_value("app.items") == 3
        assert second.received.metric_value("app.sizes") == 1
        assert second.received.metric_value("app.queue") == 7
        bodies = [record.body.string_value for _resource, record in second.received.log_records()]
        assert "application log after reconfiguring" in bodies
    finally:
        first.stop()
        second.stop()
