"""The task graph under a flow: its storage and every read-only question asked of it.

The graph is kept in insertion-ordered dicts with per-task edge lists, so building and sorting a
flow of 100,000 tasks is linear (Prefect 1 copied its task and edge sets on every lookup, which
made long chains quadratic). `Flow` adds the building API, the `with` block and running on top.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from flowlight.core.edge import Edge
from flowlight.core.parameter import Parameter
from flowlight.core.task import Task

__all__ = ["FlowGraph"]


class _TaskSet(set[Task]):
    """What `flow.tasks` returns: a set of the flow's tasks. As with Prefect 1's live set,
    removing a task through it (`remove`, `discard`, `pop`) takes the task out of the flow and
    leaves its edges and reference-task mark, which `validate()` then reports."""

    def __init__(self, graph: FlowGraph) -> None:
        super().__init__(graph._tasks)
        self._graph = graph

    def remove(self, task: Task) -> None:
        super().remove(task)
        self._graph._forget(task)

    def discard(self, task: object) -> None:
        if isinstance(task, Task) and task in self:
            self.remove(task)

    def pop(self) -> Task:
        task = super().pop()
        self._graph._forget(task)
        return task


class FlowGraph:
    """Tasks and edges, with the queries Prefect 1's `Flow` answers about them."""

    name: str

    def __init__(self) -> None:
        self._tasks: dict[Task, None] = {}
        self._edges: dict[Edge, None] = {}
        self._upstream: dict[Task, list[Edge]] = {}
        self._downstream: dict[Task, list[Edge]] = {}
        # task -> its slug in this flow: the task's own slug, or "name-tags-N" made unique here.
        self.slugs: dict[Task, str] = {}
        self._slug_counts: dict[str, int] = {}
        self._reference_tasks: set[Task] = set()
        # The slugs taken, kept beside `slugs` so that adding a task is not a scan of every
        # slug (which made building a flow quadratic); see `_taken_slugs`.
        self._taken: set[str] | None = None
        self._taken_of: dict[Task, str] | None = None

    @property
    def tasks(self) -> set[Task]:
        return _TaskSet(self)

    @property
    def edges(self) -> set[Edge]:
        return set(self._edges)

    def _known(self, task: Task) -> None:
        if task not in self._tasks:
            raise ValueError(
                f"Task {task} was not found in Flow {self!r}; add it with flow.add_task()."
            )

    def edges_to(self, task: Task) -> set[Edge]:
        """The edges into `task` (its upstream edges); raises if `task` is not in the flow."""
        self._known(task)
        return set(self._upstream[task])

    def edges_from(self, task: Task) -> set[Edge]:
        """The edges out of `task` (its downstream edges); raises if `task` is not in the flow."""
        self._known(task)
        return set(self._downstream[task])

    def has_edges(self, task: Task) -> bool:
        """Whether `task` is in this flow with an edge to or from it."""
        return bool(self._upstream.get(task) or self._downstream.get(task))

    def all_upstream_edges(self) -> dict[Task, set[Edge]]:
        return {t: set(edges) for t, edges in self._upstream.items()}

    def all_downstream_edges(self) -> dict[Task, set[Edge]]:
        return {t: set(edges) for t, edges in self._downstream.items()}

    def upstream_tasks(self, task: Task) -> set[Task]:
        self._known(task)
        return {e.upstream_task for e in self._upstream[task]}

    def downstream_tasks(self, task: Task) -> set[Task]:
        self._known(task)
        return {e.downstream_task for e in self._downstream[task]}

    def root_tasks(self) -> set[Task]:
        return {t for t in self._tasks if not self._upstream[t]}

    def terminal_tasks(self) -> set[Task]:
        return {t for t in self._tasks if not self._downstream[t]}

    def reference_tasks(self) -> set[Task]:
        """The tasks whose states decide the flow run's state (default: the terminal tasks).

        As in Prefect 1, a resource manager's bookkeeping does not count: its init and cleanup
        tasks are never default reference tasks, and a task followed only by cleanup tasks is
        terminal."""
        if self._reference_tasks:
            return set(self._reference_tasks)
        from flowlight.tasks.core.resource_manager import ResourceCleanupTask, ResourceInitTask

        return {
            t
            for t in self._tasks
            if not isinstance(t, (ResourceInitTask, ResourceCleanupTask))
            and all(isinstance(e.downstream_task, ResourceCleanupTask) for e in self._downstream[t])
        }

    def parameters(self) -> set[Parameter]:
        return {t for t in self._tasks if isinstance(t, Parameter)}

    def get_tasks(
        self,
        name: str | None = None,
        slug: str | None = None,
        tags: Iterable[str] | None = None,
        task_type: type | None = None,
    ) -> list[Task]:
        """The tasks matching every criterion given (`slug` is matched against `task.slug`)."""
        wanted = set(tags or ())
        return [
            t
            for t in self._tasks
            if (name is None or t.name == name)
            and (slug is None or t.slug == slug)
            and wanted <= t.tags
            and (task_type is None or isinstance(t, task_type))
        ]

    def sorted_tasks(self, root_tasks: Iterable[Task] | None = None) -> tuple[Task, ...]:
        """Tasks in a dependency order (ties broken by insertion order); raises on a cycle.

        With `root_tasks`, only those tasks and everything downstream of them are sorted."""
        chosen: dict[Task, None] | None = None
        if root_tasks:
            chosen = {}
            pending = list(root_tasks)
            for t in pending:
                self._known(t)
            while pending:
                t = pending.pop()
                if t not in chosen:
                    chosen[t] = None
                    pending.extend(e.downstream_task for e in self._downstream[t])
        within = self._tasks if chosen is None else {t: None for t in self._tasks if t in chosen}
        indegree = {
            t: sum(1 for e in self._upstream[t] if e.upstream_task in within) for t in within
        }
        ready = deque(t for t, n in indegree.items() if n == 0)
        ordered: list[Task] = []
        while ready:
            t = ready.popleft()
            ordered.append(t)
            for edge in self._downstream[t]:
                down = edge.downstream_task
                if down in indegree:
                    indegree[down] -= 1
                    if indegree[down] == 0:
                        ready.append(down)
        if len(ordered) != len(within):
            stuck = [t.name for t, n in indegree.items() if n > 0]
            raise ValueError(
                f"Cycle found; flows must be acyclic! Flow '{self.name}' has a cycle among tasks "
                f"{stuck[:10]}; remove one of the edges between them."
            )
        return tuple(ordered)

    def __iter__(self) -> Iterator[Task]:
        return iter(self.sorted_tasks())

    def _reaches(self, start: Task, target: Task) -> bool:
        if not self._downstream.get(start):
            return False
        seen = {start}
        stack = [start]
        while stack:
            for edge in self._downstream[stack.pop()]:
                nxt = edge.downstream_task
                if nxt is target:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return False

    def _new_slug(self, task: Task) -> str:
        """ "name-tag1-tag2-N" with the first N not yet taken in this flow (Prefect 1's scheme,
        stable across rebuilds of the same flow)."""
        prefix = "-".join([task.name, *sorted(task.tags)])
        taken = self._taken_slugs()
        count = self._slug_counts.get(prefix, 0)
        while True:
            count += 1
            if f"{prefix}-{count}" not in taken:
                self._slug_counts[prefix] = count
                return f"{prefix}-{count}"

    def _taken_slugs(self) -> set[str]:
        """The set of `slugs`' values, rebuilt when `slugs` was replaced or changed size behind
        the graph's back (the graph's own changes keep it current)."""
        taken = getattr(self, "_taken", None)  # None too in a graph made before it existed
        if taken is None or self._taken_of is not self.slugs or len(taken) != len(self.slugs):
            taken = self._taken = set(self.slugs.values())
            self._taken_of = self.slugs
        return taken

    def _insert_task(self, task: Task) -> None:
        if task.slug is not None and task.slug in self._taken_slugs():
            raise ValueError(
                f'A task with the slug "{task.slug}" already exists in this flow '
                f"('{self.name}'); give each task its own slug (task.copy() appends '-copy')."
            )
        taken = self._taken_slugs()
        slug = self.slugs[task] = task.slug or self._new_slug(task)
        taken.add(slug)
        self._tasks[task] = None
        self._upstream[task] = []
        self._downstream[task] = []

    def _remove_task(self, task: Task) -> list[Edge]:
        """Take `task` and its edges out of the graph; return the edges removed."""
        removed = self._upstream.pop(task) + self._downstream.pop(task)
        for edge in removed:
            self._edges.pop(edge, None)
            if edge.upstream_task is not task:
                self._downstream[edge.upstream_task].remove(edge)
            if edge.downstream_task is not task:
                self._upstream[edge.downstream_task].remove(edge)
        del self._tasks[task]
        del self.slugs[task]
        self._taken = None
        return removed

    def _forget(self, task: Task) -> None:
        """Drop `task` from the tasks only (its edges stay): what `flow.tasks.remove` does."""
        self._tasks.pop(task, None)
        self.slugs.pop(task, None)
        self._taken = None

    def _insert_edge(self, edge: Edge) -> None:
        if edge not in self._edges:
            self._edges[edge] = None
            self._upstream[edge.downstream_task].append(edge)
            self._downstream[edge.upstream_task].append(edge)

    def _copy_graph_into(self, new: Any) -> None:
        new._tasks = dict(self._tasks)
        new._edges = dict(self._edges)
        new._upstream = {t: list(edges) for t, edges in self._upstream.items()}
        new._downstream = {t: list(edges) for t, edges in self._downstream.items()}
        new.slugs = dict(self.slugs)
        new._taken = None
        new._slug_counts = dict(self._slug_counts)
        new._reference_tasks = set(self._reference_tasks)
