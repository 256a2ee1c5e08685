"""Config validation against what AWS offers in the stack's region (infra/config/aws_offerings.py): one mutation per
class of defect, each a config error naming the key before any resource is declared; and the regional data
cross-checked against an independent source."""

from __future__ import annotations

import gzip
import subprocess
import sys
import json
from importlib import resources

import pytest

from infra.config import ConfigError, aws_offerings
from infra.config.stack import load_stack_config
from infra.offline import engine

from .conftest import STACKS, change, config_error, single


def _moto_instance_types(region: str) -> set[str]:
    """moto's EC2 offerings per region (AWS describe-instance-type-offerings output, shipped with moto)."""
    data = resources.files("moto.ec2.resources.instance_type_offerings.region").joinpath(f"{region}.json.gz")
    return {entry["InstanceType"] for entry in json.loads(gzip.decompress(data.read_bytes()))}


@pytest.mark.parametrize("stack", STACKS)
def test_stack_instance_types_offered_by_both_sources(stack):
    config = engine.stack_config(stack)
    region = config["aws:region"]
    groups = config["platform:cluster"]["nodeGroups"]
    types = {t for group in groups.values() for t in group["instanceTypes"]}
    assert types <= _moto_instance_types(region)
    assert types <= aws_offerings.ec2_instance_types(region)


def test_the_sources_agree_on_the_types_the_stacks_used_to_name():
    region = "ap-northeast-2"
    for retired in ("m6a.xlarge", "m7a.xlarge"):
        assert retired not in _moto_instance_types(region)
        assert retired not in aws_offerings.ec2_instance_types(region)
    # Offered elsewhere: the data is regional, not a list of types that do not exist.
    assert "m6a.xlarge" in aws_offerings.ec2_instance_types("us-east-1")


def test_unoffered_instance_type_is_a_config_error():
    error = config_error("staging", change(
        "cluster", "nodeGroups.workload.instanceTypes", ["m7i.xlarge", "m6i.xlarge", "m6a.xlarge"]))
    problem = single(error, "platform:cluster.nodeGroups.workload.instanceTypes[2]")
    assert "ap-northeast-2" in problem.expected and "m6a.xlarge" in problem.found


def test_rds_class_that_does_not_exist_for_the_engine_version_is_a_config_error():
    # db.m4.large is an RDS class of the region, but no PostgreSQL 16 runs on it.
    assert "db.m4.large" in aws_offerings.rds_instance_classes("ap-northeast-2", "postgres")
    error = config_error("staging", change("database", "instanceClass", "db.m4.large"))
    assert "postgres 16" in single(error, "platform:database.instanceClass").expected


def test_cache_node_type_not_offered_is_a_config_error():
    error = config_error("prod", change("cache", "nodeType", "cache.m7a.large"))
    single(error, "platform:cache.nodeType")


def test_broker_instance_type_not_offered_is_a_config_error():
    error = config_error("staging", change("messaging", "rabbitmq.instanceType", "mq.m6g.large"))
    single(error, "platform:messaging.rabbitmq.instanceType")


def test_forbidden_character_in_a_name_from_config_is_a_config_error():
    # The broker is named after the stack; a dot is a valid stack name character but not a broker name one.
    with pytest.raises(ConfigError) as caught:
        engine.run("staging-qa.1", config=engine.stack_config("staging"))
    problem = single(caught.value, "platform:messaging.rabbitmq")
    assert "platform-staging-qa.1-rabbitmq" in problem.found


def test_out_of_range_sizes_are_config_errors():
    error = config_error("prod", change("cluster", "nodeGroups.workload.desiredSize", 99))
    single(error, "platform:cluster.nodeGroups.workload.desiredSize")
    error = config_error("staging", change("cache", "multiAz", True))  # one node cannot fail over
    single(error, "platform:cache.nodes")


def test_the_stacks_as_written_pass(stack):
    assert aws_offerings.check(load_stack_config(stack, engine.stack_config(stack))) == []


def test_the_program_reads_the_data_without_importing_cfn_lint():
    """Importing cfn-lint costs about a second; the program only reads its data files."""
    code = "import sys; from infra.offline import engine; engine.run('staging'); print('cfnlint' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=engine.ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False"
