"""The transition transcripts measured on Prefect 1.4.1 (shared/spec) are reproduced by flowlight.

The spec's own script, `scenarios.py`, runs unchanged except for `prefect` -> `flowlight`; each
scenario's printed transcript must equal the measured one. Two documented departures:
- Prefect 1.4.1 orders independent tasks by set iteration (memory addresses), so where two tasks
  share no edge only each task's own sequence and the dependency order are compared;
- a paused task never blocks on stdin when stdin is not a terminal (the spec's rule for
  flowlight): the run ends with the task Paused and the flow still Running.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SPEC = Path(__file__).resolve().parents[3] / "shared" / "spec"


def _transcripts(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("### "):
            current = found.setdefault(line[4:].strip(), [])
        elif line.startswith("## "):
            current = None
        elif current is not None and line.startswith("    "):
            current.append(line.strip())
    return found


@pytest.fixture(scope="module")
def measured() -> dict[str, list[str]]:
    doc = (SPEC / "prefect1-behaviour.md").read_text()
    return _transcripts(doc.split("## Transcripts", 1)[1])


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    script = (SPEC / "scenarios.py").read_text().replace("prefect", "flowlight")
    path = tmp_path_factory.mktemp("spec") / "scenarios.py"
    path.write_text(script)
    done = subprocess.run(
        [sys.executable, str(path)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return _transcripts(done.stdout)


EXACT = [
    "success",
    "task raises ValueError",
    "fails twice then succeeds (max_retries=2)",
    "always fails (max_retries=1)",
    "SKIP signal and its downstream",
    "map over [1,2,3] then reduce",
    "map with one failing child",
    "timeout=1, sleeps 2s",
    "a handler raises on Running",
    "a handler turns Failed into Success",
    "parameter x=5",
    "LOOP three times",
    "reference task succeeded while another failed",
]


def test_every_measured_scenario_was_run(
    measured: dict[str, list[str]], observed: dict[str, list[str]]
) -> None:
    """The script printed one transcript per measured scenario, no more, no less."""
    assert set(observed) == set(measured)


@pytest.mark.parametrize("scenario", EXACT)
def test_transcript_matches_prefect_exactly(
    scenario: str, measured: dict[str, list[str]], observed: dict[str, list[str]]
) -> None:
    """Every handler call, final state, message and result is the measured one, in order."""
    assert observed[scenario] == measured[scenario]


def _by_object(lines: list[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for line in lines:
        obj = line.split(">: ", 1)[0] if line.startswith("<") else line.split(":", 1)[0]
        grouped.setdefault(obj, []).append(line)
    return grouped


def test_independent_siblings_keep_their_own_sequences(
    measured: dict[str, list[str]], observed: dict[str, list[str]]
) -> None:
    """Downstream of a failure: same lines, same per-task sequences, dependencies respected."""
    name = "downstream of failure: default trigger and all_finished"
    want, got = measured[name], observed[name]
    assert sorted(got) == sorted(want)
    assert _by_object(got) == _by_object(want)
    bad_failed = got.index(next(x for x in got if x.startswith("<Task: bad>: Running")))
    for sibling in ("<Task: cleanup>", "<Task: down>"):
        first = next(i for i, x in enumerate(got) if x.startswith(sibling))
        assert first > bad_failed
    flow_end = next(i for i, x in enumerate(got) if x.startswith("<Flow: name=tf>: Running"))
    assert all(i < flow_end for i, x in enumerate(got) if x.startswith("<Task"))


def test_manual_only_pauses_without_asking_when_stdin_is_not_a_terminal(
    measured: dict[str, list[str]], observed: dict[str, list[str]]
) -> None:
    """Up to the pause the transcript is Prefect's; then the run stops with the task Paused."""
    want = measured["manual_only trigger"]
    got = observed["manual_only trigger"]
    assert got[:4] == want[:4]
    assert got[4:] == [
        'final flow: Running("Running flow.")',
        'final approve: Paused("Trigger function is "manual_only"") '
        "result=PAUSE('Trigger function is \"manual_only\"')",
        'final ok: Success("Task run succeeded.") result=1',
    ]
