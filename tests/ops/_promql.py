"""Every PromQL expression the repository ships, and the metric and label names each one uses.

The expressions live in three places: the Grafana dashboard (panel targets and template-variable
queries), the Grafana alert rules and the Prometheus rule file. Tests run them all through
promtool and compare the names they use with what the bridge exports, so a renamed metric or a
typo in a label cannot hide in a panel nobody opened.

The name extraction is a small PromQL lexer, not a full parser: it knows the syntax the shipped
expressions use (selectors, range and offset modifiers, functions, aggregations with by/without,
binary operators with on/ignoring/group_left/group_right). promtool's parse of the same
expressions is what proves they are valid PromQL.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
DASHBOARDS = REPO / "dashboards"
COLLECTOR_CONFIG = REPO / "collector-config"
DASHBOARD_JSON = DASHBOARDS / "flowlight-overview.json"
GRAFANA_ALERTS = DASHBOARDS / "grafana-provisioning" / "alerting" / "flowlight-alerts.yaml"
GRAFANA_DATASOURCES = DASHBOARDS / "grafana-provisioning" / "datasources" / "flowlight.yaml"
GRAFANA_DASHBOARD_PROVIDERS = DASHBOARDS / "grafana-provisioning" / "dashboards" / "flowlight.yaml"
PROMETHEUS_RULES = DASHBOARDS / "prometheus-rules" / "flowlight-alerts.rules.yml"
PROMTOOL_TESTS = Path(__file__).resolve().parent / "promtool" / "flowlight-alerts.test.yml"

# What Grafana puts in place of its variables, so the expression becomes plain PromQL.
GRAFANA_VARIABLES = {
    "$__rate_interval": "1m",
    "$__interval": "1m",
    "$__range": "5m",
}
_USER_VARIABLE = re.compile(r"\$\{?(\w+)\}?")
_LABEL_VALUES = re.compile(r"^\s*label_values\((?:(?P<selector>.+),\s*)?(?P<label>\w+)\s*\)\s*$")


@dataclass(frozen=True)
class Expression:
    """One PromQL expression and where it comes from (for error messages)."""

    where: str
    promql: str


@dataclass
class NamesUsed:
    """Metric names, label names and label values one expression refers to."""

    metrics: set[str] = field(default_factory=set)
    # metric name -> label names used in its selector
    selector_labels: dict[str, set[str]] = field(default_factory=dict)
    # labels in by/without/on/ignoring/group_left/group_right lists
    grouping_labels: set[str] = field(default_factory=set)
    # (label, operator, value) from selectors
    matchers: set[tuple[str, str, str]] = field(default_factory=set)


def load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as stream:
        return yaml.safe_load(stream)


def load_dashboard() -> dict[str, Any]:
    with DASHBOARD_JSON.open(encoding="utf-8") as stream:
        dashboard: dict[str, Any] = json.load(stream)
    return dashboard


def substitute_grafana_variables(expr: str) -> str:
    """Replace Grafana's interval variables by durations and user variables by a match-all regex.

    User variables only appear as regex matcher values (`flow=~"$flow"`), where `.*` is what
    Grafana sends for "All".
    """
    for name, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(name, value)
    return _USER_VARIABLE.sub(".*", expr)


def dashboard_expressions() -> list[Expression]:
    """PromQL of every Prometheus target and of every query variable's selector."""
    dashboard = load_dashboard()
    found: list[Expression] = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            if "expr" in target:
                where = f"dashboard panel {panel['title']!r} target {target['refId']}"
                found.append(Expression(where, substitute_grafana_variables(target["expr"])))
    for variable in dashboard["templating"]["list"]:
        if variable["type"] != "query":
            continue
        match = _LABEL_VALUES.match(variable["query"]["query"])
        if match is None:
            raise ValueError(
                f"dashboard variable {variable['name']!r}: expected label_values(selector, label), "
                f"got {variable['query']['query']!r}"
            )
        if match["selector"]:
            where = f"dashboard variable {variable['name']!r}"
            found.append(Expression(where, substitute_grafana_variables(match["selector"])))
    return found


