"""A meeting point on 127.0.0.1 for task runs in any thread or process: proof of parallelism.

Each caller connects and blocks until `parties` callers are connected; then all are released at
once. Task runs that reach it only one after the other never meet, and return False when their
bounded wait ends; so a True from every one of them proves they were running at the same time.
"""

from __future__ import annotations

import socket
import threading

__all__ = ["Rendezvous", "meet"]


class Rendezvous:
    """Releases callers in groups of `parties`."""

    def __init__(self, parties: int) -> None:
        self.parties = parties
        self._server = socket.create_server(("127.0.0.1", 0))
        self.address = self._server.getsockname()[:2]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        waiting: list[socket.socket] = []
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            waiting.append(connection)
            if len(waiting) == self.parties:
                for caller in waiting:
                    caller.sendall(b"go")
                    caller.close()
                waiting = []

    def close(self) -> None:
        self._server.close()


def meet(address: tuple[str, int], timeout: float = 60.0) -> bool:
    """Wait at the meeting point; True when released with the others, False after `timeout`."""
    with socket.create_connection(address, timeout=timeout) as connection:
        try:
            return connection.recv(2) == b"go"
        except TimeoutError:
            return False
