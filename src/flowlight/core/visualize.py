"""`flow.visualize()`: the task graph drawn with Graphviz, coloured by state after a run.

As in Prefect 1: a task is an ellipse, a mapped task a box labelled `name <map>`, a mapped edge
dashed, an edge labelled with the argument it feeds. Given the flow run's final state, each node
is filled with the colour of its task's final state (`State.color`), and a mapped task becomes
one box per child, `name[i]`, each in its own child's colour. Graphviz (the Python package and the
`dot` program) is needed only here, and imported only when a picture is drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowlight.engine.state import Mapped, State

if TYPE_CHECKING:
    from flowlight.core.flow import Flow
    from flowlight.core.task import Task

__all__ = ["GraphvizMissing", "visualize"]

_INSTALL = (
    "install Graphviz: `pip install graphviz` for the Python package, and its `dot` program "
    "with `apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS) or from "
    "https://graphviz.org/download/"
)


class GraphvizMissing(ImportError):
    """flow.visualize() could not find Graphviz; the message says how to install it."""


def _graphviz() -> Any:
    try:
        import graphviz
    except ImportError as error:
        raise GraphvizMissing(
            f"flow.visualize() draws with Graphviz, which is not installed: {_INSTALL}."
        ) from error
    return graphviz


def _node_id(task: Task, index: int | None = None) -> str:
    base = str(task.slug or id(task))
    return base if index is None else f"{base}[{index}]"


def _children(task: Task, flow_state: State | None) -> list[State] | None:
    """The child states of a mapped task in `flow_state`, or None when it has none to draw."""
    if flow_state is None or not isinstance(flow_state.result, dict):
        return None
    state = flow_state.result.get(task)
    if isinstance(state, Mapped) and state.map_states:
        return list(state.map_states)
    return None


def _fill(state: State | None) -> dict[str, str]:
    if state is None:
        return {}
    return {"style": "filled", "fillcolor": state.color, "tooltip": type(state).__name__}


def build_graph(flow: Flow, flow_state: State | None = None, horizontal: bool = False) -> Any:
    """The flow as a `graphviz.Digraph` (nothing rendered yet), drawn top to bottom, or left to
    right when `horizontal` (better for long chains)."""
    graphviz = _graphviz()
    graph = graphviz.Digraph(name=flow.name, comment=f"flowlight flow {flow.name}")
    if horizontal:
        graph.graph_attr["rankdir"] = "LR"
    states: dict[Any, State] = (
        flow_state.result if flow_state is not None and isinstance(flow_state.result, dict) else {}
    )
    mapped_tasks = {t for t in flow.sorted_tasks() if any(e.mapped for e in flow.edges_to(t))}
    for task in flow.sorted_tasks():
        is_mapped = task in mapped_tasks
        shape = "box" if is_mapped else "ellipse"
        children = _children(task, flow_state) if is_mapped else None
        if children is not None:
            for index, child in enumerate(children):
                label = f"{task.name}[{index}]"
                graph.node(_node_id(task, index), label, shape=shape, **_fill(child))
            continue
        label = f"{task.name} <map>" if is_mapped else task.name
        graph.node(_node_id(task), label, shape=shape, **_fill(states.get(task)))
    for task in flow.sorted_tasks():
        for edge in flow.edges_to(task):
            _draw_edge(graph, edge, flow_state)
    return graph


def _draw_edge(graph: Any, edge: Any, flow_state: State | None) -> None:
    up, down = edge.upstream_task, edge.downstream_task
    style = "dashed" if edge.mapped else "solid"
    label = edge.key or ""
    up_children = _children(up, flow_state)
    down_children = _children(down, flow_state)
    ups = [_node_id(up, i) for i in range(len(up_children))] if up_children else [_node_id(up)]
    if down_children is None:
        for source in ups:
            graph.edge(source, _node_id(down), label, style=style)
        return
    for index in range(len(down_children)):
        # Child i of a mapped edge reads child i of a mapped upstream; anything else feeds all.
        sources = [ups[index]] if edge.mapped and up_children and index < len(ups) else ups
        for source in sources:
            graph.edge(source, _node_id(down, index), label, style=style)


def visualize(
    flow: Flow,
    flow_state: State | None = None,
    filename: str | None = None,
    format: str | None = None,
    horizontal: bool = False,
) -> Any:
    """Draw `flow` (coloured by `flow_state` when given; left to right when `horizontal`) and
    return the `graphviz.Digraph`.

    With `filename`, write the picture there (`format`: "svg", "png", "pdf", ...; Graphviz adds
    the extension); without it, show it in a notebook, or else open it in the system's viewer.
    """
    graphviz = _graphviz()
    graph = build_graph(flow, flow_state, horizontal)
    try:
        if filename is not None:
            graph.render(filename, view=False, format=format, cleanup=True)
            return graph
        try:
            from IPython.display import display  # type: ignore[import-not-found]
        except ImportError:
            import tempfile

            graph.render(tempfile.mktemp(prefix="flowlight-"), view=True, format=format)
        else:
            display(graph)
    except graphviz.ExecutableNotFound as error:
        raise GraphvizMissing(
            f"flow.visualize() needs Graphviz's `dot` program, which is not on PATH: {_INSTALL}."
        ) from error
    return graph
