"""A notification never holds its run longer than its deadline, however slowly the receiver
answers, and never sends its body, signature or header secrets to a host the user did not name.
Real servers on 127.0.0.1: one that answers a byte at a time, and redirecting HTTP receivers."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest

from flowlight import Flow, task
from flowlight.engine.state import Failed
from flowlight.utilities.notifications.delivery import DeliveryPolicy
from flowlight.utilities.notifications.notifiers import (
    email_notifier,
    slack_notifier,
    webhook_notifier,
)
from flowlight.utilities.notifications.transports import SmtpServer, post_once, send_mail_once

from .servers import HttpReceiver, Reply, TricklingServer, receiver, records

__all__ = ["receiver", "records"]

SLOW_BODY = b"HTTP/1.1 200 OK\r\nContent-Length: 600\r\n\r\n" + b"x" * 600
SLOW_HEADERS = b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"y" * 600 + b"\r\nContent-Length: 0\r\n\r\n"
SLOW_GREETING = b"220 " + b"z" * 600 + b"\r\n"


@pytest.fixture
def trickling(request: pytest.FixtureRequest) -> Iterator[TricklingServer]:
    server = TricklingServer(request.param, interval=0.1)
    yield server
    server.close()


@pytest.mark.parametrize(
    "trickling", [SLOW_BODY, SLOW_HEADERS], indirect=True, ids=["body", "headers"]
)
def test_a_post_to_a_trickling_receiver_ends_at_its_deadline(trickling: TricklingServer) -> None:
    """Every byte comes within the 0.5 s per-read timeout; the answer would take 60 s."""
    result = post_once(trickling.url(), b"{}", {}, timeout=0.5)
    assert (result.outcome, result.reason) == ("retry", "no answer within 0.5 s")
    assert not trickling.finished.is_set()


def test_an_smtp_server_trickling_its_greeting_ends_at_the_deadline() -> None:
    server = TricklingServer(SLOW_GREETING, interval=0.1, greet=True)
    try:
        message = EmailMessage()
        message["Subject"] = "s"
        result = send_mail_once(
            SmtpServer("127.0.0.1", server.port, security="plain"),
            message,
            ["ops@example.com"],
            None,
            timeout=0.5,
        )
        assert (result.outcome, result.reason) == (
            "retry",
            "no answer from the SMTP server within 0.5 s",
        )
        assert not server.finished.is_set()
    finally:
        server.close()


def _failing_flow(handler: Any) -> Flow:
    @task(state_handlers=[handler])
    def broken() -> None:
        raise ValueError("down")

    with Flow("slow-receiver") as flow:
        broken()
    return flow


@pytest.mark.parametrize("kind", ["webhook", "slack", "email"])
def test_a_trickling_receiver_does_not_hold_the_flow_run(kind: str, records: list[Any]) -> None:
    """flow.run() returns with the notification failed once the policy's 1 s total is spent,
    while the receiver is still sending its answer (it would take 60 s)."""
    policy = DeliveryPolicy(timeout=0.5, total_time=1.0, max_attempts=5, backoff_initial=0.1)
    server = TricklingServer(SLOW_GREETING if kind == "email" else SLOW_BODY, greet=kind == "email")
    try:
        if kind == "webhook":
            handler = webhook_notifier(
                url=server.url(), only_states=[Failed], flood_control=False, delivery=policy
            )
        elif kind == "slack":
            handler = slack_notifier(
                only_states=[Failed],
                flood_control=False,
                delivery=policy,
            )
        else:
            handler = email_notifier(
                to="ops@example.com",
                smtp_host="127.0.0.1",
                smtp_port=server.port,
                security="plain",
                only_states=[Failed],
                flood_control=False,
                delivery=policy,
            )
        state = _failing_flow(handler).run(context={"secrets": {"SLACK_WEBHOOK_URL": server.url()}})
        assert state.is_failed()
        assert not server.finished.is_set()
        assert server.connections >= 1
        (record,) = [r for r in records if r.notifier == kind]
        assert record.outcome == "failed"
        assert "no answer" in record.reason
    finally:
        server.close()


def test_a_redirect_to_another_host_is_reported_and_not_followed(
    receiver: HttpReceiver, records: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The webhook's body, signature and header secrets never reach the host a 307 names."""
    other = HttpReceiver()
    try:
        receiver.script = [Reply(status=307, headers={"Location": other.url("/collect")})]
        monkeypatch.setenv("FLOWLIGHT__CONTEXT__SECRETS__HOOK_TOKEN", "token-7f3a9c2e")
        monkeypatch.setenv("FLOWLIGHT__CONTEXT__SECRETS__HOOK_KEY", "signing-5d1b8e40")
        handler = webhook_notifier(
            url=receiver.url(),
            header_secrets={"X-Api-Token": "HOOK_TOKEN"},
            signing_secret="HOOK_KEY",
            only_states=[Failed],
            flood_control=False,
            delivery=DeliveryPolicy(max_attempts=3, timeout=5.0),
        )
        _failing_flow(handler).run()
        (sent,) = receiver.wait_for(1)
        assert sent.headers["X-Api-Token"] == "token-7f3a9c2e"
        assert other.requests == []
        (record,) = [r for r in records if r.notifier == "webhook"]
        assert record.outcome == "failed"
        assert record.attempts == 1
        assert "redirected to another host (127.0.0.1); not followed" in record.reason
        assert "/collect" not in record.reason
    finally:
        other.close()


def test_a_same_host_redirect_is_not_followed_either(receiver: HttpReceiver) -> None:
    receiver.script = [Reply(status=308, headers={"Location": "/moved"})]
    result = post_once(receiver.url(), b"{}", {}, timeout=5.0)
    assert result.outcome == "fail"
    assert result.reason.startswith("HTTP 308")
    assert "redirected on the same host; not followed" in result.reason
    assert [r.path for r in receiver.requests] == ["/hook"]
