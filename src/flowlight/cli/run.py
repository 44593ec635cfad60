"""`flowlight run FILE_OR_MODULE[:FLOW] [--param k=v ...] [--executor E] [--trace]`.

Exit status: 0 when the flow run succeeds, 1 when it ends in any other state, 2 when the command
cannot start the run (no such file or module, no flow or more than one, a bad parameter).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import runpy
import sys
from pathlib import Path
from typing import Any

__all__ = ["UsageError", "add_parser", "find_flow", "parse_parameters", "run_command"]

EXECUTORS = ("local", "threads", "processes", "dask")


class UsageError(Exception):
    """The command line cannot start a run; the message says what to change."""


def add_parser(commands: Any) -> None:
    run = commands.add_parser(
        "run",
        help="run a flow from a Python file or module",
        description=(
            "Run a flow defined in a Python file or an importable module. FLOW picks one by "
            "variable name or flow name when the file defines several. Exits 0 when the flow "
            "run succeeds, 1 when it does not, 2 when the run cannot start."
        ),
    )
    run.add_argument("target", metavar="FILE_OR_MODULE[:FLOW]")
    run.add_argument(
        "--param",
        "-p",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a parameter value (JSON, or text); repeat for each parameter",
    )
    run.add_argument(
        "--executor",
        choices=EXECUTORS,
        default=None,
        help="local (default: the flow's own), threads or processes (local dask), dask (a local "
        "dask.distributed cluster)",
    )
    run.add_argument(
        "--trace", action="store_true", help="trace the run with the OpenTelemetry bridge"
    )
    run.add_argument(
        "--no-progress", action="store_true", help="no live progress display on a terminal"
    )
    run.set_defaults(handler=run_command)


def _split_target(target: str) -> tuple[str, str | None]:
    source, _, flow = target.partition(":")
    return source, (flow or None)


def load_namespace(source: str) -> dict[str, Any]:
    """The globals of a flow file (run as a script named `__flowlight_run__`, so its
    `if __name__ == "__main__":` block does not run) or of an importable module."""
    path = Path(source)
    if source.endswith(".py") or os.sep in source or path.exists():
        if not path.is_file():
            raise UsageError(f"no such file: {source}")
        sys.path.insert(0, str(path.resolve().parent))
        return runpy.run_path(str(path), run_name="__flowlight_run__")
    try:
        module = importlib.import_module(source)
    except ModuleNotFoundError as error:
        if error.name and source.startswith(error.name):
            raise UsageError(
                f"no module named {source!r} (and no file of that name); pass a path to a "
                ".py file or an importable module"
            ) from None
        raise
    return vars(module)


def find_flow(namespace: dict[str, Any], wanted: str | None, source: str) -> Any:
    """The flow `wanted` (a variable or flow name), or the only flow in `namespace`."""
    from flowlight import Flow

    flows: dict[str, Flow] = {}
    for name, value in namespace.items():
        if isinstance(value, Flow) and not name.startswith("_"):
            flows.setdefault(name, value)
    if wanted is not None:
        for name, found in flows.items():
            if wanted in (name, found.name):
                return found
        listed = ", ".join(f"{n} ({f.name!r})" for n, f in flows.items()) or "none"
        raise UsageError(f"{source} has no flow named {wanted!r}; its flows: {listed}")
    distinct = list({id(f): f for f in flows.values()}.values())
    if not distinct:
        raise UsageError(f"{source} defines no Flow at module level")
    if len(distinct) > 1:
        names = ", ".join(sorted(flows))
        raise UsageError(
            f"{source} defines {len(distinct)} flows ({names}); pick one with {source}:NAME"
        )
    return distinct[0]


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _fits(value: Any, default: Any, raw: str) -> Any:
    """`value` as the type of the parameter's default; raise UsageError when it is not one."""
    kind = type(default)
    if default is None or kind not in (bool, int, float, str, list, dict):
        return value
    if kind is str:
        return raw
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, kind) and (kind is bool or not isinstance(value, bool)):
        return value
    raise UsageError(f"expects {kind.__name__} like its default {default!r}, got {raw!r}")


def parse_parameters(flow: Any, pairs: list[str]) -> dict[str, Any]:
    """`NAME=VALUE` pairs as the flow's parameter values, checked against its parameters."""
    declared = {p.name: p for p in flow.parameters()}
    values: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"--param {pair!r} is not NAME=VALUE")
        if name not in declared:
            known = ", ".join(sorted(declared)) or "none"
            raise UsageError(
                f"flow {flow.name!r} has no parameter {name!r}; its parameters: {known}"
            )
        try:
            values[name] = _fits(_parse_value(raw), declared[name].default, raw)
        except UsageError as error:
            raise UsageError(f"parameter {name!r} of flow {flow.name!r} {error}") from None
    missing = sorted(n for n, p in declared.items() if p.required and n not in values)
    if missing:
        raise UsageError(
            f"flow {flow.name!r} needs parameters {missing}; pass each with --param NAME=VALUE"
        )
    return values


def _executor(name: str | None) -> Any:
    if name is None:
        return None
    from flowlight import executors

    if name == "local":
        return executors.LocalExecutor()
    if name in ("threads", "processes"):
        return executors.LocalDaskExecutor(scheduler=name)
    return executors.DaskExecutor()


def run_command(args: argparse.Namespace) -> int:
    source, wanted = _split_target(args.target)
    try:
        flow = find_flow(load_namespace(source), wanted, source)
        parameters = parse_parameters(flow, args.param)
    except UsageError as error:
        print(f"flowlight run: {error}", file=sys.stderr)
        return 2
    if args.trace:
        import flowlight.otel

        flowlight.otel.instrument(flow)
    from flowlight.utilities.logging import stderr_is_terminal

    progress = stderr_is_terminal() and not args.no_progress
    state = flow.run(parameters=parameters, executor=_executor(args.executor), progress=progress)
    return 0 if state.is_successful() else 1
