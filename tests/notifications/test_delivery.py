"""Delivery against a real HTTP server: what is retried, how long it waits, when it gives up, and
how outcomes reach listeners and counters. Waits go through a fake clock; only the hanging-server
test spends real time (one short socket timeout per attempt)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from flowlight.utilities.notifications.delivery import (
    AttemptResult,
    DeliveryPolicy,
    DeliveryRecord,
    add_delivery_listener,
    deliver,
    remove_delivery_listener,
    report,
    statistics,
)
from flowlight.utilities.notifications.transports import parse_retry_after, post_once

from .servers import FakeClock, HttpReceiver, Reply


def post(receiver_url: str, policy: DeliveryPolicy) -> tuple[str, str, int]:
    return deliver(lambda timeout: post_once(receiver_url, b"{}", {}, timeout), policy)


def test_a_2xx_answer_is_sent_after_one_attempt(receiver: HttpReceiver, clock: FakeClock) -> None:
    """One POST, no waiting, outcome "sent" with the status as the reason."""
    outcome, reason, attempts = post(receiver.url(), DeliveryPolicy(clock=clock))
    assert (outcome, attempts, clock.sleeps) == ("sent", 1, [])
    assert reason.startswith("HTTP 200")
    assert len(receiver.wait_for(1)) == 1


def test_500_then_200_is_retried_once_after_the_first_backoff(
    receiver: HttpReceiver, clock: FakeClock
) -> None:
    """A 5xx is worth retrying: the second attempt succeeds after waiting backoff_initial."""
    receiver.script = [Reply(500)]
    outcome, _, attempts = post(receiver.url(), DeliveryPolicy(clock=clock, backoff_initial=0.25))
    assert (outcome, attempts, clock.sleeps) == ("sent", 2, [0.25])
    assert len(receiver.requests) == 2


def test_429_waits_for_retry_after_instead_of_the_backoff(
    receiver: HttpReceiver, clock: FakeClock
) -> None:
    """Retry-After: 3 makes delivery wait 3 s (not 0.5 s) before trying again."""
    receiver.script = [Reply(429, {"Retry-After": "3"})]
    outcome, _, attempts = post(receiver.url(), DeliveryPolicy(clock=clock))
    assert (outcome, attempts, clock.sleeps) == ("sent", 2, [3.0])


def test_retry_after_is_capped(receiver: HttpReceiver, clock: FakeClock) -> None:
    """A receiver asking for an hour gets `retry_after_max` seconds, not an hour."""
    receiver.script = [Reply(429, {"Retry-After": "3600"})]
    outcome, _, _ = post(receiver.url(), DeliveryPolicy(clock=clock, retry_after_max=2))
    assert (outcome, clock.sleeps) == ("sent", [2.0])


def test_other_4xx_answers_are_not_retried(receiver: HttpReceiver, clock: FakeClock) -> None:
    """404 means the request itself is wrong: one attempt, outcome "failed", no wait."""
    receiver.script = [Reply(404)]
    outcome, reason, attempts = post(receiver.url(), DeliveryPolicy(clock=clock))
    assert (outcome, attempts, clock.sleeps) == ("failed", 1, [])
    assert "HTTP 404" in reason and "not retried" in reason


def test_refused_connections_back_off_exponentially_then_give_up(
    refused_url: str, clock: FakeClock
) -> None:
    """Four attempts with waits 0.5, 1, 2 s between them, then "failed" naming the cause."""
    outcome, reason, attempts = post(refused_url, DeliveryPolicy(clock=clock))
    assert (outcome, attempts, clock.sleeps) == ("failed", 4, [0.5, 1.0, 2.0])
    assert "connection refused" in reason and "gave up after 4 attempts" in reason
    assert "127.0.0.1" not in reason, "the reason must not quote the URL"


def test_delivery_stops_before_a_wait_would_pass_the_total_budget(
    refused_url: str, clock: FakeClock
) -> None:
    """With a 2 s budget the 0.5 s and 1 s waits fit, the 2 s one does not: 3 attempts."""
    policy = DeliveryPolicy(clock=clock, max_attempts=10, total_time=2.0)
    outcome, reason, attempts = post(refused_url, policy)
    assert (outcome, attempts, clock.sleeps) == ("failed", 3, [0.5, 1.0])
    assert "budget" in reason


def test_a_server_that_never_answers_is_bounded_by_the_call_timeout(
    receiver: HttpReceiver, clock: FakeClock
) -> None:
    """Two hanging attempts with a 0.3 s timeout end in well under the 30 s the server hangs."""
    receiver.script = [Reply(hang=True), Reply(hang=True)]
    started = time.monotonic()
    outcome, reason, attempts = post(
        receiver.url(), DeliveryPolicy(clock=clock, timeout=0.3, max_attempts=2)
    )
    assert time.monotonic() - started < 5
    assert (outcome, attempts) == ("failed", 2)
    assert "no answer within 0.3 s" in reason


def test_a_transport_that_raises_still_ends_in_a_failed_outcome(clock: FakeClock) -> None:
    """A bug below delivery becomes a reason, never an exception into the task."""

    def broken(timeout: float) -> AttemptResult:
        raise KeyError("boom")

    assert deliver(broken, DeliveryPolicy(clock=clock)) == (
        "failed",
        "unexpected KeyError while sending",
        1,
    )


def test_parse_retry_after_reads_seconds_and_http_dates() -> None:
    """Both forms of RFC 9110's Retry-After; garbage is ignored."""
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


