"""The seed document's "Responding to State" retry notifier, built with `callback_factory` as the
seed's "Higher level API" section writes it, posting to a real local server; and the same alert
from `slack_notifier`. The retry time in the text is the Retrying state's `start_time`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import requests

from flowlight import Flow, Task, task
from flowlight.engine.state import Retrying, State
from flowlight.utilities.notifications import callback_factory, slack_notifier

from .servers import FakeClock, HttpReceiver


def flaky_task(handlers: list[Any]) -> Task:
    attempts: list[int] = []

    def flaky() -> int:
        attempts.append(1)
        if len(attempts) == 1:
            raise ValueError("first try fails")
        return len(attempts)

    return task(
        flaky,
        name="flaky",
        max_retries=1,
        retry_delay=timedelta(minutes=5),
        state_handlers=handlers,
    )


def test_the_seed_retry_notifier_posts_the_retry_time(
    receiver: HttpReceiver, engine_clock: FakeClock
) -> None:
    """`Task <Task: flaky> failed and is retrying at <start_time>` arrives; the task then
    succeeds on its second run after the (fake) five-minute wait."""
    url = receiver.url("/XXXXX")
    retrying_states: list[State] = []

    def send_post(task: Any, state: Any) -> None:
        # As the seed writes it.
        msg = "Task {0} failed and is retrying at {1}".format(task, state.start_time)  # noqa: UP030, UP032
        requests.post(url, json={"text": msg}, timeout=5)

    post_to_slack = callback_factory(send_post, lambda s: s.is_retrying())

    def remember(obj: Any, old: State, new: State) -> State:
        if isinstance(new, Retrying):
            retrying_states.append(new)
        return new

    flaky = flaky_task([post_to_slack, remember])
    state = Flow("state-handler-demo", tasks=[flaky]).run()
    assert state.result[flaky].is_successful() and state.result[flaky].result == 2
    (request,) = receiver.wait_for(1)
    (retrying,) = retrying_states
    assert request.json() == {
        "text": f"Task <Task: flaky> failed and is retrying at {retrying.start_time}"
    }
    assert engine_clock.sleeps == [300.0]


def test_slack_notifier_says_when_the_retry_happens(
    receiver: HttpReceiver, engine_clock: FakeClock
) -> None:
    retrying_states: list[State] = []

    def remember(obj: Any, old: State, new: State) -> State:
        if isinstance(new, Retrying):
            retrying_states.append(new)
        return new

    flaky = flaky_task([slack_notifier(only_states=[Retrying]), remember])
    secrets = {"SLACK_WEBHOOK_URL": receiver.url("/services/T/B/retry")}
    Flow("state-handler-demo", tasks=[flaky]).run(context={"secrets": secrets})
    (request,) = receiver.wait_for(1)
    (retrying,) = retrying_states
    text = request.json()["text"]
    assert text.startswith("Task 'flaky' in flow 'state-handler-demo' is now Retrying.")
    assert f"Retrying at: {retrying.start_time}" in text
    assert "Message: Retrying Task (after attempt 1 of 2)" in text
