"""Secrets in awkward shapes never reach a written byte: escaped in an exception's repr, inside a
dict secret, or in a task's own name. Real OTLP receiver, real files, a real webhook receiver."""

from __future__ import annotations

import email
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
from flowlight.utilities.notifications.notifiers import (
    email_notifier,
    slack_notifier,
    webhook_notifier,
)
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


def _mail_text(envelopes: list[Any]) -> str:
    """Each message as sent, and each of its parts decoded (quoted-printable, base64)."""
    parts = []
    for envelope in envelopes:
        message = email.message_from_bytes(envelope.content)
        parts.append(envelope.content.decode("utf-8", "replace"))
        for part in message.walk():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                parts.append(payload.decode("utf-8", "replace"))
    return "\n".join(parts)


def test_secrets_in_every_shape_are_masked_in_spans_files_stderr_and_each_notification(
    receiver: Any,
    telemetry_dir: Path,
    webhook_receiver: HttpReceiver,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An apostrophe secret inside a message whose repr escapes it, a bytes secret decoded, JSON
    credentials and a zero-padded number from the environment: none reaches a written byte, in
    the OTLP export, the JSON files, stderr, the Slack and webhook bodies or the e-mail."""
    u = uuid.uuid4().hex[:8]
    password = f"hunter'{u}pass"
    api_key = f"sk-live-{u}0123".encode()
    access_key = f"wJalrXUtnFEMI/{u}KEY"
    account = f"00{uuid.uuid4().int % 10**8:08d}"
    monkeypatch.setenv(
        "FLOWLIGHT__CONTEXT__SECRETS__AWS_CREDENTIALS",
        json.dumps({"ACCESS_KEY": "AKIAEXAMPLE", "SECRET_ACCESS_KEY": access_key}),
    )
    monkeypatch.setenv("FLOWLIGHT__CONTEXT__SECRETS__ACCOUNT", account)
    monkeypatch.setenv("FLOWLIGHT__CONTEXT__SECRETS__SLACK_URL", webhook_receiver.url("/slack"))
    controller, smtp = servers.start_smtp("plain")
    policy = DeliveryPolicy(max_attempts=1, timeout=5.0)
    alerts = [
        _hook(webhook_receiver.url()),
        slack_notifier(
            only_states=[Failed], url_secret="SLACK_URL", flood_control=False, delivery=policy
        ),
        email_notifier(
            only_states=[Failed],
            to=["ops@example.com"],
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            security="plain",
            flood_control=False,
            delivery=policy,
        ),
    ]

    @task(state_handlers=alerts)
    def login() -> None:
        typed = Secret("DB_PASSWORD").get()
        key = Secret("API_KEY").get()
        credentials = Secret("AWS_CREDENTIALS").get()
        number = Secret("ACCOUNT").get()
        raise ValueError(
            f'login refused for "admin" with {typed}, key {key.decode()}, '
            f"aws {credentials['SECRET_ACCESS_KEY']}, account {number}"
        )

    with Flow("shapes") as flow:
        login()
    otel.configure(
        endpoint=receiver.endpoint, protocol=receiver.protocol, telemetry_dir=str(telemetry_dir)
    )
    try:
        context = {"secrets": {"DB_PASSWORD": password, "API_KEY": api_key}}
        assert otel.instrument(flow).run(context=context).is_failed()
        received: ReceivedTelemetry = receiver.received
        received.wait_for(lambda r: len(r.spans()) >= 2 and len(r.log_records()) >= 4)
        webhook_receiver.wait_for(2)
        envelopes = smtp.store.wait_for(1)
    finally:
        otel.shutdown()
        controller.stop()
    written = _written(received, telemetry_dir, capfd.readouterr().err, webhook_receiver)
    mail = _mail_text(envelopes)
    for distinctive in (f"{u}pass", f"{u}0123", f"{u}KEY", account[2:]):
        assert distinctive not in written, distinctive
        assert distinctive not in mail, distinctive
    for request in webhook_receiver.requests:
        assert MASK in request.body.decode()
    assert MASK in mail
