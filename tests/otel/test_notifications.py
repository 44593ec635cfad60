"""Notifier outcomes on the trace and in the metrics: a real webhook notifier posting to a real
HTTP server on 127.0.0.1, and to a port where nothing listens."""

from __future__ import annotations

from typing import Any

import pytest
from tests.notifications import servers
from tests.notifications.servers import HttpReceiver

import flowlight.otel as otel
from flowlight import Flow, task
from flowlight.engine.state import Failed
from flowlight.utilities.notifications.delivery import DeliveryPolicy
from flowlight.utilities.notifications.notifiers import webhook_notifier

from .receivers import ReceivedTelemetry

# The notifier tests' HTTP receiver and refused URL, as fixtures here too; the receiver is renamed
# because `receiver` here is the OTLP receiver behind `received`.
webhook_receiver = servers.receiver
refused_url = servers.refused_url


def notifying_flow(url: str) -> Flow:
    notify = webhook_notifier(
        url=url,
        only_states=[Failed],
        flood_control=False,
        delivery=DeliveryPolicy(max_attempts=1, timeout=2.0),
    )

    @task(state_handlers=[notify])
    def bad() -> None:
        raise ValueError("nope")

    with Flow("notified") as flow:
        bad()
    return flow


@pytest.mark.parametrize("outcome", ["sent", "failed"])
def test_a_notification_is_a_span_event_and_a_count(
    received: ReceivedTelemetry, webhook_receiver: HttpReceiver, refused_url: str, outcome: str
) -> None:
    """A webhook delivery for the failed task shows as `notification.<outcome>` on the task's span
    and as flowlight.notifications{notifier="webhook", outcome=...}."""
    url = webhook_receiver.url() if outcome == "sent" else refused_url
    otel.instrument(notifying_flow(url)).run()
    received.wait_for(
        lambda r: len(r.spans()) >= 2 and r.metric_points("flowlight.notifications") != []
    )
    bad = next(s for s in received.spans() if s.name == "bad")
    event = dict(bad.events)[f"notification.{outcome}"]
    assert event["flowlight.notification.notifier"] == "webhook"
    assert event["flowlight.notification.attempts"] == 1
    assert (
        received.metric_value("flowlight.notifications", notifier="webhook", outcome=outcome) == 1
    )


def test_a_notification_after_shutdown_does_not_start_the_bridge_again(tmp_path: Any) -> None:
    """Once the bridge is shut down, a late delivery outcome is counted, not a reason to build
    new providers and exporters."""
    from flowlight.otel import _session
    from flowlight.utilities.notifications.delivery import DeliveryRecord

    otel.configure(telemetry_dir=str(tmp_path))
    otel.shutdown()
    before = otel.statistics().get("notifications_without_bridge", 0)
    _session.on_delivery(
        DeliveryRecord(
            notifier="webhook",
            outcome="sent",
            reason="",
            attempts=1,
            flow_run_id=None,
            task_run_id=None,
        )
    )
    assert _session._active is None
    assert otel.statistics()["notifications_without_bridge"] == before + 1
