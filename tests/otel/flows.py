"""Small flows, one per scenario the bridge must record (shapes follow Prefect 1's transcripts)."""

from __future__ import annotations

import datetime
from typing import Any

from flowlight import Flow, task
from flowlight.engine import signals

__all__ = [
    "THIRD_ATTEMPT_SUCCEEDS",
    "failing_flow",
    "handler_raises_flow",
    "mapped_flow",
    "retrying_flow",
    "skipping_flow",
    "success_flow",
    "trigger_failed_flow",
]

# The transitions of a task run that fails twice and succeeds on its third attempt (the `flaky`
# task of `retrying_flow` and of the Prefect 1 "retries" scenario): one span holds them all.
THIRD_ATTEMPT_SUCCEEDS = [
    "Running",
    "Failed",
    "Retrying",
    "Running",
    "Failed",
    "Retrying",
    "Running",
    "Success",
]


def success_flow() -> Flow:
    @task
    def extract() -> int:
        return 1

    @task
    def load(value: int) -> int:
        return value + 1

    with Flow("etl") as flow:
        load(extract())
    return flow


def failing_flow() -> Flow:
    @task
    def bad() -> None:
        raise ValueError("nope")

    with Flow("fails") as flow:
        bad()
    return flow


def retrying_flow() -> Flow:
    attempts = {"count": 0}

    @task(max_retries=2, retry_delay=datetime.timedelta(seconds=0))
    def flaky() -> int:
        attempts["count"] += 1
        if attempts["count"] < 3:
            raise ValueError(f"try {attempts['count']}")
        return attempts["count"]

    with Flow("retries") as flow:
        flaky()
    return flow


def skipping_flow() -> Flow:
    @task
    def skipper() -> None:
        raise signals.SKIP("not today")

    @task
    def after(value: Any) -> None:
        return None

    with Flow("skips") as flow:
        after(skipper())
    return flow


def trigger_failed_flow() -> Flow:
    @task
    def bad() -> None:
        raise ValueError("nope")

    @task
    def down(value: Any) -> None:
        return None

    with Flow("trigger") as flow:
        down(bad())
    return flow


def mapped_flow() -> Flow:
    @task
    def double(x: int) -> int:
        if x == 0:
            raise ZeroDivisionError("zero")
        return 2 * x

    with Flow("mapping") as flow:
        double.map([1, 2, 0])
    return flow


def handler_raises_flow() -> Flow:
    def broken(obj: Any, old: Any, new: Any) -> Any:
        if type(new).__name__ == "Success":
            raise RuntimeError("handler broke")
        return new

    @task(state_handlers=[broken])
    def work() -> int:
        return 1

    with Flow("handler-raises") as flow:
        work()
    return flow
