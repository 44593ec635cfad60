"""`python -m benchmarks.notifications`: what notifiers cost a flow run.

1. A notifier that sends nothing (its `only_states` excludes every transition) on each of 1,000
   independent tasks, against the same flow with a no-op handler: the cost of the filter alone.
2. A map over 1,000 failing children posting to a webhook on 127.0.0.1, with flood control on
   (the default: one alert plus the flow's summary) and off (one POST per child).

Prints one line per measurement, the best of `--repeat` runs.
"""

from __future__ import annotations

import argparse
import functools
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from flowlight import Flow, task
from flowlight.engine.state import Failed, Retrying
from flowlight.utilities.notifications import webhook_notifier


class _Accept(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _keep(obj: Any, old: Any, new: Any) -> Any:
    return new


def _best(run: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def _independent(handlers: list[Any], size: int) -> Flow:
    flow = Flow("independent")
    for i in range(size):
        flow.add_task(task(lambda: 1, name=f"t{i}", state_handlers=list(handlers)))
    return flow


def _failing_map(notifier: Any, size: int) -> Flow:
    def fail(x: int) -> None:
        raise ValueError(x)

    with Flow("wide", state_handlers=[notifier]) as flow:
        task(fail, name="child", state_handlers=[notifier]).map(list(range(size)))
    return flow


def _run_failing_map(notifier: Any, size: int) -> None:
    _failing_map(notifier, size).run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Accept)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/bench"
    try:
        quiet = webhook_notifier(url=url, only_states=[Retrying])
        noop = _best(lambda: _independent([_keep], args.size).run(), args.repeat)
        filtered = _best(lambda: _independent([quiet], args.size).run(), args.repeat)
        per_transition = (filtered - noop) / (2 * args.size) * 1e6
        print(f"{args.size} tasks, a no-op handler:          {noop * 1000:8.1f} ms")
        print(f"{args.size} tasks, notifier that sends none: {filtered * 1000:8.1f} ms")
        print(f"  notifier cost per transition, beyond a no-op handler: {per_transition:.1f} us")
        for flood in (True, False):
            notifier = webhook_notifier(url=url, only_states=[Failed], flood_control=flood)
            seconds = _best(functools.partial(_run_failing_map, notifier, args.size), args.repeat)
            label = "on " if flood else "off"
            print(f"map of {args.size} failing children, flood control {label}: {seconds:.3f} s")
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
