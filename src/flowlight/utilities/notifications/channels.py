"""Delivery actions for Slack, any webhook and e-mail: `fn(obj, state)` callables for
`callback_factory(action, check)`, and the delivering half of the notifiers.

`callback_factory(slack_action(), is_final_failure)` delivers exactly as
`slack_notifier(only_states=[Failed])` does: the same secrets read only when something will be
sent, retries and backoff, masking, trace links, flood control and delivery records, because a
notifier is one of these actions behind a state filter.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from html import escape
from typing import Any, ClassVar
from urllib.parse import urlsplit

from flowlight.utilities.notifications.base import DeliveryAction, read_secret
from flowlight.utilities.notifications.delivery import NotifierKind, Outcome, deliver
from flowlight.utilities.notifications.messages import (
    Notice,
    email_parts,
    slack_payload,
    webhook_body,
    webhook_payload,
)
from flowlight.utilities.notifications.signing import SIGNATURE_HEADER, sign_webhook_body
from flowlight.utilities.notifications.transports import (
    SmtpSecurity,
    SmtpServer,
    post_once,
    send_mail_once,
)
from flowlight.utilities.redaction import register_secret

__all__ = [
    "EmailAction",
    "SlackAction",
    "WebhookAction",
    "email_action",
    "gmail_options",
    "slack_action",
    "webhook_action",
]

_USER_AGENT = "flowlight-notifier/1"
_SECRET_PATH_LENGTH = 12


def _read_url_secret(name: str) -> str:
    url = read_secret(name, "a URL")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"Secret {name!r} does not hold an http(s) URL; set it to the full URL.")
    # A long path (Slack's /services/T.../B.../token) is what makes a webhook URL secret: mask it
    # even where it appears on its own. Short ones ("/api") are too common to mask everywhere.
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    if len(path) >= _SECRET_PATH_LENGTH:
        register_secret(path)
    return url


class SlackAction(DeliveryAction):
    """Posts to a Slack incoming webhook whose URL is the Secret `webhook_secret` (or
    `url_secret`, the name the other actions use).

    Prefect 1's `proxies` (a requests proxies mapping) is honoured. Its `backend_info` is
    accepted so ported code runs unchanged, and ignored: flowlight never calls a cloud API.
    """

    kind: ClassVar[NotifierKind] = "slack"

    def __init__(
        self,
        *,
        webhook_secret: str = "SLACK_WEBHOOK_URL",
        url_secret: str | None = None,
        backend_info: bool = True,
        proxies: Mapping[str, str] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.webhook_secret = url_secret if url_secret is not None else webhook_secret
        self.proxies = dict(proxies) if proxies else None
        del backend_info

    @property
    def channel(self) -> str:
        return f"slack:{self.webhook_secret}"

    def send(self, notice: Notice) -> tuple[Outcome, str, int]:
        url = _read_url_secret(self.webhook_secret)
        text = self.custom_text(notice)
        payload = slack_payload(notice) if text is None else {"text": text}
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": _USER_AGENT}
        proxies = self.proxies
        return deliver(
            lambda timeout: post_once(url, body, headers, timeout, proxies), self.delivery
        )


class WebhookAction(DeliveryAction):
    """POSTs the versioned JSON payload (docs/webhook-payload.md) to any URL.

    Give the URL literally (`url=`) or as a Secret name (`url_secret=`); `headers` are sent as
    given, `header_secrets` maps a header to the Secret holding its value (an Authorization token,
    say); `signing_secret` names the Secret whose value keys the HMAC-SHA256 signature header.
    """

    kind: ClassVar[NotifierKind] = "webhook"

    def __init__(
        self,
        *,
        url: str | None = None,
        url_secret: str | None = None,
        headers: Mapping[str, str] | None = None,
        header_secrets: Mapping[str, str] | None = None,
        signing_secret: str | None = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        if (url is None) == (url_secret is None):
            raise ValueError(
                "webhook_notifier and webhook_action need exactly one of url='https://...' "
                "(a literal URL) or url_secret='NAME' (the name of a Secret holding the URL)."
            )
        if url is not None and urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"webhook url={url!r} is not an http(s) URL.")
        self.url = url
        self.url_secret = url_secret
        self.headers = dict(headers or {})
        self.header_secrets = dict(header_secrets or {})
        self.signing_secret = signing_secret

    @property
    def channel(self) -> str:
        if self.url_secret is not None:
            return f"webhook:secret:{self.url_secret}"
        return "webhook:" + hashlib.sha256(str(self.url).encode()).hexdigest()[:16]

    def send(self, notice: Notice) -> tuple[Outcome, str, int]:
        url = self.url if self.url is not None else _read_url_secret(str(self.url_secret))
        now = time.time()
        payload = webhook_payload(notice, datetime.fromtimestamp(now, timezone.utc))
        text = self.custom_text(notice)
        if text is not None:
            payload["text"] = text
        body = webhook_body(payload)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": _USER_AGENT,
            "X-Flowlight-Event": notice.kind,
            # The same id on every retry of one notification, so a receiver can drop duplicates.
            "X-Flowlight-Delivery": str(uuid.uuid4()),
            **self.headers,
        }
        for header, secret_name in self.header_secrets.items():
            headers[header] = read_secret(secret_name, f"the value of header {header}")
        if self.signing_secret is not None:
            key = read_secret(self.signing_secret, "the webhook signing key")
            headers[SIGNATURE_HEADER] = sign_webhook_body(body, key, int(now))
        return deliver(lambda timeout: post_once(url, body, headers, timeout), self.delivery)


_DEFAULT_PORTS: dict[str, int] = {"starttls": 587, "ssl": 465, "plain": 25}


class EmailAction(DeliveryAction):
    """Sends a plain-text and HTML e-mail through an SMTP server.

    `security` is "starttls" (default), "ssl" or "plain" (no TLS; for a server on this machine).
    `username_secret` / `password_secret` name the Secrets to log in with; without them no login
    is attempted. Without `to`, the mail goes to the username (Prefect 1's gmail_notifier does so).
    """

    kind: ClassVar[NotifierKind] = "email"

    def __init__(
        self,
        *,
        to: str | Sequence[str] | None = None,
        smtp_host: str = "localhost",
        smtp_port: int | None = None,
        security: SmtpSecurity = "starttls",
        username_secret: str | None = None,
        password_secret: str | None = None,
        from_address: str | None = None,
        cafile: str | None = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        if security not in _DEFAULT_PORTS:
            raise ValueError(
                f"e-mail security={security!r} is not one of 'starttls', 'ssl', 'plain'."
            )
        if (username_secret is None) != (password_secret is None):
            raise ValueError(
                "e-mail alerts need both username_secret and password_secret, or neither "
                "(for a server that needs no login)."
            )
        recipients = [to] if isinstance(to, str) else list(to or [])
        if not recipients and username_secret is None:
            raise ValueError(
                "e-mail alerts need to=['someone@example.com'] (or username_secret, whose "
                "value is then used as the address)."
            )
        self.to = recipients
        self.server = SmtpServer(smtp_host, smtp_port or _DEFAULT_PORTS[security], security, cafile)
        self.username_secret = username_secret
        self.password_secret = password_secret
        self.from_address = from_address

    @property
    def channel(self) -> str:
        return f"email:{self.server.host}:{self.server.port}:{','.join(self.to)}"

    def send(self, notice: Notice) -> tuple[Outcome, str, int]:
        credentials = None
        if self.username_secret is not None and self.password_secret is not None:
            credentials = (
                read_secret(self.username_secret, "the SMTP user name"),
                read_secret(self.password_secret, "the SMTP password"),
            )
        recipients = self.to or [credentials[0] if credentials else ""]
        sender = self.from_address or (credentials[0] if credentials else "flowlight@localhost")
        subject, text, html = email_parts(notice)
        custom = self.custom_text(notice)
        if custom is not None:
            text = custom + "\n"
            html = f"<html><body><pre>{escape(custom)}</pre></body></html>"
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = sender
        message["To"] = ", ".join(recipients)
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain="flowlight")
        if notice.trace_id:
            message["X-Flowlight-Trace-Id"] = notice.trace_id
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        return deliver(
            lambda timeout: send_mail_once(self.server, message, recipients, credentials, timeout),
            self.delivery,
        )


def gmail_options(options: dict[str, Any]) -> dict[str, Any]:
    """Prefect 1's gmail defaults under `options`: smtp.gmail.com:465 over SSL, logging in with
    the Secrets EMAIL_USERNAME / EMAIL_PASSWORD."""
    return {
        "smtp_host": "smtp.gmail.com",
        "smtp_port": 465,
        "security": "ssl",
        "username_secret": "EMAIL_USERNAME",
        "password_secret": "EMAIL_PASSWORD",
        **options,
    }


def slack_action(**options: Any) -> SlackAction:
    """A Slack delivery action `fn(obj, state)`.

    Options: `url_secret` (or Prefect 1's name for it, `webhook_secret`; default
    "SLACK_WEBHOOK_URL"), `flood_control`, `trace_url_template`, `log_url_template`, `template`
    (docs/notification-templates.md), `raise_on_failure`, `delivery`, `proxies`.
    """
    return SlackAction(**options)


def webhook_action(**options: Any) -> WebhookAction:
    """A webhook delivery action `fn(obj, state)`; needs `url=` or `url_secret=`, and signs the
    body with `signing_secret=` (see WebhookAction for the rest)."""
    return WebhookAction(**options)


def email_action(**options: Any) -> EmailAction:
    """An e-mail delivery action `fn(obj, state)`; needs `to=` or login secrets (see
    EmailAction for the rest)."""
    return EmailAction(**options)
