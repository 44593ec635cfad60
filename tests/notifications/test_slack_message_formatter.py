"""`slack_message_formatter`: Prefect 1's Slack attachment for a state change, for code that
posts its own Slack messages."""

from __future__ import annotations

import json

import pytest

from flowlight import Task
from flowlight.engine import state as st
from flowlight.utilities.notifications import slack_message_formatter

SHOWN = [
    st.Running, st.Pending, st.Finished, st.Failed, st.TriggerFailed, st.Cached, st.Scheduled,
    st.Retrying, st.Success, st.Skipped,
]  # fmt: skip


@pytest.mark.parametrize("cls", SHOWN)
def test_the_attachment_carries_the_state_and_survives_json(cls: type[st.State]) -> None:
    plain = slack_message_formatter(Task(name="load"), cls())
    assert json.loads(json.dumps(plain)) == plain
    (attachment,) = plain["attachments"]
    assert attachment["title"] == cls.__name__ and attachment["color"] == cls.color
    assert attachment["fields"] == []
    assert attachment["text"] == f"load is now in a {cls.__name__} state"
    told = slack_message_formatter(Task(), cls("disk full"))["attachments"][0]["fields"]
    assert told == [{"title": "Message", "value": "disk full", "short": False}]
    error = slack_message_formatter(Task(), cls("x", result=ZeroDivisionError("Nope")))
    assert error["attachments"][0]["fields"][0]["value"] == "```ZeroDivisionError('Nope')```"


def test_each_state_shown_has_its_own_color() -> None:
    assert len({cls.color for cls in SHOWN}) == len(SHOWN)
