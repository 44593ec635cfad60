"""One call to a receiver (an HTTP POST or an SMTP session), classified for the retry loop.

Each function makes exactly one attempt and turns what happened into an `AttemptResult` with a
reason in flowlight's own words. Library exception texts are never passed on: requests quotes the
URL's path in its errors, and a Slack webhook's path is the secret.
"""

from __future__ import annotations

import contextlib
import email.utils
import smtplib
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Literal

import requests

from flowlight.utilities.notifications.delivery import AttemptResult

__all__ = ["SmtpServer", "parse_retry_after", "post_once", "send_mail_once"]

SmtpSecurity = Literal["starttls", "ssl", "plain"]


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or an HTTP-date), or None."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def post_once(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    timeout: float,
    proxies: Mapping[str, str] | None = None,
) -> AttemptResult:
    """POST `body` to `url` once and classify the answer; `timeout` bounds the whole call.

    2xx is sent; 429 and 5xx are worth retrying (with the server's Retry-After, if any); any other
    status is not; a refused or dropped connection and a timeout are worth retrying. A redirect is
    never followed: the body, its signature and the header secrets go only to the URL the user
    named (requests would re-send all but `Authorization` to whatever host a redirect names). A
    receiver that answers slowly (a byte at a time) is given up on when `timeout` has passed in
    all, not per read; the response body is never read.
    """
    return _attempt_within(
        timeout, "no answer", lambda _register: _post(url, body, headers, timeout, proxies)
    )


def _post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    timeout: float,
    proxies: Mapping[str, str] | None,
) -> AttemptResult:
    try:
        response = requests.post(
            url,
            data=body,
            headers=dict(headers),
            timeout=timeout,
            proxies=dict(proxies) if proxies else None,
            allow_redirects=False,
            stream=True,
        )
    except requests.Timeout:
        return AttemptResult("retry", f"no answer within {timeout:g} s")
    except requests.ConnectionError as error:
        return AttemptResult("retry", _connection_reason(error))
    except requests.RequestException as error:
        return AttemptResult("fail", f"request could not be made ({type(error).__name__})")
    status = f"HTTP {response.status_code} {response.reason or ''}".rstrip()
    location = response.headers.get("Location")
    retry_after_header = response.headers.get("Retry-After")
    response.close()
    if 200 <= response.status_code < 300:
        return AttemptResult("sent", status)
    if 300 <= response.status_code < 400:
        return AttemptResult("fail", f"{status}: {_redirect_reason(url, location)}")
    if response.status_code == 429 or response.status_code >= 500:
        retry_after = parse_retry_after(retry_after_header)
        suffix = "" if retry_after is None else f" (Retry-After {retry_after:g} s)"
        return AttemptResult("retry", status + suffix, retry_after)
    return AttemptResult("fail", status + " (not retried: the receiver rejected the request)")


def _redirect_reason(url: str, location: str | None) -> str:
    """Why a redirect was not followed, naming the other host (never a path: it may be secret)."""
    target = urllib.parse.urlsplit(urllib.parse.urljoin(url, location or ""))
    origin = urllib.parse.urlsplit(url)
    if location and (target.scheme, target.netloc) != (origin.scheme, origin.netloc):
        where = f"to another host ({target.hostname or 'unnamed'}); not followed"
    else:
        where = "on the same host; not followed"
    return (
        f"the receiver redirected {where}, so the body, signature and header secrets were sent "
        "only to the URL you configured: configure the URL the redirect points to"
    )


def _attempt_within(
    seconds: float,
    silence: str,
    call: Callable[[Callable[[Callable[[], None]], None]], AttemptResult],
) -> AttemptResult:
    """`call(register)`'s result if it ends within `seconds`, else a retry whose reason is
    `silence` and the deadline.

    The call runs on a daemon thread; `register(abort)` lets it name how to cut it short (close
    its socket), which is done when the deadline passes, so a receiver that trickles its answer
    holds the caller for `seconds` at most.
    """
    done = threading.Event()
    outcome: list[AttemptResult] = []
    aborts: list[Callable[[], None]] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(call(aborts.append))
        except BaseException as error:  # handed to the caller's thread below
            failure.append(error)
        finally:
            done.set()

    threading.Thread(target=run, name="flowlight-notification", daemon=True).start()
    if done.wait(seconds):
        if failure:
            raise failure[0]
        return outcome[0]
    for abort in aborts:
        with contextlib.suppress(OSError):
            abort()
    return AttemptResult("retry", f"{silence} within {seconds:g} s")


