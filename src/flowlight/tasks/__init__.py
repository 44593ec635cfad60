"""The task library Prefect 1 ships with its core: `flowlight.tasks.core` (constants,
collections, operators, function tasks, resource managers) and `flowlight.tasks.control_flow`
(`case`, `switch`, `ifelse`, `merge`, `FilterTask`), secret tasks in `flowlight.tasks.secrets`
and `StringFormatter` in `flowlight.tasks.templates`."""

from flowlight.tasks import control_flow, core, secrets, templates

__all__ = ["control_flow", "core", "secrets", "templates"]
