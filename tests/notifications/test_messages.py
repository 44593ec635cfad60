"""What a notification says: the facts gathered from a transition and the run context, and how
Slack, webhook and e-mail renderings carry them (redacted, escaped, with trace links)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

import pendulum

from flowlight.engine.state import Failed, Retrying, Running, Success
from flowlight.utilities.notifications.messages import (
    WEBHOOK_PAYLOAD_VERSION,
    SuppressedCount,
    email_parts,
    notice_for,
    slack_payload,
    webhook_body,
    webhook_payload,
)
from flowlight.utilities.redaction import MASK, register_secret

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


class FakeTask:
    name = "load"
    slug = "load-1"


def task_context(**extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "flow_name": "etl",
        "flow_run_id": "run-1",
        "flow_run_name": "nightly",
        "task_name": "load",
        "task_slug": "load-1",
        "task_full_name": "load[3]",
        "task_run_id": "task-run-7",
        "map_index": 3,
        "task_run_count": 2,
        "task_tags": ["db", "critical"],
    }
    values.update(extra)
    return values


def test_a_failed_mapped_child_is_named_with_its_index_state_message_and_run_count() -> None:
    """The notice names flow, task[3], the state class, the message and the run count."""
    state = Failed("Error during execution of task: ValueError('nope')", result=ValueError("nope"))
    notice = notice_for(
        FakeTask(), Running(), state, task_context(), is_flow=False, trace_url_template=None
    )
    assert notice.headline == "Task 'load[3]' in flow 'etl' is now Failed"
    assert (notice.state, notice.previous_state, notice.run_count) == ("Failed", "Running", 2)
    assert notice.task_tags == ("critical", "db")
    assert notice.is_failed and notice.is_finished


def test_a_retrying_notice_says_when_the_retry_happens() -> None:
    """Retrying.start_time becomes `retry_at`, shown in every rendering."""
    start = pendulum.datetime(2030, 1, 2, 3, 4, 5, tz="UTC")
    state = Retrying("Retrying Task (after attempt 1 of 3)", start_time=start, run_count=1)
    notice = notice_for(
        FakeTask(), Failed("x"), state, task_context(), is_flow=False, trace_url_template=None
    )
    assert notice.retry_at == start and notice.run_count == 1
    assert str(start) in slack_payload(notice)["text"]
    assert webhook_payload(notice, datetime.now(timezone.utc))["state"]["retry_at"] == (
        start.isoformat()
    )
    assert str(start) in email_parts(notice)[1]


def test_a_flow_notice_has_no_task() -> None:
    """For the flow's own transition the task part is empty and the flow is the subject."""
    context = {"flow_name": "etl", "flow_run_id": "run-1"}
    notice = notice_for(
        object(),
        Running(),
        Success("All reference tasks succeeded."),
        context,
        is_flow=True,
        trace_url_template=None,
    )
    assert notice.headline == "Flow 'etl' is now Success"
    assert webhook_payload(notice, datetime.now(timezone.utc))["task"] is None


def test_secret_values_in_a_state_message_are_masked_everywhere() -> None:
    """A registered secret inside the message or the exception never reaches a rendering."""
    secret = "hunter2-in-a-message-0a9f"
    register_secret(secret)
    state = Failed(f"could not log in with {secret}", result=RuntimeError(secret))
    notice = notice_for(
        FakeTask(), Running(), state, task_context(), is_flow=False, trace_url_template=None
    )
    subject, text, html = email_parts(notice)
    renderings = [
        json.dumps(slack_payload(notice)),
        webhook_body(webhook_payload(notice, datetime.now(timezone.utc))).decode(),
        text,
        html,
    ]
    assert secret not in subject
    for text in renderings:
        assert secret not in text
        assert MASK in text


def test_the_trace_id_and_link_come_from_the_context_and_the_template() -> None:
    """With `trace_id` in the context and a template, each rendering links to the trace."""
    context = task_context(trace_id=TRACE_ID, traceparent=f"00-{TRACE_ID}-00f067aa0ba902b7-01")
    notice = notice_for(
        FakeTask(),
        Running(),
        Failed("x"),
        context,
        is_flow=False,
        trace_url_template="http://localhost:16686/trace/{trace_id}",
    )
    url = f"http://localhost:16686/trace/{TRACE_ID}"
    assert f"<{url}|{TRACE_ID}>" in json.dumps(slack_payload(notice))
    trace = webhook_payload(notice, datetime.now(timezone.utc))["trace"]
    assert trace == {"trace_id": TRACE_ID, "traceparent": context["traceparent"], "url": url}
    assert f'href="{url}"' in email_parts(notice)[2]


