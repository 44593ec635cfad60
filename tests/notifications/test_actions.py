"""Delivery actions inside `callback_factory(action, check)` deliver exactly as the notifiers do.

Every behaviour is run twice through a real HTTP receiver (or aiosmtpd): once with the action in
`callback_factory` and a named check, once with the ready-made notifier, and both must give the
same requests, records, waits and masking. Then what only the action form has: checks that
compose, a check that raises failing the run like any handler, and `is_final_failure`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import flowlight
from flowlight import Flow, task
from flowlight.client.secrets import Secret
from flowlight.engine.state import Failed, Retrying, Running, State, Success, TriggerFailed
from flowlight.utilities.notifications import (
    DeliveryPolicy,
    callback_factory,
    email_action,
    email_notifier,
    is_failed,
    is_final_failure,
    is_finished,
    is_retrying,
    is_successful,
    slack_action,
    slack_notifier,
    webhook_action,
    webhook_notifier,
)
from flowlight.utilities.redaction import MASK

from .servers import FakeClock, HttpReceiver, Reply, start_smtp

FORMS = ("callback_factory", "notifier")
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
SLACK_PATH = "/services/T0ACT/B0ION/actionSlackToken42"

_ACTIONS: dict[str, Callable[..., Any]] = {
    "webhook": webhook_action,
    "slack": slack_action,
    "email": email_action,
}
_NOTIFIERS: dict[str, Callable[..., Any]] = {
    "webhook": webhook_notifier,
    "slack": slack_notifier,
    "email": email_notifier,
}


def failure_alert(form: str, channel: str, **options: Any) -> Any:
    """A handler alerting on failures through `channel`, in either form."""
    if form == "callback_factory":
        return callback_factory(_ACTIONS[channel](**options), is_failed)
    return _NOTIFIERS[channel](only_states=[Failed], **options)


def explode() -> None:
    raise ValueError("nope")


def run_failing(
    handler: Any,
    body: Callable[[], Any] = explode,
    context: dict[str, Any] | None = None,
    flow_handlers: tuple[Any, ...] = (),
) -> State:
    work = task(body, name="load", state_handlers=[handler])
    flow = Flow("etl", tasks=[work], state_handlers=list(flow_handlers))
    state = flow.run(context=context or {})
    assert state.is_failed()
    assert state.result[work].message == "Error during execution of task: ValueError('nope')"
    return state


@pytest.mark.parametrize("form", FORMS)
def test_a_5xx_is_retried_with_backoff_then_sent(
    form: str, receiver: HttpReceiver, clock: FakeClock, records: list[Any]
) -> None:
    receiver.script = [Reply(503), Reply(503)]
    run_failing(
        failure_alert(form, "webhook", url=receiver.url(), delivery=DeliveryPolicy(clock=clock))
    )
    assert len(receiver.wait_for(3)) == 3
    assert clock.sleeps == [0.5, 1.0]
    (record,) = records
    assert (record.notifier, record.outcome, record.attempts) == ("webhook", "sent", 3)
    assert record.task_run_id is not None


@pytest.mark.parametrize("form", FORMS)
def test_a_429_waits_for_retry_after(
    form: str, receiver: HttpReceiver, clock: FakeClock, records: list[Any]
) -> None:
    receiver.script = [Reply(429, {"Retry-After": "3"})]
    run_failing(
        failure_alert(form, "webhook", url=receiver.url(), delivery=DeliveryPolicy(clock=clock))
    )
    assert len(receiver.wait_for(2)) == 2
    assert clock.sleeps == [3.0]
    assert [(r.outcome, r.attempts) for r in records] == [("sent", 2)]


@pytest.mark.parametrize("form", FORMS)
def test_secrets_are_masked_in_what_is_sent(form: str, receiver: HttpReceiver) -> None:
    """The task's error quotes a secret; the Slack body shows the mask, and the webhook URL's
    secret path is masked wherever it would appear."""

    def leak() -> None:
        raise ValueError(f"login failed with {Secret('DB_PASSWORD').get()}")

    secrets = {"SLACK_WEBHOOK_URL": receiver.url(SLACK_PATH), "DB_PASSWORD": "hunter2-0b5e"}
    work = task(leak, name="load", state_handlers=[failure_alert(form, "slack")])
    Flow("etl", tasks=[work]).run(context={"secrets": secrets})
    (request,) = receiver.wait_for(1)
    assert request.path == SLACK_PATH
    text = request.json()["text"]
    assert "hunter2-0b5e" not in request.body.decode()
    assert f"login failed with {MASK}" in text
    assert flowlight.utilities.redaction.redact(SLACK_PATH) == MASK


@pytest.mark.parametrize("form", FORMS)
def test_the_trace_id_and_link_are_carried(form: str, receiver: HttpReceiver) -> None:
    def put_trace(obj: Any, old: State, new: State) -> State:
        flowlight.context["trace_id"] = TRACE_ID
        flowlight.context["traceparent"] = TRACEPARENT
        return new

    handler = failure_alert(
        form,
        "webhook",
        url=receiver.url(),
        trace_url_template="http://localhost:16686/trace/{trace_id}",
    )
    run_failing(handler, flow_handlers=(put_trace,))
    assert receiver.wait_for(1)[0].json()["trace"] == {
        "trace_id": TRACE_ID,
        "traceparent": TRACEPARENT,
        "url": f"http://localhost:16686/trace/{TRACE_ID}",
    }


@pytest.mark.parametrize("form", FORMS)
def test_delivery_gives_up_within_its_time_budget_and_the_task_keeps_its_state(
    form: str, receiver: HttpReceiver, clock: FakeClock, records: list[Any]
) -> None:
    """A receiver that keeps failing: waits stop before the 2 s budget; the task stays Failed
    with its own message (checked by run_failing), not with the delivery's."""
    receiver.script = [Reply(503)] * 10
    policy = DeliveryPolicy(clock=clock, total_time=2.0)
    run_failing(failure_alert(form, "webhook", url=receiver.url(), delivery=policy))
    assert clock.sleeps == [0.5, 1.0]
    (record,) = records
    assert (record.outcome, record.attempts) == ("failed", 3)
    assert "2 s budget" in record.reason


