"""An alert handler built with `callback_factory(action, check)` beside the exporters.

Run it with `python examples/alert_handler.py`. It starts a stand-in for Slack on 127.0.0.1 (a
few lines of http.server that print the plain-text fallback of each message they receive), points
the Secret SLACK_WEBHOOK_URL at it, and runs a flow whose task fails on all three attempts. The
trace, logs and metrics go where the OTEL_* variables say, or under `.flowlight/telemetry/`.
"""

from __future__ import annotations

import datetime
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import flowlight.otel
from flowlight import Flow, task
from flowlight.utilities.notifications import callback_factory, is_final_failure, slack_action


class PrintingReceiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        print(f"--- received POST {self.path}\n{body['text']}", flush=True)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), PrintingReceiver)
threading.Thread(target=server.serve_forever, daemon=True).start()
slack_url = f"http://127.0.0.1:{server.server_address[1]}/services/T000/B000/example"

# The example proper: one action, one check, on the task and on the flow.
alert = callback_factory(
    slack_action(
        url_secret="SLACK_WEBHOOK_URL",
        trace_url_template="http://localhost:16686/trace/{trace_id}",
    ),
    is_final_failure,  # not the two failures that are retried
)


@task(max_retries=2, retry_delay=datetime.timedelta(seconds=0.1), state_handlers=[alert])
def load() -> None:
    raise ConnectionError("warehouse unreachable")


with Flow("nightly-etl", state_handlers=[alert]) as flow:
    load()

flowlight.otel.instrument(flow)  # traces, logs and metrics
state = flow.run(context={"secrets": {"SLACK_WEBHOOK_URL": slack_url}})
print(f"--- flow run ended {type(state).__name__}")
server.shutdown()
