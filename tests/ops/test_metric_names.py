"""Every metric name, label and label value the dashboard and the alert rules use is one the
bridge exports, as Prometheus sees it.

Two sources of truth are compared with the shipped queries: the metric contract rendered by the
same Prometheus exporter the bridge uses, and the bridge itself, scraped from a real flowlight
process after a successful run with a retry and a failed run.
"""

from __future__ import annotations

import re
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ._contract_metrics import CONTRACT, contract_exposition
from ._promql import all_expressions, dashboard_expressions, dashboard_variable_labels, names_used
from ._servers import get_text, webhook_receiver
from .conftest import running_flow_process

# Labels Prometheus adds to every scraped series.
TARGET_LABELS = {"job", "instance"}


@dataclass
class Exported:
    """Sample names, their label names, and the values each label takes, from an exposition."""

    labels: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    values: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    @classmethod
    def parse(cls, exposition: str) -> Exported:
        exported = cls()
        for family in text_string_to_metric_families(exposition):
            for sample in family.samples:
                exported.labels[sample.name] |= set(sample.labels) | TARGET_LABELS
                for label, value in sample.labels.items():
                    exported.values[label].add(value)
        return exported


def mismatches(exported: Exported) -> list[str]:
    """Each use of a name or value in the shipped queries that `exported` does not have."""
    found: list[str] = []
    for expression in all_expressions():
        used = names_used(expression.promql)
        available: set[str] = set()
        for metric in used.metrics:
            if metric not in exported.labels:
                found.append(f"{expression.where}: metric {metric} is not exported")
                continue
            available |= exported.labels[metric]
            for label in used.selector_labels[metric] - exported.labels[metric]:
                found.append(f"{expression.where}: {metric} has no label {label}")
        for label in used.grouping_labels - available:
            found.append(f"{expression.where}: groups by {label}, which its metrics lack")
        for label, operator, value in used.matchers:
            if value == ".*":
                continue
            values = exported.values.get(label, set())
            if operator in ("=~", "!~"):
                ok = any(re.fullmatch(value, v) for v in values)
            else:
                ok = value in values
            if not ok:
                found.append(
                    f"{expression.where}: {label}{operator}{value!r} matches no exported value"
                )
    for variable, (metric, label) in dashboard_variable_labels().items():
        if label not in exported.labels.get(metric, set()):
            found.append(f"dashboard variable {variable}: {metric} has no label {label}")
    return found


def test_queries_use_only_names_of_the_metric_contract() -> None:
    """Against the contract's seven instruments, rendered by opentelemetry-exporter-prometheus."""
    assert mismatches(Exported.parse(contract_exposition())) == []


def test_name_check_reports_a_misspelt_metric_and_label() -> None:
    """The comparison can fail: an exposition with a metric and a label renamed is reported."""
    renamed = contract_exposition().replace(
        "flowlight_task_retries_total", "flowlight_task_retry_total"
    )
    renamed = renamed.replace('state="Failed"', 'state="Failure"')
    found = mismatches(Exported.parse(renamed))
    assert any("flowlight_task_retries_total is not exported" in line for line in found)
    assert any("state='Failed' matches no exported value" in line for line in found)


def test_dashboard_charts_every_instrument_of_the_contract() -> None:
    """No metric the bridge exports is left out of the dashboard."""
    charted = {metric for e in dashboard_expressions() for metric in names_used(e.promql).metrics}
    for instrument in CONTRACT:
        stem = instrument.name.replace(".", "_")
        assert any(metric == stem or metric.startswith(stem + "_") for metric in charted), (
            instrument.name
        )


@dataclass
class Scrape:
    """One scrape of a real flowlight process's endpoint, and the final state of the run made
    just before it."""

    last_run: str
    exposition: str


@pytest.fixture(scope="module")
def scrape(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scrape]:
    """The flow process after a successful run with one retry and a run whose task fails every
    attempt (and a webhook notification for each flow transition), scraped once for the module."""
    with (
        webhook_receiver() as webhook,
        running_flow_process(tmp_path_factory.mktemp("metric-names") / "flow", webhook) as flow,
    ):
        last_run = flow.run_flow(failing_attempts=4)
        yield Scrape(last_run, get_text(flow.metrics_url))


def test_queries_use_only_names_a_real_flowlight_process_exports(scrape: Scrape) -> None:
    """Against the bridge's own scrape endpoint, after a successful run with one retry and a run
    whose task fails every attempt (and a webhook notification for each flow transition)."""
    assert scrape.last_run == "Failed"
    exported = Exported.parse(scrape.exposition)
    for instrument in CONTRACT:
        stem = instrument.name.replace(".", "_")
        assert any(name == stem or name.startswith(stem + "_") for name in exported.labels), (
            instrument.name
        )
    assert mismatches(exported) == []


def test_bridge_scrape_endpoint_passes_promtool_check_metrics(scrape: Scrape) -> None:
    """After flow runs, one scrape of the bridge's endpoint is a valid exposition in which each
    family and series appears once and every metric has a description (promtool check metrics)."""
    assert scrape.last_run == "Failed"
    checked = subprocess.run(
        ["promtool", "check", "metrics"],
        input=scrape.exposition,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
