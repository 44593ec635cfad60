"""The state-handler half shared by every notifier: which transitions to tell, flood control,
delivery reporting, and the promise never to raise into the task unless asked to.

A concrete notifier (Slack, webhook, e-mail) only says how to turn a `Notice` into one delivery;
everything a user relies on regardless of channel (the `only_states` / `ignore_states` filters of
Prefect 1's `slack_notifier`, secrets read only when something will be sent, one record per
notification, `raise_on_failure`) lives here once.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping
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
from flowlight.utilities.notifications.messages import (
    Notice,
    SuppressedCount,
    _check,
    notice_for,
)
from flowlight.utilities.notifications.throttle import flood_limit, ledger
from flowlight.utilities.redaction import redact

__all__ = ["Notifier", "read_secret"]

logger = get_logger("flowlight.notifications")


def _state_classes(name: str, states: Iterable[type] | None) -> tuple[type, ...] | None:
    if states is None:
        return None
    if isinstance(states, type):
        raise TypeError(
            f"{name}={states.__name__} must be a list of state classes, e.g. {name}=[Failed]."
        )
    classes = tuple(states)
    for state in classes:
        if not isinstance(state, type):
            raise TypeError(
                f"{name} holds {state!r}, which is not a state class; pass classes such as "
                f"Failed or Retrying, not instances like Failed()."
            )
    return classes


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


def _is_flow(obj: Any) -> bool:
    return isinstance(obj, Flow) or _prefect1.is_prefect1_flow(obj)


class Notifier(abc.ABC):
    """A state handler that tells someone about transitions: the channel-independent part.

    Subclasses set `kind` and implement `channel` (a stable name of the destination, used to keep
    flood-control counts apart) and `send` (one delivery of a notice).
    """

    kind: ClassVar[NotifierKind]

    def __init__(
        self,
        *,
        only_states: Iterable[type] | None = None,
        ignore_states: Iterable[type] | None = None,
        flood_control: bool | int | None = None,
        trace_url_template: str | None = None,
        raise_on_failure: bool = False,
        delivery: DeliveryPolicy | None = None,
    ) -> None:
        self.only_states = _state_classes("only_states", only_states)
        self.ignore_states = _state_classes("ignore_states", ignore_states)
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
        """Where notices go, for log lines (never the secret URL itself)."""

    @abc.abstractmethod
    def send(self, notice: Notice) -> tuple[Outcome, str, int]:
        """Deliver `notice` once (with retries); return outcome, redacted reason, attempts."""

    # -- the state handler ---------------------------------------------------------------------
    def wants(self, state: Any) -> bool:
        """Prefect 1's filter: `ignore_states` first, then `only_states`, both with isinstance."""
        if self.ignore_states and isinstance(state, self.ignore_states):
            return False
        return not (self.only_states is not None and not isinstance(state, self.only_states))

    def __call__(self, obj: Any, old_state: Any, new_state: Any) -> Any:
        """Notify about `old_state -> new_state` if wanted; always return `new_state` unchanged.

        Raises only `NotificationError`, and only with `raise_on_failure=True`.
        """
        try:
            wanted = self.wants(new_state)
            ends_run = _check(new_state, "is_finished")
            if not wanted and not ends_run:
                return new_state  # the hot path: most transitions are of no interest
            is_flow = _is_flow(obj)
            if not wanted and not is_flow:
                return new_state  # a task run ended in a state nobody asked about
            # On a Prefect 1 flow or task, flowlight.context reads that run's prefect.context.
            with _prefect1.flowlight_context_for(obj):
                self._handle(
                    obj,
                    old_state,
                    new_state,
                    wanted=wanted,
                    is_flow=is_flow,
                    ends_flow_run=is_flow and ends_run,
                )
        except NotificationError:
            raise
        except Exception as error:  # a notifier must not fail the task it watches
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
        return new_state

    def _handle(
        self,
        obj: Any,
        old_state: Any,
        new_state: Any,
        *,
        wanted: bool,
        is_flow: bool,
        ends_flow_run: bool,
    ) -> None:
        """Tell about a transition that is `wanted`, or that ends a flow run (`ends_flow_run`),
        whose notifications held back by flood control are then summed up."""
        run_context = current()
        flow_run_id = run_context.get("flow_run_id")
        if ends_flow_run:
            held = ledger.end_run(self.channel, flow_run_id)
            if wanted or held:
                kind = "state_change" if wanted else "suppressed_summary"
                self._notify(obj, old_state, new_state, run_context, is_flow, held, kind)
            return
        if not is_flow:
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
        self._notify(obj, old_state, new_state, run_context, is_flow, held, "state_change")

    def _notify(
        self,
        obj: Any,
        old_state: Any,
        new_state: Any,
        run_context: Mapping[str, Any],
        is_flow: bool,
        held: tuple[SuppressedCount, ...],
        kind: Any,
    ) -> None:
        notice = notice_for(
            obj,
            old_state,
            new_state,
            run_context,
            is_flow=is_flow,
            trace_url_template=self.trace_url_template,
            suppressed=held,
            kind=kind,
        )
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
