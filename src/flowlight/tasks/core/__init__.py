"""Tasks the engine and the functional API build for you (Prefect 1's `prefect.tasks.core`)."""

from flowlight.tasks.core import collections, constants, function, operators, resource_manager

__all__ = ["collections", "constants", "function", "operators", "resource_manager"]
