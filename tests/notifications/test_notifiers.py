"""Notifiers as state handlers in real flow runs, posting to a real HTTP server on 127.0.0.1.

Proves the Prefect 1 surface (bare or curried, `only_states` / `ignore_states`), that secrets are
read only when a notification will be sent, that every receiver fault leaves the task in the
state it earned (unless `raise_on_failure=True`), and that no secret reaches a log line, a record,
an error message or a state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from structlog.testing import capture_logs

from flowlight import Flow, task
from flowlight.engine.state import Failed, Running, State, Success, TriggerFailed
from flowlight.utilities.notifications import DeliveryPolicy, slack_notifier
from flowlight.utilities.redaction import MASK, redact

from .servers import FakeClock, HttpReceiver, Reply

SLACK_PATH = "/services/T0FLOW/B0LIGHT/s3cr3tSlackToken9"


def slack_secrets(receiver: HttpReceiver) -> dict[str, Any]:
    return {"secrets": {"SLACK_WEBHOOK_URL": receiver.url(SLACK_PATH)}}


def run_one(
    body: Callable[[], Any], handler: Any, context: dict[str, Any] | None = None
) -> tuple[State, State]:
    """Run a flow of one task with `handler` on it; return the flow's and the task's states."""
    work = task(body, name="load", state_handlers=[handler])
    flow = Flow("etl", tasks=[work])
    state = flow.run(context=context or {})
    return state, state.result[work]


def succeed() -> int:
    return 1


def explode() -> None:
    raise ValueError("nope")


@pytest.fixture
def logs() -> Iterator[list[dict[str, Any]]]:
    with capture_logs() as entries:
        yield entries


def test_a_slack_alert_names_flow_task_state_message_and_run_count(
    receiver: HttpReceiver, records: list[Any]
) -> None:
    """One POST of blocks plus a plain `text` fallback; the task keeps its own Failed state."""
    flow_state, task_state = run_one(
        explode, slack_notifier(only_states=[Failed]), slack_secrets(receiver)
    )
    assert flow_state.is_failed()
    assert task_state.message == "Error during execution of task: ValueError('nope')"
    (request,) = receiver.wait_for(1)
    assert request.path == SLACK_PATH
    assert request.headers["Content-Type"].startswith("application/json")
    payload = request.json()
    assert payload["text"].splitlines()[:3] == [
        "Task 'load' in flow 'etl' is now Failed.",
        "Message: Error during execution of task: ValueError('nope')",
        "Run count: 1",
    ]
    assert payload["blocks"][0]["text"]["text"] == "Task 'load' in flow 'etl' is now Failed"
    assert redact(f"see {SLACK_PATH}") == f"see {MASK}", "the URL's path alone is masked too"
    (record,) = records
    assert (record.notifier, record.outcome, record.attempts) == ("slack", "sent", 1)
    assert record.flow_run_id and record.flow_run_id in payload["text"]
    assert record.task_run_id and record.task_run_id != record.flow_run_id


def test_bare_slack_notifier_reports_every_transition_like_prefect_1(
    receiver: HttpReceiver,
) -> None:
    """`state_handlers=[slack_notifier]` without options: Running and Success both posted."""
    _, task_state = run_one(succeed, slack_notifier, slack_secrets(receiver))
    assert task_state.is_successful()
    states = [r.json()["text"].splitlines()[0] for r in receiver.wait_for(2)]
    assert states == [
        "Task 'load' in flow 'etl' is now Running.",
        "Task 'load' in flow 'etl' is now Success.",
    ]


def test_the_secret_is_not_read_when_nothing_will_be_sent(records: list[Any]) -> None:
    """Unlike Prefect 1, a missing webhook secret cannot touch a task that has nothing to report."""
    _, task_state = run_one(succeed, slack_notifier(only_states=[Failed]))
    assert task_state.is_successful()
    assert records == []


def test_a_missing_secret_is_reported_and_the_task_keeps_its_state(
    records: list[Any], logs: list[dict[str, Any]]
) -> None:
    """The record and the warning name the missing secret and how to provide it."""
    _, task_state = run_one(succeed, slack_notifier(only_states=[Success], webhook_secret="NOPE"))
    assert task_state.is_successful()
    (record,) = records
    assert (record.outcome, record.attempts) == ("failed", 0)
    assert 'Local Secret "NOPE" was not found' in record.reason
    assert any(entry.get("reason") == record.reason for entry in logs)


def test_a_secret_that_is_not_a_url_is_reported(records: list[Any]) -> None:
    _, task_state = run_one(
        succeed,
        slack_notifier(only_states=[Success]),
        {"secrets": {"SLACK_WEBHOOK_URL": "not-a-url-at-all"}},
    )
    assert task_state.is_successful()
    assert "does not hold an http(s) URL" in records[0].reason


FAULTS = {
    "connection refused": ([], "failed", 4, [0.5, 1.0, 2.0]),
    "500 then 200": ([Reply(500)], "sent", 2, [0.5]),
    "429 with Retry-After": ([Reply(429, {"Retry-After": "2"})], "sent", 2, [2.0]),
    "hangs past the timeout": ([Reply(hang=True), Reply(hang=True)], "failed", 2, [0.5]),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_receiver_faults_never_change_the_task_state(
    fault: str,
    receiver: HttpReceiver,
    refused_url: str,
    engine_clock: FakeClock,
    records: list[Any],
    logs: list[dict[str, Any]],
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Each fault ends in the expected outcome and waits; the task is Success regardless; the
    secret URL appears in no log line, record or output."""
    script, outcome, attempts, sleeps = FAULTS[fault]
    receiver.script = list(script)
    url = refused_url if fault == "connection refused" else receiver.url(SLACK_PATH)
    hangs = "hangs" in fault  # only there is the short timeout meant to expire
    policy = DeliveryPolicy(timeout=0.3 if hangs else 5.0, max_attempts=2 if hangs else 4)
    notifier = slack_notifier(only_states=[Success], delivery=policy)
    _, task_state = run_one(succeed, notifier, {"secrets": {"SLACK_WEBHOOK_URL": url}})
    assert task_state.is_successful()
    (record,) = records
    assert (record.outcome, record.attempts, engine_clock.sleeps) == (outcome, attempts, sleeps)
    written = repr(logs) + repr(records) + "".join(capfd.readouterr())
    assert url not in written
    assert SLACK_PATH not in written and refused_url.rsplit("/", 1)[0] not in written


