"""Every example of docs/handler-examples.md runs as written and prints what the page says it
prints; the examples that post to a webhook are pointed, through their secret, at a real local
HTTP receiver, and what it receives is checked."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.notifications import servers
from tests.notifications.servers import HttpReceiver

PAGE = Path(__file__).resolve().parents[1] / "docs" / "handler-examples.md"

receiver = servers.receiver  # the notifier tests' HTTP receiver, as a fixture here too


def _examples() -> list[tuple[str, str | None]]:
    """(program, what it prints) for each python block; None when no text block follows it."""
    found = re.findall(
        r"```python\n(.*?)```\n(?:\n```text\n(.*?)```\n)?", PAGE.read_text(), flags=re.S
    )
    return [(code, printed or None) for code, printed in found]


def _example(containing: str) -> tuple[str, str | None]:
    matches = [e for e in _examples() if containing in e[0]]
    assert len(matches) == 1, f"expected one example containing {containing!r}"
    return matches[0]


def _run(code: str, webhook: str | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWLIGHT")}
    if webhook is not None:
        env["FLOWLIGHT__CONTEXT__SECRETS__ALERT_WEBHOOK_URL"] = webhook
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_page_has_eight_examples_and_each_is_tested_here() -> None:
    """The signature, two printing handlers, two webhook posts, the failure with data, the
    factory and on_failure: if an example is added, add its test."""
    assert len(_examples()) == 8


def test_the_signature_example_is_a_working_handler() -> None:
    code, _ = _example("def handler(obj: Union[Task, Flow]")
    out = _run(
        code + "\nfrom flowlight import task\n"
        "t = task(lambda: 3, name='three', state_handlers=[handler])\n"
        "print(Flow('sig', tasks=[t]).run().result[t].result)\n"
    )
    assert out == "3\n"


def test_a_flow_handler_prints_the_start_and_the_end_of_the_run() -> None:
    code, printed = _example('Flow("printing-demo"')
    assert printed is not None
    assert _run(code) == printed


def test_a_task_handler_prints_the_task_runs_transitions() -> None:
    code, printed = _example('Task(name="idle"')
    assert printed is not None
    assert _run(code) == printed


def test_the_finish_notifier_posts_the_final_state_once(receiver: HttpReceiver) -> None:
    code, printed = _example("report_finish")
    assert printed is None
    assert _run(code, webhook=receiver.url()) == ""
    assert [r.json() for r in receiver.requests] == [
        {"text": '<Task: compute> ended as Success("Task run succeeded.")'}
    ]


RETRY_TEXT = r"<Task: shaky> will try again at \d{4}-\d\d-\d\d[ T][\d:.]+\+00:00"


def test_the_retry_notifier_posts_once_with_the_retry_time(receiver: HttpReceiver) -> None:
    """`shaky` fails once, so one post; `steady` never retries and posts nothing."""
    code, printed = _example("def announce_retry")
    assert _run(code, webhook=receiver.url()) == printed
    texts = [str(r.json()["text"]) for r in receiver.requests]
    assert len(texts) == 1
    assert re.fullmatch(RETRY_TEXT, texts[0]), texts


def test_a_handler_reads_the_attributes_of_the_signal_that_failed_the_task() -> None:
    code, printed = _example("page_on_quota")
    assert _run(code) == printed == "Quota exceeded by 20 requests: paging the on-call\n"


def test_callback_factory_builds_the_same_retry_notifier(receiver: HttpReceiver) -> None:
    code, printed = _example("callback_factory(post_retry")
    assert _run(code, webhook=receiver.url()) == printed
    texts = [str(r.json()["text"]) for r in receiver.requests]
    assert len(texts) == 1
    assert re.fullmatch(RETRY_TEXT, texts[0]), texts


def test_on_failure_is_called_for_the_failed_task_and_for_the_failed_flow() -> None:
    code, printed = _example("def tell_failure")
    assert printed is not None
    assert _run(code) == printed