@pytest.mark.parametrize(
    ("field", "value", "fix"),
    [
        ("timeout", 0, "positive"),
        ("max_attempts", 0, ">= 1"),
        ("backoff_factor", 0.5, ">= 1"),
        ("total_time", -1, "positive"),
    ],
)
def test_bad_policy_values_are_rejected_with_the_fix(field: str, value: Any, fix: str) -> None:
    """Each invalid field is named in the error together with what it must be."""
    with pytest.raises(ValueError, match=field) as error:
        DeliveryPolicy(**{field: value})
    assert fix in str(error.value)


def test_policy_defaults_can_be_set_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """FLOWLIGHT__NOTIFICATIONS__TOTAL_TIME and friends override the defaults."""
    monkeypatch.setenv("FLOWLIGHT__NOTIFICATIONS__TOTAL_TIME", "3")
    monkeypatch.setenv("FLOWLIGHT__NOTIFICATIONS__MAX_ATTEMPTS", "2")
    policy = DeliveryPolicy.from_settings()
    assert (policy.total_time, policy.max_attempts, policy.timeout) == (3, 2, 5.0)


def _record(outcome: Any = "sent") -> DeliveryRecord:
    return DeliveryRecord("webhook", outcome, "HTTP 200", 1, "flow-run", "task-run")


def test_listeners_get_every_record_and_a_raising_one_is_counted_not_propagated() -> None:
    """A listener that raises does not stop the next one, and shows up in statistics()."""
    seen: list[DeliveryRecord] = []

    def broken(record: DeliveryRecord) -> None:
        raise RuntimeError("listener bug")

    before = statistics()
    add_delivery_listener(broken)
    add_delivery_listener(seen.append)
    try:
        report(_record())
        report(_record("failed"))
    finally:
        remove_delivery_listener(broken)
        remove_delivery_listener(seen.append)
    report(_record())
    after = statistics()
    assert [r.outcome for r in seen] == ["sent", "failed"]
    assert after.listener_errors - before.listener_errors == 2
    assert after.sent - before.sent == 2
    assert after.failed - before.failed == 1
    webhook_before = before.by_notifier.get("webhook", {}).get("sent", 0)
    assert after.by_notifier["webhook"]["sent"] - webhook_before == 2


def test_adding_something_that_is_not_callable_says_what_to_pass() -> None:
    with pytest.raises(TypeError, match="DeliveryRecord"):
        add_delivery_listener("not a function")  # type: ignore[arg-type]


def test_statistics_count_attempts_and_retries(receiver: HttpReceiver, clock: FakeClock) -> None:
    """A 500-then-200 delivery is two attempts, one of them a retry."""
    receiver.script = [Reply(500)]
    before = statistics()
    post(receiver.url(), DeliveryPolicy(clock=clock))
    after = statistics()
    assert (after.attempts - before.attempts, after.retries - before.retries) == (2, 1)


def test_records_are_frozen() -> None:
    """Listeners share one record object: none of them can change what the next one sees."""
    record = _record()
    with pytest.raises(AttributeError):
        record.outcome = "failed"  # type: ignore[misc]