def test_raise_on_failure_fails_the_task_as_prefect_1_did_without_leaking_the_url(
    refused_url: str, engine_clock: FakeClock, logs: list[dict[str, Any]]
) -> None:
    notifier = slack_notifier(only_states=[Success], raise_on_failure=True)
    _, task_state = run_one(succeed, notifier, {"secrets": {"SLACK_WEBHOOK_URL": refused_url}})
    assert task_state.is_failed()
    assert task_state.message.startswith(
        "Unexpected error while calling state handlers: NotificationError("
    )
    assert "connection refused" in task_state.message
    assert refused_url not in task_state.message + repr(task_state.result) + repr(logs)


def test_ignore_states_is_checked_before_only_states(receiver: HttpReceiver) -> None:
    """only_states=[Failed] matches TriggerFailed by isinstance; ignore_states takes it out."""
    for ignore, expected in (([], 2), ([TriggerFailed], 1)):
        receiver.requests.clear()
        notifier = slack_notifier(only_states=[Failed], ignore_states=ignore)
        first = task(explode, name="first", state_handlers=[notifier])
        second = task(succeed, name="second", state_handlers=[notifier])
        flow = Flow("etl", tasks=[first, second])
        flow.add_edge(first, second)
        flow.run(context=slack_secrets(receiver))
        heads = [r.json()["text"].splitlines()[0] for r in receiver.wait_for(expected)]
        assert len(heads) == expected
        assert heads[0] == "Task 'first' in flow 'etl' is now Failed."
        if expected == 2:
            assert heads[1] == "Task 'second' in flow 'etl' is now TriggerFailed."


@pytest.mark.parametrize(
    ("options", "fix"),
    [
        ({"only_states": Failed}, "must be a list of state classes"),
        ({"ignore_states": [Failed()]}, "not instances"),
        ({"trace_url_template": "http://jaeger/{trace}"}, "may use only the field {trace_id}"),
        ({"trace_url_template": "http://jaeger/"}, "has no {trace_id} field"),
        ({"flood_control": 0}, "flood_control=0"),
    ],
)
def test_bad_options_fail_when_the_notifier_is_made_and_say_what_to_do(
    options: dict[str, Any], fix: str
) -> None:
    with pytest.raises((TypeError, ValueError)) as error:
        slack_notifier(**options)
    assert fix in str(error.value)


def test_positional_misuse_is_explained() -> None:
    with pytest.raises(TypeError, match=r"\(obj, old_state, new_state\)"):
        slack_notifier(object(), Running())


def test_a_notifier_bug_is_counted_not_raised(records: list[Any]) -> None:
    """Even an unexpected error inside the notifier leaves the task alone."""

    class Broken:
        def __str__(self) -> str:
            raise RuntimeError("cannot print me")

    notifier = slack_notifier(only_states=[Failed])
    notifier.send = None  # type: ignore[method-assign]
    state = Failed(Broken())  # type: ignore[arg-type]
    assert notifier(object(), Running(), state) is state
    assert records[-1].outcome == "failed"


def test_configured_notifiers_survive_pickling_for_remote_workers(receiver: HttpReceiver) -> None:
    """Task handlers travel with the task to worker processes; a notifier must pickle and still
    work on the other side (the default delivery clock is looked up at send time)."""
    import pickle

    from flowlight.utilities.notifications import email_notifier, webhook_notifier

    for notifier in (
        slack_notifier(only_states=[Failed]),
        webhook_notifier(url=receiver.url(), signing_secret="KEY", headers={"X": "1"}),
        email_notifier(to="me@example.test", smtp_host="127.0.0.1"),
    ):
        copy = pickle.loads(pickle.dumps(notifier))
        assert type(copy) is type(notifier) and copy.channel == notifier.channel
    hook = pickle.loads(pickle.dumps(webhook_notifier(url=receiver.url(), only_states=[Success])))
    run_one(succeed, hook)
    assert receiver.wait_for(1)[0].json()["state"]["type"] == "Success"


def test_prefect_1_options_are_accepted_and_proxies_are_used(receiver: HttpReceiver) -> None:
    """`backend_info=False` (common in Prefect 1 code) runs unchanged; `proxies` routes the POST
    through the proxy, here the local receiver, which sees the absolute target URL."""
    target = "http://slack.invalid/services/T0/B0/proxied-31f0"
    notifier = slack_notifier(
        only_states=[Success], backend_info=False, proxies={"http": receiver.url("")}
    )
    _, task_state = run_one(succeed, notifier, {"secrets": {"SLACK_WEBHOOK_URL": target}})
    assert task_state.is_successful()
    assert receiver.wait_for(1)[0].path == target
