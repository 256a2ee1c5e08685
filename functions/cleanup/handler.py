"""The cleanup job: find what the platform left unused, report it to the alerts topic, delete it where allowed.

Runs as an AWS Lambda function (Python 3.13, boto3 from the runtime) on an EventBridge Scheduler schedule; the
program packages this folder and passes the settings as environment variables:

- CLUSTER_NAME: volumes and snapshots count only when tagged `kubernetes.io/cluster/<CLUSTER_NAME>` (the gp3
  StorageClass sets that tag on every volume it provisions; a snapshot carries it when whatever takes it sets it, for
  example a VolumeSnapshotClass with the same `tagSpecification_1`);
- STACK: Elastic IPs count only when tagged `stack=<STACK>` (the provider's default tags);
- VOLUME_AGE_DAYS: an unattached (`available`) volume older than this is reported;
- SNAPSHOT_RETENTION_DAYS: a snapshot older than this is reported;
- IMAGE_AGE_DAYS, REPOSITORY_PREFIX: untagged images pushed more than IMAGE_AGE_DAYS ago, in repositories whose name
  starts with REPOSITORY_PREFIX (what the repositories' lifecycle rules should already have expired);
- TOPIC_ARN: where the report goes (only when something is found);
- DELETE: "true" to delete what is found; anything else reports only.

Unassociated Elastic IPs are reported whatever their age (an idle address bills by the hour from the start).
Deletion failures (a volume attached meanwhile, a snapshot in use by an AMI) are reported, not raised: one stuck
item must not stop the rest. The return value is the report.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import boto3

UTC = dt.timezone.utc


@dataclass(frozen=True)
class Settings:
    cluster_name: str
    stack: str
    topic_arn: str
    volume_age_days: int = 7
    snapshot_retention_days: int = 14
    image_age_days: int = 7
    repository_prefix: str = "platform/"
    delete: bool = False

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = dict(os.environ if env is None else env)
        return cls(
            cluster_name=env["CLUSTER_NAME"],
            stack=env["STACK"],
            topic_arn=env["TOPIC_ARN"],
            volume_age_days=int(env.get("VOLUME_AGE_DAYS", "7")),
            snapshot_retention_days=int(env.get("SNAPSHOT_RETENTION_DAYS", "14")),
            image_age_days=int(env.get("IMAGE_AGE_DAYS", "7")),
            repository_prefix=env.get("REPOSITORY_PREFIX", "platform/"),
            delete=env.get("DELETE", "false").lower() == "true",
        )


@dataclass
class Finding:
    kind: str  # volume, snapshot, address, image
    id: str
    detail: str
    deleted: bool = False
    error: str = ""


@dataclass
class Report:
    stack: str
    delete: bool
    findings: list[Finding] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"Cleanup of stack {self.stack}: {len(self.findings)} unused resources "
                 f"({'deleted where possible' if self.delete else 'reported only; deletion is off for this stack'})"]
        for f in self.findings:
            state = "deleted" if f.deleted else (f"not deleted: {f.error}" if f.error else "kept")
            lines.append(f"- {f.kind} {f.id}: {f.detail} [{state}]")
        return "\n".join(lines)


def _age_days(when: dt.datetime, now: dt.datetime) -> float:
    return (now - when).total_seconds() / 86400


def unattached_volumes(ec2: Any, s: Settings, now: dt.datetime) -> Iterator[Finding]:
    filters = [
        {"Name": "status", "Values": ["available"]},
        {"Name": "tag-key", "Values": [f"kubernetes.io/cluster/{s.cluster_name}"]},
    ]
    for page in ec2.get_paginator("describe_volumes").paginate(Filters=filters):
        for volume in page["Volumes"]:
            age = _age_days(volume["CreateTime"], now)
            if age > s.volume_age_days:
                yield Finding("volume", volume["VolumeId"], f"{volume['Size']} GiB {volume.get('VolumeType', '')}, unattached, created {age:.0f} days ago")


def old_snapshots(ec2: Any, s: Settings, now: dt.datetime) -> Iterator[Finding]:
    filters = [{"Name": "tag-key", "Values": [f"kubernetes.io/cluster/{s.cluster_name}"]}]
    for page in ec2.get_paginator("describe_snapshots").paginate(OwnerIds=["self"], Filters=filters):
        for snapshot in page["Snapshots"]:
            age = _age_days(snapshot["StartTime"], now)
            if age > s.snapshot_retention_days:
                yield Finding("snapshot", snapshot["SnapshotId"], f"of {snapshot.get('VolumeId', '?')}, {age:.0f} days old (retention {s.snapshot_retention_days})")


def idle_addresses(ec2: Any, s: Settings, now: dt.datetime) -> Iterator[Finding]:
    response = ec2.describe_addresses(Filters=[{"Name": "tag:stack", "Values": [s.stack]}])
    for address in response["Addresses"]:
        if not address.get("AssociationId"):
            yield Finding("address", address["AllocationId"], f"{address.get('PublicIp', '?')}, not associated")


def untagged_images(ecr: Any, s: Settings, now: dt.datetime) -> Iterator[Finding]:
    for page in ecr.get_paginator("describe_repositories").paginate():
        for repository in page["repositories"]:
            name = repository["repositoryName"]
            if not name.startswith(s.repository_prefix):
                continue
            for images in ecr.get_paginator("describe_images").paginate(repositoryName=name):
                for image in images["imageDetails"]:
                    if image.get("imageTags"):
                        continue
                    age = _age_days(image["imagePushedAt"], now)
                    if age > s.image_age_days:
                        yield Finding("image", f"{name}@{image['imageDigest']}", f"untagged, pushed {age:.0f} days ago")


def _delete(ec2: Any, ecr: Any, finding: Finding) -> None:
    try:
        if finding.kind == "volume":
            ec2.delete_volume(VolumeId=finding.id)
        elif finding.kind == "snapshot":
            ec2.delete_snapshot(SnapshotId=finding.id)
        elif finding.kind == "address":
            ec2.release_address(AllocationId=finding.id)
        elif finding.kind == "image":
            repository, digest = finding.id.split("@", 1)
            failures = ecr.batch_delete_image(repositoryName=repository, imageIds=[{"imageDigest": digest}]).get("failures")
            if failures:
                raise RuntimeError(failures[0].get("failureReason", "failed"))
        finding.deleted = True
    except Exception as error:  # noqa: BLE001 - reported per item, the run goes on
        finding.error = str(error)


def run(settings: Settings, *, now: dt.datetime | None = None, session: Any = None) -> Report:
    now = now or dt.datetime.now(UTC)
    session = session or boto3.session.Session()
    ec2, ecr, sns = session.client("ec2"), session.client("ecr"), session.client("sns")
    report = Report(stack=settings.stack, delete=settings.delete)
    for finder, client in ((unattached_volumes, ec2), (old_snapshots, ec2), (idle_addresses, ec2), (untagged_images, ecr)):
        report.findings.extend(finder(client, settings, now))
    if settings.delete:
        for finding in report.findings:
            _delete(ec2, ecr, finding)
    if report.findings:
        sns.publish(
            TopicArn=settings.topic_arn,
            Subject=f"Cleanup of {settings.stack}: {len(report.findings)} unused resources"[:100],
            Message=report.summary(),
        )
    return report


def handler(event: dict, context: Any) -> dict:
    report = run(Settings.from_env())
    result = asdict(report)
    print(json.dumps(result, default=str))  # the function's log: one JSON line per run
    return result
