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
from flowlight.engine.clock import get_clock, seconds
from flowlight.engine.state import Cached, State

if TYPE_CHECKING:
    from flowlight.core.task import Task

__all__ = [
    "CacheStorage",
    "InMemoryCacheStorage",
    "cache_candidates",
    "cached_state",
    "find_cached_state",
    "get_cache_storage",
    "remember_cached_state",
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


def cache_candidates(task: Task) -> dict[str, list[Cached]]:
    """The stored states for `task`'s key, as the flow runner hands them to the task run in
    `context["caches"]` (Prefect 1's name): a run on a worker process sees the flow process's
    cache without sharing its memory."""
    key = _key(task)
    return {key: _storage.get(key)}


def find_cached_state(task: Task, inputs: dict[str, Any], context: dict[str, Any]) -> State | None:
    """A stored state the task's validator accepts for these inputs, or None: the newest first,
    from this process's storage, then from those the flow runner passed in the context."""
    validator = task.cache_validator or cache_validators.duration_only
    parameters = context.get("parameters")
    key = _key(task)
    stored = _storage.get(key)
    seen = {id(s) for s in stored}
    passed: list[Cached] = (context.get("caches") or {}).get(key) or []
    given = [s for s in passed if id(s) not in seen]
    for candidate in [*reversed(stored), *reversed(given)]:
        if validator(candidate, inputs, parameters):
            return candidate
    return None


def remember_cached_state(task: Task, state: State) -> None:
    """Store a `Cached` state a task run returned, unless the storage already holds it (a cache
    hit, or a run in this process that stored it itself). Called by the flow runner, so a cache
    filled by runs on worker processes lives on in the flow's process."""
    if not isinstance(state, Cached):
        return
    key = _key(task)
    stored = _storage.get(key)
    if any(kept is state for kept in stored):
        return  # the common case, a run in this process: checked by identity, cheaply
    if not any(_same_cached(state, kept) for kept in stored):
        _storage.put(key, state)


def _same_cached(a: Cached, b: Cached) -> bool:
    return (
        a.expiration_epoch() == b.expiration_epoch()
        and a.message == b.message  # state equality leaves the message out, as Prefect 1's does
        and a == b
    )


def cached_state(
    task: Task, inputs: dict[str, Any], context: dict[str, Any], state: State
) -> Cached:
    """The `Cached` state a successful run turns into: its message and result, the inputs and
    parameters it ran with, and when it expires (now + `cache_for`)."""
    assert task.cache_for is not None
    return Cached(
        state.message,
        result=state.result,
        cached_inputs=dict(inputs),
        cached_parameters=dict(context.get("parameters") or {}),
        cached_result_expiration=get_clock().now() + seconds(task.cache_for),
    )


def store_cached_state(task: Task, state: Cached) -> None:
    """Store a run's `Cached` state so later runs can reuse it until it expires."""
    _storage.put(_key(task), state)