@pytest.mark.parametrize("form", FORMS)
def test_flood_control_holds_back_children_per_action_and_flow_run(
    form: str, receiver: HttpReceiver, records: list[Any]
) -> None:
    """20 failing mapped children: one alert for the first, 19 held back and reported with the
    flow's own alert from the same handler."""
    handler = failure_alert(form, "webhook", url=receiver.url())

    def fail(x: int) -> None:
        raise ValueError(f"child {x} broke")

    with Flow("wide", state_handlers=[handler]) as flow:
        task(fail, name="child", state_handlers=[handler]).map(list(range(20)))
    assert flow.run().is_failed()
    child, summary = receiver.wait_for(2)
    assert len(receiver.requests) == 2
    assert child.json()["task"]["full_name"] == "child[0]"
    assert summary.json()["task"] is None
    assert summary.json()["suppressed"] == [{"task": "child", "state": "Failed", "count": 19}]
    outcomes = [r.outcome for r in records]
    assert (outcomes.count("sent"), outcomes.count("suppressed")) == (2, 19)


def test_two_actions_keep_their_own_flood_counts(receiver: HttpReceiver) -> None:
    """Flood control is per action: a second action to another URL sends its own first alert."""
    first = callback_factory(webhook_action(url=receiver.url("/one")), is_failed)
    second = callback_factory(webhook_action(url=receiver.url("/two")), is_failed)

    def fail(x: int) -> None:
        raise ValueError(f"child {x} broke")

    with Flow("wide") as flow:
        task(fail, name="child", state_handlers=[first, second]).map(list(range(5)))
    flow.run()
    paths = sorted(r.path for r in receiver.wait_for(2))
    assert paths == ["/one", "/two"]


@pytest.mark.parametrize("form", FORMS)
def test_an_email_is_the_same_in_both_forms(form: str, records: list[Any]) -> None:
    controller, server = start_smtp("plain")
    try:
        handler = failure_alert(
            form,
            "email",
            to="oncall@example.test",
            smtp_host="127.0.0.1",
            smtp_port=server.port,
            security="plain",
        )
        run_failing(handler)
        (envelope,) = server.store.wait_for(1)
    finally:
        controller.stop()
    content = envelope.content.decode()
    assert "Subject: [flowlight] Task 'load' in flow 'etl' is now Failed" in content
    assert "Message: Error during execution of task: ValueError('nope')" in content
    assert [(r.notifier, r.outcome) for r in records] == [("email", "sent")]


def test_a_check_that_raises_fails_the_run_like_any_handler(receiver: HttpReceiver) -> None:
    def broken_check(state: State) -> bool:
        raise RuntimeError("check broke")

    def succeed() -> int:
        return 1

    work = task(succeed, name="load")
    work.state_handlers = [callback_factory(webhook_action(url=receiver.url()), broken_check)]
    state = Flow("etl", tasks=[work]).run()
    task_state = state.result[work]
    assert task_state.is_failed()
    assert "Unexpected error while calling state handlers" in str(task_state.message)
    assert "check broke" in str(task_state.message)
    assert receiver.requests == []


def test_is_final_failure_alerts_once_when_retries_are_used_up(
    receiver: HttpReceiver, engine_clock: FakeClock
) -> None:
    """max_retries=2: three Failed states, only the third is final; is_failed sees all three."""
    final = callback_factory(webhook_action(url=receiver.url("/final")), is_final_failure)
    every = callback_factory(webhook_action(url=receiver.url("/every")), is_failed)
    work = task(explode, name="load", max_retries=2, retry_delay=1, state_handlers=[final, every])
    Flow("etl", tasks=[work]).run()
    requests = receiver.wait_for(4)
    by_path: dict[str, list[Any]] = {}
    for request in requests:
        by_path.setdefault(request.path, []).append(request.json())
    assert [p["task"]["run_count"] for p in by_path["/final"]] == [3]
    assert [p["task"]["run_count"] for p in by_path["/every"]] == [1, 2, 3]


def test_named_checks_answer_and_compose() -> None:
    failed, retrying, success = Failed("x"), Retrying("again"), Success("ok")
    assert [is_failed(s) for s in (failed, retrying, success)] == [True, False, False]
    assert [is_retrying(s) for s in (failed, retrying, success)] == [False, True, False]
    assert [is_finished(s) for s in (failed, retrying, success)] == [True, False, True]
    assert [is_successful(s) for s in (failed, retrying, success)] == [False, False, True]
    assert is_final_failure(TriggerFailed("upstream")) is True
    either = is_failed | is_retrying
    assert [either(s) for s in (failed, retrying, success)] == [True, True, False]
    only_trigger = is_failed & (lambda s: isinstance(s, TriggerFailed))
    assert (only_trigger(failed), only_trigger(TriggerFailed("u"))) == (False, True)
    assert (~is_finished)(Running()) is True
    assert repr(either) == "Check((is_failed | is_retrying))"


def test_a_check_that_answers_a_truthy_non_bool_counts_as_false_like_callback_factory() -> None:
    """Prefect 1's callback_factory acts only on `is True`; a Check keeps that rule."""
    from flowlight.utilities.notifications import Check

    assert Check(lambda state: "yes")(Failed()) is False
