"""The webhook signature: how flowlight signs a body and how a receiver checks it.

Header `X-Flowlight-Signature: t=<unix seconds>,v1=<hex>` where `<hex>` is
HMAC-SHA256(key = the signing secret's UTF-8 bytes, message = `<t>` + "." + the raw body bytes).
Signing the timestamp with the body lets a receiver refuse an old request replayed by someone
who captured it; docs/webhook-payload.md gives the same recipe for receivers in any language.
"""

from __future__ import annotations

import hashlib
import hmac
import time

__all__ = [
    "SIGNATURE_HEADER",
    "SIGNATURE_TOLERANCE",
    "sign_webhook_body",
    "verify_webhook_signature",
]

SIGNATURE_HEADER = "X-Flowlight-Signature"
SIGNATURE_TOLERANCE = 300.0
"""Seconds a signed request stays acceptable; longer than delivery's whole retry budget."""


def _digest(body: bytes, key: str, timestamp: int) -> str:
    signed = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(key.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def sign_webhook_body(body: bytes, key: str, timestamp: int) -> str:
    """The `X-Flowlight-Signature` value for `body` signed with `key` at `timestamp`."""
    return f"t={timestamp},v1={_digest(body, key, timestamp)}"


def verify_webhook_signature(
    body: bytes,
    header: str | None,
    key: str,
    *,
    tolerance: float = SIGNATURE_TOLERANCE,
    now: float | None = None,
) -> bool:
    """Whether `header` is a valid signature of `body` under `key`, made within `tolerance`
    seconds of `now`. Compares in constant time; any malformed header is simply invalid."""
    if not header:
        return False
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        fields.setdefault(name, []).append(value)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        return False
    expected = _digest(body, key, timestamp)
    return any(hmac.compare_digest(expected, given) for given in fields.get("v1", []))
