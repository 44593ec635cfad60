"""The Grafana dashboard and its provisioning, checked offline.

No Grafana runs here, so these are the checks that catch what a broken dashboard looks like:
panels that overlap or fall off the 24-column grid, targets pointing at data sources that are not
provisioned (or of another type), variables used but never defined, a provisioning path that does
not match where compose.yaml mounts the file, and derived fields whose "$" Grafana would eat.
"""

from __future__ import annotations

import re
from typing import Any

from ._promql import (
    COLLECTOR_CONFIG,
    DASHBOARD_JSON,
    GRAFANA_DASHBOARD_PROVIDERS,
    GRAFANA_DATASOURCES,
    load_dashboard,
    load_yaml,
)

PANEL_TYPES = {"timeseries", "stat", "bargauge", "table"}
BUILTIN_VARIABLES = {"__rate_interval", "__interval", "__range", "__all", "__value"}


def _datasources() -> dict[str, dict[str, Any]]:
    return {source["uid"]: source for source in load_yaml(GRAFANA_DATASOURCES)["datasources"]}


def test_dashboard_has_identity_and_a_current_schema() -> None:
    """A fixed uid (links and provisioning rely on it), a title, a schema version Grafana 11
    reads, and no instance-specific id."""
    dashboard = load_dashboard()
    assert dashboard["uid"] == "flowlight-overview"
    assert dashboard["title"]
    assert 36 <= dashboard["schemaVersion"] <= 41
    assert "id" not in dashboard or dashboard["id"] is None, "a provisioned dashboard has no id"


def test_panels_have_unique_ids_and_tile_the_grid_without_overlap() -> None:
    """Every panel is of a known type, titled and described, inside the 24-column grid, and no
    two panels share a cell."""
    panels = load_dashboard()["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels)
    occupied: dict[tuple[int, int], str] = {}
    for panel in panels:
        assert panel["type"] in PANEL_TYPES, panel["title"]
        assert panel["title"] and panel["description"], panel["id"]
        grid = panel["gridPos"]
        assert grid["w"] > 0 and grid["h"] > 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in occupied, f"{panel['title']!r} overlaps {occupied[(x, y)]!r}"
                occupied[(x, y)] = panel["title"]


def test_every_target_uses_a_provisioned_data_source_of_the_right_type() -> None:
    """Panel and target data source references resolve to a provisioned uid whose type matches;
    Prometheus targets carry PromQL, the Jaeger target is a trace search."""
    sources = _datasources()
    for panel in load_dashboard()["panels"]:
        assert panel["targets"], panel["title"]
        assert len({t["refId"] for t in panel["targets"]}) == len(panel["targets"]), panel["title"]
        for reference in [panel["datasource"], *(t["datasource"] for t in panel["targets"])]:
            assert reference["uid"] in sources, (panel["title"], reference)
            assert sources[reference["uid"]]["type"] == reference["type"], panel["title"]
        for target in panel["targets"]:
            if target["datasource"]["type"] == "prometheus":
                assert target["expr"].strip(), panel["title"]
            else:
                assert target["queryType"] == "search" and target["service"], panel["title"]


def test_every_variable_a_query_uses_is_defined() -> None:
    """Each $variable in the dashboard is one of its template variables or a Grafana built-in,
    and query variables use a provisioned data source."""
    dashboard = load_dashboard()
    defined = {variable["name"] for variable in dashboard["templating"]["list"]}
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            assert variable["datasource"]["uid"] in _datasources(), variable["name"]
    text = DASHBOARD_JSON.read_text()
    used = set(re.findall(r"\$\{?(\w+)", text))
    assert used - BUILTIN_VARIABLES <= defined, used - BUILTIN_VARIABLES - defined


def test_failed_runs_table_searches_error_traces_of_the_service_variable() -> None:
    """The table of recent failed runs asks Jaeger for traces with an error span of the
    service the user picked; each trace id links to Grafana's trace view and to the trace in the
    Jaeger UI where compose publishes it."""
    panel = next(p for p in load_dashboard()["panels"] if p["title"] == "Recent failed runs")
    (target,) = panel["targets"]
    assert target["tags"] == "error=true"
    assert target["service"] == "$service"
    (override,) = panel["fieldConfig"]["overrides"]
    assert override["matcher"] == {"id": "byName", "options": "Trace ID"}
    (link,) = override["properties"][0]["value"]
    jaeger_ports = load_yaml(COLLECTOR_CONFIG / "compose.yaml")["services"]["jaeger"]["ports"]
    published = next(port.rsplit(":", 1)[0] for port in jaeger_ports if port.endswith(":16686"))
    assert link["url"] == f"http://{published}/trace/${{__value.raw}}"


def test_data_sources_are_provisioned_with_fixed_uids_and_trace_links() -> None:
    """Prometheus, Jaeger and Loki, each once; Loki's derived fields turn a trace id into a
    Jaeger link, written with "$$" so Grafana's environment expansion leaves "${__value.raw}"."""
    document = load_yaml(GRAFANA_DATASOURCES)
    assert document["apiVersion"] == 1
    sources = _datasources()
    assert {source["type"] for source in sources.values()} == {"prometheus", "jaeger", "loki"}
    assert len(sources) == 3
    loki = next(s for s in sources.values() if s["type"] == "loki")
    jaeger_uid = next(uid for uid, s in sources.items() if s["type"] == "jaeger")
    fields = loki["jsonData"]["derivedFields"]
    assert fields
    for derived in fields:
        assert derived["datasourceUid"] == jaeger_uid
        assert derived["url"] == "$${__value.raw}"
        if derived["matcherType"] == "regex":
            assert re.compile(derived["matcherRegex"]).groups == 1
    sample = '{"event": "flowlight.state_transition", "trace_id": "' + "ab" * 16 + '"}'
    regex = next(d["matcherRegex"] for d in fields if d["matcherType"] == "regex")
    match = re.search(regex, sample)
    assert match is not None and match[1] == "ab" * 16
    spans_to_logs = sources[jaeger_uid]["jsonData"]["tracesToLogsV2"]
    assert spans_to_logs["datasourceUid"] == loki["uid"]


def test_dashboard_provider_loads_the_path_compose_mounts_the_dashboard_at() -> None:
    """Grafana's file provider reads the folder into which compose.yaml mounts the dashboard
    JSON."""
    provider = load_yaml(GRAFANA_DASHBOARD_PROVIDERS)["providers"][0]
    compose = load_yaml(COLLECTOR_CONFIG / "compose.yaml")
    mounts = compose["services"]["grafana"]["volumes"]
    dashboard_mount = next(m for m in mounts if m.split(":")[0].endswith(DASHBOARD_JSON.name))
    container_path = dashboard_mount.split(":")[1]
    assert container_path.startswith(provider["options"]["path"].rstrip("/") + "/")
    assert provider["type"] == "file" and provider["orgId"] == 1
