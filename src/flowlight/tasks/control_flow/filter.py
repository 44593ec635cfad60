"""`FilterTask`: keep the items of a list (typically a mapped task's results) that pass a test."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flowlight import triggers
from flowlight.core.task import Task

__all__ = ["FilterTask"]


def _is_a_value(item: Any) -> bool:
    # Exception, not BaseException: a signal left as a result (SKIP, ...) is kept, as in Prefect 1
    return not isinstance(item, (type(None), Exception))


class FilterTask(Task):
    """The items of `task_results` for which `filter_func` is true (default: drop None and
    exceptions, what failed or skipped children leave). Runs whatever its upstream's state
    (`all_finished`, `skip_on_upstream_skip=False`); `log_func(kept)` is logged at INFO."""

    def __init__(
        self,
        filter_func: Callable[[Any], bool] | None = None,
        log_func: Callable[[list[Any]], Any] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("skip_on_upstream_skip", False)
        kwargs.setdefault("trigger", triggers.all_finished)
        self.filter_func = filter_func or _is_a_value
        self.log_func = log_func
        super().__init__(**kwargs)

    def run(self, task_results: list[Any]) -> list[Any]:  # type: ignore[override]
        kept = [r for r in task_results if self.filter_func(r)]
        if self.log_func is not None:
            from flowlight.utilities.context import context

            logger = context.get("logger")
            if logger is not None:
                logger.info(self.log_func(kept))
        return kept