def test_without_a_template_the_trace_id_is_still_carried() -> None:
    notice = notice_for(
        FakeTask(),
        Running(),
        Failed("x"),
        task_context(trace_id=TRACE_ID),
        is_flow=False,
        trace_url_template=None,
    )
    assert f"Trace: {TRACE_ID}" in slack_payload(notice)["text"]
    assert webhook_payload(notice, datetime.now(timezone.utc))["trace"]["url"] is None


def test_slack_blocks_escape_user_text_and_keep_a_plain_fallback() -> None:
    """`<`, `>` and `&` in a message cannot become Slack links or mentions."""
    notice = notice_for(
        FakeTask(),
        Running(),
        Failed("a <!channel> & b"),
        task_context(),
        is_flow=False,
        trace_url_template=None,
    )
    payload = slack_payload(notice)
    blocks = json.dumps(payload["blocks"])
    assert "&lt;!channel&gt; &amp; b" in blocks and "<!channel>" not in blocks
    assert payload["text"].startswith("Task 'load[3]' in flow 'etl' is now Failed.")
    assert payload["blocks"][0]["type"] == "header"


def test_email_html_escapes_and_has_the_same_facts_as_the_text_part() -> None:
    notice = notice_for(
        FakeTask(),
        Running(),
        Failed("<script>x</script>"),
        task_context(),
        is_flow=False,
        trace_url_template=None,
    )
    subject, text, html = email_parts(notice)
    assert subject == "[flowlight] Task 'load[3]' in flow 'etl' is now Failed"
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Message: <script>x</script>" in text
    assert "Run count: 2" in text


def test_the_webhook_payload_has_the_documented_version_1_shape() -> None:
    """Top-level keys, in order, as docs/webhook-payload.md lists them."""
    notice = notice_for(
        FakeTask(),
        Running(),
        Failed("x"),
        task_context(),
        is_flow=False,
        trace_url_template=None,
        suppressed=(SuppressedCount("load", "Failed", 999),),
    )
    payload = webhook_payload(notice, datetime(2030, 1, 1, tzinfo=timezone.utc))
    assert WEBHOOK_PAYLOAD_VERSION == 1
    assert list(payload) == [
        "version",
        "event",
        "sent_at",
        "text",
        "flow",
        "task",
        "state",
        "trace",
        "suppressed",
    ]
    assert payload["version"] == 1 and payload["event"] == "state_change"
    assert payload["task"]["full_name"] == "load[3]" and payload["task"]["map_index"] == 3
    assert payload["suppressed"] == [{"task": "load", "state": "Failed", "count": 999}]
    assert "999 x Failed for task 'load'" in payload["text"]


def test_long_messages_are_clipped() -> None:
    """A huge traceback does not make a message Slack would reject."""
    notice = notice_for(
        FakeTask(),
        Running(),
        Failed("x" * 10_000),
        task_context(),
        is_flow=False,
        trace_url_template=None,
    )
    assert notice.message is not None and len(notice.message) == 1500


def test_a_newline_in_a_name_cannot_break_the_email_subject() -> None:
    notice = notice_for(
        FakeTask(),
        Running(),
        Failed("x"),
        task_context(task_full_name="load\nBcc: someone@example.test"),
        is_flow=False,
        trace_url_template=None,
    )
    subject = email_parts(notice)[0]
    assert "\n" not in subject and "\r" not in subject


def test_a_suppressed_summary_email_has_the_same_details_in_its_html_and_text_parts() -> None:
    """The flow's final message is not a detail of a summary: neither part shows it."""
    notice = notice_for(
        FakeTask(),
        Running(),
        Success("All reference tasks succeeded."),
        task_context(trace_id=TRACE_ID),
        is_flow=True,
        trace_url_template=None,
        suppressed=(SuppressedCount("load", "Failed", 3),),
        kind="suppressed_summary",
    )
    _, text, html = email_parts(notice)
    assert text.splitlines()[1:] == [
        "Flow run: nightly",
        f"Trace: {TRACE_ID}",
        "Held back by flood control: 3 x Failed for task 'load'",
    ]
    rows = re.findall(r"<th align='left'>(.*?)</th><td>(.*?)</td>", html)
    assert rows == [("State", "Success"), ("Flow run", "nightly"), ("Trace", TRACE_ID)]
    assert "Message" not in text and "Message" not in html
    assert "All reference tasks succeeded." not in text + html
