"""The task library Prefect 1 ships with its core: `flowlight.tasks.core` (constants,
collections, operators, function tasks, resource managers) and `flowlight.tasks.control_flow`
(`case`, `switch`, `ifelse`, `merge`, `FilterTask`)."""

from flowlight.tasks import control_flow, core

__all__ = ["control_flow", "core"]
