"""`StringFormatter`: a task that fills a `str.format` template from the run's context and its
own keyword arguments."""

from __future__ import annotations

from typing import Any

from flowlight.core.task import Task
from flowlight.utilities.context import context

__all__ = ["StringFormatter"]


class StringFormatter(Task):
    """`template.format(...)` with every context key (`flow_name`, `task_name`, `today`, the
    run's own keys) and the keyword arguments it is called with, which win."""

    def __init__(self, template: str | None = None, **kwargs: Any) -> None:
        self.template = template or ""
        super().__init__(**kwargs)

    def run(self, template: str | None = None, **format_kwargs: Any) -> str:
        chosen = self.template if template is None else template
        with context(**format_kwargs) as data:
            return chosen.format(**data)
