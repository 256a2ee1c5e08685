"""The PostgreSQL component, asserted on what both real stacks declare (followed through property dependencies)."""

from __future__ import annotations

import pytest

from components.database import DatabaseArgs, parameter_family

from .conftest import plan_for, run_mutated
from .data_helpers import (
    KMS_KEY,
    SECURITY_GROUP,
    assert_admits_only,
    assert_customer_managed_key,
    config,
    only,
    secrets_key,
    tier_subnet_urns,
)

INSTANCE = "aws:rds/instance:Instance"
SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


def instance(plan):
    return plan.one(INSTANCE)


def test_placed_in_the_data_tier_only(plan):
    db = instance(plan)
    group = only(plan, db, "dbSubnetGroupName", SUBNET_GROUP)
    assert set(group.property_dependencies["subnetIds"]) == tier_subnet_urns(plan, "data")
    assert db.props["publiclyAccessible"] is False


def test_admits_5432_only_from_the_clients(plan):
    group = only(plan, instance(plan), "vpcSecurityGroupIds", SECURITY_GROUP)
    assert_admits_only(plan, group, 5432)


def test_storage_and_performance_insights_encrypted_with_a_rotating_customer_key(plan):
    db = instance(plan)
    assert db.props["storageEncrypted"] is True
    key = assert_customer_managed_key(plan, db, "kmsKeyId")
    assert db.props["performanceInsightsEnabled"] is True
    assert only(plan, db, "performanceInsightsKmsKeyId", KMS_KEY).urn == key.urn


def test_master_password_is_managed_by_rds_never_given(plan):
    db = instance(plan)
    assert db.props["manageMasterUserPassword"] is True
    assert "password" not in db.inputs and "passwordWo" not in db.inputs
    # The RDS-managed secret is encrypted with the stack's secrets key, the one External Secrets may decrypt.
    assert only(plan, db, "masterUserSecretKmsKeyId", KMS_KEY).urn == secrets_key(plan).urn
    assert db.props["iamDatabaseAuthenticationEnabled"] is True


def test_parameter_group_forces_tls_and_logs(plan):
    db = instance(plan)
    group = only(plan, db, "parameterGroupName", PARAMETER_GROUP)
    assert group.props["family"] == f"postgres{db.props['engineVersion'].split('.')[0]}"
    params = {p["name"]: p["value"] for p in group.props["parameters"]}
    assert params["rds.force_ssl"] == "1"
    for logged in ("log_connections", "log_disconnections", "log_lock_waits"):
        assert params[logged] == "1"
    assert int(params["log_min_duration_statement"]) > 0
    assert params["log_statement"] == "ddl"


@pytest.mark.parametrize("version, family", [("16", "postgres16"), ("16.6", "postgres16"), ("17.2", "postgres17"), ("14", "postgres14")])
def test_parameter_family_follows_the_major_version(version, family):
    assert parameter_family(version) == family


def test_logs_exported_into_groups_with_retention(plan, stack):
    db = instance(plan)
    exports = db.props["enabledCloudwatchLogsExports"]
    assert "postgresql" in exports
    groups = {g.props["name"]: g for g in plan.of_type(LOG_GROUP)}
    for export in exports:
        group = groups[f"/aws/rds/instance/{db.props['identifier']}/{export}"]
        assert group.props["retentionInDays"] == config(stack, "database")["logRetentionDays"]
        assert group.urn in db.dependencies, "the groups exist before RDS would create them without retention"


def test_sizes_versions_and_autoscaling_follow_the_stack(plan, stack):
    db, want = instance(plan), config(stack, "database")
    assert db.props["engine"] == "postgres"
    assert db.props["engineVersion"] == want["engineVersion"]
    assert db.props["instanceClass"] == want["instanceClass"]
    assert db.props["allocatedStorage"] == want["allocatedStorageGiB"]
    assert db.props["maxAllocatedStorage"] == want["maxAllocatedStorageGiB"] > db.props["allocatedStorage"]
    assert db.props["storageType"] == "gp3"
    assert db.props["autoMinorVersionUpgrade"] is True
    assert db.props["copyTagsToSnapshot"] is True
    assert db.props["backupRetentionPeriod"] == want["backupRetentionDays"]


def test_prod_loses_nothing():
    db = instance(plan_for("prod"))
    assert db.protect
    assert db.props["multiAz"] is True
    assert db.props["deletionProtection"] is True
    assert db.props["skipFinalSnapshot"] is False and db.props["finalSnapshotIdentifier"]
    assert db.props["deleteAutomatedBackups"] is False
    assert db.props["backupRetentionPeriod"] >= 14
    assert db.props["instanceClass"] != instance(plan_for("staging")).props["instanceClass"]


def test_staging_is_disposable_only_because_its_config_says_so():
    db = instance(plan_for("staging"))
    want = config("staging", "database")
    assert (want["deletionProtection"], want["skipFinalSnapshot"], want["protect"]) == (False, True, False)
    assert db.props["deletionProtection"] is False and db.props["skipFinalSnapshot"] is True and not db.protect
    assert "finalSnapshotIdentifier" not in db.props

    def keep_everything(c):
        for key in ("deletionProtection", "skipFinalSnapshot", "protect"):
            c["platform:database"].pop(key)

    # Without those three lines staging gets the safe defaults.
    kept = instance(run_mutated("staging", keep_everything))
    assert kept.protect and kept.props["deletionProtection"] is True and kept.props["skipFinalSnapshot"] is False


def test_outputs_for_workloads_and_irsa(stack):
    out = plan_for(stack).outputs["database"]
    db = instance(plan_for(stack))
    assert out["port"] == 5432 and out["name"] == config(stack, "database").get("databaseName", DatabaseArgs().database_name)
    assert out["address"].startswith(db.props["identifier"]) and out["endpoint"].endswith(":5432")
    assert out["resourceId"].startswith("db-")
    assert out["masterSecretArn"].startswith("arn:aws:secretsmanager:ap-northeast-2:")
    assert out["securityGroupId"].startswith("sg-")


def test_preview_declares_the_same_database(stack):
    db = instance(plan_for(stack, preview=True))
    assert db.props["storageEncrypted"] is True and db.props["manageMasterUserPassword"] is True
    assert set(db.property_dependencies["kmsKeyId"]) == set(instance(plan_for(stack)).property_dependencies["kmsKeyId"])
