"""The public surface of `flowlight.utilities.notifications`, pinned: a change here is a change
users and the OpenTelemetry bridge see."""

from __future__ import annotations

import dataclasses

import flowlight.utilities.notifications as notifications
from flowlight.utilities.notifications import DeliveryRecord


def test_the_package_exports_exactly_these_names() -> None:
    assert sorted(notifications.__all__) == [
        "Check",
        "DeliveryPolicy",
        "DeliveryRecord",
        "EmailAction",
        "EmailNotifier",
        "NotificationError",
        "SlackAction",
        "SlackNotifier",
        "WebhookAction",
        "WebhookNotifier",
        "add_delivery_listener",
        "callback_factory",
        "email_action",
        "email_notifier",
        "gmail_notifier",
        "in_states",
        "is_failed",
        "is_final_failure",
        "is_finished",
        "is_retrying",
        "is_successful",
        "is_upstream_failure",
        "remove_delivery_listener",
        "slack_action",
        "slack_message_formatter",
        "slack_notifier",
        "statistics",
        "verify_webhook_signature",
        "webhook_action",
        "webhook_notifier",
    ]
    for name in notifications.__all__:
        assert getattr(notifications, name) is not None


def test_delivery_records_have_the_shape_the_bridge_reads() -> None:
    """The bridge reads these six attributes; the record is frozen."""
    fields = [field.name for field in dataclasses.fields(DeliveryRecord)]
    assert fields == ["notifier", "outcome", "reason", "attempts", "flow_run_id", "task_run_id"]
    assert DeliveryRecord.__dataclass_params__.frozen  # type: ignore[attr-defined]
