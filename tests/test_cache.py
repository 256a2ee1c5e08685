"""The Valkey/Redis component, asserted on what both real stacks declare (followed through property dependencies)."""

from __future__ import annotations

from components.cache import FAMILIES

from .conftest import plan_for
from .data_helpers import (
    KMS_KEY,
    RANDOM_PASSWORD,
    SECRET,
    SECRET_VERSION,
    SECURITY_GROUP,
    assert_admits_only,
    assert_customer_managed_key,
    config,
    only,
    secrets_key,
    tier_subnet_urns,
    users_of,
)
from infra.offline import engine

GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
SUBNET_GROUP = "aws:elasticache/subnetGroup:SubnetGroup"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


def group(plan):
    return plan.one(GROUP)


def test_placed_in_the_data_tier_only(plan):
    subnets = only(plan, group(plan), "subnetGroupName", SUBNET_GROUP)
    assert set(subnets.property_dependencies["subnetIds"]) == tier_subnet_urns(plan, "data")


def test_admits_6379_only_from_the_clients(plan):
    assert_admits_only(plan, only(plan, group(plan), "securityGroupIds", SECURITY_GROUP), 6379)


def test_encrypted_at_rest_with_a_customer_key_and_in_transit_required(plan):
    g = group(plan)
    assert g.props["atRestEncryptionEnabled"] is True
    assert_customer_managed_key(plan, g, "kmsKeyId")
    assert g.props["transitEncryptionEnabled"] is True
    assert g.props["transitEncryptionMode"] == "required"


def test_auth_token_is_generated_marked_secret_and_kept_in_secrets_manager(plan):
    g = group(plan)
    assert engine.is_secret(g.inputs["authToken"]), "the token reaches ElastiCache only as a secret"
    password = only(plan, g, "authToken", RANDOM_PASSWORD)
    assert password.props["length"] >= 32 and password.props["special"] is False
    (version,) = users_of(plan, password, "secretString", SECRET_VERSION)
    assert engine.is_secret(version.inputs["secretString"])
    secret = only(plan, version, "secretId", SECRET)
    assert secret.props["name"] == f"platform/{plan.stack}/redis/auth-token"
    assert only(plan, secret, "kmsKeyId", KMS_KEY).urn == secrets_key(plan).urn
    if not plan.preview:
        assert plan.outputs["redis"]["authTokenSecretArn"].startswith("arn:aws:secretsmanager:")


def test_engine_version_and_parameter_family_match(plan, stack):
    g, want = group(plan), config(stack, "cache")
    assert (g.props["engine"], g.props["engineVersion"]) == (want["engine"], want["engineVersion"])
    assert g.props["parameterGroupName"] == "default." + FAMILIES[want["engine"]][want["engineVersion"]]
    assert g.props["autoMinorVersionUpgrade"] is True


def test_slow_log_goes_to_a_group_with_retention(plan, stack):
    g = group(plan)
    (delivery,) = g.props["logDeliveryConfigurations"]
    assert delivery["logType"] == "slow-log" and delivery["destinationType"] == "cloudwatch-logs"
    log_group = only(plan, g, "logDeliveryConfigurations", LOG_GROUP)
    assert log_group.props["retentionInDays"] == config(stack, "cache")["logRetentionDays"]


def test_prod_fails_over_across_zones_and_loses_nothing():
    g = group(plan_for("prod"))
    assert g.props["numCacheClusters"] >= 2
    assert g.props["automaticFailoverEnabled"] is True and g.props["multiAzEnabled"] is True
    zones = g.props["preferredCacheClusterAzs"]
    assert len(zones) == g.props["numCacheClusters"] and len(set(zones)) == len(zones), "one node per AZ"
    assert g.props["snapshotRetentionLimit"] >= 1
    assert g.props["finalSnapshotIdentifier"]
    assert g.protect


def test_staging_is_one_small_node_because_its_config_says_so():
    g, want = group(plan_for("staging")), config("staging", "cache")
    assert g.props["numCacheClusters"] == want["nodes"] == 1
    assert g.props["automaticFailoverEnabled"] is False and g.props["multiAzEnabled"] is False
    assert g.props["nodeType"] == want["nodeType"]
    assert not g.protect and want["protect"] is False


def test_member_cluster_ids_name_every_node_for_alarms(stack):
    plan = plan_for(stack)
    g = group(plan)
    alarms = [a for a in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") if a.props.get("namespace") == "AWS/ElastiCache"]
    ids = {a.props["dimensions"]["CacheClusterId"] for a in alarms}
    assert ids == {f"{g.props['replicationGroupId']}-{n:03d}" for n in range(1, int(g.props["numCacheClusters"]) + 1)}
