"""Stack config validation: every rule names the key, what was expected and what was found, before any resource."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.offline import cli, engine
from infra.config import ConfigError, load_stack_config

from .conftest import change, config_error


def network(**changes):
    def mutate(config):
        config["platform:network"].update(changes)

    return mutate


def messages(error: ConfigError) -> list[str]:
    return [str(p) for p in error.problems]


def test_both_stack_files_are_valid():
    for stack in ("staging", "prod"):
        cfg = load_stack_config(stack, engine._encode(engine.stack_config(stack)))
        assert cfg.environment == stack
        assert cfg.region == "ap-northeast-2"


@pytest.mark.parametrize(
    "stack, mutate, path, expected, found",
    [
        ("staging", network(cidr="10.0.0.0/33"), "platform:network.cidr", "an IPv4 CIDR", "'10.0.0.0/33'"),
        ("staging", network(cidr="banana"), "platform:network.cidr", "an IPv4 CIDR", "'banana'"),
        ("staging", network(cidr="10.0.0.0/8"), "platform:network.cidr", "prefix from /16 to /24", "'10.0.0.0/8'"),
        ("staging", network(cidr="8.8.0.0/16"), "platform:network.cidr", "private (RFC 1918)", "'8.8.0.0/16'"),
        # Benchmarking space: "private" to Python's ipaddress, but no VPC's address space.
        ("staging", network(cidr="198.18.0.0/16"), "platform:network.cidr", "private (RFC 1918)", "'198.18.0.0/16'"),
        ("staging", network(azCount=1), "platform:network.azCount", "from 2 to 6", "1"),
        ("staging", network(azCount=7), "platform:network.azCount", "from 2 to 6", "7"),
        ("staging", network(azCount="3"), "platform:network.azCount", "an integer", "'3'"),
        ("prod", network(azCount=2), "platform:network.azCount", "at least 3 availability zones in prod", "2"),
        ("staging", network(natMode="double"), "platform:network.natMode", "'single', 'per-az'", "'double'"),
        ("prod", network(natMode="single"), "platform:network.natMode", "'per-az' in prod", "'single'"),
        ("staging", network(flowLogRetentionDays=10), "platform:network.flowLogRetentionDays", "retention period", "10"),
        ("staging", network(interfaceEndpoints=["sts"]), "platform:network.interfaceEndpoints", "includes ecr.api", "without"),
        ("staging", network(cidrs="10.0.0.0/16"), "platform:network.cidrs", "known keys", "unknown key 'cidrs'"),
        ("staging", lambda c: c.update({"platform:netwrok": {}}), "platform:netwrok", "known keys", "unknown key"),
        ("prod", lambda c: c.update({"platform:environment": "staging"}), "platform:environment", "the stack's name sets the environment (this stack is prod)", "'staging'"),
        ("staging", lambda c: c["platform:tags"].pop("owner"), "platform:tags.owner", "tag value", "missing"),
        ("staging", lambda c: c["platform:tags"].update(costCentre=""), "platform:tags.costCentre", "tag value", "''"),
        ("staging", lambda c: c["platform:tags"].update(team="x"), "platform:tags.team", "known keys", "unknown key"),
        ("staging", lambda c: c.update({"aws:region": "moon-1"}), "aws:region", "AWS region", "'moon-1'"),
        # Shaped like a region, but AWS has none by that name.
        ("staging", lambda c: c.update({"aws:region": "xx-nowhere-1"}), "aws:region", "AWS region", "'xx-nowhere-1'"),
        ("staging", lambda c: c.update({"aws:region": "ap-northeast-9"}), "aws:region", "AWS region", "did you mean"),
        # Keys outside platform: are accounted for too.
        ("staging", lambda c: c.update({"platfrom:cache": {"nodes": 3}}), "platfrom:cache", "namespace the program reads",
         "unknown namespace 'platfrom' (did you mean 'platform:cache'?)"),
        ("staging", lambda c: c.update({"aws:regoin": "us-east-1"}), "aws:regoin", "a key of the AWS provider",
         "unknown key 'aws:regoin' (did you mean 'aws:region'?)"),
        ("staging", lambda c: c.update({"aws:profile": "ops"}), "aws:profile", "declares its own AWS provider", "ignored"),
        ("staging", lambda c: c.update({"kubernetes:context": "x"}), "kubernetes:context", "own kubernetes provider", "ignored"),
        ("staging", lambda c: c.update({"aws:allowedAccountIds": ["12345"]}), "aws:allowedAccountIds", "12-digit", "a list of 1"),
        # The windows AWS refuses: overlapping, and shorter than the service's minimum.
        ("staging", change("database", "maintenanceWindow", "mon:17:30-mon:18:30"), "platform:database.backupWindow",
         "does not overlap platform:database.maintenanceWindow", "'17:00-18:00'"),
        ("staging", change("database", "backupWindow", "01:00-01:15"), "platform:database.backupWindow", "at least 30 minutes", "'01:00-01:15'"),
        ("staging", change("cache", "maintenanceWindow", "fri:16:30-fri:17:30"), "platform:cache.snapshotWindow",
         "does not overlap platform:cache.maintenanceWindow", "'16:00-17:00'"),
        ("staging", change("cache", "maintenanceWindow", "sat:01:00-sat:01:30"), "platform:cache.maintenanceWindow",
         "at least 60 minutes", "'sat:01:00-sat:01:30'"),
        ("staging", lambda c: c.update({"platform:network": "10.0.0.0/16"}), "platform:network", "a mapping", "'10.0.0.0/16'"),
    ],
)
def test_rule_names_the_key(stack, mutate, path, expected, found):
    error = config_error(stack, mutate)
    matching = [m for m in messages(error) if m.startswith(f"{path}: ")]
    assert matching, f"no problem for {path} in {messages(error)}"
    assert any(expected in m and found in m for m in matching), matching


def test_subnet_outside_the_vpc():
    def mutate(config):
        config["platform:network"]["subnets"]["data"][1] = "10.99.13.0/24"

    error = config_error("staging", mutate)
    assert messages(error) == [
        "platform:network.subnets.data[1]: expected a CIDR inside the VPC CIDR 10.20.0.0/16, got '10.99.13.0/24'"
    ]


def test_overlapping_subnets():
    def mutate(config):
        config["platform:network"]["subnets"]["data"][0] = "10.20.32.0/24"  # inside private[0]

    error = config_error("staging", mutate)
    assert messages(error) == [
        "platform:network.subnets.data[0]: expected a CIDR that does not overlap "
        "platform:network.subnets.private[0] (10.20.32.0/19), got '10.20.32.0/24'"
    ]


def test_subnet_count_must_match_az_count():
    error = config_error("staging", network(azCount=2))
    assert set(error.paths()) == {f"platform:network.subnets.{tier}" for tier in ("public", "private", "data")}


def test_all_problems_reported_at_once():
    def mutate(config):
        config["platform:network"].update(cidr="10.0.0.0/33", natMode="none", typo=True)
        config["platform:tags"]["owner"] = ""

    error = config_error("prod", mutate)
    assert {"platform:network.cidr", "platform:network.natMode", "platform:network.typo", "platform:tags.owner"} <= error.paths()
    assert str(error).startswith("stack 'prod': ")


def test_a_typo_comes_first_and_its_consequences_after_it():
    def mutate(config):
        config["platform:network"]["cidrr"] = config["platform:network"].pop("cidr")

    error = config_error("staging", mutate)
    assert [p.path for p in error.roots] == ["platform:network.cidrr"]
    assert "unknown key 'cidrr' (did you mean 'cidr'?)" in str(error.roots[0])
    assert len(error.consequences) == 9 and all("inside the VPC CIDR 10.0.0.0/16" in str(c) for c in error.consequences)
    lines = str(error).splitlines()
    assert lines[0] == "stack 'staging': 1 configuration problem (and 9 that follow from it):"
    assert "cidrr" in lines[1]
    assert lines[2] == "  because of platform:network.cidrr, 9 more (they go away with it), such as:"
    assert lines[3].strip().startswith("platform:network.subnets.public[0]: expected a CIDR inside the VPC CIDR 10.0.0.0/16")
    assert lines[-1] == "      … and 7 like them"


def test_an_invalid_value_is_reported_once_not_again_for_each_rule_that_reads_it():
    error = config_error("staging", network(cidr="10.0.0.0/33"))
    assert messages(error) == ["platform:network.cidr: expected an IPv4 CIDR, got '10.0.0.0/33'"]


@pytest.mark.parametrize("stack, environment", [("staging", "staging"), ("prod", "prod"), ("prod-eu", "prod"), ("staging-2", "staging")])
def test_the_stack_name_is_the_environment(stack, environment):
    from infra.config.stack import environment_of

    assert environment_of(stack) == environment


def test_a_stack_of_no_known_environment_is_refused():
    with pytest.raises(ConfigError, match="stack name: expected staging or prod, or a name starting with staging- or prod-"):
        load_stack_config("qa", engine._encode(engine.stack_config("staging")))


def test_the_project_must_keep_its_name():
    with pytest.raises(ConfigError, match=r"Pulumi.yaml name: expected 'platform' \(the program's config namespace\), got 'platfrom'"):
        load_stack_config("staging", engine._encode(engine.stack_config("staging")), project="platfrom")


def test_unknown_stack_is_a_clear_error():
    with pytest.raises(engine.UnknownStackError, match="unknown stack 'qa': there is no Pulumi.qa.yaml"):
        engine.run("qa")


def test_preview_command_rejects_an_unknown_stack_without_traceback():
    code = "import sys; from infra.offline import preview; from infra.offline import cli; sys.exit(cli.run(preview.main, ['--stack', 'qa', '--no-policies']))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=engine.ROOT, timeout=120)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.startswith("error: unknown stack 'qa'")


def test_preview_command_reports_every_config_problem(monkeypatch, capsys):
    from infra.offline import preview

    broken = engine.stack_config("prod")
    broken["platform:network"]["natMode"] = "single"
    broken["platform:tags"]["costCentre"] = ""
    monkeypatch.setattr(engine.project_files, "load_stack", lambda stack, project: engine.project_files.StackInputs(broken))
    assert cli.run(preview.main, ["--stack", "prod", "--no-policies"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: stack 'prod': 2 configuration problems:")
    assert "platform:network.natMode: expected 'per-az' in prod" in err
    assert "platform:tags.costCentre: expected a tag value (cost centre), got ''" in err


# -- property-based: random documents either validate or fail with ConfigError, never anything else ----------
scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 70000), st.text(max_size=12),
                    st.sampled_from(["10.0.0.0/16", "10.20.0.0/22", "single", "per-az", "prod", "staging", "/33"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
network_keys = st.sampled_from(["cidr", "azCount", "natMode", "subnets", "flowLogRetentionDays", "interfaceEndpoints", "typo"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    stack=st.one_of(st.sampled_from(["staging", "prod", "prod-eu"]), st.text(max_size=8)),
    network_doc=st.one_of(values, st.dictionaries(network_keys, values, max_size=6)),
    tags=st.one_of(values, st.fixed_dictionaries({"owner": values, "costCentre": values})),
    region=st.one_of(st.just("ap-northeast-2"), values),
)
def test_random_documents_validate_or_raise_config_error(stack, network_doc, tags, region):
    raw = {"platform:network": network_doc, "platform:tags": tags, "aws:region": region}
    try:
        cfg = load_stack_config(stack, engine._encode(raw))
    except ConfigError as error:
        assert error.problems and all(p.path for p in error.problems)
    else:
        assert cfg.environment in ("staging", "prod")
