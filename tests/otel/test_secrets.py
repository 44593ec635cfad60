"""Nothing leaked: Secret values never reach a span, event, log record or metric, opted in or not;
inputs, results and parameters are recorded only when the user opts in."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

import flowlight.otel as otel
from flowlight import Flow, Parameter, Secret, task
from flowlight.utilities.redaction import MASK

from .receivers import ReceivedTelemetry


def leaky_flow() -> Flow:
    @task
    def use(token: str) -> str:
        value = Secret("API_TOKEN").get()
        return f"used {value}"

    @task
    def complain(previous: str) -> None:
        raise ValueError(f"the server refused {previous}")

    with Flow("leaky") as flow:
        complain(use(Parameter("token")))
    return flow


@pytest.mark.parametrize("record_values", [False, True])
def test_no_secret_value_appears_in_any_exported_byte(
    receiver: Any,
    telemetry_dir: Path,
    capfd: pytest.CaptureFixture[str],
    record_values: bool,
) -> None:
    """The secret is a parameter value, a task result and part of an exception message; with
    and without recording values, no exported request, local file or log line holds it, and the
    mask shows where it was."""
    secret = f"tok-{uuid.uuid4().hex}"
    otel.configure(
        endpoint=receiver.endpoint,
        protocol=receiver.protocol,
        telemetry_dir=str(telemetry_dir),
        record_values=record_values,
    )
    try:
        flow = otel.instrument(leaky_flow())
        state = flow.run(parameters={"token": secret}, context={"secrets": {"API_TOKEN": secret}})
        assert state.is_failed()
        received: ReceivedTelemetry = receiver.received
        received.wait_for(lambda r: len(r.spans()) >= 4 and len(r.log_records()) >= 8)
    finally:
        otel.shutdown()
    exported = received.all_bytes()
    assert secret.encode() not in exported
    assert MASK.encode() in exported
    for path in telemetry_dir.glob("*.jsonl"):
        assert secret not in path.read_text()
    output = capfd.readouterr()
    assert secret not in output.err
    complain = next(s for s in received.spans() if s.name == "complain")
    assert dict(complain.events)["exception"]["exception.message"] == (
        f"the server refused used {MASK}"
    )
    flow_span = next(s for s in received.spans() if s.name == "leaky")
    use = next(s for s in received.spans() if s.name == "use")
    if record_values:
        assert flow_span.attributes["flowlight.parameter.token"] == repr(MASK)
        assert use.attributes["flowlight.result"] == repr(f"used {MASK}")
    else:
        assert not any(k.startswith("flowlight.parameter.") for k in flow_span.attributes)
        assert "flowlight.result" not in use.attributes
