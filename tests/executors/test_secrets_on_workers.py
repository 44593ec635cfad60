"""A secret a task reads on a worker process is masked in the flow's process too: it comes back
with the task run's state. Checked on every executor, with values recorded, into real files."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

from tests.otel.receivers import spans_in

import flowlight.otel as otel
from flowlight import Flow, Parameter, Secret, task
from flowlight.executors import Executor
from flowlight.utilities.redaction import MASK, redact


def test_a_secret_read_on_a_worker_is_masked_on_the_flow_span(
    any_executor: Callable[[], Executor], tmp_path: Path
) -> None:
    token = f"tok-{uuid.uuid4().hex}"

    @task
    def call_api(given: str) -> str:
        Secret("API_TOKEN").get()
        return "called"

    with Flow("worker-secret") as flow:
        call_api(Parameter("token"))

    otel.configure(telemetry_dir=str(tmp_path), record_values=True)
    try:
        state = otel.instrument(flow).run(
            parameters={"token": token},
            context={"secrets": {"API_TOKEN": token}},
            executor=any_executor(),
        )
        assert state.is_successful()
    finally:
        otel.shutdown()
    assert redact(token) == MASK
    spans = spans_in(tmp_path / "traces.jsonl")
    flow_span = next(s for s in spans if s["name"] == "worker-secret")
    attributes = {a["key"]: a["value"] for a in flow_span["attributes"]}
    assert attributes["flowlight.parameter.token"] == {"stringValue": repr(MASK)}
    for path in tmp_path.glob("*.jsonl"):
        assert token not in path.read_text()
