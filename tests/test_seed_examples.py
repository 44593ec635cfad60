"""Every example of the seed document runs with `prefect` renamed to `flowlight` and prints what
the document says it prints."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.notifications import servers
from tests.notifications.servers import HttpReceiver

SEED_DIR = Path(__file__).resolve().parents[2] / "shared" / "seed"

receiver = servers.receiver  # the notifier tests' HTTP receiver, as a fixture here too


def _blocks() -> list[str]:
    text = "\n".join(p.read_text() for p in sorted(SEED_DIR.glob("*")))
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def _run(code: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code.replace("prefect", "flowlight")],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _block(containing: str) -> str:
    matches = [b for b in _blocks() if containing in b]
    assert len(matches) == 1, f"expected one seed example containing {containing!r}"
    return matches[0]


def test_the_seed_has_the_examples_these_tests_cover() -> None:
    """Eight python blocks: the handler signature, two handler demos, two Slack posts, the
    special failure, the callback_factory snippet and the on_failure signature."""
    assert len(_blocks()) == 8


def test_flow_state_handler_prints_both_flow_transitions() -> None:
    out = _run(_block("my_flow = Flow("))
    assert out == (
        "\nCalling my custom state handler on <Flow: name=state-handler-demo>:\n"
        'Scheduled() to Running("Running flow.")\n\n'
        "\nCalling my custom state handler on <Flow: name=state-handler-demo>:\n"
        'Running("Running flow.") to Success("All reference tasks succeeded.")\n\n'
    )


def test_task_state_handler_prints_both_task_transitions() -> None:
    definition = _block("my_flow = Flow(").split("my_flow = Flow(")[0]
    out = _run(definition + _block("t = Task(state_handlers=[my_state_handler])"))
    assert out == (
        "\nCalling my custom state handler on <Task: Task>:\n"
        'Pending() to Running("Starting task run.")\n\n'
        "\nCalling my custom state handler on <Task: Task>:\n"
        'Running("Starting task run.") to Success("Task run succeeded.")\n\n'
    )


def test_finished_notifier_posts_the_final_state_using_a_secret(receiver: HttpReceiver) -> None:
    _run(
        _block("SLACK_WEBHOOK_URL_SECRET_NAME"),
        env={"FLOWLIGHT__CONTEXT__SECRETS__SLACK_WEBHOOK_URL_SECRET_NAME": receiver.url()},
    )
    assert [request.json() for request in receiver.requests] == [
        {"text": 'Task <Task: Task> finished in state Success("Task run succeeded.")'}
    ]


def test_retry_notifier_on_a_task_that_never_retries_posts_nothing(receiver: HttpReceiver) -> None:
    """The example's placeholder URL is pointed at the local receiver: the task never retries,
    so the notifier must post nothing there."""
    _run(_block("the notifier is never run").replace("https://XXXXX", receiver.url()))
    assert receiver.requests == []


def test_special_failure_handler_sees_the_signal_attributes() -> None:
    out = _run(_block("alert_on_special_failure"))
    assert out == "Special failure mode!  Send all the alerts!\na == b == 1\n"


def test_callback_factory_example_builds_a_handler_that_posts_on_retry(
    receiver: HttpReceiver,
) -> None:
    snippet = _block("callback_factory(send_post").replace("https://XXXXX", receiver.url())
    flow_code = (
        "import datetime, requests\n" + snippet + "\nfrom prefect import task, Flow\n"
        "calls = []\n"
        "@task(max_retries=1, retry_delay=datetime.timedelta(0), state_handlers=[post_to_slack])\n"
        "def flaky():\n"
        "    calls.append(1)\n"
        "    if len(calls) == 1:\n"
        "        raise ValueError('first try')\n"
        "with Flow('retry-demo') as flow:\n"
        "    flaky()\n"
        "print(flow.run())\n"
    )
    out = _run(flow_code)
    assert out.strip() == 'Success("All reference tasks succeeded.")'
    bodies = [request.json() for request in receiver.requests]
    assert len(bodies) == 1
    text = str(bodies[0]["text"])
    assert re.fullmatch(
        r"Task <Task: flaky> failed and is retrying at \d{4}-\d\d-\d\d[ T][\d:.]+\+00:00", text
    ), text


def test_on_failure_is_called_once_for_the_failed_task_and_once_for_the_failed_flow() -> None:
    """The seed's last block: `on_failure=f` with `f(obj, state)` on both Task and Flow."""
    signature = _block("def f(obj: Union[Task, Flow], state: State) -> None")
    assert "def f(" in signature
    out = _run(
        "from prefect import task, Flow\n"
        "def f(obj, state):\n"
        "    print('on_failure', obj, state)\n"
        "@task(on_failure=f)\n"
        "def boom():\n"
        "    raise ValueError('nope')\n"
        "with Flow('of', on_failure=f) as flow:\n"
        "    boom()\n"
        "flow.run()\n"
    )
    assert out.splitlines() == [
        "on_failure <Task: boom> Failed(\"Error during execution of task: ValueError('nope')\")",
        'on_failure <Flow: name=of> Failed("Some reference tasks failed.")',
    ]
