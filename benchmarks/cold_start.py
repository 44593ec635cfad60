"""The one-time cost of a process's first flow run, untraced and traced, in a fresh interpreter.

`python -m benchmarks.cold_start MODE` (MODE `plain` or `traced`) imports flowlight, builds two
one-task flows, and times the first `flow.run()` and the second; for `traced`, importing the
bridge, `configure()` (into a temporary directory: the default file path) and `instrument()`
are timed with the first run. The one-time cost is the first figure less the second, which is
what every later run costs too. Wall time: an import is mostly reading and executing files in
one thread. Prints one JSON line, with the heavy modules the process ended up loading.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from typing import Any


def measure(mode: str) -> dict[str, Any]:
    import flowlight

    @flowlight.task
    def one() -> int:
        return 1

    flows = []
    for name in ("first", "second"):
        with flowlight.Flow(name) as flow:
            one()
        flows.append(flow)
    directory = tempfile.TemporaryDirectory(prefix="flowlight-bench-")
    started = time.perf_counter()
    if mode == "traced":
        import flowlight.otel

        flowlight.otel.configure(telemetry_dir=directory.name)
        flowlight.otel.instrument(flows[0])
    if not flows[0].run().is_successful():
        raise SystemExit("the first flow run did not succeed")
    first = time.perf_counter() - started
    started = time.perf_counter()
    if mode == "traced":
        flowlight.otel.instrument(flows[1])
    if not flows[1].run().is_successful():
        raise SystemExit("the second flow run did not succeed")
    second = time.perf_counter() - started
    heavy = (
        "pendulum",
        "structlog",
        "rich",
        "requests",
        "asyncio",
        "multiprocessing",
        "dask",
        "google.protobuf",
        "opentelemetry.proto",
        "opentelemetry.exporter.otlp.proto.grpc",
        "opentelemetry.exporter.otlp.proto.http",
        "grpc",
    )
    return {
        "engine": "flowlight",
        "mode": mode,
        "shape": "independent",
        "n": 1,
        "handlers": "bridge-files" if mode == "traced" else "none",
        "first_seconds": first,
        "second_seconds": second,
        "one_time_seconds": first - second,
        "loaded": [name for name in heavy if name in sys.modules],
        # False under PYTHONDONTWRITEBYTECODE: then every import compiles (see measure.py).
        "bytecode_written": not sys.dont_write_bytecode,
    }


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in ("plain", "traced"):
        raise SystemExit("usage: python -m benchmarks.cold_start plain|traced")
    print(json.dumps(measure(sys.argv[1])))