def _connection_reason(error: BaseException) -> str:
    """Name the cause of a connection error without quoting the library's message."""
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "host name could not be resolved"
        if isinstance(cause, ssl.SSLError):
            return f"TLS handshake failed ({type(cause).__name__})"
        if isinstance(cause, (TimeoutError, socket.timeout)):
            return "connection timed out"
        if isinstance(cause, ConnectionResetError):
            return "connection reset by the receiver"
        nested = cause.args[0] if cause.args and isinstance(cause.args[0], BaseException) else None
        cause = nested or getattr(cause, "reason", None) or cause.__cause__ or cause.__context__
        if not isinstance(cause, BaseException):
            cause = None
    return f"connection failed ({type(error).__name__})"


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to reach an SMTP server.

    `security` is "starttls" (upgrade a plain connection, port 587), "ssl" (TLS from the first
    byte, port 465) or "plain" (no TLS: only for a server on the local machine). `cafile` adds a CA
    bundle to trust, for a server with a private certificate.
    """

    host: str
    port: int
    security: SmtpSecurity = "starttls"
    cafile: str | None = None

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.cafile)


def send_mail_once(
    server: SmtpServer,
    message: EmailMessage,
    recipients: Sequence[str],
    credentials: tuple[str, str] | None,
    timeout: float,
) -> AttemptResult:
    """Send `message` in one SMTP session and classify what happened; `timeout` bounds the whole
    session, not each read (a server that answers a byte at a time is cut off when it passes).

    A refused connection, a timeout and a 4xx reply (the server's "try again later") are worth
    retrying; a 5xx reply (bad credentials, unknown recipient) and a failed TLS check are not.
    """
    return _attempt_within(
        timeout,
        "no answer from the SMTP server",
        lambda register: _send_mail(server, message, recipients, credentials, timeout, register),
    )


def _send_mail(
    server: SmtpServer,
    message: EmailMessage,
    recipients: Sequence[str],
    credentials: tuple[str, str] | None,
    timeout: float,
    register: Callable[[Callable[[], None]], None],
) -> AttemptResult:
    step = "connect"
    try:
        client: smtplib.SMTP
        if server.security == "ssl":
            client = smtplib.SMTP_SSL(timeout=timeout, context=server.tls_context())
        else:
            client = smtplib.SMTP(timeout=timeout)
        register(lambda: _cut(client))
        with client:
            # The host is set before connecting, as SMTP(host) would, for STARTTLS's SNI check.
            client._host = server.host  # type: ignore[attr-defined]
            code, _greeting = client.connect(server.host, server.port)
            if code != 220:
                raise smtplib.SMTPConnectError(code, _greeting)
            if server.security == "starttls":
                step = "STARTTLS"
                client.starttls(context=server.tls_context())
            if credentials is not None:
                step = "login"
                client.login(*credentials)
            step = "sending"
            refused = client.send_message(message, to_addrs=list(recipients))
    except smtplib.SMTPResponseException as error:
        kind: Literal["retry", "fail"] = "retry" if 400 <= error.smtp_code < 500 else "fail"
        return AttemptResult(kind, f"SMTP server answered {error.smtp_code} during {step}")
    except smtplib.SMTPRecipientsRefused as error:
        codes = sorted({code for code, _ in error.recipients.values()})
        return AttemptResult("fail", f"SMTP server refused every recipient (codes {codes})")
    except smtplib.SMTPNotSupportedError:
        fix = "use security='ssl' or 'plain'" if step == "STARTTLS" else "check the server"
        return AttemptResult("fail", f"SMTP server does not support {step}; {fix}")
    except ssl.SSLCertVerificationError:
        return AttemptResult("fail", "SMTP server's TLS certificate is not trusted")
    except ssl.SSLError as error:
        return AttemptResult("retry", f"TLS failed ({type(error).__name__})")
    except TimeoutError:
        return AttemptResult("retry", f"no answer from the SMTP server within {timeout:g} s")
    except smtplib.SMTPServerDisconnected:
        return AttemptResult("retry", "SMTP server closed the connection")
    except smtplib.SMTPException as error:  # before OSError, which it subclasses
        return AttemptResult("fail", f"SMTP failed during {step} ({type(error).__name__})")
    except OSError as error:
        return AttemptResult("retry", _connection_reason(error))
    if refused:
        return AttemptResult("sent", f"sent; {len(refused)} recipient(s) refused")
    return AttemptResult("sent", "sent")


def _cut(client: smtplib.SMTP) -> None:
    """End a session from another thread: shutting the socket down wakes a blocked read."""
    sock = getattr(client, "sock", None)
    if sock is not None:
        sock.shutdown(socket.SHUT_RDWR)
