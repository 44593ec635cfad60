"""Where cached task results live: an in-process store by default, replaceable by the user.

`cache_for=` on a task turns each successful run into a `Cached` state (handlers see
`Success -> Cached`, as in Prefect 1) stored under the task's `cache_key` (default: its name);
a later run whose validator accepts a stored state ends `Cached` without running. Swap the
storage with `set_cache_storage(...)` to share a cache between processes (any object with
`get(key)` and `put(key, state)`).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Protocol

from flowlight.engine import cache_validators
from flowlight.engine.state import Cached, State

if TYPE_CHECKING:
    from flowlight.core.task import Task

__all__ = [
    "CacheStorage",
    "InMemoryCacheStorage",
    "cached_state",
    "find_cached_state",
    "get_cache_storage",
    "set_cache_storage",
    "store_cached_state",
]


class CacheStorage(Protocol):
    def get(self, key: str) -> list[Cached]:
        """Stored states for `key`, newest last."""

    def put(self, key: str, state: Cached) -> None:
        """Store `state` under `key`."""


class InMemoryCacheStorage:
    """Keeps cached states for the life of the process; keeps only the newest few per key."""

    def __init__(self, per_key: int = 16) -> None:
        self._states: dict[str, list[Cached]] = {}
        self._lock = threading.Lock()
        self._per_key = per_key

    def get(self, key: str) -> list[Cached]:
        with self._lock:
            return list(self._states.get(key, ()))

    def put(self, key: str, state: Cached) -> None:
        with self._lock:
            kept = self._states.setdefault(key, [])
            kept.append(state)
            del kept[: -self._per_key]

    def clear(self) -> None:
        with self._lock:
            self._states.clear()


_storage: CacheStorage = InMemoryCacheStorage()


def get_cache_storage() -> CacheStorage:
    return _storage


def set_cache_storage(storage: CacheStorage) -> None:
    """Use `storage` for every task's cache from now on."""
    if not (callable(getattr(storage, "get", None)) and callable(getattr(storage, "put", None))):
        raise TypeError(f"Cache storage {storage!r} needs get(key) and put(key, state) methods.")
    global _storage
    _storage = storage


def _key(task: Task) -> str:
    return task.cache_key or task.name


def find_cached_state(task: Task, inputs: dict[str, Any], context: dict[str, Any]) -> State | None:
    """A stored state the task's validator accepts for these inputs, or None."""
    validator = task.cache_validator or cache_validators.duration_only
    parameters = context.get("parameters")
    for candidate in reversed(_storage.get(_key(task))):
        if validator(candidate, inputs, parameters):
            return candidate
    return None


def cached_state(
    task: Task, inputs: dict[str, Any], context: dict[str, Any], state: State
) -> Cached:
    """The `Cached` state a successful run turns into: its message and result, the inputs and
    parameters it ran with, and when it expires (now + `cache_for`)."""
    from flowlight.engine.clock import get_clock

    assert task.cache_for is not None
    return Cached(
        state.message,
        result=state.result,
        cached_inputs=dict(inputs),
        cached_parameters=dict(context.get("parameters") or {}),
        cached_result_expiration=get_clock().now() + task.cache_for,
    )


def store_cached_state(task: Task, state: Cached) -> None:
    """Store a run's `Cached` state so later runs can reuse it until it expires."""
    _storage.put(_key(task), state)
