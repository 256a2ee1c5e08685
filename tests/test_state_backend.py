"""The state backend (`components/state_backend.py`) in both bootstrap stacks: the bucket baseline, one secrets key
per environment, and the CLI's object layout the roles are scoped to."""

from __future__ import annotations

import json

import pytest

from components.state_backend import secrets_key_alias, state_object_arns, state_read_arns

from .conftest import BOOTSTRAP_STACKS, bootstrap_plan_for

BUCKET = "aws:s3/bucket:Bucket"


@pytest.fixture(params=BOOTSTRAP_STACKS)
def plan(request):
    return bootstrap_plan_for(request.param)


def state_bucket(plan):
    return plan.one(BUCKET, "state-buckets-state")


def test_the_state_bucket_is_versioned_kms_encrypted_private_tls_only_and_logged(plan):
    bucket = state_bucket(plan)
    assert bucket.protect and bucket.props["forceDestroy"] is False
    assert bucket.props["bucket"] == f"platform-bootstrap-{plan.stack}-state-123456789012"

    def attached(type_):
        return [r for r in plan.of_type(type_) if bucket.urn in r.property_dependencies.get("bucket", ())]

    [versioning] = attached("aws:s3/bucketVersioning:BucketVersioning")
    assert versioning.props["versioningConfiguration"]["status"] == "Enabled"
    [encryption] = attached("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    [rule] = encryption.props["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms" and rule["bucketKeyEnabled"] is True
    [block] = attached("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert all(block.props[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    [policy] = attached("aws:s3/bucketPolicy:BucketPolicy")
    statements = json.loads(policy.props["policy"])["Statement"]
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements)
    [logging] = attached("aws:s3/bucketLogging:BucketLogging")
    assert plan.depends_on(logging, "targetBucket")[0].name == "state-buckets-access-logs"


def test_the_access_log_bucket_admits_the_trail_bucket(plan):
    log_bucket = plan.one(BUCKET, "state-buckets-access-logs")
    [policy] = [r for r in plan.of_type("aws:s3/bucketPolicy:BucketPolicy")
                if log_bucket.urn in r.property_dependencies.get("bucket", ())]
    [delivery] = [s for s in json.loads(policy.props["policy"])["Statement"] if s["Sid"] == "S3ServerAccessLogDelivery"]
    trail_bucket = plan.one(BUCKET, "baseline-trail-bucket").props["bucket"]
    assert f"arn:aws:s3:::{trail_bucket}" in delivery["Condition"]["ArnLike"]["aws:SourceArn"]


def test_one_secrets_key_per_hosted_environment(plan):
    environments = {"staging": ["staging"], "prod": ["prod"]}[plan.stack]
    aliases = sorted(a.props["name"] for a in plan.of_type("aws:kms/alias:Alias") if "/secrets-" in a.props["name"])
    assert aliases == [secrets_key_alias(f"platform-bootstrap-{plan.stack}", env) for env in environments]
    keys = [k for k in plan.of_type("aws:kms/key:Key") if k.name.startswith("state-secrets-")]
    assert len(keys) == len(environments)
    assert all(k.protect and k.props["enableKeyRotation"] is True for k in keys)
    assert plan.outputs["secretsProviders"] == {
        env: f"awskms://alias/platform-bootstrap-{plan.stack}/secrets-{env}?region=ap-northeast-2" for env in environments
    }


def test_the_backend_url_is_the_state_bucket(plan):
    assert plan.outputs["backendUrl"] == f"s3://{state_bucket(plan).props['bucket']}"


def test_the_object_layout_is_the_clis_project_mode_layout():
    # pkg/backend/diy in the Pulumi CLI: stacks/<project>/<stack>.json, history and backups per stack, locks under
    # the fully qualified name organization/<project>/<stack>.
    arns = state_object_arns("arn:aws:s3:::b", "platform", "staging")
    assert arns == [
        "arn:aws:s3:::b/.pulumi/stacks/platform/staging.json*",
        "arn:aws:s3:::b/.pulumi/history/platform/staging/*",
        "arn:aws:s3:::b/.pulumi/backups/platform/staging/*",
        "arn:aws:s3:::b/.pulumi/locks/organization/platform/staging/*",
    ]
    assert state_read_arns("arn:aws:s3:::b", "platform", "prod") == [
        "arn:aws:s3:::b/.pulumi/meta.yaml", "arn:aws:s3:::b/.pulumi/stacks/platform/prod.json*"
    ]
