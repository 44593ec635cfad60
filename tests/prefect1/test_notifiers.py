"""flowlight's notifiers as state handlers on a genuine Prefect 1.4.1 task and flow.

The `notify` scenario runs on Prefect 1.4.1 in its own process, traced, with a webhook notifier
on a failing task and on its flow and a Slack notifier whose URL is a Prefect 1 local secret;
they post to a real HTTP server on 127.0.0.1 in this test.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from .conftest import EngineRun, run_scenarios


def run_notify(python: Path, engine: str, tmp: Path, server: Any) -> EngineRun:
    secret = {
        "prefect": "PREFECT__CONTEXT__SECRETS__ALERTS_SLACK_URL",
        "flowlight": "FLOWLIGHT__CONTEXT__SECRETS__ALERTS_SLACK_URL",
    }[engine]
    return run_scenarios(
        python,
        engine,
        ("notify",),
        tmp,
        NOTIFY_URL=server.url("/hook"),
        **{secret: server.url("/services/T000/B000/slack-token")},
    )


def by_path(server: Any) -> dict[str, list[dict[str, Any]]]:
    posts: dict[str, list[dict[str, Any]]] = {}
    for request in server.requests:
        posts.setdefault(request.path, []).append(request.json())
    return posts


def test_notifiers_on_a_prefect1_task_and_flow_post_to_a_local_server(
    prefect1_python: Path, tmp_path: Path, webhook_server: Any
) -> None:
    """The task's Failed state is posted by the webhook and the Slack notifier, the flow's by
    the webhook notifier on the flow; each webhook body names the flow run, the task run and the
    trace that the bridge exported for the same run."""
    run = run_notify(prefect1_python, "prefect", tmp_path, webhook_server)
    assert run.outcomes["notify"] == {"flow": "Failed", "tasks": {"load": "Failed"}}
    webhook_server.wait_for(3)
    posts = by_path(webhook_server)
    task_post, flow_post = sorted(posts["/hook"], key=lambda body: body["task"] is None)
    assert task_post["task"]["name"] == "load"
    assert task_post["state"]["type"] == "Failed"
    assert task_post["state"]["error"] == "ValueError('warehouse unreachable')"
    assert flow_post["task"] is None
    assert flow_post["state"]["message"] == "Some reference tasks failed."
    assert flow_post["flow"]["name"] == "notify"

    spans = {span.name: span for span in run.received.spans()}
    flow_run_id = spans["notify"].attributes["cicd.pipeline.run.id"]
    assert task_post["flow"]["run_id"] == flow_run_id
    # Prefect 1's local runs get a random uuid as name besides the id: alerts name the run by
    # the id its telemetry carries.
    assert flow_post["flow"]["run_name"] == flow_run_id
    assert "flowlight.flow_run.name" not in spans["notify"].attributes
    assert task_post["task"]["run_id"] == spans["load"].attributes["cicd.pipeline.task.run.id"]
    assert task_post["trace"]["trace_id"] == spans["load"].trace_id
    assert flow_post["trace"]["trace_id"] == spans["notify"].trace_id

    (slack_post,) = posts["/services/T000/B000/slack-token"]
    assert "load" in slack_post["text"] and "Failed" in slack_post["text"]


def test_notifications_from_prefect1_match_those_from_flowlight(
    prefect1_python: Path, tmp_path: Path, webhook_server: Any
) -> None:
    """The same flow alerting on either engine sends the same notices: same endpoints, same
    subjects and states, same payload layout."""
    run_notify(prefect1_python, "prefect", tmp_path / "prefect", webhook_server)
    webhook_server.wait_for(3)
    on_prefect1 = by_path(webhook_server)
    webhook_server.requests.clear()
    run_notify(Path(sys.executable), "flowlight", tmp_path / "flowlight", webhook_server)
    webhook_server.wait_for(3)
    on_flowlight = by_path(webhook_server)

    def summary(posts: dict[str, list[dict[str, Any]]]) -> dict[str, list[str]]:
        return {
            path: sorted(
                repr(
                    (
                        sorted(body),
                        body.get("event"),
                        (body.get("task") or {}).get("name"),
                        (body.get("state") or {}).get("type"),
                        (body.get("state") or {}).get("message"),
                    )
                )
                for body in bodies
            )
            for path, bodies in posts.items()
        }

    assert summary(on_prefect1) == summary(on_flowlight)


def test_a_callback_factory_alert_works_on_a_prefect1_flow(
    prefect1_python: Path, tmp_path: Path, webhook_server: Any
) -> None:
    """`callback_factory(webhook_action(...), is_failed)` on a genuine Prefect 1 task and flow
    posts the task's and the flow's failure, carrying the run ids and trace the bridge exported,
    and the same two posts as on flowlight."""

    def run(python: Path, engine: str) -> tuple[EngineRun, list[dict[str, Any]]]:
        webhook_server.requests.clear()
        done = run_scenarios(
            python,
            engine,
            ("notify_actions",),
            tmp_path / engine,
            NOTIFY_URL=webhook_server.url("/hook"),
        )
        webhook_server.wait_for(2)
        return done, [request.json() for request in webhook_server.requests]

    prefect_run, on_prefect1 = run(prefect1_python, "prefect")
    assert prefect_run.outcomes["notify_actions"] == {
        "flow": "Failed",
        "tasks": {"load": "Failed"},
    }
    task_post, flow_post = sorted(on_prefect1, key=lambda body: body["task"] is None)
    assert task_post["task"]["name"] == "load"
    assert task_post["state"]["error"] == "ValueError('warehouse unreachable')"
    assert flow_post["task"] is None and flow_post["state"]["type"] == "Failed"
    spans = {span.name: span for span in prefect_run.received.spans()}
    assert task_post["trace"]["trace_id"] == spans["load"].trace_id
    assert task_post["flow"]["run_id"] == spans["notify_actions"].attributes["cicd.pipeline.run.id"]
    _, on_flowlight = run(Path(sys.executable), "flowlight")

    def shape(bodies: list[dict[str, Any]]) -> list[str]:
        return sorted(
            repr(
                (
                    sorted(body),
                    (body["task"] or {}).get("name"),
                    body["state"]["type"],
                    body["state"]["message"],
                )
            )
            for body in bodies
        )

    assert shape(on_prefect1) == shape(on_flowlight)
