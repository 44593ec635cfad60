"""Ready-made notifiers: Slack, any webhook, e-mail (and Gmail, for Prefect 1 parity).

Each is a state handler used like Prefect 1's curried `slack_notifier`: attach it as is
(`state_handlers=[slack_notifier]`) or configure it first
(`slack_notifier(only_states=[Failed], webhook_secret="OPS_SLACK")`). A notifier is a delivery
action (`channels.py`) behind a check (`only_states` / `ignore_states`), plus the one thing a
bare action cannot do: at the end of a flow run, send what flood control held back even when the
flow's own state is not one to report. Secrets are read only when a notification is about to be
sent, so a missing secret never touches a task that has nothing to report.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any, overload

from flowlight.settings import setting
from flowlight.utilities import _prefect1
from flowlight.utilities.context import current
from flowlight.utilities.logging import get_logger
from flowlight.utilities.notifications.base import DeliveryAction, is_flow
from flowlight.utilities.notifications.channels import (
    EmailAction,
    SlackAction,
    WebhookAction,
    gmail_options,
)
from flowlight.utilities.notifications.checks import Check, StateFilter, retry_follows
from flowlight.utilities.notifications.delivery import NotificationError
from flowlight.utilities.notifications.failures import is_upstream_failure
from flowlight.utilities.notifications.memory import ReportedFailures
from flowlight.utilities.notifications.notice import Recovery, state_check
from flowlight.utilities.redaction import redact

__all__ = [
    "EmailNotifier",
    "Notifier",
    "SlackNotifier",
    "WebhookNotifier",
    "email_notifier",
    "gmail_notifier",
    "slack_notifier",
    "webhook_notifier",
]

logger = get_logger("flowlight.notifications")


class Notifier:
    """A state handler: `action` told about every transition the state filter lets through.

    The channel's settings (`channel`, `delivery`, `flood_limit`, `server`, ...) are read from
    the action, so `notifier.delivery` is the policy its deliveries use.
    """

    def __init__(
        self,
        action: DeliveryAction,
        *,
        only_states: Iterable[type] | None = None,
        ignore_states: Iterable[type] | None = None,
        root_cause: bool | None = None,
        resolved: bool | None = None,
    ) -> None:
        if root_cause is None:
            root_cause = bool(setting("notifications", "root_cause", default=False))
        self.root_cause = bool(root_cause)
        if resolved is None:
            resolved = bool(setting("notifications", "resolved", default=False))
        self.memory = ReportedFailures() if resolved else None
        state_filter = StateFilter(only_states, ignore_states)
        self.only_states = state_filter.only
        self.ignore_states = state_filter.ignore
        self.wants = Check(state_filter, "in_states")
        self.action = action

    def __getattr__(self, name: str) -> Any:
        # Only reached for names the notifier itself lacks; never for its own (or while a copy
        # is being unpickled and has no action yet).
        if name.startswith("__") or name == "action":
            raise AttributeError(name)
        return getattr(self.action, name)

    def __call__(self, obj: Any, old_state: Any, new_state: Any) -> Any:
        """Notify about `old_state -> new_state` if wanted; always return `new_state` unchanged.

        Raises only `NotificationError`, and only with `raise_on_failure=True`.
        """
        try:
            wanted = self.wants(new_state)
            if not wanted and not state_check(new_state, "is_finished"):
                return new_state  # the hot path: most transitions are of no interest
            if not wanted and not is_flow(obj):
                return new_state  # a task run ended in a state nobody asked about
            if wanted and self.root_cause and not is_flow(obj):
                with _prefect1.flowlight_context_for(obj):
                    reason = _not_a_root_cause(obj, new_state)
                    if reason is not None:
                        self.action.suppress(reason)
                        return new_state
            self.action.tell(obj, old_state, new_state, summary_only=not wanted)
            if self.memory is not None and is_flow(obj):
                self._remember(obj, old_state, new_state, reported=wanted)
        except NotificationError:
            raise
        except Exception as error:  # a notifier must not fail the task it watches
            logger.error(
                "notifier broke while handling a transition",
                notifier=self.action.kind,
                error=redact(repr(error)),
            )
            self.action.suppress(f"notifier error {type(error).__name__}")
        return new_state

    def _remember(self, obj: Any, old_state: Any, new_state: Any, *, reported: bool) -> None:
        """Keep a reported flow failure in the memory; on a success after one, say so."""
        assert self.memory is not None
        with _prefect1.flowlight_context_for(obj):
            run_context = current()
            flow = str(run_context.get("flow_name") or getattr(obj, "name", ""))
            run_id = run_context.get("flow_run_id")
        channel = self.action.channel
        if state_check(new_state, "is_failed"):
            if reported:
                self.memory.failed(channel, flow, run_id, time.time())
            return
        if not state_check(new_state, "is_successful"):
            return
        before = self.memory.recovered(channel, flow)
        if before is None:
            return
        now = time.time()
        recovery = Recovery(
            failing_since=datetime.fromtimestamp(before.failing_since, timezone.utc),
            failing_for_seconds=max(0.0, now - before.failing_since),
            failed_runs=before.failed_runs,
            last_failed_run_id=before.last_failed_run_id,
        )
        self.action.tell_recovery(obj, old_state, new_state, recovery)


def _not_a_root_cause(task: Any, state: Any) -> str | None:
    """Why a task's state is not told with `root_cause=True`, or None if it is."""
    if not state_check(state, "is_failed"):
        return None
    if is_upstream_failure(state):
        return (
            "root cause only: a task that did not run because an upstream task failed is "
            "named in the flow's notification"
        )
    max_retries = getattr(task, "max_retries", None)
    if retry_follows(state, max_retries if isinstance(max_retries, int) else None):
        return "root cause only: a retry follows this failure"
    return None


