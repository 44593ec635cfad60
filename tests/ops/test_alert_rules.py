"""The alert rules, offline: Prometheus's own tools parse every expression we ship, the rule
file's unit tests pass (and fail when an alert is broken), and the Grafana alert rules say the
same thing as the Prometheus rules."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from ._promql import (
    COLLECTOR_CONFIG,
    GRAFANA_ALERTS,
    GRAFANA_DATASOURCES,
    PROMETHEUS_RULES,
    PROMTOOL_TESTS,
    all_expressions,
    grafana_alert_rules,
    load_yaml,
    prometheus_rules,
)


def promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["promtool", *map(str, args)], capture_output=True, text=True, timeout=60, check=False
    )


def test_every_shipped_promql_expression_parses_with_promtool(tmp_path: Path) -> None:
    """Each dashboard target, dashboard variable selector, Grafana rule query and Prometheus
    rule, with Grafana's variables filled in, passes promtool's parser. Each expression is a
    recording rule in a group named for where it comes from, so a failure names the culprit."""
    expressions = all_expressions()
    groups = [
        {
            "name": expression.where,
            "rules": [{"record": f"flowlight_check:{i}", "expr": expression.promql}],
        }
        for i, expression in enumerate(expressions)
    ]
    rule_file = tmp_path / "every-expression.rules.yml"
    rule_file.write_text(yaml.safe_dump({"groups": groups}))
    checked = promtool("check", "rules", rule_file)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(expressions)} rules found" in checked.stdout
    assert len(expressions) >= 20, "fewer expressions than the dashboard and rules hold"


def test_prometheus_rule_file_passes_promtool_check_rules() -> None:
    """The shipped rule file, as Prometheus loads it, holds the seven alerts."""
    checked = promtool("check", "rules", PROMETHEUS_RULES)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 7 rules found" in checked.stdout


def test_alert_unit_tests_pass() -> None:
    """tests/ops/promtool/flowlight-alerts.test.yml: every alert fires on the synthetic series
    built for it, with its labels and annotations, and stays quiet on the others and once the
    window has passed."""
    tested = promtool("test", "rules", PROMTOOL_TESTS)
    assert tested.returncode == 0, tested.stdout + tested.stderr


@pytest.mark.parametrize("alert", [rule["alert"] for rule in prometheus_rules()])
def test_alert_unit_tests_fail_when_the_alert_never_fires(alert: str, tmp_path: Path) -> None:
    """The unit tests can fail: with one alert's expression replaced by one that is never true,
    promtool test rules reports that alert."""
    document = load_yaml(PROMETHEUS_RULES)
    for rule in document["groups"][0]["rules"]:
        if rule["alert"] == alert:
            rule["expr"] = "vector(1) < 0"
    broken_rules = tmp_path / "broken.rules.yml"
    broken_rules.write_text(yaml.safe_dump(document))
    unit_tests = load_yaml(PROMTOOL_TESTS)
    unit_tests["rule_files"] = [str(broken_rules)]
    test_file = tmp_path / "broken.test.yml"
    test_file.write_text(yaml.safe_dump(unit_tests))

    tested = promtool("test", "rules", test_file)

    assert tested.returncode != 0
    assert f"alertname: {alert}" in tested.stdout + tested.stderr


def _grafana_rules_by_title() -> dict[str, dict[str, Any]]:
    return {rule["title"]: rule for rule in grafana_alert_rules()}


def test_grafana_alert_rules_are_the_prometheus_rules() -> None:
    """Grafana users and Prometheus users get the same seven alerts: same names, same PromQL,
    same severity label."""
    grafana = _grafana_rules_by_title()
    prometheus = {rule["alert"]: rule for rule in prometheus_rules()}
    assert set(grafana) == set(prometheus)
    for name, rule in prometheus.items():
        query = next(q for q in grafana[name]["data"] if q["refId"] == "A")
        assert query["model"]["expr"].strip() == rule["expr"].strip(), name
        assert grafana[name]["labels"] == rule["labels"], name


def test_grafana_alert_rules_are_complete_for_file_provisioning() -> None:
    """Each rule has a unique uid Grafana accepts, a condition that names one of its queries, a
    threshold on the PromQL query, data source uids that are provisioned, deliberate no-data and
    error states, and no "$" in its labels (Grafana expands environment variables there)."""
    document = load_yaml(GRAFANA_DATASOURCES)
    provisioned = {source["uid"] for source in document["datasources"]}
    rules = grafana_alert_rules()
    assert len({rule["uid"] for rule in rules}) == len(rules)
    for group in load_yaml(GRAFANA_DATASOURCES.parents[1] / "alerting" / "flowlight-alerts.yaml")[
        "groups"
    ]:
        assert group["orgId"] == 1 and group["folder"] and group["interval"]
    for rule in rules:
        name = rule["title"]
        assert len(rule["uid"]) <= 40 and rule["uid"].replace("-", "").isalnum(), name
        queries = {query["refId"]: query for query in rule["data"]}
        assert rule["condition"] in queries, name
        condition = queries[rule["condition"]]["model"]
        assert condition["type"] == "threshold" and condition["expression"] in queries, name
        for query in rule["data"]:
            assert query["datasourceUid"] in provisioned | {"__expr__"}, (name, query["refId"])
            assert query["model"]["refId"] == query["refId"], name
        assert rule["noDataState"] == "OK", name
        assert rule["execErrState"] == "Error", name
        assert all("$" not in value for value in rule["labels"].values()), name
        assert {"summary", "description"} <= set(rule["annotations"]), name


def test_grafana_sends_its_alerts_where_alertmanager_sends_the_prometheus_ones() -> None:
    """Grafana's notification policy routes to a provisioned contact point, a webhook with the
    same URL and grouping as Alertmanager's receiver."""
    notifications = load_yaml(GRAFANA_ALERTS.parent / "flowlight-notifications.yaml")
    contact_points = {point["name"]: point for point in notifications["contactPoints"]}
    (policy,) = notifications["policies"]
    assert policy["receiver"] in contact_points
    (receiver,) = contact_points[policy["receiver"]]["receivers"]
    alertmanager = load_yaml(COLLECTOR_CONFIG / "alertmanager.yml")
    (webhook,) = alertmanager["receivers"][0]["webhook_configs"]
    assert receiver["type"] == "webhook"
    assert receiver["settings"]["url"] == webhook["url"]
    assert policy["group_by"] == alertmanager["route"]["group_by"]
