"""The completion board hands out finished runs without checking every run in flight."""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Collection, Iterable, Iterator
from typing import Any

from flowlight.executors._futures import CompletionBoard
from flowlight.executors._runs import SubmittedRun
from flowlight.executors.base import ReadyFuture


class InFlight(Collection[Any]):
    """Futures in flight that count how often the board walks through all of them."""

    def __init__(self, futures: Iterable[Any]) -> None:
        self.futures = dict.fromkeys(futures)
        self.walks = 0

    def __contains__(self, future: object) -> bool:
        return future in self.futures

    def __iter__(self) -> Iterator[Any]:
        self.walks += 1
        return iter(self.futures)

    def __len__(self) -> int:
        return len(self.futures)


def _run() -> SubmittedRun:
    return SubmittedRun(lambda: None, (), {})


def test_finished_runs_are_handed_out_once_without_walking_the_runs_in_flight() -> None:
    board = CompletionBoard()
    inners = [concurrent.futures.Future[Any]() for _ in range(1000)]
    tracked = [board.track(_run(), inner) for inner in inners]
    in_flight = InFlight(tracked)

    inners[10].set_result("ten")
    inners[500].set_result("five hundred")
    assert board.wait_any(in_flight) == [tracked[10], tracked[500]]
    for future in (tracked[10], tracked[500]):
        del in_flight.futures[future]

    finisher = threading.Timer(0.05, lambda: inners[999].set_result("last"))
    finisher.start()
    assert board.wait_any(in_flight) == [tracked[999]]
    finisher.join()
    assert in_flight.walks == 0


def test_a_run_decided_without_submitting_is_handed_out_by_the_next_wait() -> None:
    board = CompletionBoard()
    pending = board.track(_run(), concurrent.futures.Future())
    ready = board.ready("Failed: could not be pickled")
    assert board.wait_any({pending: None, ready: None}.keys()) == [ready]
    assert ready.result() == "Failed: could not be pickled"


def test_a_finished_future_from_elsewhere_is_still_found() -> None:
    """A caller mixing in a future the board never saw waits a little longer, not forever."""
    board = CompletionBoard()
    pending = board.track(_run(), concurrent.futures.Future())
    foreign = ReadyFuture("Success")
    assert board.wait_any([pending, foreign]) == [foreign]


def test_a_finished_run_not_asked_for_is_kept_for_a_later_wait() -> None:
    board = CompletionBoard()
    first_inner, second_inner = concurrent.futures.Future[Any](), concurrent.futures.Future[Any]()
    first, second = board.track(_run(), first_inner), board.track(_run(), second_inner)
    first_inner.set_result(1)
    second_inner.set_result(2)
    assert board.wait_any({second: None}.keys()) == [second]
    assert board.wait_any({first: None}.keys()) == [first]
    assert board.wait_any([]) == []
