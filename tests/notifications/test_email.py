"""E-mail alerts through a real SMTP server (aiosmtpd): STARTTLS and SSL with a certificate made
for the test, plain for a local server, logins from Secrets, both message parts, and failures
that are reported without leaking the password."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from typing import Any

import pytest
from structlog.testing import capture_logs

from flowlight.engine.state import Failed, Running
from flowlight.utilities.context import use_context
from flowlight.utilities.notifications.delivery import (
    DeliveryPolicy,
    DeliveryRecord,
    NotificationError,
)
from flowlight.utilities.notifications.notifiers import (
    EmailNotifier,
    email_notifier,
    gmail_notifier,
)

from .servers import Certificate, FakeClock, free_port, start_smtp

USER = "alerts@example.test"
PASSWORD = "smtp-password-7c1e9b"


class FakeTask:
    name = "load"
    slug = "load-1"


def run_context(**extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "flow_name": "etl",
        "flow_run_id": None,
        "task_name": "load",
        "task_slug": "load-1",
        "task_full_name": "load",
        "task_run_id": "task-run-1",
        "task_run_count": 1,
        "secrets": {"SMTP_USER": USER, "SMTP_PASSWORD": PASSWORD},
    }
    values.update(extra)
    return values


def parse(envelope: Any) -> EmailMessage:
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def notify(notifier: EmailNotifier, state: Any = None, **context: Any) -> Any:
    state = state or Failed("Error during execution of task: ValueError('nope')")
    with use_context(run_context(**context)):
        return notifier(FakeTask(), Running(), state)


def test_starttls_with_login_delivers_a_text_and_an_html_part(
    certificate: Certificate, records: list[DeliveryRecord]
) -> None:
    """The server requires STARTTLS and a login; the message has both parts and the facts."""
    controller, server = start_smtp("starttls", certificate, login=(USER, PASSWORD))
    try:
        notifier = email_notifier(
            to=["oncall@example.test"],
            smtp_host="127.0.0.1",
            smtp_port=server.port,
            security="starttls",
            username_secret="SMTP_USER",
            password_secret="SMTP_PASSWORD",
            cafile=str(certificate.cert_path),
        )
        state = Failed("Error during execution of task: ValueError('nope')")
        assert notify(notifier, state) is state
        envelope = server.store.wait_for(1)[0]
    finally:
        controller.stop()
    assert server.store.logins == [(USER, PASSWORD)]
    assert envelope.rcpt_tos == ["oncall@example.test"]
    message = parse(envelope)
    assert message["Subject"] == "[flowlight] Task 'load' in flow 'etl' is now Failed"
    assert message["From"] == USER
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert "Message: Error during execution of task: ValueError('nope')" in text.get_content()
    assert "<h2>Task &#x27;load&#x27; in flow &#x27;etl&#x27; is now Failed</h2>" in (
        html.get_content()
    )
    assert [(r.notifier, r.outcome, r.attempts) for r in records] == [("email", "sent", 1)]


# The session is TLS from the first byte; aiosmtpd only counts STARTTLS as TLS and warns.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_gmail_notifier_speaks_ssl_and_writes_to_the_login_address(
    certificate: Certificate, records: list[DeliveryRecord]
) -> None:
    """Prefect 1's gmail_notifier shape: implicit TLS, EMAIL_USERNAME/EMAIL_PASSWORD secrets,
    mail to the user itself; pointed at the local server instead of smtp.gmail.com."""
    controller, server = start_smtp("ssl", certificate, login=(USER, PASSWORD))
    try:
        notifier = gmail_notifier(
            smtp_host="127.0.0.1", smtp_port=server.port, cafile=str(certificate.cert_path)
        )
        notify(notifier, secrets={"EMAIL_USERNAME": USER, "EMAIL_PASSWORD": PASSWORD})
        envelope = server.store.wait_for(1)[0]
    finally:
        controller.stop()
    assert envelope.rcpt_tos == [USER]
    assert parse(envelope)["To"] == USER
    assert records[-1].outcome == "sent"


def test_gmail_defaults_match_prefect_1() -> None:
    notifier = gmail_notifier()
    assert (notifier.server.host, notifier.server.port, notifier.server.security) == (
        "smtp.gmail.com",
        465,
        "ssl",
    )
    assert (notifier.username_secret, notifier.password_secret) == (
        "EMAIL_USERNAME",
        "EMAIL_PASSWORD",
    )


def test_plain_smtp_without_login_for_a_local_server(records: list[DeliveryRecord]) -> None:
    controller, server = start_smtp("plain")
    try:
        notifier = email_notifier(
            to="me@example.test", smtp_host="127.0.0.1", smtp_port=server.port, security="plain"
        )
        notify(notifier)
        message = parse(server.store.wait_for(1)[0])
    finally:
        controller.stop()
    assert message["From"] == "flowlight@localhost"
    assert records[-1].outcome == "sent"


def test_an_untrusted_certificate_fails_without_retrying(
    certificate: Certificate, records: list[DeliveryRecord]
) -> None:
    """Without the test CA the TLS check fails: one attempt, reported, nothing delivered."""
    controller, server = start_smtp("starttls", certificate)
    try:
        notifier = email_notifier(
            to="me@example.test",
            smtp_host="127.0.0.1",
            smtp_port=server.port,
            delivery=DeliveryPolicy(clock=FakeClock()),
        )
        notify(notifier)
    finally:
        controller.stop()
    assert server.store.envelopes == []
    assert (records[-1].outcome, records[-1].attempts) == ("failed", 1)
    assert "not trusted" in records[-1].reason


def test_a_wrong_password_fails_and_the_password_is_never_written(
    certificate: Certificate, records: list[DeliveryRecord], capfd: pytest.CaptureFixture[str]
) -> None:
    """535 is not retried; neither the log, the record nor the raised error shows the password."""
    wrong = "wrong-password-5d2a11"
    controller, server = start_smtp("starttls", certificate, login=(USER, PASSWORD))
    try:
        notifier = email_notifier(
            to="me@example.test",
            smtp_host="127.0.0.1",
            smtp_port=server.port,
            username_secret="SMTP_USER",
            password_secret="SMTP_PASSWORD",
            cafile=str(certificate.cert_path),
            raise_on_failure=True,
            delivery=DeliveryPolicy(clock=FakeClock()),
        )
        with capture_logs() as logs, pytest.raises(NotificationError) as raised:
            notify(notifier, secrets={"SMTP_USER": USER, "SMTP_PASSWORD": wrong})
    finally:
        controller.stop()
    assert (records[-1].outcome, records[-1].attempts) == ("failed", 1)
    assert "535" in records[-1].reason
    written = repr(logs) + str(raised.value) + repr(records) + "".join(capfd.readouterr())
    assert wrong not in written and USER not in written


def test_a_server_that_is_not_there_is_retried_then_reported(
    records: list[DeliveryRecord],
) -> None:
    clock = FakeClock()
    notifier = email_notifier(
        to="me@example.test",
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        security="plain",
        delivery=DeliveryPolicy(clock=clock, max_attempts=3),
    )
    notify(notifier)
    assert (records[-1].outcome, records[-1].attempts, clock.sleeps) == ("failed", 3, [0.5, 1.0])
    assert "connection refused" in records[-1].reason


@pytest.mark.parametrize(
    ("options", "fix"),
    [
        ({}, "to=["),
        ({"to": "a@b.c", "security": "tls"}, "'starttls', 'ssl', 'plain'"),
        ({"to": "a@b.c", "username_secret": "U"}, "both username_secret and password_secret"),
    ],
)
def test_misconfiguration_is_refused_when_the_notifier_is_made(
    options: dict[str, Any], fix: str
) -> None:
    with pytest.raises(ValueError) as error:
        email_notifier(**options)
    assert fix in str(error.value)


def test_a_numeric_password_from_the_environment_is_used_as_text(
    certificate: Certificate, records: list[DeliveryRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Environment secrets are parsed like settings (digits become an int); a login needs text."""
    password = "80417263951"
    monkeypatch.setenv("FLOWLIGHT__CONTEXT__SECRETS__NUMERIC_PASSWORD", password)
    controller, server = start_smtp("starttls", certificate, login=(USER, password))
    try:
        notifier = email_notifier(
            to="me@example.test",
            smtp_host="127.0.0.1",
            smtp_port=server.port,
            username_secret="SMTP_USER",
            password_secret="NUMERIC_PASSWORD",
            cafile=str(certificate.cert_path),
        )
        notify(notifier)
        server.store.wait_for(1)
    finally:
        controller.stop()
    assert server.store.logins == [(USER, password)]
    assert records[-1].outcome == "sent"


def test_in_a_flow_run_an_unreachable_smtp_server_leaves_the_task_successful(
    records: list[DeliveryRecord],
) -> None:
    """A real flow: the alert to a closed port fails after its retries (fake clock), the task
    still ends Success; the same notifier pointed at a live server delivers."""
    from flowlight import Flow, task
    from flowlight.engine.clock import use_clock
    from flowlight.engine.state import Success

    controller, server = start_smtp("plain")
    try:
        for port, outcome in ((free_port(), "failed"), (server.port, "sent")):
            notifier = email_notifier(
                to="me@example.test",
                smtp_host="127.0.0.1",
                smtp_port=port,
                security="plain",
                only_states=[Success],
            )
            work = task(lambda: 1, name="load", state_handlers=[notifier])
            with use_clock(FakeClock()):
                state = Flow("etl", tasks=[work]).run()
            assert state.result[work].is_successful()
            assert records[-1].outcome == outcome
        message = parse(server.store.wait_for(1)[0])
    finally:
        controller.stop()
    assert message["Subject"] == "[flowlight] Task 'load' in flow 'etl' is now Success"
