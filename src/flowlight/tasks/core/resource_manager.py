"""Resource managers: a resource set up before a block of tasks and cleaned up after it, even
when they fail (Prefect 1's `resource_manager`).

    @resource_manager
    class TempDir:
        def __init__(self, prefix): ...
        def setup(self): return path          # what the block's tasks receive
        def cleanup(self, path): ...          # runs once every task of the block finished

    with Flow("f") as flow:
        with TempDir("x") as path:
            use(path)

Three tasks are added: `<name>` (builds the object), `<name>.setup` and `<name>.cleanup`. The
block's root tasks wait on setup; cleanup waits on the block's terminal tasks and runs whatever
their states (it is skipped only when the resource was never set up).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, overload

from flowlight.core.task import Task
from flowlight.engine import signals
from flowlight.engine.state import State
from flowlight.utilities.context import current, use_context

if TYPE_CHECKING:
    import contextlib

    from flowlight.core.flow import Flow

__all__ = ["ResourceManager", "resource_manager"]


class ResourceInitTask(Task):
    """Builds the resource object from the arguments the manager was called with."""

    def __init__(self, resource_class: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run = resource_class  # type: ignore[method-assign]


class ResourceSetupTask(Task):
    """`mgr.setup()`: its result is what the block's tasks are given."""

    def run(self, mgr: Any) -> Any:  # type: ignore[override]
        return mgr.setup()


class ResourceCleanupTask(Task):
    """`mgr.cleanup(resource)`, once the block's tasks finished, whatever their states."""

    def run(self, mgr: Any, resource: Any = None) -> None:  # type: ignore[override]
        mgr.cleanup(resource)


def resource_cleanup_trigger(upstream_states: Mapping[Any, State]) -> bool:
    """Clean up once everything upstream finished; skip when the resource was never made or
    never set up (there is nothing to clean)."""
    for edge, state in upstream_states.items():
        if not state.is_finished():
            raise signals.TRIGGERFAIL(
                "Trigger was 'resource_cleanup_trigger' but some of the upstream tasks were not "
                "finished."
            )
        key = getattr(edge, "key", None)
        if key == "mgr":
            if state.is_skipped():
                raise signals.SKIP("Resource manager init skipped")
            if not state.is_successful():
                raise signals.SKIP("Resource manager init failed")
        elif key == "resource":
            if state.is_skipped():
                raise signals.SKIP("Resource manager setup skipped")
            if not state.is_successful():
                raise signals.SKIP("Resource manager setup failed")
    return True


class ResourceContext:
    """The `with` block of one use of a resource manager; `as` gives the setup task."""

    def __init__(
        self, init_task: Task, setup_task: Task | None, cleanup_task: Task, flow: Flow
    ) -> None:
        self.init_task = init_task
        self.setup_task = setup_task
        self.cleanup_task = cleanup_task
        self._flow = flow
        self._tasks: set[Task] = set()
        self._restore: contextlib.AbstractContextManager[Any] | None = None

    def add_task(self, task: Task, flow: Flow) -> None:
        """Called by the flow for each task added while the block is open."""
        if self._flow is not flow:
            raise ValueError(
                "Multiple flows cannot be used with the same resource block; use the resource "
                "manager once per flow."
            )
        self._tasks.add(task)

    def __enter__(self) -> Task | None:
        self._restore = use_context({**current(), "resource": self})
        self._restore.__enter__()
        return self.setup_task

    def __exit__(self, *exc: object) -> None:
        if self._restore is not None:
            self._restore.__exit__(None, None, None)
        flow = self._flow
        for child in self._tasks:
            upstream = flow.upstream_tasks(child)
            if (
                self.setup_task is not None
                and not self._tasks.intersection(upstream)
                and self.setup_task not in upstream
            ):
                flow.set_dependencies(child, upstream_tasks=[self.setup_task])
            downstream = flow.downstream_tasks(child)
            if not self._tasks.intersection(downstream) and self.cleanup_task not in downstream:
                flow.set_dependencies(child, downstream_tasks=[self.cleanup_task])


