"""A built flow as a whole: `copy`, `replace` and `update` rewrite its graph (building it task by
task is `Flow.add_task` / `add_edge`); `save` and `load` keep it in a file, as Prefect 1's do."""

from __future__ import annotations

import copy
import pickle
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from flowlight.core.edge import Edge
from flowlight.core.graph import FlowGraph

if TYPE_CHECKING:
    from flowlight.core.task import Task
    from flowlight.engine.handlers import StateHandler

__all__ = ["FlowEditing"]

_Flow = TypeVar("_Flow", bound="FlowEditing")


class FlowEditing(FlowGraph):
    """The editing methods of `Flow` (a base class of it, not used on its own)."""

    constants: dict[Task, dict[str, Any]]
    state_handlers: list[StateHandler]
    _token: Any
    _made_token: Any
    _flow_context: Any

    if TYPE_CHECKING:

        def add_task(self, task: Task) -> Task: ...
        def add_edge(
            self,
            upstream_task: Any,
            downstream_task: Any,
            key: str | None = None,
            mapped: bool = False,
            flattened: bool = False,
            validate: bool | None = None,
            *,
            flatten: bool | None = None,
        ) -> Edge: ...
        def _as_task(self, value: Any) -> Task: ...
        def validate(self) -> None: ...
        def set_reference_tasks(self, tasks: Any) -> None: ...

    def copy(self: _Flow) -> _Flow:
        """A flow with the same tasks, edges, constants and reference tasks, which can then be
        changed without changing this one (the tasks themselves are shared)."""
        new = copy.copy(self)
        self._copy_graph_into(new)
        new.constants = {t: dict(values) for t, values in self.constants.items()}
        new.state_handlers = list(self.state_handlers)
        new._token = new._made_token = new._flow_context = None
        return new

    def replace(self, old: Task, new: Any, validate: bool = True) -> None:
        """Put `new` (a task, or a value made a `Constant`) where `old` is: same edges, same
        place among the reference tasks. A value replacing a task that fed an argument is kept
        in the downstream task's `flow.constants`, as a value given at call time is."""
        if old not in self._tasks:
            raise ValueError(f"Task {old} was not found in Flow {self!r}.")
        new = self._as_task(new)
        was_reference = old in self._reference_tasks
        removed = self._remove_task(old)
        self._reference_tasks.discard(old)
        constants = self.constants.pop(old, None)
        self.add_task(new)
        if constants:
            self.constants.setdefault(new, {}).update(constants)
        for edge in dict.fromkeys(removed):
            # Through add_edge, as any edge is added: a value put in place of a task that fed a
            # keyword becomes one of the downstream task's `constants`, as in Prefect 1.
            self.add_edge(
                new if edge.upstream_task is old else edge.upstream_task,
                new if edge.downstream_task is old else edge.downstream_task,
                key=edge.key,
                mapped=edge.mapped,
                validate=False,
                flatten=edge.flatten,
            )
        if was_reference:
            self._reference_tasks.add(new)
        if validate:
            self.validate()

    def update(
        self,
        flow: FlowGraph,
        merge_parameters: bool = False,
        validate: bool | None = None,
        merge_reference_tasks: bool = False,
    ) -> None:
        """Add the tasks, edges and constants of `flow` to this flow. With `merge_parameters`,
        a parameter of this flow named as one of `flow`'s is replaced by that one."""
        if merge_parameters:
            validate = True
            theirs = {p.name: p for p in flow.parameters()}
            for p in self.parameters():
                if p.name in theirs and theirs[p.name] is not p:
                    self.replace(p, theirs[p.name])
        for t in flow._tasks:
            if t not in self._tasks:
                self.add_task(t)
        for edge in flow._edges:
            if edge not in self._edges:
                self._insert_edge(edge)
        if validate:
            self.validate()
        if merge_reference_tasks:
            self.set_reference_tasks(self.reference_tasks() | flow.reference_tasks())
        for t, values in getattr(flow, "constants", {}).items():
            self.constants.setdefault(t, {}).update(values)

    def save(self, fpath: str | Path | None = None) -> str:
        """Pickle the flow to `fpath` (default: <config.home_dir>/flows/<slug of its
        name>.flowlight, where `Flow.load(name)` finds it) and return the path. cloudpickle is
        used when installed (the `dask` extra brings it), so tasks made from functions of a
        script or a notebook can be saved too."""
        if fpath is None:
            path = _saved_path(str(getattr(self, "name", "flow")))
            path.parent.mkdir(parents=True, exist_ok=True)
        else:
            path = Path(fpath)
        try:
            import cloudpickle  # type: ignore[import-untyped]

            data = cloudpickle.dumps(self)
        except ImportError:
            try:
                data = pickle.dumps(self)
            except (pickle.PicklingError, AttributeError, TypeError) as exc:
                raise TypeError(
                    f"Flow '{getattr(self, 'name', '?')}' cannot be pickled without cloudpickle "
                    f"({exc}); install it (`pip install cloudpickle`, or flowlight[dask]) to "
                    "save flows whose tasks are defined in a script or a notebook."
                ) from exc
        path.write_bytes(data)
        return str(path)

    @classmethod
    def load(cls, fpath: str | Path) -> Any:
        """The flow `save()` wrote to `fpath` (only load files you trust: it is a pickle).

        As in Prefect 1, `fpath` may also be the flow's name (or its slug): a relative path
        that is not a file is looked up where `save()` puts a flow by default."""
        path = Path(fpath)
        if not path.is_absolute() and not path.is_file():
            by_name = _saved_path(str(fpath))
            if not by_name.is_file():
                raise FileNotFoundError(
                    f"Flow.load({str(fpath)!r}): no such file, and no flow saved under that "
                    f"name at {by_name}; give the path save() returned, or the flow's name."
                )
            path = by_name
        loaded = pickle.loads(path.read_bytes())
        if not isinstance(loaded, cls):
            raise TypeError(f"{fpath} holds {type(loaded).__name__}, not a flow saved by save().")
        return loaded


def _saved_path(name: str) -> Path:
    """Where `save()` puts a flow named `name` by default: <config.home_dir>/flows/<slug>.flowlight,
    the slug being the name lowercased with each run of other characters made one "-"."""
    from flowlight.configuration import config

    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return Path(config.home_dir) / "flows" / f"{slug or 'flow'}.flowlight"
