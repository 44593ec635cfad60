"""`flowlight.context`: a run's `scheduled_start_time` is a pendulum datetime to every reader,
though a run that never reads it never loads pendulum (a noticeable part of a first run)."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pendulum
from tests.fresh_interpreter import printed_by_a_fresh_interpreter

import flowlight
from flowlight.engine.results import LocalResult
from flowlight.utilities.context import Deferred, current, resolved


def test_a_run_that_never_reads_the_start_time_loads_no_pendulum() -> None:
    words = printed_by_a_fresh_interpreter(
        """
        import sys
        import flowlight

        @flowlight.task
        def one():
            return 1

        with flowlight.Flow("plain") as flow:
            one()
        print(flow.run().is_successful(), "pendulum" in sys.modules)
        """
    )
    assert words == ["True", "False"]


def test_the_scheduled_start_time_reads_as_a_utc_pendulum_datetime_however_it_is_read() -> None:
    seen: dict[str, Any] = {}

    @flowlight.task
    def look() -> None:
        context = flowlight.context
        value = context["scheduled_start_time"]
        seen["value"] = value
        seen["same"] = value is context.scheduled_start_time is context.get("scheduled_start_time")
        seen["copied"] = context.to_dict()["scheduled_start_time"]
        seen["items"] = dict(context.items())["scheduled_start_time"]
        with context(extra=1) as inner:
            seen["formatted"] = "{scheduled_start_time:%Y-%m-%d}".format(**inner)

    before = pendulum.now("UTC")
    with flowlight.Flow("reads") as flow:
        look()
    assert flow.run().is_successful()
    after = pendulum.now("UTC")
    value = seen["value"]
    assert isinstance(value, pendulum.DateTime)
    assert value.timezone_name == "UTC"
    assert before.subtract(seconds=1) <= value <= after
    assert seen["same"] is True
    assert seen["copied"] == seen["items"] == value
    assert seen["formatted"] == value.format("YYYY-MM-DD")


def test_run_name_templates_and_result_targets_see_the_datetime(tmp_path: Path) -> None:
    """The engine's own readers that spread the context into a template fill it from the
    datetime, not from the deferred value."""
    names: list[str] = []

    @flowlight.task(task_run_name="load-{scheduled_start_time:%Y}")
    def load() -> None:
        names.append(flowlight.context["task_run_name"])

    @flowlight.task(
        target="{task_name}-{scheduled_start_time:%Y}.bin",
        result=LocalResult(dir=str(tmp_path)),
    )
    def stored() -> int:
        return 7

    with flowlight.Flow("named") as flow:
        load()
        stored()
    with flowlight.context(checkpointing=True):
        assert flow.run().is_successful()
    year = pendulum.now("UTC").year
    assert names == [f"load-{year}"]
    assert (tmp_path / f"stored-{year}.bin").exists()


def test_a_deferred_value_crosses_to_another_process_as_it_is() -> None:
    """A worker process gets the run's context pickled; the deferred start time survives it
    and is made there."""
    captured: dict[str, Any] = {}

    @flowlight.task
    def capture() -> None:
        captured["raw"] = current()["scheduled_start_time"]
        captured["read"] = flowlight.context["scheduled_start_time"]

    with flowlight.Flow("pickled") as flow:
        capture()
    assert flow.run().is_successful()
    raw = captured["raw"]
    assert isinstance(raw, Deferred)
    copy = pickle.loads(pickle.dumps({"scheduled_start_time": raw}))
    assert resolved(copy)["scheduled_start_time"] == captured["read"]


DATE_KEYS = (
    "today",
    "yesterday",
    "tomorrow",
    "today_nodash",
    "yesterday_nodash",
    "tomorrow_nodash",
)


def _dates_seen(**run_options: Any) -> tuple[list[Any], Any]:
    seen: list[Any] = []

    @flowlight.task
    def look() -> None:
        seen.extend(flowlight.context.get(key) for key in DATE_KEYS)
        seen.append(flowlight.context.get("date"))

    flowlight.Flow("dates", tasks=[look]).run(**run_options)
    return seen[:-1], seen[-1]


def test_a_run_offers_the_date_and_the_days_around_it_as_prefect_1_does() -> None:
    texts, date = _dates_seen()
    assert isinstance(date, pendulum.DateTime) and date.timezone_name == "UTC"
    today = date.date()
    day = pendulum.duration(days=1)
    expected = [
        today.isoformat(),
        (today - day).isoformat(),
        (today + day).isoformat(),
        today.strftime("%Y%m%d"),
        (today - day).strftime("%Y%m%d"),
        (today + day).strftime("%Y%m%d"),
    ]
    assert texts == expected


def test_a_date_given_as_text_is_parsed_and_the_days_follow_it() -> None:
    texts, date = _dates_seen(context={"date": "2020-02-29T10:00:00"})
    assert isinstance(date, pendulum.DateTime) and date.isoformat().startswith("2020-02-29T10")
    assert texts == ["2020-02-29", "2020-02-28", "2020-03-01", "20200229", "20200228", "20200301"]


def test_a_date_that_is_not_one_is_kept_and_the_days_follow_the_runs_start() -> None:
    texts, date = _dates_seen(context={"date": "not a date"})
    assert date == "not a date"
    assert texts[0] == pendulum.now("UTC").date().isoformat()


def test_the_day_texts_read_like_stored_keys_and_a_given_one_wins() -> None:
    """They follow from the run's `date` when read (a mapped child's copy of the context holds
    only `date`), yet membership, `to_dict()` and attribute reads see them as keys."""
    seen: dict[str, Any] = {}

    @flowlight.task
    def look() -> None:
        seen["in"] = "yesterday_nodash" in flowlight.context
        seen["dict"] = flowlight.context.to_dict()["tomorrow"]
        seen["attribute"] = flowlight.context.today
        seen["keys"] = set(flowlight.context) >= set(DATE_KEYS)

    flowlight.Flow("days", tasks=[look]).run(
        context={"date": "2024-01-31T12:00:00", "today": "given"}
    )
    assert seen == {"in": True, "dict": "2024-02-01", "attribute": "given", "keys": True}


def test_result_targets_see_the_runs_day_texts(tmp_path: Path) -> None:
    """A target template reads `today` and friends from the run's `date`, as any reader does."""

    @flowlight.task(
        target="{yesterday_nodash}-{today}-{task_name}.bin",
        result=LocalResult(dir=str(tmp_path)),
    )
    def stored() -> int:
        return 7

    flow = flowlight.Flow("dated", tasks=[stored])
    with flowlight.context(checkpointing=True):
        assert flow.run(context={"date": "2020-03-01T08:00:00"}).is_successful()
    assert (tmp_path / "20200229-2020-03-01-stored.bin").exists()
