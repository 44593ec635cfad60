"""Secrets in awkward shapes never reach a written byte: escaped in an exception's repr, inside a
dict secret, or in a task's own name. Real OTLP receiver, real files, a real webhook receiver."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from tests.notifications import servers
from tests.notifications.servers import HttpReceiver

import flowlight.otel as otel
from flowlight import Flow, Secret, task
from flowlight.engine.state import Failed
from flowlight.utilities.notifications.delivery import DeliveryPolicy
from flowlight.utilities.notifications.notifiers import webhook_notifier
from flowlight.utilities.redaction import MASK

from .receivers import ReceivedTelemetry, attributes_of
from .test_logs import run_script

webhook_receiver = servers.receiver


def _written(received: ReceivedTelemetry, telemetry_dir: Path, err: str, hook: HttpReceiver) -> str:
    """Every byte flowlight wrote anywhere, as text (escapes kept as they were written)."""
    parts = [received.all_bytes().decode("utf-8", "replace"), err]
    parts += [path.read_text() for path in telemetry_dir.glob("*.jsonl")]
    parts += [request.body.decode() for request in hook.requests]
    return "\n".join(parts)


def _hook(url: str) -> Any:
    return webhook_notifier(
        url=url,
        only_states=[Failed],
        flood_control=False,
        delivery=DeliveryPolicy(max_attempts=1, timeout=5.0),
    )


@pytest.mark.parametrize(
    "shape",
    ["Corp\\svc-{u}-Passw0rd!", "first-{u}\nsecond\tthird", 'it\'s-"{u}"-\x07bell'],
)
def test_a_secret_quoted_by_an_exception_repr_is_masked_everywhere(
    receiver: Any,
    telemetry_dir: Path,
    webhook_receiver: HttpReceiver,
    capfd: pytest.CaptureFixture[str],
    shape: str,
) -> None:
    """The state message holds `repr(exc)` (a backslash doubled, a newline as \\n): the secret
    is masked there, on the span, in the log records, on stderr and in the webhook body."""
    secret = shape.format(u=uuid.uuid4().hex[:10])
    distinctive = secret.split("-")[1]

    @task(state_handlers=[_hook(webhook_receiver.url())])
    def login() -> None:
        password = Secret("SERVICE_PASSWORD").get()
        raise ValueError(f"login refused for {password}")

    with Flow("escaped") as flow:
        login()
    otel.configure(
        endpoint=receiver.endpoint, protocol=receiver.protocol, telemetry_dir=str(telemetry_dir)
    )
    try:
        state = otel.instrument(flow).run(context={"secrets": {"SERVICE_PASSWORD": secret}})
        assert state.is_failed()
        received: ReceivedTelemetry = receiver.received
        received.wait_for(lambda r: len(r.spans()) >= 2 and len(r.log_records()) >= 4)
        webhook_receiver.wait_for(1)
    finally:
        otel.shutdown()
    written = _written(received, telemetry_dir, capfd.readouterr().err, webhook_receiver)
    assert distinctive not in written
    assert MASK in webhook_receiver.requests[0].body.decode()
    login_span = next(s for s in received.spans() if s.name == "login")
    assert MASK in dict(login_span.events)["exception"]["exception.message"]


def test_each_field_of_a_dict_secret_is_masked_in_what_is_written(
    local_files: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    access_key = f"wJalrXUtnFEMI/{uuid.uuid4().hex}"

    @task
    def upload() -> None:
        credentials = Secret("AWS_CREDENTIALS").get()
        raise RuntimeError(f"403 for key {credentials['SECRET_ACCESS_KEY']}")

    with Flow("dict-secret") as flow:
        upload()
    credentials = {"ACCESS_KEY": f"AKIA{uuid.uuid4().hex[:8]}", "SECRET_ACCESS_KEY": access_key}
    otel.instrument(flow).run(context={"secrets": {"AWS_CREDENTIALS": credentials}})
    otel.shutdown()
    text = "".join(p.read_text() for p in local_files.glob("*.jsonl")) + capfd.readouterr().err
    assert access_key.split("/")[1] not in text
    assert MASK in text


def test_a_task_named_with_a_secret_it_reads_is_masked_in_labels_and_log_records(
    received: ReceivedTelemetry,
) -> None:
    """The name is recorded when the span opens, before the secret is read: what leaves the
    process (log records, metric labels, spans) masks it all the same."""
    secret = f"bucket-{uuid.uuid4().hex[:12]}"

    @task(name=f"push-to-{secret}")
    def push() -> None:
        Secret("BUCKET").get()

    with Flow("named") as flow:
        push()
    assert otel.instrument(flow).run(context={"secrets": {"BUCKET": secret}}).is_successful()
    received.wait_for(
        lambda r: len(r.spans()) >= 2 and r.metric_points("flowlight.task_runs") != []
    )
    otel.shutdown()
    finished = [
        record
        for _resource, record in received.log_records()
        if attributes_of(record.attributes).get("new_state") == "Success"
        and "task" in attributes_of(record.attributes)
    ]
    assert finished
    for record in finished:
        assert attributes_of(record.attributes)["task"] == f"push-to-{MASK}"
        assert secret not in str(record)
    for name in ("flowlight.task_runs", "flowlight.state_transitions"):
        labels = [attributes for attributes, _point in received.metric_points(name)]
        assert labels
        assert all(secret not in str(attributes) for attributes in labels)
    assert (
        received.metric_value(
            "flowlight.task_runs", flow="named", task=f"push-to-{MASK}", state="Success"
        )
        == 1
    )
    assert secret not in received.all_bytes().decode("utf-8", "replace")


NAMED_SCRIPT = """
    import flowlight.otel
    from flowlight import Flow, Secret, task

    @task(name="push-to-" + {secret!r})
    def push():
        Secret("BUCKET").get()

    with Flow("named") as flow:
        push()
    flowlight.otel.instrument(flow).run(context={{"secrets": {{"BUCKET": {secret!r}}}}})
"""


def test_the_stderr_line_after_the_read_masks_a_task_name_holding_the_secret(
    tmp_path: Path,
) -> None:
    """The line for the task's final transition, written after the read, masks the name."""
    secret = f"bucket-{uuid.uuid4().hex[:12]}"
    done = run_script(
        NAMED_SCRIPT.format(secret=secret), tmp_path, FLOWLIGHT__LOGGING__LEVEL="INFO"
    )
    events = [
        json.loads(line)
        for line in done.stderr.splitlines()
        if "flowlight.state_transition" in line
    ]
    finished = [e for e in events if e.get("task") and e["new_state"] == "Success"]
    assert len(finished) == 1
    assert finished[0]["task"] == f"push-to-{MASK}"
    for path in (tmp_path / "telemetry").glob("*.jsonl"):
        assert secret not in path.read_text()
