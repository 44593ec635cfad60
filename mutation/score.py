"""Mutation testing of flowlight's core modules, one module at a time.

`make mutation` (or `python mutation/score.py run [MODULE ...]`) runs mutmut on each module against
the narrowest test selection that covers it (`MODULES`), then prints killed / timed out / survived
and the score, and sorts the survivors into the equivalent mutants listed, with their reasons, in
`mutation/equivalent.toml` and the ones no test kills yet. A survivor is matched by module, the
function it sits in and the text of the line before and after the change, never by mutmut's
numbers, so the list holds across edits that move lines and two runs can be compared.

Why a wrapper and not bare mutmut: mutmut 2 counts only pytest's exit status 1 as a kill, so a
mutant that breaks test collection (status 2) would count as a survivor; `score.py pytest` turns
every failing status into 1.
"""

from __future__ import annotations

import ast
import os
import shlex
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the mutation run needs Python 3.11's tomllib
    sys.exit("make mutation needs Python 3.11 or later (it reads TOML with tomllib)")

REPO = Path(__file__).resolve().parents[1]
EQUIVALENT_FILE = REPO / "mutation" / "equivalent.toml"
CACHE = REPO / ".mutmut-cache"

# Each module and the tests that cover it: narrow on purpose (the machine is shared and every
# mutant runs this selection once), wide enough that each behaviour of the module is asserted.
MODULES: dict[str, list[str]] = {
    "src/flowlight/triggers.py": ["tests/test_triggers.py"],
    "src/flowlight/engine/handlers.py": ["tests/engine/test_handlers.py"],
    "src/flowlight/engine/task_runner.py": [
        "tests/engine/test_task_runner.py",
        "tests/engine/test_task_runner_states.py",
        "tests/engine/test_timeouts.py",
        "tests/engine/test_looping.py",
        "tests/engine/test_pause.py",
        "tests/engine/test_caching.py",
        "tests/engine/test_results.py",
    ],
    "src/flowlight/engine/timeouts.py": ["tests/engine/test_timeouts.py"],
    "src/flowlight/utilities/redaction.py": ["tests/test_redaction.py", "tests/test_secrets.py"],
    "src/flowlight/otel/_redact.py": ["tests/otel/test_redact.py"],
}

KILLED = ("ok_killed", "ok_suspicious")  # suspicious: killed, but the tests ran slowly
TIMED_OUT = ("bad_timeout",)
SURVIVED = ("bad_survived",)


@dataclass(frozen=True)
class Mutant:
    """One mutant of a run, located the way `equivalent.toml` names it."""

    number: int
    status: str
    module: str
    scope: str
    original: str
    mutated: str

    def key(self) -> tuple[str, str, str, str]:
        return (self.module, self.scope, self.original, self.mutated)


def run_tests(paths: list[str]) -> int:
    """The test command mutmut runs for each mutant: 0 when the tests pass, else 1."""
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *paths]
    # mutmut reads this output as UTF-8: a mutant that prints undecodable text (a lone surrogate
    # from a redaction test) must not crash it, so such characters are written as escapes.
    environment = {**os.environ, "PYTHONIOENCODING": "utf-8:backslashreplace"}
    passed = subprocess.run(command, cwd=REPO, env=environment, check=False).returncode == 0
    return 0 if passed else 1


def run_module(module: str) -> list[Mutant]:
    """Mutate `module`, run its tests against every mutant, and return what happened."""
    tests = MODULES[module]
    CACHE.unlink(missing_ok=True)
    runner = shlex.join([sys.executable, str(Path(__file__).resolve()), "pytest", *tests])
    subprocess.run(
        [
            sys.executable,
            "-m",
            "mutmut",
            "run",
            "--paths-to-mutate",
            module,
            "--runner",
            runner,
            "--tests-dir",
            "tests",
            "--no-progress",
        ],
        cwd=REPO,
        check=False,
        stdout=subprocess.DEVNULL,
    )
    return read_mutants(module)


