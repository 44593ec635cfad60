"""Real receivers for the notifier tests: an HTTP server standing in for Slack and webhook
endpoints, aiosmtpd for e-mail (plain, STARTTLS and SSL with a certificate made per test), a port
that refuses connections, and a clock that advances instead of sleeping."""

from __future__ import annotations

import datetime
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Reply:
    """What the receiver answers to one request; `hang=True` never answers (until teardown)."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    hang: bool = False


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class HttpReceiver:
    """A threaded HTTP server on 127.0.0.1 that records POSTs and answers from a script.

    Replies are taken in order from `script`; once it is used up every request gets 200.
    """

    def __init__(self) -> None:
        self.requests: list[ReceivedRequest] = []
        self.script: list[Reply] = []
        self._changed = threading.Condition()
        self._release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with receiver._changed:
                    reply = receiver.script.pop(0) if receiver.script else Reply()
                    receiver.requests.append(
                        ReceivedRequest(self.path, {k: v for k, v in self.headers.items()}, body)
                    )
                    receiver._changed.notify_all()
                if reply.hang:
                    receiver._release.wait(30)
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedRequest]:
        """Block until `count` requests arrived (an event, not a sleep)."""
        with self._changed:
            arrived = self._changed.wait_for(lambda: len(self.requests) >= count, timeout)
        assert arrived, f"expected {count} request(s), got {len(self.requests)}"
        return list(self.requests)

    def close(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    server = HttpReceiver()
    try:
        yield server
    finally:
        server.close()


def free_port() -> int:
    """A port nobody listens on right now (the server started next binds it); the one helper
    for this, imported by the OpenTelemetry and ops tests too."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def refused_url() -> str:
    """A URL on 127.0.0.1 where nothing listens, so connecting is refused."""
    return f"http://127.0.0.1:{free_port()}/refused/4c0b9e7d1a"


class FakeClock:
    """The delivery clock: `sleep` records the wait and moves time on at once."""

    def __init__(self) -> None:
        self.time = 1_000.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.time += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@dataclass
class Certificate:
    cert_path: Path
    key_path: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_path, self.key_path)
        return context


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1 and localhost, made for this test session."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "flowlight test SMTP")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Certificate(cert_path, key_path)


class MailStore:
    """aiosmtpd handler keeping each accepted message's envelope."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.logins: list[tuple[str, str]] = []
        self._changed = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._changed:
            self.envelopes.append(envelope)
            self._changed.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Any]:
        with self._changed:
            arrived = self._changed.wait_for(lambda: len(self.envelopes) >= count, timeout)
        assert arrived, f"expected {count} message(s), got {len(self.envelopes)}"
        return list(self.envelopes)


@dataclass
class SmtpServer:
    port: int
    store: MailStore


def _authenticator(user: str, password: str, store: MailStore) -> Any:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == user
            and data.password.decode() == password
        )
        if ok:
            store.logins.append((user, password))
        return AuthResult(success=ok, handled=False)

    return check


def start_smtp(
    mode: str, certificate: Certificate | None = None, login: tuple[str, str] | None = None
) -> tuple[Controller, SmtpServer]:
    """Start aiosmtpd on a free port: mode "plain", "starttls" or "ssl"."""
    store = MailStore()
    kwargs: dict[str, Any] = {}
    if login is not None:
        kwargs.update(
            authenticator=_authenticator(login[0], login[1], store),
            auth_required=True,
            # aiosmtpd counts only STARTTLS as TLS; an implicit-TLS ("ssl") session is one too.
            auth_require_tls=mode == "starttls",
        )
    if mode == "starttls":
        assert certificate is not None
        kwargs.update(tls_context=certificate.server_context(), require_starttls=True)
    elif mode == "ssl":
        assert certificate is not None
        kwargs.update(ssl_context=certificate.server_context())
    port = free_port()
    controller = Controller(store, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return controller, SmtpServer(port, store)


@pytest.fixture
def engine_clock() -> Iterator[FakeClock]:
    """A fake clock for the engine and, through it, for notification delivery."""
    from flowlight.engine.clock import use_clock

    fake = FakeClock()
    with use_clock(fake):
        yield fake


@pytest.fixture
def records() -> Iterator[list[Any]]:
    """Every DeliveryRecord reported while the test runs."""
    from flowlight.utilities.notifications import add_delivery_listener, remove_delivery_listener

    seen: list[Any] = []
    add_delivery_listener(seen.append)
    yield seen
    remove_delivery_listener(seen.append)


class TricklingServer:
    """A TCP server on 127.0.0.1 that answers one byte at a time, slowly enough that every read
    finishes within a per-read timeout while the whole answer takes far longer.

    For HTTP it reads the request first (up to the blank line and the Content-Length body), then
    sends `answer`; with `greet=True` (SMTP) it sends `answer` as soon as a client connects.
    `finished` is set only if an answer was sent whole, so a test can show its caller gave up
    before that without timing anything.
    """

    def __init__(self, answer: bytes, interval: float = 0.1, greet: bool = False) -> None:
        self.answer = answer
        self.interval = interval
        self.greet = greet
        self.connections = 0
        self.finished = threading.Event()
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _address = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            try:
                if not self.greet:
                    self._read_request(connection)
                for byte in self.answer:
                    if self._stop.wait(self.interval):
                        return
                    connection.sendall(bytes([byte]))
                self.finished.set()
            except OSError:
                return

    @staticmethod
    def _read_request(connection: socket.socket) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = connection.recv(65536)
            if not chunk:
                return
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = connection.recv(65536)
            if not chunk:
                return
            body += chunk

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
