"""The channel-independent half of every delivery: flood control, delivery records, and the
promise never to raise into the task unless asked to.

A `DeliveryAction` is an action in Prefect 1's `callback_factory(action, check)` sense: called as
`action(obj, state)`, it tells its channel about `state`. A concrete action (Slack, webhook,
e-mail: see `channels.py`) only says how to turn a `Notice` into one delivery. The notifiers
(`notifiers.py`) are such an action behind a state filter, so both forms share this one path:
the same records, retries, masking, trace links and flood control.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar

from flowlight.client.secrets import Secret
from flowlight.core.flow import Flow
from flowlight.settings import setting
from flowlight.utilities import _prefect1
from flowlight.utilities.context import current
from flowlight.utilities.logging import get_logger
from flowlight.utilities.notifications.delivery import (
    DeliveryPolicy,
    DeliveryRecord,
    NotificationError,
    NotifierKind,
    Outcome,
    report,
)
from flowlight.utilities.notifications.notice import (
    Notice,
    NoticeKind,
    Recovery,
    SuppressedCount,
    notice_for,
    state_check,
)
from flowlight.utilities.notifications.templates import MessageTemplate, log_url
from flowlight.utilities.notifications.templates import (
    log_url_template as log_url_template_setting,
)
from flowlight.utilities.notifications.throttle import flood_limit, ledger
from flowlight.utilities.redaction import redact

__all__ = ["DeliveryAction", "is_flow", "read_secret"]

logger = get_logger("flowlight.notifications")


def _trace_template(template: str | None) -> str | None:
    if template is None:
        template = setting("notifications", "trace_url_template", default=None)
    if template is None or template == "":
        return None
    template = str(template)
    try:
        template.format(trace_id="0" * 32)
    except (KeyError, IndexError, ValueError) as error:
        raise ValueError(
            f"trace_url_template {template!r} cannot be filled in ({error!r}); it may use only "
            "the field {trace_id}, e.g. 'http://localhost:16686/trace/{trace_id}'."
        ) from None
    if "{trace_id}" not in template:
        raise ValueError(
            f"trace_url_template {template!r} has no {{trace_id}} field, so every link would be "
            "the same; e.g. 'http://localhost:16686/trace/{trace_id}'."
        )
    return template


def read_secret(name: str, what: str) -> str:
    """The string value of Secret `name` (read through flowlight's Secret, which registers it
    for redaction); `what` says what the value is for, in the error when it is not a string."""
    value: object = Secret(name).get()
    # Secrets from the environment are parsed like settings: a numeric password comes back an int.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise ValueError(
            f"Secret {name!r} holds a {type(value).__name__}, not {what} as a non-empty string; "
            f"set it to {what}."
        )
    return value


def is_flow(obj: Any) -> bool:
    """Whether `obj` is a flow (flowlight's or a genuine Prefect 1 one) rather than a task."""
    return isinstance(obj, Flow) or _prefect1.is_prefect1_flow(obj)


class DeliveryAction(abc.ABC):
    """Tells one channel about a state: usable as `callback_factory(action, check)`'s action.

    Subclasses set `kind` and implement `channel` (a stable name of the destination, used to keep
    flood-control counts apart) and `send` (one delivery of a notice, with retries).
    """

    kind: ClassVar[NotifierKind]

    def __init__(
        self,
        *,
        flood_control: bool | int | None = None,
        trace_url_template: str | None = None,
        raise_on_failure: bool = False,
        delivery: DeliveryPolicy | None = None,
        template: str | None = None,
        log_url_template: str | None = None,
    ) -> None:
        self.template = MessageTemplate(template) if template is not None else None
        self.log_url_template = log_url_template_setting(log_url_template)
        if flood_control is None:
            flood_control = setting("notifications", "flood_control", default=True)
        self.flood_limit = flood_limit(flood_control)
        self.trace_url_template = _trace_template(trace_url_template)
        self.raise_on_failure = bool(raise_on_failure)
        self.delivery = delivery if delivery is not None else DeliveryPolicy.from_settings()

    # -- what subclasses provide -------------------------------------------------------------
    @property
    @abc.abstractmethod
    def channel(self) -> str:
        """Where notices go, for log lines and flood control (never the secret URL itself)."""

    @abc.abstractmethod
    def send(self, notice: Notice) -> tuple[Outcome, str, int]:
        """Deliver `notice` once (with retries); return outcome, redacted reason, attempts."""

    def custom_text(self, notice: Notice) -> str | None:
        """The user's `template` filled from `notice`, or None for the default wording."""
        return self.template.render(notice) if self.template is not None else None

    # -- the action ----------------------------------------------------------------------------
    def __call__(self, obj: Any, state: Any) -> None:
        """Tell about `state` of `obj` (a flow or a task) now: the `callback_factory` form.

        Raises only `NotificationError`, and only with `raise_on_failure=True`.
        """
        self.tell(obj, None, state)

    def tell(self, obj: Any, old_state: Any, new_state: Any, *, summary_only: bool = False) -> None:
        """Tell about `old_state -> new_state` of `obj`, within flood control.

        With `summary_only`, the transition itself is of no interest: only when it ends a flow
        run is something sent, the notifications held back in that run, if any. Raises only
        `NotificationError`, and only with `raise_on_failure=True`.
        """
        try:
            # On a Prefect 1 flow or task, flowlight.context reads that run's prefect.context.
            with _prefect1.flowlight_context_for(obj):
                self._tell(obj, old_state, new_state, summary_only)
        except NotificationError:
            raise
        except Exception as error:  # an action must not fail the task it watches
            logger.error(
                "notifier broke while handling a transition",
                notifier=self.kind,
                error=redact(repr(error)),
            )
            try:
                run_context = current()
            except Exception:
                run_context = {}
            self._record("failed", f"notifier error {type(error).__name__}", 0, run_context)

    def tell_recovery(self, obj: Any, old_state: Any, new_state: Any, recovery: Recovery) -> None:
        """Tell that flow `obj`, reported failed before, ended `new_state` (a success): a
        resolved notice, outside flood control. Raises only as `tell` does."""
        try:
            with _prefect1.flowlight_context_for(obj):
                run_context = current()
                notice = notice_for(
                    obj,
                    old_state,
                    new_state,
                    run_context,
                    is_flow=True,
                    trace_url_template=self.trace_url_template,
                    kind="resolved",
                )
                self._send(replace(notice, recovery=recovery), run_context)
        except NotificationError:
            raise
        except Exception as error:
            logger.error(
                "notifier broke while telling a recovery",
                notifier=self.kind,
                error=redact(repr(error)),
            )
            self._record("failed", f"notifier error {type(error).__name__}", 0, current())

    def suppress(self, reason: str) -> None:
        """Record a notification that was deliberately not sent (and why), in the current run."""
        self._record("suppressed", reason, 0, current())

    def _tell(self, obj: Any, old_state: Any, new_state: Any, summary_only: bool) -> None:
        run_context = current()
        flow_run_id = run_context.get("flow_run_id")
        about_flow = is_flow(obj)
        if about_flow and state_check(new_state, "is_finished"):
            held = ledger.end_run(self.channel, flow_run_id)
            if summary_only and not held:
                return
            kind: NoticeKind = "suppressed_summary" if summary_only else "state_change"
            self._notify(obj, old_state, new_state, run_context, about_flow, held, kind)
            return
        if summary_only:
            return
        if not about_flow:
            state_name = type(new_state).__name__
            key = (run_context.get("task_slug"), state_name, run_context.get("task_run_count"))
            label = (run_context.get("task_name") or getattr(obj, "name", None), state_name)
            if not ledger.admit(self.channel, flow_run_id, key, label, self.flood_limit):
                self._record(
                    "suppressed",
                    f"flood control: a {state_name} notification for this task was already "
                    "sent in this flow run",
                    0,
                    run_context,
                )
                return
        held = ledger.take_held(self.channel, flow_run_id)
        self._notify(obj, old_state, new_state, run_context, about_flow, held, "state_change")

    def _notify(
        self,
        obj: Any,
        old_state: Any,
        new_state: Any,
        run_context: Mapping[str, Any],
        about_flow: bool,
        held: tuple[SuppressedCount, ...],
        kind: NoticeKind,
    ) -> None:
        notice = notice_for(
            obj,
            old_state,
            new_state,
            run_context,
            is_flow=about_flow,
            trace_url_template=self.trace_url_template,
            suppressed=held,
            kind=kind,
        )
        self._send(notice, run_context)

    def _send(self, notice: Notice, run_context: Mapping[str, Any]) -> None:
        """Deliver `notice`, record the outcome, and raise only if asked to."""
        if self.log_url_template is not None:
            notice = replace(notice, logs_url=log_url(self.log_url_template, notice))
        try:
            outcome, reason, attempts = self.send(notice)
        except Exception as error:  # a missing or malformed secret, bad recipient data, ...
            outcome, reason, attempts = "failed", _preparation_failure(error), 0
        self._record(outcome, reason, attempts, run_context)
        if outcome == "failed":
            logger.warning(
                "notification not delivered",
                notifier=self.kind,
                about=notice.subject,
                reason=reason,
                attempts=attempts,
            )
            if self.raise_on_failure:
                raise NotificationError(
                    redact(f"{self.kind} notification about {notice.subject} failed: {reason}")
                )
        else:
            logger.debug(
                "notification " + outcome, notifier=self.kind, about=notice.subject, reason=reason
            )

    def _record(
        self, outcome: Outcome, reason: str, attempts: int, run_context: Mapping[str, Any]
    ) -> None:
        report(
            DeliveryRecord(
                notifier=self.kind,
                outcome=outcome,
                reason=redact(reason),
                attempts=attempts,
                flow_run_id=run_context.get("flow_run_id"),
                task_run_id=run_context.get("task_run_id"),
            )
        )


def _preparation_failure(error: Exception) -> str:
    """A reason for a notification that could not even be attempted."""
    if isinstance(error, ValueError) and "Secret" in str(error):
        return redact(str(error))
    return redact(f"could not prepare the notification: {type(error).__name__}: {error}")
