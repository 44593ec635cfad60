"""Flood control's ledger: one notification per key per flow run, the rest counted and handed
over exactly once, flow runs forgotten when they end or grow old."""

from __future__ import annotations

import threading

import pytest

from flowlight.utilities.notifications.messages import SuppressedCount
from flowlight.utilities.notifications.throttle import FloodLedger, flood_limit

LABEL = ("load", "Failed")


def test_the_first_notification_per_key_passes_and_the_rest_are_counted() -> None:
    ledger = FloodLedger()
    admitted = [ledger.admit("slack", "run", ("load", "Failed", 1), LABEL, 1) for _ in range(1000)]
    assert admitted.count(True) == 1
    assert ledger.take_held("slack", "run") == (SuppressedCount("load", "Failed", 999),)
    assert ledger.take_held("slack", "run") == (), "held counts are handed over only once"


def test_keys_are_separate_per_channel_flow_run_and_attempt() -> None:
    """Another notifier, another flow run, or the next retry attempt each get their own message."""
    ledger = FloodLedger()
    assert ledger.admit("slack", "run", ("load", "Retrying", 1), LABEL, 1)
    assert ledger.admit("slack", "run", ("load", "Retrying", 2), LABEL, 1)
    assert ledger.admit("email", "run", ("load", "Retrying", 1), LABEL, 1)
    assert ledger.admit("slack", "other-run", ("load", "Retrying", 1), LABEL, 1)
    assert not ledger.admit("slack", "run", ("load", "Retrying", 1), LABEL, 1)


def test_ending_a_run_returns_what_is_left_and_forgets_it() -> None:
    ledger = FloodLedger()
    for _ in range(3):
        ledger.admit("slack", "run", "k", LABEL, 1)
    assert ledger.end_run("slack", "run") == (SuppressedCount("load", "Failed", 2),)
    assert ledger.admit("slack", "run", "k", LABEL, 1), "a forgotten run starts afresh"


def test_no_limit_or_no_flow_run_admits_everything() -> None:
    ledger = FloodLedger()
    assert all(ledger.admit("slack", "run", "k", LABEL, None) for _ in range(5))
    assert all(ledger.admit("slack", None, "k", LABEL, 1) for _ in range(5))


def test_old_flow_runs_are_forgotten_beyond_the_bound() -> None:
    """Runs that never end (no flow-level notifier) cannot grow the ledger without limit."""
    ledger = FloodLedger(remembered_runs=2)
    for run in ("a", "b", "c"):
        ledger.admit("slack", run, "k", LABEL, 1)
    assert ledger.admit("slack", "a", "k", LABEL, 1), "run 'a' was the oldest and is forgotten"
    assert not ledger.admit("slack", "c", "k", LABEL, 1)


def test_concurrent_children_are_admitted_exactly_once() -> None:
    """Mapped children on many threads race for the same key; exactly one wins."""
    ledger = FloodLedger()
    results: list[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(16)

    def child() -> None:
        barrier.wait()
        outcome = ledger.admit("slack", "run", "k", LABEL, 1)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=child) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 1
    assert ledger.take_held("slack", "run") == (SuppressedCount("load", "Failed", 15),)


@pytest.mark.parametrize(("value", "limit"), [(True, 1), (False, None), (5, 5)])
def test_flood_control_values(value: bool | int, limit: int | None) -> None:
    assert flood_limit(value) == limit


@pytest.mark.parametrize("value", [0, -1, "yes"])
def test_meaningless_flood_control_values_are_rejected(value: object) -> None:
    with pytest.raises(ValueError, match="flood_control"):
        flood_limit(value)  # type: ignore[arg-type]
