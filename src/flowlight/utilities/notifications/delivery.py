"""Getting a notification out: retries with backoff inside a time budget, and reporting the outcome.

A notifier runs inside a state handler, so whatever happens here happens to the task: delivery must
end within a bounded time and must never raise unless the user asked for it (`raise_on_failure`).
Every notification ends in exactly one `DeliveryRecord` ("sent", "failed" or "suppressed") that goes
to the registered listeners (the OpenTelemetry bridge turns them into span events and a metric) and
into the in-process counters returned by `statistics()`.

Time is read through a `Clock`, so tests can run the retry schedule without sleeping.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, Literal, Protocol

from flowlight.settings import number_setting
from flowlight.utilities.logging import get_logger
from flowlight.utilities.redaction import redact

__all__ = [
    "AttemptResult",
    "Clock",
    "DeliveryListener",
    "DeliveryPolicy",
    "DeliveryRecord",
    "DeliveryStatistics",
    "NotificationError",
    "add_delivery_listener",
    "deliver",
    "remove_delivery_listener",
    "report",
    "statistics",
]

NotifierKind = Literal["slack", "webhook", "email"]
Outcome = Literal["sent", "failed", "suppressed"]


class NotificationError(RuntimeError):
    """Raised by a notifier configured with `raise_on_failure=True` when delivery finally failed.

    Its message is redacted: it names the notifier and the reason, never a secret value.
    """


class Clock(Protocol):
    """The seam through which delivery reads and spends time (the engine's clock has this shape)."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


def _engine_clock() -> Clock:
    from flowlight.engine.clock import get_clock

    return get_clock()


def _positive(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(
            f"DeliveryPolicy.{name} is {value!r}; it must be a positive number of seconds."
        )


# What each FLOWLIGHT__NOTIFICATIONS__<FIELD> setting must be (the checks __post_init__ makes);
# a value outside them warns and the default applies, so a bad setting never fails a run.
_SETTING_RULES: dict[str, dict[str, Any]] = {
    "timeout": {"above": 0},
    "max_attempts": {"integer": True, "minimum": 1},
    "backoff_initial": {"above": 0},
    "backoff_factor": {"minimum": 1},
    "backoff_max": {"above": 0},
    "retry_after_max": {"above": 0},
    "total_time": {"above": 0},
}


@dataclass(frozen=True)
class DeliveryPolicy:
    """How hard one notification is tried, and for how long at most.

    Defaults: each call times out after 5 s; up to 4 attempts, waiting 0.5 s, 1 s, 2 s between
    them (doubling, capped at `backoff_max`); a 429's Retry-After is honoured up to
    `retry_after_max`; and no notification keeps its task waiting longer than `total_time`
    (20 s) in all. Time is read and spent through `clock`, by default the engine's clock
    (`flowlight.engine.clock`), so a test clock speeds up task retries and delivery alike. Each
    default can be set with `FLOWLIGHT__NOTIFICATIONS__<FIELD>`
    (for example `FLOWLIGHT__NOTIFICATIONS__TOTAL_TIME=5`).
    """

    timeout: float = 5.0
    max_attempts: int = 4
    backoff_initial: float = 0.5
    backoff_factor: float = 2.0
    backoff_max: float = 8.0
    retry_after_max: float = 10.0
    total_time: float = 20.0
    clock: Clock | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        for name in ("timeout", "backoff_initial", "backoff_max", "retry_after_max", "total_time"):
            _positive(name, getattr(self, name))
        if not isinstance(self.max_attempts, int) or self.max_attempts < 1:
            raise ValueError(
                f"DeliveryPolicy.max_attempts is {self.max_attempts!r}; it must be an int >= 1 "
                "(1 means no retries)."
            )
        if self.backoff_factor < 1:
            raise ValueError(
                f"DeliveryPolicy.backoff_factor is {self.backoff_factor!r}; it must be >= 1 so "
                "waits never shrink."
            )

    @classmethod
    def from_settings(cls) -> DeliveryPolicy:
        """The default policy with any `FLOWLIGHT__NOTIFICATIONS__*` overrides applied."""
        defaults = cls()
        values = {
            f.name: number_setting(
                "notifications",
                f.name,
                default=getattr(defaults, f.name),
                **_SETTING_RULES[f.name],
            )
            for f in fields(cls)
            if f.name != "clock"  # an object, not something a setting can hold
        }
        return cls(**values)

    def backoff(self, retry_number: int) -> float:
        """Seconds to wait before retry `retry_number` (1 for the first retry)."""
        wait = self.backoff_initial * self.backoff_factor ** (retry_number - 1)
        return float(min(self.backoff_max, wait))


@dataclass(frozen=True)
class AttemptResult:
    """What one call to the receiver gave: sent, worth retrying, or not worth retrying.

    `reason` is in flowlight's own words (never a library's exception text, which can quote a
    secret URL); `retry_after` is the receiver's Retry-After in seconds, if it sent one.
    """

    outcome: Literal["sent", "retry", "fail"]
    reason: str
    retry_after: float | None = None


@dataclass(frozen=True)
class DeliveryRecord:
    """The final outcome of one notification, as given to every delivery listener.

    `reason` is redacted; `attempts` is 0 for a notification that was suppressed or could not be
    prepared (a missing secret, say); the run ids come from `flowlight.context`.
    """

    notifier: NotifierKind
    outcome: Outcome
    reason: str
    attempts: int
    flow_run_id: str | None
    task_run_id: str | None


DeliveryListener = Callable[[DeliveryRecord], object]


@dataclass(frozen=True)
class DeliveryStatistics:
    """Counts since the process started: final outcomes, calls made, and listeners that raised."""

    sent: int
    failed: int
    suppressed: int
    attempts: int
    retries: int
    listener_errors: int
    by_notifier: dict[str, dict[str, int]]


_lock = threading.Lock()
_listeners: list[DeliveryListener] = []
_counts: dict[str, int] = {"attempts": 0, "retries": 0, "listener_errors": 0}
_by_notifier: dict[str, dict[str, int]] = {}


def add_delivery_listener(listener: DeliveryListener) -> None:
    """Call `listener(record)` with the `DeliveryRecord` of every notification from now on.

    Listeners are called in the thread that delivered, after delivery ended; one that raises is
    logged and counted (`statistics().listener_errors`) and does not affect delivery.
    """
    if not callable(listener):
        raise TypeError(
            f"add_delivery_listener got {listener!r}, which is not callable; pass a function "
            "taking one DeliveryRecord."
        )
    with _lock:
        if listener not in _listeners:
            _listeners.append(listener)


def remove_delivery_listener(listener: DeliveryListener) -> None:
    """Stop calling `listener`; removing one that was never added does nothing."""
    with _lock:
        if listener in _listeners:
            _listeners.remove(listener)


def statistics() -> DeliveryStatistics:
    """A snapshot of the delivery counters of this process."""
    with _lock:
        by_notifier = {kind: dict(counts) for kind, counts in _by_notifier.items()}
        counts = dict(_counts)
    totals = {
        outcome: sum(c.get(outcome, 0) for c in by_notifier.values())
        for outcome in ("sent", "failed", "suppressed")
    }
    return DeliveryStatistics(
        sent=totals["sent"],
        failed=totals["failed"],
        suppressed=totals["suppressed"],
        attempts=counts["attempts"],
        retries=counts["retries"],
        listener_errors=counts["listener_errors"],
        by_notifier=by_notifier,
    )


def report(record: DeliveryRecord) -> None:
    """Count `record` and hand it to every listener; never raises."""
    with _lock:
        per_kind = _by_notifier.setdefault(record.notifier, {})
        per_kind[record.outcome] = per_kind.get(record.outcome, 0) + 1
        listeners = list(_listeners)
    for listener in listeners:
        try:
            listener(record)
        except Exception as error:  # a broken listener must not break delivery
            with _lock:
                _counts["listener_errors"] += 1
            # The logger is made here: importing this module (as the OpenTelemetry bridge does to
            # register its listener) must not load structlog.
            get_logger("flowlight.notifications").warning(
                "notification delivery listener raised",
                listener=getattr(listener, "__qualname__", type(listener).__name__),
                error=redact(repr(error)),
            )


def _count_call(retry: bool) -> None:
    with _lock:
        _counts["attempts"] += 1
        if retry:
            _counts["retries"] += 1


def deliver(
    attempt: Callable[[float], AttemptResult], policy: DeliveryPolicy
) -> tuple[Literal["sent", "failed"], str, int]:
    """Run `attempt(timeout)` until it sends, fails for good, or the policy's budget runs out.

    Returns the outcome, a redacted reason and the number of calls made. A wait that would end
    past `policy.total_time` is not started: delivery gives up at once instead, so the caller is
    held at most about `total_time` (plus the scheduling slack of the last call's timeout).
    """
    clock = policy.clock if policy.clock is not None else _engine_clock()
    started = clock.now()
    attempts = 0
    last = "not attempted"
    while True:
        remaining = policy.total_time - (clock.now() - started)
        if remaining <= 0:
            return (
                "failed",
                redact(f"{last}; gave up: {policy.total_time:g} s budget spent"),
                attempts,
            )
        _count_call(retry=attempts > 0)
        attempts += 1
        try:
            result = attempt(min(policy.timeout, remaining))
        except Exception as error:  # a transport bug must still end in a record, not a raise
            result = AttemptResult("fail", f"unexpected {type(error).__name__} while sending")
        last = result.reason
        if result.outcome == "sent":
            return "sent", redact(result.reason), attempts
        if result.outcome == "fail":
            return "failed", redact(result.reason), attempts
        if attempts >= policy.max_attempts:
            return "failed", redact(f"{last}; gave up after {attempts} attempts"), attempts
        wait = policy.backoff(attempts)
        if result.retry_after is not None:
            wait = min(max(result.retry_after, 0.0), policy.retry_after_max)
        elapsed = clock.now() - started
        if elapsed + wait >= policy.total_time:
            return (
                "failed",
                redact(
                    f"{last}; gave up after {attempts} attempts: waiting {wait:g} s more would "
                    f"pass the {policy.total_time:g} s budget"
                ),
                attempts,
            )
        clock.sleep(wait)
