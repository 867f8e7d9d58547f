"""What operators expect to find: the licence, the alert rules and the dashboard as files,
and one Python version in every deploy file.

The alert rules' and the dashboard's PromQL is parsed (``promql-parser``) and may only name
metrics a real ``/metrics`` scrape of the service exports, with the labels it gives them.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from typing import Any

import promql_parser
import pytest
import yaml

from hook import create_app
from hook.config import load_settings
from tests.support.docs import anchors, page, section
from tests.support.jwks_server import FIRST_KID, JwksServer, oauth_environment, signing_key
from tests.support.scrape import Scrape
from tests.support.settings import BASE_ENV, ROOT

PROMETHEUS = ROOT / "deploy" / "prometheus"
ALERTS = yaml.safe_load((PROMETHEUS / "alerts.yaml").read_text())
RULE = yaml.safe_load((PROMETHEUS / "prometheusrule.yaml").read_text())
DASHBOARD = json.loads((ROOT / "deploy" / "grafana" / "psc-token-hook.json").read_text())
OPERATIONS = "docs/operations.md"
CLEVER_CLOUD = page("docs/deploy/clever-cloud.md")
PYTHON = (ROOT / ".python-version").read_text().strip()
SEVERITIES = {"critical", "warning", "info"}
RULE_KEYS = {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
#: Grafana's own variables, replaced by a duration before the expression is parsed.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}


@pytest.fixture(scope="module")
def exported(jwks_module: Any) -> dict[str, set[str]]:
    """Every metric a scrape of the service shows, with its label names (both auth modes,
    so that the OAuth key fetches are there too)."""
    env = {**BASE_ENV, **oauth_environment(jwks_module), "HOOK_AUTH_MODE": "header,oauth"}
    answer = create_app(load_settings(env)).test_client().get("/metrics")
    assert answer.status_code == 200
    names: dict[str, set[str]] = {}
    for name, labels in Scrape.parse(answer.get_data(as_text=True)).samples:
        names.setdefault(name, set()).update(label for label, _ in labels)
    return names


@pytest.fixture(scope="module")
def jwks_module() -> Iterator[Any]:
    server = JwksServer([signing_key(FIRST_KID)])
    yield server
    server.close()


def selectors(node: Any) -> Iterator[Any]:
    """Every vector selector of a parsed PromQL expression."""
    if isinstance(node, promql_parser.VectorSelector):
        yield node
    elif isinstance(node, promql_parser.MatrixSelector):
        yield node.vector_selector
    elif isinstance(node, promql_parser.BinaryExpr):
        yield from selectors(node.lhs)
        yield from selectors(node.rhs)
    elif isinstance(node, promql_parser.Call):
        for argument in node.args:
            yield from selectors(argument)
    elif isinstance(node, (promql_parser.AggregateExpr, promql_parser.ParenExpr,
                           promql_parser.UnaryExpr, promql_parser.SubqueryExpr)):  # fmt: skip
        yield from selectors(node.expr)


def check_expression(expr: str, exported: dict[str, set[str]]) -> set[str]:
    """Parse ``expr`` and check each metric it names, and each label it matches on."""
    for variable, duration in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, duration)
    found = list(selectors(promql_parser.parse(expr)))
    assert found, f"no metric in {expr!r}"
    for selector in found:
        assert selector.name in exported, f"{selector.name} is not exported ({expr!r})"
        for matcher in selector.matchers.matchers:
            assert matcher.name in exported[selector.name], (selector.name, matcher.name)
    grouped = set(re.findall(r"\bby \(([^)]*)\)", expr))
    for labels in grouped:
        for label in (part.strip() for part in labels.split(",")):
            assert any(label in names for names in exported.values()), (label, expr)
    return {selector.name for selector in found}


def alert_rules() -> list[dict[str, Any]]:
    return [rule for group in ALERTS["groups"] for rule in group["rules"]]


def test_the_licence_is_the_one_pyproject_names() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == {"text": "MIT"}
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in text


def test_every_alert_has_a_severity_annotations_and_a_runbook_in_the_docs() -> None:
    rules = alert_rules()
    assert {rule["alert"] for rule in rules} >= {
        "PscHookAuthFailures",
        "PscHookRefusedAssuranceSpike",
        "PscHookSlow",
        "PscHookErrors",
        "PscHookKeyFetchFailures",
    }
    runbook_anchors = anchors(section(OPERATIONS, "Runbook"))
    for rule in rules:
        assert set(rule) <= RULE_KEYS, rule["alert"]
        assert rule["labels"]["severity"] in SEVERITIES, rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        runbook = rule["annotations"]["runbook_url"]
        assert runbook.startswith("https://"), rule["alert"]
        where, anchor = runbook.split("#", 1)
        assert where.endswith(f"/{OPERATIONS}"), runbook
        assert anchor in runbook_anchors, runbook


@pytest.mark.process
def test_the_alerts_use_only_exported_metrics(exported) -> None:
    used = set()
    for rule in alert_rules():
        used |= check_expression(rule["expr"], exported)
    assert used >= {
        "psc_hook_calls_total",
        "psc_hook_auth_failures_total",
        "psc_hook_call_duration_seconds_bucket",
        "psc_hook_jwks_fetches_total",
    }


@pytest.mark.process
def test_a_metric_the_service_does_not_export_is_caught(exported) -> None:
    with pytest.raises(AssertionError, match="psc_hook_calls is not exported"):
        check_expression("sum(rate(psc_hook_calls[5m]))", exported)
    with pytest.raises(AssertionError, match="outcom"):
        check_expression('sum(rate(psc_hook_calls_total{outcom="error"}[5m]))', exported)


def test_the_prometheus_rule_holds_the_same_groups_for_kube_prometheus_stack() -> None:
    assert RULE["apiVersion"] == "monitoring.coreos.com/v1"
    assert RULE["kind"] == "PrometheusRule"
    assert RULE["metadata"]["name"] == "psc-token-hook"
    assert RULE["metadata"]["namespace"] == "psc-token-hook"
    assert "release" in RULE["metadata"]["labels"]  # what the chart's ruleSelector matches
    assert set(RULE) == {"apiVersion", "kind", "metadata", "spec"}
    assert RULE["spec"] == ALERTS
    kustomization = yaml.safe_load((ROOT / "deploy/kubernetes/kustomization.yaml").read_text())
    assert not any("prometheusrule" in name.lower() for name in kustomization["resources"])


def test_the_docs_point_at_the_files_instead_of_a_copy() -> None:
    metrics = section(OPERATIONS, "Metrics and alerts")
    assert "deploy/prometheus/alerts.yaml" in metrics
    assert "deploy/grafana/psc-token-hook.json" in metrics
    assert "- alert:" not in metrics


PANELS = {
    "Calls by outcome": {"psc_hook_calls_total"},
    "Refusals by reason": {"psc_hook_auth_failures_total", "psc_hook_calls_total"},
    "Assurance mix": {"psc_hook_amr_decisions_total"},
    "p99 against Okta's 3 s": {"psc_hook_call_duration_seconds_bucket"},
    "Key fetches": {"psc_hook_jwks_fetches_total"},
}


@pytest.mark.process
def test_the_dashboard_panels_query_exported_metrics(exported) -> None:
    panels = {panel["title"]: panel for panel in DASHBOARD["panels"]}
    assert set(panels) == set(PANELS)
    for title, metrics in PANELS.items():
        used = set()
        for target in panels[title]["targets"]:
            assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            used |= check_expression(target["expr"], exported)
        assert used == metrics, title
    p99 = panels["p99 against Okta's 3 s"]
    assert "histogram_quantile(0.99" in p99["targets"][0]["expr"]
    steps = p99["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert {"color": "red", "value": 3} in steps  # Okta's limit, drawn on the panel
    assert p99["fieldConfig"]["defaults"]["unit"] == "s"
    [variable] = DASHBOARD["templating"]["list"]
    assert (variable["name"], variable["type"]) == ("datasource", "datasource")


def python_versions() -> dict[str, str]:
    """The Python minor version each deploy file names."""
    dockerfile = ROOT / "Dockerfile"
    versions = {
        f"Dockerfile FROM #{n}": match
        for n, match in enumerate(
            re.findall(r"^FROM python:(\d+\.\d+)", dockerfile.read_text(), re.MULTILINE), 1
        )
    }
    render = yaml.safe_load((ROOT / "deploy" / "render.yaml").read_text())
    for service in render["services"]:
        variables = {entry["key"]: entry for entry in service["envVars"]}
        versions[f"render.yaml {service['name']}"] = str(variables["PYTHON_VERSION"]["value"])
    for name in ("app.json", "scalingo.json"):
        document = json.loads((ROOT / name).read_text())
        named = (document.get("env") or {}).get("PYTHON_VERSION")
        if named is not None:
            versions[name] = str(named.get("value", named) if isinstance(named, dict) else named)
    clever = re.search(r"clever env set CC_PYTHON_VERSION (\S+)", CLEVER_CLOUD)
    assert clever, "the Clever Cloud page's commands set CC_PYTHON_VERSION"
    versions["docs/deploy/clever-cloud.md: clever env set"] = clever.group(1)
    table = re.search(r"\| `CC_PYTHON_VERSION` \| `([^`]+)` \|", CLEVER_CLOUD)
    assert table
    versions["docs/deploy/clever-cloud.md: table"] = table.group(1)
    return versions


def test_every_deploy_file_names_the_python_of_python_version() -> None:
    minor = ".".join(PYTHON.split(".")[:2])
    versions = python_versions()
    assert len([where for where in versions if where.startswith("Dockerfile")]) == 2
    assert any(where.startswith("render.yaml") for where in versions)
    for where, version in versions.items():
        assert ".".join(version.split(".")[:2]) == minor, (where, version)
