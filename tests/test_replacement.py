"""Replacement rules and the AWS facts behind them, checked against cfn-lint's raw schema files (not through the
module under test) and against what the Kubernetes provider documents."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from infra.offline import engine, replacement, resource_schemas

from .conftest import plan_for


def raw_schema(cfn_type: str, region: str = "ap-northeast-2") -> dict:
    """The schema file cfn-lint ships for the type and region, read directly."""
    base = resources.files("cfnlint") / "data" / "schemas"
    digest = json.loads((base / "providers" / f"{region}.json").read_text())[cfn_type]
    return json.loads((base / "resources" / f"{digest}.json").read_text())


@pytest.mark.parametrize("cfn_type", ["AWS::EC2::Subnet", "AWS::RDS::DBInstance", "AWS::SQS::Queue", "AWS::EKS::Cluster"])
def test_create_only_properties_are_the_schema_files(cfn_type):
    expected = [p.removeprefix("/properties/").replace("/", ".") for p in raw_schema(cfn_type)["createOnlyProperties"]]
    assert list(resource_schemas.create_only(cfn_type)) == expected


def test_stateful_types_are_cfn_lints_list():
    path = resources.files("cfnlint") / "data" / "AdditionalSpecs" / "StatefulResources.json"
    assert resource_schemas.stateful_types() == set(json.loads(path.read_text())["ResourceTypes"])
    assert resource_schemas.is_stateful("AWS::RDS::DBInstance") and not resource_schemas.is_stateful("AWS::EC2::Subnet")


SUBNET = "aws:ec2/subnet:Subnet"


def resource(name: str) -> engine.CapturedResource:
    """The custom resource of that name (a subnet where a subnet and its route table association share it)."""
    found = [r for r in plan_for("staging") if r.name == name and r.custom]
    return found[0] if len(found) == 1 else next(r for r in found if r.type == SUBNET)


def reason(name: str, key: str, old, new) -> str | None:
    return replacement.replacement_reason(resource(name), key, old, new, region="ap-northeast-2")


def test_aws_create_only_inputs_replace_and_others_update():
    assert "CidrBlock" in reason("network-data-0", "cidrBlock", "10.20.12.0/24", "10.20.16.0/24")
    assert reason("network-data-0", "tags", {"a": "1"}, {"a": "2"}) is None
    assert "QueueName" in reason("messaging-jobs", "name", "a", "b")
    assert reason("messaging-jobs", "visibilityTimeoutSeconds", 30, 60) is None
    assert reason("database-instance", "instanceClass", "db.t4g.medium", "db.m7g.large") is None


def test_kubernetes_replace_on_fields():
    config_map = resource("service-backend-config")
    assert "data" in reason("service-backend-config", "data", {"A": "1"}, {"A": "2"})
    metadata = engine.unwrap(config_map.inputs["metadata"])
    assert "metadata.name" in reason("service-backend-config", "metadata", metadata, {**metadata, "name": "other"})
    assert reason("service-backend-config", "metadata", metadata,
                  {**metadata, "labels": {**metadata["labels"], "x": "y"}}) is None
    spec = engine.unwrap(resource("service-backend-deployment").inputs["spec"])
    assert reason("service-backend-deployment", "spec", spec, {**spec, "replicas": 5}) is None
    assert "spec.selector" in reason("service-backend-deployment", "spec", spec,
                                     {**spec, "selector": {"matchLabels": {"app": "x"}}})
    # A Helm release is not an API object: its values change in place.
    release = next(r for r in plan_for("staging") if r.type == "kubernetes:helm.sh/v3:Release")
    assert replacement.replacement_reason(release, "values", {"a": 1}, {"a": 2}, region="ap-northeast-2") is None


def test_a_mutable_config_map_provider_updates_in_place():
    assert replacement.kubernetes_reason("kubernetes:core/v1:ConfigMap", "data", {"A": "1"}, {"A": "2"},
                                         {"enableConfigMapMutable": "true"}) is None


def test_the_replace_on_changes_option_is_honoured():
    subnet = resource("network-data-0")
    opted = engine.CapturedResource(**{**subnet.__dict__, "options": {**subnet.options, "replaceOnChanges": ["tags"]}})
    assert "replaceOnChanges" in replacement.replacement_reason(opted, "tags", {}, {"a": "b"}, region="ap-northeast-2")


def test_changed_paths_look_through_secrets_and_treat_unknowns_as_changes():
    secret = {engine.SECRET_SIG: engine.SECRET_VALUE, "value": "x"}
    assert replacement.changed_paths(secret, "x") == []
    assert replacement.changed_paths({"a": {"b": 1}}, {"a": {"b": 2}}) == ["a.b"]
    assert replacement.changed_paths("v", engine.UNKNOWN) == [""]


def test_stateful_means_cfn_lints_list_or_protected():
    assert replacement.is_stateful(resource("database-instance"))
    assert not replacement.is_stateful(resource("network-data-0"))
    # A bucket's settings resource maps to the bucket's CloudFormation type but is not itself stateful.
    assert not replacement.is_stateful(resource("storage-uploads-versioning"))
    assert replacement.is_stateful(resource("storage-uploads"))
    broker = next(r for r in plan_for("prod") if r.type == "aws:mq/broker:Broker")
    assert broker.protect and replacement.is_stateful(broker)
