"""The S3 buckets, asserted on what both real stacks declare (each split resource found through its bucket)."""

from __future__ import annotations

import pytest

from components.storage import BucketSpec, lifecycle_rules

from .conftest import plan_for, run_mutated
from .data_helpers import KMS_KEY, config, only, policy, users_of

BUCKET = "aws:s3/bucket:Bucket"
PUBLIC_ACCESS = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
PUBLIC_TYPES = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketWebsiteConfiguration:BucketWebsiteConfiguration")


def buckets(plan):
    """{logical name: bucket resource}, the logical name read back from the physical bucket name."""
    return {b.props["bucket"].split(f"platform-{plan.stack}-", 1)[1].rsplit("-", 1)[0]: b for b in plan.of_type(BUCKET)}


def attached(plan, bucket, type_):
    (found,) = users_of(plan, bucket, "bucket", type_)
    return found


def log_bucket(plan):
    return buckets(plan)[config(plan.stack, "storage")["accessLogBucket"]]


def test_declares_the_configured_buckets(plan, stack):
    declared = buckets(plan)
    assert set(declared) == set(config(stack, "storage")["buckets"])
    assert {"uploads", "static-assets", "access-logs"} <= set(declared)
    for name, bucket in declared.items():
        assert bucket.props["bucket"] == f"platform-{stack}-{name}-123456789012"


def test_every_public_access_flag_on_and_acls_off(plan):
    for bucket in buckets(plan).values():
        block = attached(plan, bucket, PUBLIC_ACCESS).props
        assert all(block[flag] is True for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
        assert attached(plan, bucket, OWNERSHIP).props["rule"]["objectOwnership"] == "BucketOwnerEnforced"
    assert not plan.of_type(*PUBLIC_TYPES)


def test_data_buckets_use_sse_kms_with_bucket_keys_and_the_log_bucket_sse_s3(plan):
    logs = log_bucket(plan)
    for bucket in buckets(plan).values():
        encryption = attached(plan, bucket, ENCRYPTION)
        (rule,) = encryption.props["rules"]
        default = rule["applyServerSideEncryptionByDefault"]
        if bucket.urn == logs.urn:
            # S3 server access logging cannot deliver into an SSE-KMS bucket.
            assert default["sseAlgorithm"] == "AES256"
        else:
            assert default["sseAlgorithm"] == "aws:kms" and rule["bucketKeyEnabled"] is True
            key = only(plan, encryption, "rules", KMS_KEY)
            assert key.props["enableKeyRotation"] is True


def test_versioning_on_everywhere(plan):
    for bucket in buckets(plan).values():
        assert attached(plan, bucket, VERSIONING).props["versioningConfiguration"]["status"] == "Enabled"


def test_lifecycle_rules_follow_the_stack(plan, stack):
    wanted = config(stack, "storage")["buckets"]
    for name, bucket in buckets(plan).items():
        lifecycle = attached(plan, bucket, LIFECYCLE)
        rules = {r["id"]: r for r in lifecycle.props["rules"]}
        assert all(r["status"] == "Enabled" and r["filter"] == {"prefix": ""} for r in rules.values())
        assert rules["abort-incomplete-multipart-uploads"]["abortIncompleteMultipartUpload"]["daysAfterInitiation"] >= 1
        noncurrent = rules["expire-noncurrent-versions"]["noncurrentVersionExpiration"]["noncurrentDays"]
        assert noncurrent == wanted[name].get("noncurrentVersionDays", 90)
        if "expireAfterDays" in wanted[name]:
            assert rules["expire-current-versions"]["expiration"]["days"] == wanted[name]["expireAfterDays"]
        if "intelligentTieringAfterDays" in wanted[name]:
            (transition,) = rules["intelligent-tiering"]["transitions"]
            assert transition == {"days": wanted[name]["intelligentTieringAfterDays"], "storageClass": "INTELLIGENT_TIERING"}
        versioning = attached(plan, bucket, VERSIONING)
        assert versioning.urn in lifecycle.dependencies


def test_every_bucket_policy_denies_requests_without_tls(plan):
    for bucket in buckets(plan).values():
        document = policy(attached(plan, bucket, POLICY))
        arn = bucket.outputs["arn"]
        denials = [
            s for s in document["Statement"]
            if s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        ]
        assert denials and set(denials[0]["Resource"]) == {arn, f"{arn}/*"} and denials[0]["Principal"] == "*"
        for statement in document["Statement"]:
            assert not (statement["Effect"] == "Allow" and statement["Principal"] in ("*", {"AWS": "*"})), "nothing public"


def test_access_logs_go_to_the_log_bucket_which_admits_only_this_accounts_buckets(plan):
    logs = log_bucket(plan)
    sources = [b for b in buckets(plan).values() if b.urn != logs.urn]
    for bucket in sources:
        logging = attached(plan, bucket, LOGGING)
        assert only(plan, logging, "targetBucket", BUCKET).urn == logs.urn
        assert logging.props["targetPrefix"].endswith("/")
    assert not users_of(plan, logs, "bucket", LOGGING), "the log bucket does not log into itself"
    (delivery,) = [s for s in policy(attached(plan, logs, POLICY))["Statement"] if s["Effect"] == "Allow"]
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"} and delivery["Action"] == "s3:PutObject"
    assert delivery["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    assert sorted(delivery["Condition"]["ArnLike"]["aws:SourceArn"]) == sorted(b.outputs["arn"] for b in sources)


def test_prod_keeps_every_bucket():
    for bucket in buckets(plan_for("prod")).values():
        assert bucket.props["forceDestroy"] is False
        assert bucket.protect


def test_staging_may_destroy_its_buckets_because_its_config_says_so():
    want = config("staging", "storage")
    assert want["forceDestroy"] is True and want["protect"] is False
    for bucket in buckets(plan_for("staging")).values():
        assert bucket.props["forceDestroy"] is True and not bucket.protect


def test_outputs_name_every_bucket(stack):
    plan = plan_for(stack)
    assert plan.outputs["buckets"] == {
        name: {"name": b.props["bucket"], "arn": f"arn:aws:s3:::{b.props['bucket']}"} for name, b in buckets(plan).items()
    }


def test_a_new_bucket_in_config_is_a_new_private_bucket():
    def add(c):
        c["platform:storage"]["buckets"]["exports"] = {"noncurrentVersionDays": 3}

    plan = run_mutated("staging", add)
    bucket = buckets(plan)["exports"]
    assert attached(plan, bucket, PUBLIC_ACCESS).props["restrictPublicBuckets"] is True
    assert only(plan, attached(plan, bucket, LOGGING), "targetBucket", BUCKET).urn == log_bucket(plan).urn


@pytest.mark.parametrize(
    "spec, ids",
    [
        (BucketSpec("a"), {"abort-incomplete-multipart-uploads", "expire-noncurrent-versions", "remove-expired-delete-markers"}),
        (BucketSpec("a", expire_after_days=30), {"abort-incomplete-multipart-uploads", "expire-noncurrent-versions", "expire-current-versions"}),
        (BucketSpec("a", intelligent_tiering_after_days=0), {"abort-incomplete-multipart-uploads", "expire-noncurrent-versions", "remove-expired-delete-markers", "intelligent-tiering"}),
    ],
)
def test_lifecycle_rule_set(spec, ids):
    assert {rule.id for rule in lifecycle_rules(spec)} == ids