def _scopes(source: str) -> dict[int, str]:
    """The innermost function or class of each line: `Outer.inner`, or `<module>`."""
    scope_of: dict[int, str] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}.{child.name}" if prefix else child.name
                for line in range(child.lineno, (child.end_lineno or child.lineno) + 1):
                    scope_of[line] = name
                visit(child, name)
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return scope_of


def _mutated_line(number: int) -> str:
    """The changed line of mutant `number`, from mutmut's own diff."""
    shown = subprocess.run(
        [sys.executable, "-m", "mutmut", "show", str(number)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    added = [
        line[1:]
        for line in shown.splitlines()
        if line.startswith("+") and not line.startswith("+++")
    ]
    return added[0].strip() if added else ""


def read_mutants(module: str) -> list[Mutant]:
    """Every mutant of `module` in mutmut's cache; survivors carry their changed line."""
    scopes = _scopes((REPO / module).read_text())
    with sqlite3.connect(CACHE) as db:
        rows = db.execute(
            "SELECT m.id, m.status, l.line, l.line_number FROM Mutant m "
            "JOIN Line l ON m.line = l.id JOIN SourceFile f ON l.sourcefile = f.id "
            "WHERE f.filename = ? ORDER BY m.id",
            (module,),
        ).fetchall()
    return [
        Mutant(
            number=number,
            status=status,
            module=module,
            scope=scopes.get(line_number + 1, "<module>"),  # mutmut counts lines from 0
            original=line.strip(),
            mutated=_mutated_line(number) if status in SURVIVED else "",
        )
        for number, status, line, line_number in rows
    ]


def load_equivalent() -> dict[tuple[str, str, str, str], str]:
    """The known equivalent mutants: key -> the reason no test can kill it."""
    listed = tomllib.loads(EQUIVALENT_FILE.read_text()).get("equivalent", [])
    return {
        (e["module"], e["scope"], e["original"].strip(), e["mutated"].strip()): e["reason"]
        for e in listed
    }


def report(module: str, mutants: list[Mutant], equivalent: dict[tuple[str, ...], str]) -> bool:
    """Print the module's score; True when every survivor is a listed equivalent mutant."""
    killed = sum(m.status in KILLED for m in mutants)
    timed_out = sum(m.status in TIMED_OUT for m in mutants)
    survivors = [m for m in mutants if m.status in SURVIVED]
    explained = [m for m in survivors if m.key() in equivalent]
    unexplained = [m for m in survivors if m.key() not in equivalent]
    total = killed + timed_out + len(survivors)
    score = (killed + timed_out) / total if total else 1.0
    print(f"\n{module}: {total} mutants")
    print(
        f"  killed {killed}, timed out {timed_out} (counted as killed), survived {len(survivors)}"
    )
    print(f"  score {score:.1%} killed; {len(explained)} survivors are listed equivalent mutants")
    for m in explained:
        print(f"  equivalent  [{m.scope}] {m.original}  ->  {m.mutated}")
        print(f"              {equivalent[m.key()]}")
    for m in unexplained:
        print(f"  SURVIVED    #{m.number} [{m.scope}] {m.original}  ->  {m.mutated}")
    if unexplained:
        print(
            f"  {len(unexplained)} survivor(s) are not in mutation/equivalent.toml: write a test "
            "that kills each, or list it there with the reason it cannot be killed "
            "(see `mutmut show NUMBER`)."
        )
    return not unexplained


def main(argv: list[str]) -> int:
    if argv[:1] == ["pytest"]:
        return run_tests(argv[1:])
    if argv[:1] != ["run"]:
        print("usage: score.py run [MODULE ...]   (modules: " + ", ".join(MODULES) + ")")
        return 2
    modules = argv[1:] or list(MODULES)
    unknown = [m for m in modules if m not in MODULES]
    if unknown:
        print(
            f"unknown module {unknown[0]!r}; add it to MODULES in mutation/score.py with its tests"
        )
        return 2
    equivalent = load_equivalent()
    all_explained = True
    for module in modules:
        all_explained &= report(module, run_module(module), equivalent)
    CACHE.unlink(missing_ok=True)
    return 0 if all_explained else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
