"""The cleanup job's code (functions/cleanup/handler.py) against moto's AWS on 127.0.0.1.

A ThreadedMotoServer on a free local port per module; boto3 reaches it through AWS_ENDPOINT_URL. Creation times
cannot be set in moto, so each run passes `now` some days ahead instead.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import socket
import sys
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

HANDLER = Path(__file__).resolve().parents[1] / "functions" / "cleanup" / "handler.py"
REGION = "ap-northeast-2"
CLUSTER = "platform-staging"


def load_handler():
    spec = importlib.util.spec_from_file_location("cleanup_handler", HANDLER)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


handler = load_handler()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    moto.start()
    yield f"http://127.0.0.1:{port}"
    moto.stop()


@pytest.fixture
def aws(server, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    boto3.client("s3", region_name=REGION).list_buckets()  # the server is up
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{server}/moto-api/reset", method="POST"))  # a clean account per test
    return boto3.session.Session(region_name=REGION)


def tags(**pairs):
    return [{"Key": k, "Value": v} for k, v in pairs.items()]


@pytest.fixture
def world(aws):
    """Two of each kind: one the job must find, one it must leave alone."""
    ec2 = aws.client("ec2")
    cluster_tag = {f"kubernetes.io/cluster/{CLUSTER}": "owned"}
    orphan = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=10, VolumeType="gp3",
                               TagSpecifications=[{"ResourceType": "volume", "Tags": tags(**cluster_tag)}])["VolumeId"]
    foreign = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=10,
                                TagSpecifications=[{"ResourceType": "volume", "Tags": tags(owner="someone-else")}])["VolumeId"]
    # An attached cluster volume: not unused.
    image = ec2.describe_images()["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, Placement={"AvailabilityZone": f"{REGION}a"})["Instances"][0]["InstanceId"]
    attached = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=5,
                                 TagSpecifications=[{"ResourceType": "volume", "Tags": tags(**cluster_tag)}])["VolumeId"]
    ec2.attach_volume(VolumeId=attached, InstanceId=instance, Device="/dev/sdf")
    snapshot = ec2.create_snapshot(VolumeId=orphan, TagSpecifications=[{"ResourceType": "snapshot", "Tags": tags(**cluster_tag)}])["SnapshotId"]
    other_snapshot = ec2.create_snapshot(VolumeId=foreign)["SnapshotId"]
    idle = ec2.allocate_address(Domain="vpc", TagSpecifications=[{"ResourceType": "elastic-ip", "Tags": tags(stack="staging")}])["AllocationId"]
    ec2.allocate_address(Domain="vpc", TagSpecifications=[{"ResourceType": "elastic-ip", "Tags": tags(stack="prod")}])
    in_use = ec2.allocate_address(Domain="vpc", TagSpecifications=[{"ResourceType": "elastic-ip", "Tags": tags(stack="staging")}])["AllocationId"]
    ec2.associate_address(AllocationId=in_use, InstanceId=instance)

    ecr = aws.client("ecr")
    for repo in ("platform/backend", "elsewhere/tool"):
        ecr.create_repository(repositoryName=repo)
        for n, tag in ((1, "v1"), (2, None)):  # a tagged image and an untagged one
            manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                                   "layers": [], "annotations": {"n": str(n)}})
            ecr.put_image(repositoryName=repo, imageManifest=manifest, imageDigest="sha256:" + str(n) * 64,
                          **({"imageTag": tag} if tag else {}))

    sns, sqs = aws.client("sns"), aws.client("sqs")
    topic = sns.create_topic(Name="platform-staging-alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    return dict(orphan=orphan, foreign=foreign, attached=attached, snapshot=snapshot, other_snapshot=other_snapshot,
                idle=idle, in_use=in_use, topic=topic, queue=queue)


def settings(world, *, delete: bool) -> "handler.Settings":
    return handler.Settings(cluster_name=CLUSTER, stack="staging", topic_arn=world["topic"], volume_age_days=7,
                            snapshot_retention_days=14, image_age_days=7, repository_prefix="platform/", delete=delete)


def later(days: int) -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=days)


def found(report) -> dict[str, set[str]]:
    kinds: dict[str, set[str]] = {}
    for f in report.findings:
        kinds.setdefault(f.kind, set()).add(f.id)
    return kinds


def test_nothing_is_old_enough_yet(world, aws):
    report = handler.run(settings(world, delete=True), now=later(1), session=aws)
    # Only the idle address of this stack: an idle address has no grace period.
    assert found(report) == {"address": {world["idle"]}}


def test_reports_only_when_deletion_is_off(world, aws):
    report = handler.run(settings(world, delete=False), now=later(20), session=aws)
    kinds = found(report)
    assert kinds["volume"] == {world["orphan"]}  # not the foreign one, not the attached one
    assert kinds["snapshot"] == {world["snapshot"]}
    assert kinds["address"] == {world["idle"]}  # not prod's, not the associated one
    assert len(kinds["image"]) == 1 and next(iter(kinds["image"])).startswith("platform/backend@")
    assert not any(f.deleted for f in report.findings)
    ec2 = aws.client("ec2")
    assert ec2.describe_volumes(VolumeIds=[world["orphan"]])["Volumes"]
    message = aws.client("sqs").receive_message(QueueUrl=world["queue"], WaitTimeSeconds=1)["Messages"][0]["Body"]
    assert "reported only" in message and world["orphan"] in message


def test_deletes_where_allowed(world, aws):
    report = handler.run(settings(world, delete=True), now=later(20), session=aws)
    assert report.findings and all(f.deleted for f in report.findings), report.summary()
    ec2 = aws.client("ec2")
    remaining = {v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]}
    assert world["orphan"] not in remaining and {world["foreign"], world["attached"]} <= remaining
    snapshots = {s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]}
    assert world["snapshot"] not in snapshots and world["other_snapshot"] in snapshots
    addresses = {a["AllocationId"] for a in ec2.describe_addresses()["Addresses"]}
    assert world["idle"] not in addresses and world["in_use"] in addresses
    ecr = aws.client("ecr")
    assert [i.get("imageTags") for i in ecr.describe_images(repositoryName="platform/backend")["imageDetails"]] == [["v1"]]
    assert len(ecr.describe_images(repositoryName="elsewhere/tool")["imageDetails"]) == 2


def test_settings_from_the_environment():
    s = handler.Settings.from_env({"CLUSTER_NAME": "c", "STACK": "prod", "TOPIC_ARN": "arn:t", "DELETE": "TRUE", "VOLUME_AGE_DAYS": "3"})
    assert (s.delete, s.volume_age_days, s.snapshot_retention_days) == (True, 3, 14)
    assert handler.Settings.from_env({"CLUSTER_NAME": "c", "STACK": "prod", "TOPIC_ARN": "arn:t"}).delete is False
