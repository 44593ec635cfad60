"""Building state handlers from small pieces: `callback_factory(action, check)`, the delivery
actions and checks it is built from, and the ready-made notifiers made of the same pieces."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flowlight.engine.state import State
from flowlight.utilities.notifications.delivery import (
    DeliveryPolicy,
    DeliveryRecord,
    NotificationError,
    add_delivery_listener,
    remove_delivery_listener,
    statistics,
)

if TYPE_CHECKING:
    from flowlight.utilities.notifications.channels import (
        EmailAction,
        SlackAction,
        WebhookAction,
        email_action,
        slack_action,
        webhook_action,
    )
    from flowlight.utilities.notifications.checks import (
        Check,
        in_states,
        is_failed,
        is_final_failure,
        is_finished,
        is_retrying,
        is_successful,
        is_upstream_failure,
    )
    from flowlight.utilities.notifications.messages import slack_message_formatter
    from flowlight.utilities.notifications.notifiers import (
        EmailNotifier,
        SlackNotifier,
        WebhookNotifier,
        email_notifier,
        gmail_notifier,
        slack_notifier,
        webhook_notifier,
    )
    from flowlight.utilities.notifications.signing import verify_webhook_signature

# The channels import an HTTP client and mail machinery (about 100 ms), the checks and the
# webhook signature (hashlib) a few ms more: loaded on first use of one of these names, so that
# a process that only listens to deliveries (the OpenTelemetry bridge registers a listener when
# it is configured) does not pay for them.
_LAZY = {
    "slack_message_formatter": "messages",
    **dict.fromkeys(
        ("Check", "in_states", "is_failed", "is_final_failure", "is_finished", "is_retrying",
         "is_successful", "is_upstream_failure"),
        "checks",
    ),
    "verify_webhook_signature": "signing",
    **dict.fromkeys(
        ("EmailAction", "SlackAction", "WebhookAction", "email_action", "slack_action",
         "webhook_action"),
        "channels",
    ),
    **dict.fromkeys(
        ("EmailNotifier", "SlackNotifier", "WebhookNotifier", "email_notifier",
         "gmail_notifier", "slack_notifier", "webhook_notifier"),
        "notifiers",
    ),
}  # fmt: skip


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
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


def callback_factory(
    fn: Callable[[Any, State], Any], check: Callable[[State], Any]
) -> Callable[[Any, State, State], State]:
    """A state handler that calls `fn(obj, new_state)` when `check(new_state)` is exactly True.

    The handler always returns the proposed state: an action cannot change the run's outcome
    except by raising (which, as for any handler, fails the run). A check that raises fails the
    run the same way. With a delivery action (`slack_action()`, ...) as `fn`, delivery never
    raises unless that action was made with `raise_on_failure=True`.
    """
    if not callable(fn):
        raise TypeError(f"callback_factory needs a callable action fn(obj, state), got {fn!r}.")
    if not callable(check):
        raise TypeError(f"callback_factory needs a callable check(state) -> bool, got {check!r}.")

    def state_handler(obj: Any, old_state: State, new_state: State) -> State:
        if check(new_state) is True:
            fn(obj, new_state)
        return new_state

    state_handler.__qualname__ = f"callback_factory({getattr(fn, '__qualname__', fn)!s})"
    return state_handler