class ResourceManager:
    """Made by `@resource_manager`; calling it inside a flow adds the three tasks and returns
    the block."""

    def __init__(
        self,
        resource_class: Callable[..., Any],
        name: str | None = None,
        init_task_kwargs: dict[str, Any] | None = None,
        setup_task_kwargs: dict[str, Any] | None = None,
        cleanup_task_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.resource_class = resource_class
        self.name = name if name is not None else getattr(resource_class, "__name__", "resource")
        self.init_task_kwargs = dict(init_task_kwargs or {})
        self.setup_task_kwargs = dict(setup_task_kwargs or {})
        self.cleanup_task_kwargs = dict(cleanup_task_kwargs or {})
        self.init_task_kwargs.setdefault("name", self.name)
        self.setup_task_kwargs.setdefault("name", f"{self.name}.setup")
        self.setup_task_kwargs.setdefault("checkpoint", False)
        self.cleanup_task_kwargs.setdefault("name", f"{self.name}.cleanup")
        self.cleanup_task_kwargs.setdefault("trigger", resource_cleanup_trigger)
        self.cleanup_task_kwargs.setdefault("skip_on_upstream_skip", False)
        self.cleanup_task_kwargs.setdefault("checkpoint", False)

    def __call__(self, *args: Any, flow: Flow | None = None, **kwargs: Any) -> ResourceContext:
        from flowlight.core.flow import Flow as FlowClass

        flow = flow or FlowClass.active()
        if flow is None:
            raise ValueError(
                f"Could not infer an active Flow context: resource manager '{self.name}' was "
                "called outside a flow; use it inside `with Flow(...):`, or pass flow=... ."
            )
        init = ResourceInitTask(self.resource_class, **self.init_task_kwargs)(
            *args, flow=flow, **kwargs
        )
        setup: Task | None = None
        if hasattr(self.resource_class, "setup"):
            setup = ResourceSetupTask(**self.setup_task_kwargs)(init, flow=flow)
            cleanup = ResourceCleanupTask(**self.cleanup_task_kwargs)(init, setup, flow=flow)
        else:
            cleanup = ResourceCleanupTask(**self.cleanup_task_kwargs)(init, flow=flow)
        return ResourceContext(init, setup, cleanup, flow)


@overload
def resource_manager(
    resource_class: Callable[..., Any],
    *,
    name: str | None = None,
    init_task_kwargs: dict[str, Any] | None = None,
    setup_task_kwargs: dict[str, Any] | None = None,
    cleanup_task_kwargs: dict[str, Any] | None = None,
) -> ResourceManager: ...
@overload
def resource_manager(
    resource_class: None = None,
    *,
    name: str | None = None,
    init_task_kwargs: dict[str, Any] | None = None,
    setup_task_kwargs: dict[str, Any] | None = None,
    cleanup_task_kwargs: dict[str, Any] | None = None,
) -> Callable[[Callable[..., Any]], ResourceManager]: ...
def resource_manager(
    resource_class: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    init_task_kwargs: dict[str, Any] | None = None,
    setup_task_kwargs: dict[str, Any] | None = None,
    cleanup_task_kwargs: dict[str, Any] | None = None,
) -> ResourceManager | Callable[[Callable[..., Any]], ResourceManager]:
    """Turn a class with `setup()` and `cleanup(resource)` into a resource manager:
    `@resource_manager` or `@resource_manager(name=..., cleanup_task_kwargs=...)`."""

    def build(cls: Callable[..., Any]) -> ResourceManager:
        return ResourceManager(
            cls,
            name=name,
            init_task_kwargs=init_task_kwargs,
            setup_task_kwargs=setup_task_kwargs,
            cleanup_task_kwargs=cleanup_task_kwargs,
        )

    return build if resource_class is None else build(resource_class)
