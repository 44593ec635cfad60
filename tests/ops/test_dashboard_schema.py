"""The dashboard JSON type-checks against Grafana's own dashboard types.

No Grafana runs here; its npm package @grafana/schema (of the version compose.yaml runs) holds
the dashboard, panel, target and variable types Grafana generates from its schema. The dashboard
file becomes a TypeScript object literal of that type and `tsc --strict` checks it, so an unknown
key, a misspelt one, or a value of the wrong type fails the test. `make test` installs TypeScript
and the package into dashboards/schema-check/node_modules.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from ._promql import COLLECTOR_CONFIG, DASHBOARD_JSON, DASHBOARDS, load_yaml

SCHEMA_CHECK = DASHBOARDS / "schema-check"
TSC = SCHEMA_CHECK / "node_modules" / ".bin" / "tsc"
INSTALL = "make dashboards/schema-check/node_modules/.installed"


def _as_typescript(dashboard_json: str) -> str:
    dashboard_type = json.dumps(str(SCHEMA_CHECK / "dashboard-type"))
    return (
        f"import type {{ DashboardJson }} from {dashboard_type};\n"
        f"export const dashboard: DashboardJson = {dashboard_json};\n"
    )


def test_dashboard_type_checks_against_grafana_schema_and_a_broken_copy_does_not(
    tmp_path: Path,
) -> None:
    """The shipped dashboard has no type errors; a copy with a misspelt panel key and a number
    where a unit string belongs has exactly those errors (one tsc run checks both files)."""
    assert TSC.exists(), f"TypeScript is not installed for the schema check; run `{INSTALL}`"
    shipped = DASHBOARD_JSON.read_text()
    broken = shipped.replace('"gridPos"', '"gridpos"', 1).replace('"percentunit"', "42", 1)
    assert broken != shipped
    (tmp_path / "shipped.ts").write_text(_as_typescript(shipped))
    (tmp_path / "broken.ts").write_text(_as_typescript(broken))

    options = ["--noEmit", "--strict", "--moduleResolution", "node", "--module", "commonjs"]
    files = [str(tmp_path / "shipped.ts"), str(tmp_path / "broken.ts")]
    checked = subprocess.run(
        [str(TSC), *options, "--target", "es2020", *files],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=SCHEMA_CHECK,
    )

    errors = [line for line in checked.stdout.splitlines() if "error TS" in line]
    assert [line for line in errors if "shipped.ts" in line] == []
    broken_errors = [line for line in errors if "broken.ts" in line]
    assert len(broken_errors) == 2, checked.stdout
    assert any("'\"gridpos\"' does not exist" in line for line in broken_errors)
    assert any("'number' is not assignable to type 'string'" in line for line in broken_errors)


def test_schema_package_is_the_version_of_the_grafana_image() -> None:
    """The types checked against are those of the Grafana that compose.yaml runs."""
    package = json.loads((SCHEMA_CHECK / "package.json").read_text())
    image = load_yaml(COLLECTOR_CONFIG / "compose.yaml")["services"]["grafana"]["image"]
    assert image == f"grafana/grafana:{package['devDependencies']['@grafana/schema']}"
