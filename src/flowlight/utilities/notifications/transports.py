"""One call to a receiver (an HTTP POST or an SMTP session), classified for the retry loop.

Each function makes exactly one attempt and turns what happened into an `AttemptResult` with a
reason in flowlight's own words. Library exception texts are never passed on: requests quotes the
URL's path in its errors, and a Slack webhook's path is the secret.
"""

from __future__ import annotations

import email.utils
import smtplib
import socket
import ssl
import time
from collections.abc import Mapping, Sequence
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
    """POST `body` to `url` once and classify the answer.

    2xx is sent; 429 and 5xx are worth retrying (with the server's Retry-After, if any); any other
    status is not; a refused or dropped connection and a timeout are worth retrying.
    """
    try:
        response = requests.post(
            url,
            data=body,
            headers=dict(headers),
            timeout=timeout,
            proxies=dict(proxies) if proxies else None,
        )
    except requests.Timeout:
        return AttemptResult("retry", f"no answer within {timeout:g} s")
    except requests.ConnectionError as error:
        return AttemptResult("retry", _connection_reason(error))
    except requests.RequestException as error:
        return AttemptResult("fail", f"request could not be made ({type(error).__name__})")
    status = f"HTTP {response.status_code} {response.reason or ''}".rstrip()
    response.close()
    if 200 <= response.status_code < 300:
        return AttemptResult("sent", status)
    if response.status_code == 429 or response.status_code >= 500:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        suffix = "" if retry_after is None else f" (Retry-After {retry_after:g} s)"
        return AttemptResult("retry", status + suffix, retry_after)
    return AttemptResult("fail", status + " (not retried: the receiver rejected the request)")


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
    """Send `message` in one SMTP session and classify what happened.

    A refused connection, a timeout and a 4xx reply (the server's "try again later") are worth
    retrying; a 5xx reply (bad credentials, unknown recipient) and a failed TLS check are not.
    """
    step = "connect"
    try:
        client: smtplib.SMTP
        if server.security == "ssl":
            client = smtplib.SMTP_SSL(
                server.host, server.port, timeout=timeout, context=server.tls_context()
            )
        else:
            client = smtplib.SMTP(server.host, server.port, timeout=timeout)
        with client:
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