_OWN_OPTIONS = ("only_states", "ignore_states", "root_cause", "resolved")


def _split(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The notifier's own options (its state filter), and the rest, which are the action's."""
    mine: dict[str, Any] = {k: options.pop(k) for k in _OWN_OPTIONS if k in options}
    return mine, options


class SlackNotifier(Notifier):
    """A `SlackAction` (see there for its options) behind Prefect 1's state filter."""

    def __init__(self, **options: Any) -> None:
        mine, rest = _split(options)
        super().__init__(SlackAction(**rest), **mine)


class WebhookNotifier(Notifier):
    """A `WebhookAction` (see there for its options) behind Prefect 1's state filter."""

    def __init__(self, **options: Any) -> None:
        mine, rest = _split(options)
        super().__init__(WebhookAction(**rest), **mine)


class EmailNotifier(Notifier):
    """An `EmailAction` (see there for its options) behind Prefect 1's state filter."""

    def __init__(self, **options: Any) -> None:
        mine, rest = _split(options)
        super().__init__(EmailAction(**rest), **mine)


def _apply(make: Callable[..., Notifier], args: tuple[Any, ...], options: dict[str, Any]) -> Any:
    """Prefect 1's curry: `f(obj, old, new, **options)` handles a transition, `f(**options)`
    returns the configured handler."""
    if not args:
        return make(**options)
    if len(args) != 3:
        raise TypeError(
            f"a notifier takes (obj, old_state, new_state) as a state handler, or only keyword "
            f"options to configure one; it got {len(args)} positional argument(s)."
        )
    return make(**options)(*args)


@overload
def slack_notifier(obj: Any, old_state: Any, new_state: Any, /, **options: Any) -> Any: ...
@overload
def slack_notifier(**options: Any) -> SlackNotifier: ...
def slack_notifier(*args: Any, **options: Any) -> Any:
    """Slack alerts: a state handler as is, or `slack_notifier(**options)` for a configured one.

    Options: `webhook_secret` (default "SLACK_WEBHOOK_URL"), `only_states`, `ignore_states`,
    `root_cause`, `resolved`, `flood_control`, `trace_url_template`, `log_url_template`,
    `template`, `raise_on_failure`, `delivery`; Prefect 1's `proxies` and `backend_info`
    (accepted and ignored: no cloud API is called).
    """
    return _apply(SlackNotifier, args, options)


@overload
def webhook_notifier(obj: Any, old_state: Any, new_state: Any, /, **options: Any) -> Any: ...
@overload
def webhook_notifier(**options: Any) -> WebhookNotifier: ...
def webhook_notifier(*args: Any, **options: Any) -> Any:
    """Webhook alerts; needs `url=` or `url_secret=` (see WebhookAction for the rest)."""
    return _apply(WebhookNotifier, args, options)


@overload
def email_notifier(obj: Any, old_state: Any, new_state: Any, /, **options: Any) -> Any: ...
@overload
def email_notifier(**options: Any) -> EmailNotifier: ...
def email_notifier(*args: Any, **options: Any) -> Any:
    """E-mail alerts; needs `to=` or login secrets (see EmailAction for the rest)."""
    return _apply(EmailNotifier, args, options)


def _gmail(**options: Any) -> EmailNotifier:
    return EmailNotifier(**gmail_options(options))


@overload
def gmail_notifier(obj: Any, old_state: Any, new_state: Any, /, **options: Any) -> Any: ...
@overload
def gmail_notifier(**options: Any) -> EmailNotifier: ...
def gmail_notifier(*args: Any, **options: Any) -> Any:
    """Prefect 1's gmail_notifier: smtp.gmail.com:465 over SSL, logging in with the Secrets
    EMAIL_USERNAME / EMAIL_PASSWORD and writing to that same address unless `to=` is given."""
    return _apply(_gmail, args, options)
