"""Flood control: a mapped task with 1,000 failing children sends one alert, not 1,000.

The default policy: per notifier, per flow run, at most one notification for each task, state
class and attempt number. The first `Failed` of a mapped task's children is sent; the other 999
are held back and counted; the counts ride along with the next notification the same notifier
sends in that flow run, or, when the notifier is also a flow state handler, with (or as) the flow's
final notification. A retrying task still gets one `Retrying` notice per attempt, since each
attempt has its own number.

`flood_control=False` on a notifier (or `FLOWLIGHT__NOTIFICATIONS__FLOOD_CONTROL=false`) turns it
off; an int allows that many notifications per key instead of one. The ledger lives in the process
that runs the handlers: with a Dask executor each worker process keeps its own, so the bound is per
worker.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field

from flowlight.utilities.notifications.notice import SuppressedCount

__all__ = ["FloodLedger", "flood_limit", "ledger"]

# Flow runs whose counts are remembered when no flow-level notifier ends them; oldest forgotten.
_REMEMBERED_RUNS = 256


def flood_limit(flood_control: bool | int) -> int | None:
    """Notifications allowed per key: None for no limit. Rejects values that make no sense."""
    if flood_control is True:
        return 1
    if flood_control is False:
        return None
    if isinstance(flood_control, int) and flood_control >= 1:
        return flood_control
    raise ValueError(
        f"flood_control={flood_control!r} is not understood; use True (one notification per "
        "task, state and attempt per flow run), False (no limit) or an int >= 1."
    )


@dataclass
class _RunCounts:
    sent: dict[Hashable, int] = field(default_factory=dict)
    held: dict[tuple[str | None, str], int] = field(default_factory=dict)


class FloodLedger:
    """What each notifier sent and held back in each flow run of this process (thread-safe)."""

    def __init__(self, remembered_runs: int = _REMEMBERED_RUNS) -> None:
        self._lock = threading.Lock()
        self._runs: OrderedDict[tuple[str, str], _RunCounts] = OrderedDict()
        self._remembered_runs = remembered_runs

    def _counts(self, channel: str, flow_run_id: str) -> _RunCounts:
        key = (channel, flow_run_id)
        counts = self._runs.get(key)
        if counts is None:
            counts = self._runs[key] = _RunCounts()
            while len(self._runs) > self._remembered_runs:
                self._runs.popitem(last=False)
        else:
            self._runs.move_to_end(key)
        return counts

    def admit(
        self,
        channel: str,
        flow_run_id: str | None,
        key: Hashable,
        label: tuple[str | None, str],
        limit: int | None,
    ) -> bool:
        """Whether a notification for `key` may go out; if not, count it under `label`.

        `label` is (task name or None for the flow, state class) as shown in the summary.
        Without a flow run id (a handler called outside a run) or a limit, everything is admitted.
        """
        if limit is None or flow_run_id is None:
            return True
        with self._lock:
            counts = self._counts(channel, flow_run_id)
            sent = counts.sent.get(key, 0)
            if sent < limit:
                counts.sent[key] = sent + 1
                return True
            counts.held[label] = counts.held.get(label, 0) + 1
            return False

    def take_held(self, channel: str, flow_run_id: str | None) -> tuple[SuppressedCount, ...]:
        """Counts held back so far (and not yet reported) for `channel` in this flow run."""
        if flow_run_id is None:
            return ()
        with self._lock:
            counts = self._runs.get((channel, flow_run_id))
            if counts is None or not counts.held:
                return ()
            held, counts.held = counts.held, {}
        return _as_summary(held)

    def end_run(self, channel: str, flow_run_id: str | None) -> tuple[SuppressedCount, ...]:
        """Forget the flow run and return what was held back and not yet reported."""
        if flow_run_id is None:
            return ()
        with self._lock:
            counts = self._runs.pop((channel, flow_run_id), None)
        return _as_summary(counts.held) if counts is not None else ()


def _as_summary(held: dict[tuple[str | None, str], int]) -> tuple[SuppressedCount, ...]:
    return tuple(
        SuppressedCount(task=task, state=state, count=count)
        for (task, state), count in sorted(held.items(), key=lambda item: (str(item[0]), item[1]))
    )


ledger = FloodLedger()
