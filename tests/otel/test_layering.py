"""The engine knows nothing of OpenTelemetry: proven in fresh interpreters.

Each test runs a flow in a subprocess, so what gets imported (and which global providers exist)
is exactly what that script caused.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from .receivers import spans_in

REPO = Path(__file__).resolve().parents[2]


def run_python(script: str, tmp_path: Path, **env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "FLOWLIGHT"))}
    environment["PYTHONPATH"] = str(REPO)
    environment["FLOWLIGHT__OTEL__TELEMETRY_DIR"] = str(tmp_path / "telemetry")
    environment.update(env)
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


SUCCESS_FLOW = """
    import sys
    from tests.otel import flows
    state = flows.success_flow().run()
    assert state.is_successful(), state
    def telemetry(name):
        parts = name.split(".")
        return parts[0] == "opentelemetry" or parts[:2] == ["flowlight", "otel"]
    print(sorted(filter(telemetry, list(sys.modules))))
"""


def test_running_a_flow_imports_no_opentelemetry(tmp_path: Path) -> None:
    """Importing flowlight and running a flow imports neither opentelemetry nor the bridge."""
    assert run_python(SUCCESS_FLOW, tmp_path).strip() == "[]"
    assert not (tmp_path / "telemetry").exists()


def test_flowlight_otel_1_instruments_every_flow_run_with_no_code_change(tmp_path: Path) -> None:
    """With FLOWLIGHT_OTEL=1 the same script produces a trace in the local OTLP files."""
    imported = run_python(SUCCESS_FLOW, tmp_path, FLOWLIGHT_OTEL="1")
    assert "opentelemetry.sdk.trace" in imported
    names = sorted(span["name"] for span in spans_in(tmp_path / "telemetry" / "traces.jsonl"))
    assert names == ["etl", "extract", "load"]


def test_an_applications_own_tracer_provider_is_kept(tmp_path: Path) -> None:
    """An application that installed its own global TracerProvider gets the flow's spans in it;
    the bridge builds no provider of its own for traces and writes no trace file."""
    script = """
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        mine = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(mine))
        trace.set_tracer_provider(provider)

        import flowlight.otel
        from tests.otel import flows
        telemetry = flowlight.otel.configure()
        flowlight.otel.instrument(flows.success_flow()).run()
        assert trace.get_tracer_provider() is provider
        assert provider not in telemetry.owned
        print(sorted(span.name for span in mine.get_finished_spans()))
    """
    assert run_python(script, tmp_path).strip() == "['etl', 'extract', 'load']"
    assert not (tmp_path / "telemetry" / "traces.jsonl").exists()


def test_otel_sdk_disabled_records_nothing_and_the_flow_still_runs(tmp_path: Path) -> None:
    """OTEL_SDK_DISABLED=true: instrumented flows run as before and no telemetry is written."""
    script = """
        import flowlight.otel
        from tests.otel import flows
        state = flowlight.otel.instrument(flows.failing_flow()).run()
        print(type(state).__name__, flowlight.otel.statistics().get("handler_errors", 0))
    """
    assert run_python(script, tmp_path, OTEL_SDK_DISABLED="true").strip() == "Failed 0"
    assert not (tmp_path / "telemetry").exists()


def test_a_traced_run_without_notifiers_loads_no_http_client_or_notifier_channels(
    tmp_path: Path,
) -> None:
    """The bridge listens to notification deliveries, but registering that listener loads only
    the delivery module: the channels and the HTTP client load when a notifier is used (they
    were most of a first traced run's one-time cost). A notifier imported afterwards still
    reports to the bridge."""
    script = """
        import sys
        import flowlight.otel
        from tests.otel import flows
        state = flowlight.otel.instrument(flows.success_flow()).run()
        assert state.is_successful(), state
        heavy = ("requests", "urllib3", "flowlight.utilities.notifications.channels")
        print(sorted(name for name in heavy if name in sys.modules))
        from flowlight.otel import _session
        from flowlight.utilities.notifications import delivery, slack_notifier
        print(_session.on_delivery in delivery._listeners, callable(slack_notifier))
    """
    lines = run_python(script, tmp_path).split("\n")
    assert lines[:2] == ["[]", "True True"]
