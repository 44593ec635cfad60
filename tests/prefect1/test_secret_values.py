"""`Secret("NAME").get()` returns what Prefect 1.4.1's local secrets returned for the same text,
from the environment and from the run's context, checked against Prefect itself."""

from __future__ import annotations

import json
import os
import subprocess
import warnings
from pathlib import Path
from typing import Any

from tests.test_secrets import ENVIRONMENT_TEXTS

from flowlight import Secret
from flowlight.client.secrets import ShortSecretWarning
from flowlight.utilities.context import context

CONTEXT_VALUES: list[Any] = ["12345678", '{"k": "v"}', "hunter'2pass", "true", "0012", b"sk-1"]

DESCRIBE = """
def described(value):
    # The value's builtin type and repr, so that a Prefect Box compares equal to a dict.
    builtin = next(kind for kind in type(value).__mro__ if kind.__module__ == "builtins")
    plain = json.loads(json.dumps(value)) if isinstance(value, (dict, list)) else value
    return [builtin.__name__, repr(plain)]
"""

# Run by Prefect 1.4.1's interpreter, with PREFECT__CONTEXT__SECRETS__S0... set.
PREFECT_SCRIPT = (
    """
import ast, json, sys
import prefect
from prefect.client.secrets import Secret
"""
    + DESCRIBE
    + """
count, context_values = int(sys.argv[1]), ast.literal_eval(sys.argv[2])
values = [Secret(f"S{i}").get() for i in range(count)]
with prefect.context(secrets={f"C{i}": v for i, v in enumerate(context_values)}):
    values += [Secret(f"C{i}").get() for i in range(len(context_values))]
print(json.dumps([described(value) for value in values]))
"""
)
namespace: dict[str, Any] = {"json": json}
exec(DESCRIBE, namespace)
described = namespace["described"]


def test_secret_values_match_prefect_1(prefect1_python: Path) -> None:
    texts = [text for text, _expected in ENVIRONMENT_TEXTS]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT__")}
    env.update({f"PREFECT__CONTEXT__SECRETS__S{i}": text for i, text in enumerate(texts)})
    done = subprocess.run(
        [str(prefect1_python), "-c", PREFECT_SCRIPT, str(len(texts)), repr(CONTEXT_VALUES)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    prefects = json.loads(done.stdout.splitlines()[-1])

    ours = []
    saved = dict(os.environ)
    try:
        for i, text in enumerate(texts):
            os.environ[f"FLOWLIGHT__CONTEXT__SECRETS__S{i}"] = text
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ShortSecretWarning)
            ours += [described(Secret(f"S{i}").get()) for i in range(len(texts))]
            with context(secrets={f"C{i}": v for i, v in enumerate(CONTEXT_VALUES)}):
                ours += [described(Secret(f"C{i}").get()) for i in range(len(CONTEXT_VALUES))]
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert ours == prefects
