"""Config rules of `platform:addons`: the chart table takes exact pins only, for exactly the add-ons the platform
knows; the certificate's names lie in its hosted zone. Each bad value is refused before any resource, by key path."""

from __future__ import annotations

import re

import pytest

from components.addons import CHARTS
from infra.offline import engine
from infra.config import load_stack_config
from infra.config.addons import EXACT_VERSION

from .conftest import change as change_key
from .conftest import config_error, single

P = "platform:addons."


def change(path, value):
    return change_key("addons", path, value)


@pytest.mark.parametrize(
    "version", ["", "latest", "^1.2", "~1", ">=1.0.0", "*", "1.x", "1.2.x", "1.2", "1", "1.2.3 - 1.4.0", "~> 1.2", ">1.2.3 <2"]
)
def test_an_unpinned_chart_version_is_refused(version):
    error = config_error("staging", change("charts.aws-load-balancer-controller", version))
    problem = single(error, P + "charts.aws-load-balancer-controller")
    assert "an exact chart version" in problem.expected
    assert repr(version) in problem.found


@pytest.mark.parametrize("version", ["1.2.3", "v0.5.2", "10.1.1", "2.0.0-rc.1", "1.2.3+build.5"])
def test_exact_versions_are_accepted(version):
    assert re.fullmatch(EXACT_VERSION, version)
    raw = engine.stack_config("staging")
    raw["platform:addons"]["charts"]["metrics-server"] = version
    cfg = load_stack_config("staging", engine._encode(raw))
    assert cfg.addons.chart_versions["metrics-server"] == version


@pytest.mark.parametrize(
    "stack, path, value, expected",
    [
        ("prod", "charts.metrics-server", 3.13, "an exact chart version"),  # YAML read a number
        ("prod", "charts.argo-cd", ..., "an exact chart version"),  # even when switched off: the table is complete
        ("prod", "charts.karpenter", "1.8.0", "known keys"),
        ("prod", "argocd.enabled", "yes", "true or false"),
        ("prod", "tls.hostedZone", "Example.COM", "a DNS zone name"),
        ("prod", "tls.domain", "app.example.org", "inside the hosted zone example.com"),
        ("staging", "tls.alternativeNames", ["*.example.com"], "inside the hosted zone staging.example.com"),
        ("staging", "tls.alternativeNames", ["api.*.staging.example.com"], "a wildcard only as the leftmost label"),
        ("prod", "tls.alternativeNames", ["example.com"], "names other than the domain"),
        ("prod", "tls.certificateArn", "arn:aws:acm:x", "known keys"),
    ],
)
def test_rule(stack, path, value, expected):
    error = config_error(stack, change(path, value))
    key = path if not path.startswith("tls.alternativeNames") or "other than" in expected else f"{path}[0]"
    problem = single(error, P + key)
    assert expected in problem.expected, str(problem)


def test_the_table_lists_every_add_on_in_both_stacks():
    for stack in ("staging", "prod"):
        charts = engine.stack_config(stack)["platform:addons"]["charts"]
        assert charts.keys() == CHARTS.keys()
        assert all(re.fullmatch(EXACT_VERSION, v) for v in charts.values())
