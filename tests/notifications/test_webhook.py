"""The webhook notifier in real flow runs: the version-1 payload, custom and secret headers, and a
signature that a receiver verifies exactly as docs/webhook-payload.md says (the check below is
written from the document, not with flowlight's helper)."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import pytest
from structlog.testing import capture_logs

from flowlight import Flow, task
from flowlight.engine.state import Failed, Success
from flowlight.utilities.notifications import verify_webhook_signature, webhook_notifier

from .servers import FakeClock, HttpReceiver, ReceivedRequest, Reply

SIGNING_KEY = "whsec-signing-key-2f7d1c"
TOKEN = "Bearer api-token-88e01b"


def documented_check(request: ReceivedRequest, key: str) -> bool:
    """A receiver's verification, step by step as the document describes it."""
    header = request.headers["X-Flowlight-Signature"]
    fields = dict(part.split("=", 1) for part in header.split(","))
    timestamp = int(fields["t"])
    if abs(time.time() - timestamp) > 300:
        return False
    signed = fields["t"].encode() + b"." + request.body
    expected = hmac.new(key.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"])


def failing_flow(notifier: Any) -> tuple[Flow, Any]:
    def load() -> None:
        raise RuntimeError("disk full")

    work = task(load, state_handlers=[notifier], tags=["db"])
    return Flow("etl", tasks=[work], state_handlers=[notifier]), work


def test_a_signed_webhook_is_verified_the_documented_way(receiver: HttpReceiver) -> None:
    """Task and flow notices arrive signed; headers are sent; the payload is version 1."""
    notifier = webhook_notifier(
        url_secret="HOOK_URL",
        only_states=[Failed],
        headers={"X-Team": "data"},
        header_secrets={"Authorization": "HOOK_TOKEN"},
        signing_secret="HOOK_KEY",
    )
    flow, _ = failing_flow(notifier)
    secrets = {
        "HOOK_URL": receiver.url("/alerts/9d41c2e07b"),
        "HOOK_TOKEN": TOKEN,
        "HOOK_KEY": SIGNING_KEY,
    }
    with capture_logs() as logs:
        state = flow.run(context={"secrets": secrets})
    assert state.is_failed()
    task_request, flow_request = receiver.wait_for(2)
    for request in (task_request, flow_request):
        assert documented_check(request, SIGNING_KEY)
        assert verify_webhook_signature(
            request.body, request.headers["X-Flowlight-Signature"], SIGNING_KEY
        )
        assert request.headers["Authorization"] == TOKEN
        assert request.headers["X-Team"] == "data"
        assert request.headers["X-Flowlight-Event"] == "state_change"
        body = request.body.decode()
        assert SIGNING_KEY not in body and TOKEN not in body
    payload = task_request.json()
    assert payload["version"] == 1
    assert payload["flow"]["name"] == "etl" and payload["flow"]["run_id"]
    assert payload["task"]["name"] == "load" and payload["task"]["tags"] == ["db"]
    assert payload["task"]["run_count"] == 1 and payload["task"]["map_index"] is None
    assert payload["state"]["type"] == "Failed" and payload["state"]["previous"] == "Running"
    assert (
        payload["state"]["message"] == "Error during execution of task: RuntimeError('disk full')"
    )
    assert payload["state"]["is_failed"] is True and payload["trace"] is None
    flow_payload = flow_request.json()
    assert flow_payload["task"] is None
    assert flow_payload["state"]["message"] == "Some reference tasks failed."
    assert SIGNING_KEY not in repr(logs) and TOKEN not in repr(logs)


def test_a_changed_body_or_an_old_signature_does_not_verify(receiver: HttpReceiver) -> None:
    notifier = webhook_notifier(url=receiver.url(), only_states=[Failed], signing_secret="K")
    flow, _ = failing_flow(notifier)
    flow.run(context={"secrets": {"K": SIGNING_KEY}})
    request = receiver.wait_for(1)[0]
    header = request.headers["X-Flowlight-Signature"]
    assert verify_webhook_signature(request.body, header, SIGNING_KEY)
    assert not verify_webhook_signature(request.body + b" ", header, SIGNING_KEY)
    assert not verify_webhook_signature(request.body, header, "another-key")
    assert not verify_webhook_signature(request.body, header, SIGNING_KEY, now=time.time() + 301)
    assert not verify_webhook_signature(request.body, "garbage", SIGNING_KEY)
    assert not verify_webhook_signature(request.body, None, SIGNING_KEY)


def test_a_retried_delivery_keeps_its_delivery_id(
    receiver: HttpReceiver, engine_clock: FakeClock, records: list[Any]
) -> None:
    """After a 503 the same X-Flowlight-Delivery comes again, so a receiver can drop duplicates."""
    receiver.script = [Reply(503)]
    notifier = webhook_notifier(url=receiver.url(), only_states=[Success])
    work = task(lambda: 1, name="ok", state_handlers=[notifier])
    Flow("etl", tasks=[work]).run()
    first, second = receiver.wait_for(2)
    assert first.headers["X-Flowlight-Delivery"] == second.headers["X-Flowlight-Delivery"]
    assert first.body == second.body
    assert (records[-1].outcome, records[-1].attempts) == ("sent", 2)


def test_a_404_is_not_retried_and_the_task_keeps_its_state(
    receiver: HttpReceiver, engine_clock: FakeClock, records: list[Any]
) -> None:
    receiver.script = [Reply(404)]
    notifier = webhook_notifier(url=receiver.url(), only_states=[Success])
    work = task(lambda: 1, name="ok", state_handlers=[notifier])
    state = Flow("etl", tasks=[work]).run()
    assert state.result[work].is_successful()
    assert (records[-1].outcome, records[-1].attempts, engine_clock.sleeps) == ("failed", 1, [])
    assert len(receiver.requests) == 1


@pytest.mark.parametrize(
    ("options", "fix"),
    [
        ({}, "exactly one of url="),
        ({"url": "https://a", "url_secret": "B"}, "exactly one of url="),
        ({"url": "ftp://example.test/x"}, "not an http(s) URL"),
    ],
)
def test_the_url_must_be_given_once(options: dict[str, Any], fix: str) -> None:
    with pytest.raises(ValueError) as error:
        webhook_notifier(**options)
    assert fix in str(error.value)
