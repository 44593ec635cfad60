"""`flow.visualize()`: the task graph as Graphviz draws it, read back from the SVG it wrote."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from flowlight import Flow, Parameter, task
from flowlight.core.visualize import GraphvizMissing
from flowlight.engine.state import Failed, Mapped, Success

SVG = "{http://www.w3.org/2000/svg}"


@task
def numbers(n: int) -> list[int]:
    return list(range(n))


@task
def invert(x: int) -> float:
    return 1 / x


@task(trigger=lambda upstream: True)
def total(values: list[float]) -> float:
    return sum(v for v in values if isinstance(v, float))


def build() -> Flow:
    with Flow("pictured") as flow:
        total(invert.map(numbers(Parameter("n", default=3))))
    return flow


def nodes(svg: Path) -> dict[str, dict[str, str]]:
    """Each node's label with its shape element's fill and the SVG element drawing it."""
    found: dict[str, dict[str, str]] = {}
    for group in ET.parse(svg).getroot().iter(f"{SVG}g"):
        if group.get("class") != "node":
            continue
        label = "".join(t.text or "" for t in group.iter(f"{SVG}text"))
        shape = next(e for e in group.iter() if e.tag in (f"{SVG}ellipse", f"{SVG}polygon"))
        found[label] = {"fill": shape.get("fill", ""), "shape": shape.tag.replace(SVG, "")}
    return found


def edges(svg: Path) -> list[str]:
    return [
        "".join(t.text or "" for t in group.iter(f"{SVG}title"))
        for group in ET.parse(svg).getroot().iter(f"{SVG}g")
        if group.get("class") == "edge"
    ]


def test_before_a_run_the_graph_has_one_node_per_task_and_a_box_for_the_map(
    tmp_path: Path,
) -> None:
    flow = build()
    flow.visualize(filename=str(tmp_path / "graph"), format="svg")
    drawn = nodes(tmp_path / "graph.svg")
    assert set(drawn) == {"n", "numbers", "invert <map>", "total"}
    assert drawn["invert <map>"]["shape"] == "polygon"  # a box
    assert drawn["numbers"]["shape"] == "ellipse"
    assert all(node["fill"] in ("none", "") for node in drawn.values())
    assert len(edges(tmp_path / "graph.svg")) == 3


def test_after_a_run_nodes_take_their_states_colours_and_children_are_drawn(
    tmp_path: Path,
) -> None:
    flow = build()
    state = flow.run()
    assert state.is_successful()
    flow.visualize(flow_state=state, filename=str(tmp_path / "run"), format="svg")
    drawn = nodes(tmp_path / "run.svg")
    assert set(drawn) == {"n", "numbers", "invert[0]", "invert[1]", "invert[2]", "total"}
    assert drawn["invert[0]"]["fill"] == Failed.color  # 1 / 0
    assert drawn["invert[1]"]["fill"] == drawn["invert[2]"]["fill"] == Success.color
    assert drawn["total"]["fill"] == Success.color
    assert drawn["invert[1]"]["shape"] == "polygon"
    # numbers feeds each child over a mapped edge; each child feeds total.
    assert len(edges(tmp_path / "run.svg")) == 1 + 3 + 3
    assert isinstance(state.result[flow.get_tasks(name="invert")[0]], Mapped)


def test_without_graphviz_the_error_says_how_to_install_it(tmp_path: Path) -> None:
    """With `dot` not on PATH, the error names the program and how to install it."""
    script = (
        "from tests.core.test_visualize import build\n"
        "from flowlight.core.visualize import GraphvizMissing\n"
        "try:\n"
        f"    build().visualize(filename={str(tmp_path / 'x')!r}, format='svg')\n"
        "except GraphvizMissing as error:\n"
        "    print(error)\n"
    )
    env = {**os.environ, "PATH": str(tmp_path)}  # no `dot` there
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "needs Graphviz's `dot` program" in done.stdout
    assert "apt-get install graphviz" in done.stdout and "pip install graphviz" in done.stdout
    assert issubclass(GraphvizMissing, ImportError)


def test_horizontal_draws_the_graph_left_to_right(tmp_path: Path) -> None:
    """visualize(horizontal=True), as in Prefect 1, lays a flow out left to right: the first
    task is drawn left of the last one instead of above it."""
    flow = build()

    def centre_x(svg: Path, label: str) -> float:
        for group in ET.parse(svg).getroot().iter(f"{SVG}g"):
            text = "".join(t.text or "" for t in group.iter(f"{SVG}text"))
            if group.get("class") == "node" and text == label:
                return float(next(group.iter(f"{SVG}text")).get("x", "0"))
        raise AssertionError(label)

    flow.visualize(filename=str(tmp_path / "wide"), format="svg", horizontal=True)
    flow.visualize(filename=str(tmp_path / "tall"), format="svg")
    wide, tall = tmp_path / "wide.svg", tmp_path / "tall.svg"
    assert centre_x(wide, "n") < centre_x(wide, "total")
    assert centre_x(tall, "n") == centre_x(tall, "total")
