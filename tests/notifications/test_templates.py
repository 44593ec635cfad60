"""Message templates and log-query links through real receivers: the user's wording replaces the
default in Slack, the webhook's `text` and e-mail; every documented field is filled; unknown fields
are refused when the notifier is made; a Grafana Explore URL keeps its JSON."""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

import flowlight
from flowlight import Flow, task
from flowlight.engine.state import Failed, State
from flowlight.utilities.notifications import (
    callback_factory,
    email_action,
    is_failed,
    slack_notifier,
    webhook_action,
    webhook_notifier,
)
from flowlight.utilities.notifications.templates import FIELDS

from .servers import HttpReceiver, start_smtp

TRACE_ID = "5b8efff798038103d269b633813fc60c"
EXPLORE = (
    'http://localhost:3000/explore?left={"datasource":"flowlight-loki","queries":[{"refId":"A",'
    '"expr":"{service_name=~\\".+\\"} | trace_id=\\"{trace_id}\\""}]}'
)
DOC = Path(__file__).resolve().parents[2] / "docs" / "notification-templates.md"


def put_trace(obj: Any, old: State, new: State) -> State:
    flowlight.context["trace_id"] = TRACE_ID
    flowlight.context["traceparent"] = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
    return new


def explode() -> None:
    raise ValueError("nope")


def run_failing(handler: Any, context: dict[str, Any] | None = None) -> None:
    work = task(explode, name="load", state_handlers=[handler])
    Flow("etl", tasks=[work], state_handlers=[put_trace]).run(context=context or {})


def test_a_slack_template_replaces_the_whole_message(receiver: HttpReceiver) -> None:
    notifier = slack_notifier(
        only_states=[Failed],
        template="{state}: {task} in {flow} (attempt {run_count}) {message} <{trace_url}|trace>",
        trace_url_template="http://jaeger.test/trace/{trace_id}",
    )
    run_failing(notifier, {"secrets": {"SLACK_WEBHOOK_URL": receiver.url("/services/T/B/tmpl")}})
    assert receiver.wait_for(1)[0].json() == {
        "text": "Failed: load in etl (attempt 1) Error during execution of task: "
        f"ValueError('nope') <http://jaeger.test/trace/{TRACE_ID}|trace>"
    }


def test_a_webhook_template_fills_text_and_keeps_the_payload(receiver: HttpReceiver) -> None:
    action = webhook_action(url=receiver.url(), template="{subject} -> {state}; logs {logs_url}")
    run_failing(callback_factory(action, is_failed))
    payload = receiver.wait_for(1)[0].json()
    assert payload["text"] == "task 'load' in flow 'etl' -> Failed; logs "
    assert payload["version"] == 1 and payload["task"]["name"] == "load"


def test_the_log_link_keeps_grafana_json_and_fills_the_trace_id(receiver: HttpReceiver) -> None:
    notifier = webhook_notifier(url=receiver.url(), only_states=[Failed], log_url_template=EXPLORE)
    run_failing(notifier)
    text = receiver.wait_for(1)[0].json()["text"]
    (logs,) = [line for line in text.splitlines() if line.startswith("Logs: ")]
    assert logs == "Logs: " + EXPLORE.replace("{trace_id}", TRACE_ID)


def test_without_a_trace_the_log_link_is_left_out(receiver: HttpReceiver) -> None:
    notifier = webhook_notifier(url=receiver.url(), only_states=[Failed], log_url_template=EXPLORE)
    work = task(explode, name="load", state_handlers=[notifier])
    Flow("etl", tasks=[work]).run()
    assert "Logs:" not in receiver.wait_for(1)[0].json()["text"]


def test_an_email_template_is_the_text_part_and_the_html_part() -> None:
    controller, server = start_smtp("plain")
    try:
        action = email_action(
            to="oncall@example.test",
            smtp_host="127.0.0.1",
            smtp_port=server.port,
            security="plain",
            template="{flow}/{task} is {state} <see trace {trace_id}>",
        )
        run_failing(callback_factory(action, is_failed))
        envelope = server.store.wait_for(1)[0]
    finally:
        controller.stop()
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    text, html = (part.get_content() for part in message.iter_parts())
    assert text.rstrip() == f"etl/load is Failed <see trace {TRACE_ID}>"
    assert f"<pre>etl/load is Failed &lt;see trace {TRACE_ID}&gt;</pre>" in html


def test_every_field_is_filled_and_the_flow_fields_are_its_own(receiver: HttpReceiver) -> None:
    template = "\n".join(f"{name}={{{name}}}" for name in FIELDS)
    notifier = webhook_notifier(url=receiver.url(), only_states=[Failed], template=template)
    work = task(explode, name="load", state_handlers=[notifier])
    Flow("etl", tasks=[work], state_handlers=[put_trace, notifier]).run()
    task_text, flow_text = (r.json()["text"] for r in receiver.wait_for(2))
    task_values = dict(line.split("=", 1) for line in task_text.splitlines() if "=" in line)
    assert set(task_values) <= set(FIELDS) and "{" not in task_text
    assert task_values["task"] == "load" and task_values["run_count"] == "1"
    assert task_values["trace_id"] == TRACE_ID and task_values["error"] == "ValueError('nope')"
    assert "failed_tasks=- load: Error during execution of task" in flow_text
    assert "failed_task_count=1" in flow_text and "\ntask=\n" in flow_text


@pytest.mark.parametrize(
    ("options", "fix"),
    [
        ({"template": "{flow} {colour}"}, "unknown field(s) colour"),
        ({"template": ""}, "non-empty text"),
        ({"log_url_template": "http://logs.test/{flow}"}, "{trace_id} or {flow_run_id}"),
        ({"log_url_template": "http://logs.test/{trace_id}/{state}"}, "only the fields"),
    ],
)
def test_bad_templates_are_refused_when_the_notifier_is_made(
    options: dict[str, Any], fix: str
) -> None:
    with pytest.raises(ValueError) as error:
        webhook_notifier(url="http://127.0.0.1/hook", **options)
    assert fix in str(error.value)


def test_the_document_lists_exactly_the_fields() -> None:
    documented = re.findall(r"^\| `\{([a-z_]+)\}` \|", DOC.read_text(), flags=re.M)
    assert documented == list(FIELDS)