def dashboard_variable_labels() -> dict[str, tuple[str, str]]:
    """For each label_values() variable: (metric name, label it lists)."""
    result: dict[str, tuple[str, str]] = {}
    for variable in load_dashboard()["templating"]["list"]:
        if variable["type"] != "query":
            continue
        match = _LABEL_VALUES.match(variable["query"]["query"])
        assert match is not None and match["selector"], variable
        metric = re.match(r"\s*([a-zA-Z_:][\w:]*)", match["selector"])
        assert metric is not None, variable
        result[variable["name"]] = (metric[1], match["label"])
    return result


def grafana_alert_rules() -> list[dict[str, Any]]:
    document = load_yaml(GRAFANA_ALERTS)
    return [rule for group in document["groups"] for rule in group["rules"]]


def grafana_alert_expressions() -> list[Expression]:
    found: list[Expression] = []
    for rule in grafana_alert_rules():
        for query in rule["data"]:
            if query["datasourceUid"] != "__expr__":
                where = f"Grafana alert rule {rule['title']!r} query {query['refId']}"
                found.append(Expression(where, query["model"]["expr"].strip()))
    return found


def prometheus_rules() -> list[dict[str, Any]]:
    document = load_yaml(PROMETHEUS_RULES)
    return [rule for group in document["groups"] for rule in group["rules"]]


def prometheus_rule_expressions() -> list[Expression]:
    return [
        Expression(f"Prometheus rule {rule['alert']!r}", rule["expr"].strip())
        for rule in prometheus_rules()
    ]


def all_expressions() -> list[Expression]:
    return dashboard_expressions() + grafana_alert_expressions() + prometheus_rule_expressions()


_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<duration>(?:\d+(?:ms|[smhdwy]))+\b)
  | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<matchop>=~|!~|!=|==|>=|<=|=)
  | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
  | (?P<punct>[(){}\[\],+\-*/%^<>@])
    """,
    re.VERBOSE,
)
_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
_OPERATOR_WORDS = {"and", "or", "unless", "bool", "offset", "atan2"}
# Aggregations may be followed by `by (...)` instead of `(`: never metric names.
_AGGREGATIONS = frozenset(
    {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values"}
    | {"bottomk", "topk", "quantile"}
)


def _tokens(promql: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(promql):
        match = _TOKEN.match(promql, position)
        if match is None:
            raise ValueError(f"cannot read PromQL at {promql[position:]!r} in {promql!r}")
        kind = match.lastgroup
        assert kind is not None
        if kind != "space":
            tokens.append((kind, match.group()))
        position = match.end()
    return tokens


def _unquote(literal: str) -> str:
    """The value of a PromQL string literal (backticks are raw; quotes take Go escapes)."""
    if literal.startswith("`"):
        return literal[1:-1]
    return literal[1:-1].encode("utf-8").decode("unicode_escape")


def names_used(promql: str) -> NamesUsed:
    """The metric names, selector labels, grouping labels and matchers of one expression."""
    tokens = _tokens(promql)
    used = NamesUsed()
    index = 0
    last_metric: str | None = None
    while index < len(tokens):
        kind, text = tokens[index]
        following = tokens[index + 1] if index + 1 < len(tokens) else ("", "")
        if kind == "ident" and text in _KEYWORDS and following[1] == "(":
            index += 2
            while tokens[index][1] != ")":
                if tokens[index][0] == "ident":
                    used.grouping_labels.add(tokens[index][1])
                index += 1
        elif kind == "ident" and (following[1] == "(" or text in _AGGREGATIONS):
            pass  # a function or an aggregation operator
        elif kind == "ident" and text not in _OPERATOR_WORDS and text not in _KEYWORDS:
            last_metric = text
            used.metrics.add(text)
            used.selector_labels.setdefault(text, set())
        elif text == "{":
            if last_metric is None:
                raise ValueError(f"selector without a metric name in {promql!r}")
            labels = used.selector_labels.setdefault(last_metric, set())
            index += 1
            while tokens[index][1] != "}":
                label, operator, value = tokens[index], tokens[index + 1], tokens[index + 2]
                labels.add(label[1])
                used.matchers.add((label[1], operator[1], _unquote(value[1])))
                index += 3
                if tokens[index][1] == ",":
                    index += 1
            last_metric = None
        index += 1
    return used
