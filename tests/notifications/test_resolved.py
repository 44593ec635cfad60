"""Resolved notices: a notifier with `resolved=True` remembers, in the embedded store, that it
reported a flow failed, and when a later run of that flow (in a new process, as a scheduled
flow's runs are) succeeds, it says the flow recovered: since when it was failing, how many runs
failed, and the run that fixed it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from flowlight import Flow, task
from flowlight.engine.state import Failed
from flowlight.utilities.notifications import slack_notifier, webhook_notifier

from .servers import HttpReceiver

REPO = Path(__file__).resolve().parents[2]
SCRIPT = textwrap.dedent(
    """
    import os, sys
    from flowlight import Flow, task
    from flowlight.engine.state import Failed
    from flowlight.utilities.notifications import webhook_notifier

    def load():
        if os.environ["OUTCOME"] == "fail":
            raise ValueError("warehouse unreachable")

    alert = webhook_notifier(url=os.environ["HOOK"], only_states=[Failed], resolved=True)
    Flow("nightly", tasks=[task(load, name="load")], state_handlers=[alert]).run()
    """
)


def run_process(store: Path, hook: str, outcome: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "FLOWLIGHT"))}
    env.update(
        OUTCOME=outcome,
        HOOK=hook,
        FLOWLIGHT__OTEL__TELEMETRY_DIR=str(store),
        PYTHONPATH=str(REPO / "src"),
    )
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-3000:]


def test_a_recovery_after_failures_in_other_processes_is_told_once(
    receiver: HttpReceiver, tmp_path: Path
) -> None:
    store = tmp_path / "telemetry"
    for outcome in ("fail", "fail", "succeed", "succeed"):
        run_process(store, receiver.url(), outcome)
    bodies = [r.json() for r in receiver.wait_for(3)]
    assert len(receiver.requests) == 3, "the second success has nothing to resolve"
    first, second, resolved = bodies
    assert [first["event"], second["event"], resolved["event"]] == [
        "state_change",
        "state_change",
        "resolved",
    ]
    assert receiver.requests[2].headers["X-Flowlight-Event"] == "resolved"
    assert resolved["state"]["type"] == "Success"
    recovered = resolved["flow"]["recovered"]
    assert recovered["failed_runs"] == 2
    assert recovered["last_failed_run_id"] == second["flow"]["run_id"]
    assert recovered["failing_since"] <= second["sent_at"]
    assert recovered["failing_for_seconds"] > 0
    lines = resolved["text"].splitlines()
    assert lines[0] == "Flow 'nightly' recovered: it is now Success."
    assert lines[1].startswith("Failing since: ") and "2 failed run(s)" in lines[1]
    assert lines[2] == f"Last failed run: {second['flow']['run_id']}"
    assert lines[3] == f"Fixed by run: {resolved['flow']['run_id']}"
    memory = json.loads((store / "notifier-state" / "last-reported.json").read_text())
    assert memory["entries"] == {}


def explode() -> None:
    raise ValueError("nope")


def run_flow(handler: Any, fail: bool, **run: Any) -> None:
    body = explode if fail else (lambda: 1)
    Flow("etl", tasks=[task(body, name="load")], state_handlers=[handler]).run(**run)


def test_each_notifier_keeps_its_own_memory(
    receiver: HttpReceiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Slack notifier that never saw the failure has nothing to resolve."""
    monkeypatch.setenv("FLOWLIGHT__OTEL__TELEMETRY_DIR", str(tmp_path / "store"))
    hook = webhook_notifier(url=receiver.url("/hook"), only_states=[Failed], resolved=True)
    slack = slack_notifier(only_states=[Failed], resolved=True)
    secrets = {"secrets": {"SLACK_WEBHOOK_URL": receiver.url("/services/T/B/resolved-1")}}
    run_flow(hook, fail=True)
    run_flow(slack, fail=False, context=secrets)
    run_flow(hook, fail=False)
    paths = [(r.path, r.headers.get("X-Flowlight-Event")) for r in receiver.wait_for(2)]
    assert paths == [("/hook", "state_change"), ("/hook", "resolved")]


def test_without_resolved_nothing_is_written(
    receiver: HttpReceiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWLIGHT__OTEL__TELEMETRY_DIR", str(tmp_path / "store"))
    hook = webhook_notifier(url=receiver.url(), only_states=[Failed])
    run_flow(hook, fail=True)
    run_flow(hook, fail=False)
    assert len(receiver.wait_for(1)) == 1
    assert not (tmp_path / "store").exists()


def test_the_setting_turns_resolved_notices_on(
    receiver: HttpReceiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWLIGHT__OTEL__TELEMETRY_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("FLOWLIGHT__NOTIFICATIONS__RESOLVED", "true")
    hook = webhook_notifier(url=receiver.url(), only_states=[Failed])
    run_flow(hook, fail=True)
    run_flow(hook, fail=False)
    assert [r.json()["event"] for r in receiver.wait_for(2)] == ["state_change", "resolved"]


def test_the_shipped_alertmanager_and_grafana_contact_points_send_resolved() -> None:
    """Alerts from the metrics path recover the same way: both shipped receivers say so."""
    import yaml

    alertmanager = yaml.safe_load((REPO / "collector-config" / "alertmanager.yml").read_text())
    configs = [c for r in alertmanager["receivers"] for c in r.get("webhook_configs", [])]
    assert configs and all(c.get("send_resolved") is True for c in configs)
    grafana = yaml.safe_load(
        (
            REPO
            / "dashboards"
            / "grafana-provisioning"
            / "alerting"
            / "flowlight-notifications.yaml"
        ).read_text()
    )
    receivers = [r for p in grafana["contactPoints"] for r in p["receivers"]]
    assert receivers and all(r.get("disableResolveMessage") is False for r in receivers)
