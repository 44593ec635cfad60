"""`switch`, `ifelse` and `merge`: branches that run one path and skip the others.

A branch is a `CompareValue` task upstream of the branch's task: it raises SKIP when the
condition's result is not its value, and the skip flows downstream (tasks with
`skip_on_upstream_skip=False`, such as `Merge`, still run).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowlight import triggers
from flowlight.core.task import Task, task
from flowlight.engine import signals

if TYPE_CHECKING:
    from flowlight.core.flow import Flow

__all__ = ["CompareValue", "Merge", "ifelse", "merge", "switch"]


class Merge(Task):
    """The first non-None result among its arguments (in argument order), or None: joins the
    branches of a switch, of which all but one were skipped."""

    def __init__(self, **kwargs: Any) -> None:
        if kwargs.setdefault("skip_on_upstream_skip", False):
            raise ValueError(
                "Merge tasks must have `skip_on_upstream_skip=False`: a merge runs when some "
                "of its branches were skipped."
            )
        kwargs.setdefault("trigger", triggers.not_all_skipped)
        super().__init__(**kwargs)

    def run(self, **task_results: Any) -> Any:
        ordered = sorted(task_results.items(), key=lambda kv: _argument_number(kv[0]))
        return next((v for _, v in ordered if v is not None), None)


def _argument_number(name: str) -> tuple[int, str]:
    tail = name.rsplit("_", 1)[-1]
    return (int(tail), name) if tail.isdigit() else (0, name)


class CompareValue(Task):
    """Succeeds when the `value` it is given at run time equals the one it was built with;
    raises SKIP otherwise, so everything downstream of it is skipped."""

    def __init__(self, value: Any, **kwargs: Any) -> None:
        self.value = value
        kwargs.setdefault("name", f'CompareValue: "{value}"')
        super().__init__(**kwargs)

    def run(self, value: Any) -> None:  # type: ignore[override]
        if value != self.value:
            raise signals.SKIP(f'Provided value "{value}" did not match "{self.value}"')


def switch(condition: Task, cases: dict[Any, Any], mapped: bool = False) -> None:
    """Run the task of `cases` whose key equals the result of `condition`; skip the others (and
    what depends on them, unless it sets `skip_on_upstream_skip=False`)."""
    from flowlight.utilities.tasks import as_task, tags

    with tags("switch"):
        for value, branch in cases.items():
            branch_task = as_task(branch)
            matcher = CompareValue(value=value).bind(value=condition, mapped=mapped)
            _active_flow(branch_task).set_dependencies(
                branch_task, upstream_tasks=[matcher], mapped=mapped
            )


@task
def _as_bool(x: Any) -> bool:
    return bool(x)


def ifelse(condition: Task, true_task: Any, false_task: Any, mapped: bool = False) -> None:
    """Run `true_task` when `condition`'s result is truthy, else `false_task` (None: nothing);
    the other is skipped."""
    cases = {c: t for c, t in ((True, true_task), (False, false_task)) if t is not None}
    if cases:
        truth = _as_bool.copy(name="as_bool").bind(condition, mapped=mapped)
        switch(condition=truth, cases=cases, mapped=mapped)


def merge(*tasks: Any, flow: Flow | None = None, mapped: bool = False, **kwargs: Any) -> Task:
    """A `Merge` of `tasks`: the result of whichever branch ran (the first non-None one)."""
    named = {f"task_{i}": t for i, t in enumerate(tasks, start=1)}
    return Merge(**kwargs).bind(flow=flow, mapped=mapped, **named)


def _active_flow(for_task: Task) -> Flow:
    from flowlight.core.flow import Flow

    active = Flow.active()
    if active is None:
        raise ValueError(f"switch/ifelse on {for_task} needs an active `with Flow(...)` block.")
    return active
