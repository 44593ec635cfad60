"""Fixtures for the engine tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flowlight.engine.cache import InMemoryCacheStorage, get_cache_storage, set_cache_storage


@pytest.fixture
def fresh_cache() -> Iterator[InMemoryCacheStorage]:
    """An empty process cache for the test; the previous one is put back after."""
    previous = get_cache_storage()
    storage = InMemoryCacheStorage()
    set_cache_storage(storage)
    yield storage
    set_cache_storage(previous)
