"""AWS's own facts about resource types, read from the CloudFormation registry schemas that cfn-lint bundles.

Two facts the change review needs, both kept by AWS rather than by this project:
- `create_only(cfn_type)`: the properties a type's schema lists as `createOnlyProperties`, the ones AWS cannot change on
  a live resource: changing one means a new resource (a replacement).
- `is_stateful(cfn_type)`: whether cfn-lint counts the type among the stateful resources (its rule I3011 asks for an
  explicit DeletionPolicy on them): a database, a cache, a queue, a secret, a key, a log group, a bucket.

cfn-lint's schema manager gives each type's schema for a region; the region's own is used, else us-east-1's.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import cfnlint.data.AdditionalSpecs
from cfnlint.helpers import load_resource
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER
from cfnlint.schema._exceptions import ResourceNotFoundError

FALLBACK_REGION = "us-east-1"


@lru_cache(maxsize=None)
def schema(cfn_type: str, region: str = "ap-northeast-2") -> dict[str, Any] | None:
    """The registry schema of `cfn_type` (e.g. `AWS::EC2::Subnet`) as cfn-lint bundles it; None for an unknown type."""
    for where in (region, FALLBACK_REGION):
        try:
            return PROVIDER_SCHEMA_MANAGER.get_resource_schema(where, cfn_type).schema
        except ResourceNotFoundError:
            continue
    return None


def create_only(cfn_type: str, region: str = "ap-northeast-2") -> tuple[str, ...]:
    """The type's create-only properties as property paths: `CidrBlock`, `KubernetesNetworkConfig.IpFamily`."""
    document = schema(cfn_type, region) or {}
    return tuple(p.removeprefix("/properties/").replace("/", ".") for p in document.get("createOnlyProperties", ()))


@lru_cache(maxsize=None)
def stateful_types() -> frozenset[str]:
    """The CloudFormation types cfn-lint's data lists as stateful (`StatefulResources.json`, read as its rule I3011
    reads it)."""
    return frozenset(load_resource(cfnlint.data.AdditionalSpecs, "StatefulResources.json")["ResourceTypes"])


def is_stateful(cfn_type: str | None) -> bool:
    return cfn_type in stateful_types()
