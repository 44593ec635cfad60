"""The task library Prefect 1 ships with its core: `flowlight.tasks.core` (constants,
collections, operators, function tasks, resource managers) and `flowlight.tasks.control_flow`
(`case`, `switch`, `ifelse`, `merge`, `FilterTask`), and secret tasks in
`flowlight.tasks.secrets`."""

from flowlight.tasks import control_flow, core, secrets

__all__ = ["control_flow", "core", "secrets"]
