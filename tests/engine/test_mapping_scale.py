"""A mapped task with 10,000 children runs on the default executor without memory blowing up.

Measured in a fresh process (so other tests' allocations do not count) with
`resource.getrusage`: the peak resident set size after importing flowlight and after the run.
The figures are printed (run pytest with `-s` to see them); the bound is deliberately generous,
since speed and exact sizes belong in benchmarks/, not in a unit test.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

CHILDREN = 10_000
PEAK_BOUND_MB = 500

_SCRIPT = textwrap.dedent(
    """
    import json, resource, sys
    from flowlight import Flow, task

    def peak_mb():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

    calls = []

    def count(obj, old, new):
        calls.append(1)
        return new

    @task(state_handlers=[count])
    def double(x):
        return 2 * x

    @task
    def total(xs):
        return sum(xs)

    with Flow("wide") as flow:
        result = total(double.map(list(range(int(sys.argv[1])))))
    after_import = peak_mb()
    state = flow.run()
    parent = next(s for t, s in state.result.items() if t.name == "double")
    print(json.dumps({
        "after_import_mb": after_import,
        "peak_mb": peak_mb(),
        "flow": repr(state),
        "children": len(parent.map_states),
        "succeeded": sum(1 for s in parent.map_states if s.is_successful()),
        "total": state.result[result].result,
        "handler_calls": len(calls),
    }))
    """
)


def test_ten_thousand_children_run_on_the_default_executor_within_bounded_memory() -> None:
    """All 10,000 children succeed, the reduce sees every result, the handler is called for the
    parent and twice per child, and the process's peak RSS stays under 500 MB."""
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(CHILDREN)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"\n10,000 mapped children: peak RSS {report['peak_mb']:.1f} MB "
        f"(after import {report['after_import_mb']:.1f} MB)"
    )
    assert report["flow"] == 'Success("All reference tasks succeeded.")'
    assert report["children"] == CHILDREN
    assert report["succeeded"] == CHILDREN
    assert report["total"] == 2 * sum(range(CHILDREN))
    assert report["handler_calls"] == 1 + 2 * CHILDREN
    assert report["peak_mb"] < PEAK_BOUND_MB
