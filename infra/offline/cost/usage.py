"""The usage file of a stack, in Infracost's shape: what usage-based lines would otherwise price at zero.

`cost/usage.<stack>.yml` (optional) looks like Infracost's `infracost-usage.yml`:

    version: 0.1
    resource_usage:                 # by the resource's Pulumi name
      network-nat-0:
        monthly_data_processed_gb: 200
    resource_type_default_usage:    # by Pulumi type token, for every resource of that type
      aws:cloudwatch/logGroup:LogGroup:
        monthly_data_ingested_gb: 5

A resource's own entry wins over its type's default; a key nobody sets is zero. Keys are Infracost's names where
Infracost prices the same thing. Bad input (unknown resource, unknown key, negative or non-numeric value) raises
`UsageError` naming the key, before anything is priced.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

VERSION = "0.1"

# The usage keys each priced type accepts, with what they mean (also the usage file's reference).
USAGE_KEYS: dict[str, dict[str, str]] = {
    "aws:eks/nodeGroup:NodeGroup": {
        "instances": "running nodes (default: the group's desired size)",
        "monthly_hrs": "hours each node runs per month (default 730)",
    },
    "aws:ec2/natGateway:NatGateway": {"monthly_data_processed_gb": "GB processed per month"},
    "aws:ec2/vpcEndpoint:VpcEndpoint": {"monthly_data_processed_gb": "GB processed per month (interface endpoints)"},
    "kubernetes:networking.k8s.io/v1:Ingress": {
        "processed_bytes_gb": "GB processed per month by the ALB (the processed-bytes LCU dimension: 1 LCU-hour per GB)"
    },
    "aws:rds/instance:Instance": {"additional_backup_storage_gb": "backup storage beyond the free allowance, GB"},
    "aws:mq/broker:Broker": {"storage_size_gb": "GB stored per broker"},
    "aws:kms/key:Key": {"monthly_requests": "API requests per month"},
    "aws:secretsmanager/secret:Secret": {"monthly_requests": "API requests per month"},
    "aws:cloudwatch/logGroup:LogGroup": {
        "monthly_data_ingested_gb": "GB ingested per month",
        "storage_gb": "GB stored",
    },
    "aws:s3/bucket:Bucket": {
        "standard.storage_gb": "GB stored in S3 Standard",
        "standard.monthly_tier_1_requests": "PUT, COPY, POST, LIST requests per month",
        "standard.monthly_tier_2_requests": "GET and other requests per month",
    },
    "aws:lambda/function:Function": {
        "monthly_requests": "invocations per month",
        "request_duration_ms": "average duration of one invocation, ms",
    },
    "aws:sqs/queue:Queue": {"monthly_requests": "requests per month"},
    "aws:sns/topic:Topic": {"monthly_requests": "publishes per month"},
}


class UsageError(ValueError):
    """The usage file is invalid; the message names the key."""


@dataclass(frozen=True)
class Usage:
    path: Path | None = None
    by_name: Mapping[str, Mapping[str, Decimal]] = field(default_factory=dict)
    by_type: Mapping[str, Mapping[str, Decimal]] = field(default_factory=dict)

    def get(self, name: str, type_: str, key: str) -> Decimal | None:
        """The value set for this resource (its own entry, then its type's default), or None if nobody set it."""
        for source in (self.by_name.get(name, {}), self.by_type.get(type_, {})):
            if key in source:
                return source[key]
        return None

    def value(self, name: str, type_: str, key: str) -> Decimal:
        found = self.get(name, type_, key)
        return Decimal(0) if found is None else found


def _flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _numbers(where: str, types: Iterable[str], values: Any) -> dict[str, Decimal]:
    if not isinstance(values, Mapping):
        raise UsageError(f"{where}: expected a mapping of usage keys, got {type(values).__name__}")
    # Pulumi names are unique per type only (a node group and its launch template may share one): accept the keys
    # of any type carrying the name.
    allowed = {key for type_ in types for key in USAGE_KEYS.get(type_, {})}
    out: dict[str, Decimal] = {}
    for key, value in _flatten(values).items():
        if key not in allowed:
            expected = ", ".join(sorted(allowed)) or "no usage keys (this type has no usage-based price)"
            raise UsageError(f"{where}.{key}: expected one of {expected}, got {key!r}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise UsageError(f"{where}.{key}: expected a non-negative number, got {value!r}")
        out[key] = Decimal(str(value))
    return out


def parse(text: str, path: Path, resources: Iterable[tuple[str, str]]) -> Usage:
    """`resources`: the plan's (name, type) pairs, so that a usage entry for a resource that does not exist is an error."""
    yaml = YAML(typ="safe", pure=True)
    try:
        raw = yaml.load(text) or {}
    except YAMLError as error:
        raise UsageError(f"{path}: not valid YAML ({str(error).splitlines()[0]})") from None
    if not isinstance(raw, Mapping):
        raise UsageError(f"{path}: expected a mapping at the top level")
    unknown = set(raw) - {"version", "resource_usage", "resource_type_default_usage"}
    if unknown:
        raise UsageError(f"{path}: {sorted(unknown)[0]}: expected version, resource_usage or resource_type_default_usage")
    if str(raw.get("version", VERSION)) != VERSION:
        raise UsageError(f"{path}: version: expected {VERSION}, got {raw.get('version')!r}")
    types_by_name: dict[str, set[str]] = {}
    for name, type_ in resources:
        types_by_name.setdefault(name, set()).add(type_)
    by_name: dict[str, dict[str, Decimal]] = {}
    for name, values in (raw.get("resource_usage") or {}).items():
        if name not in types_by_name:
            raise UsageError(f"{path}: resource_usage.{name}: expected the name of a resource in the plan, got {name!r}")
        by_name[name] = _numbers(f"resource_usage.{name}", types_by_name[name], values)
    by_type: dict[str, dict[str, Decimal]] = {}
    for type_, values in (raw.get("resource_type_default_usage") or {}).items():
        if type_ not in USAGE_KEYS:
            raise UsageError(
                f"{path}: resource_type_default_usage.{type_}: expected a type with usage keys ({', '.join(sorted(USAGE_KEYS))})"
            )
        by_type[type_] = _numbers(f"resource_type_default_usage.{type_}", [type_], values)
    return Usage(path=path, by_name=by_name, by_type=by_type)


def load(path: Path | None, resources: Iterable[tuple[str, str]]) -> Usage:
    if path is None or not path.exists():
        return Usage(path=None)
    return parse(path.read_text(), path, resources)
