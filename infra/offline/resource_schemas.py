"""AWS's own facts about resource types, read from the CloudFormation registry schemas that cfn-lint bundles.

Two facts the change review needs, both kept by AWS rather than by this project:
- `create_only(cfn_type)`: the properties a type's schema lists as `createOnlyProperties`, the ones AWS cannot change on
  a live resource: changing one means a new resource (a replacement).
- `is_stateful(cfn_type)`: whether cfn-lint counts the type among the stateful resources (its rule I3011 asks for an
  explicit DeletionPolicy on them): a database, a cache, a queue, a secret, a key, a log group, a bucket.

cfn-lint ships one registry schema per type and region (`data/schemas/providers/<region>.json` names the schema file of
each type); the region's own schema is used, else us-east-1's, where every type exists.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

FALLBACK_REGION = "us-east-1"


def _schemas_dir():
    return resources.files("cfnlint") / "data" / "schemas"


@lru_cache(maxsize=None)
def _index(region: str) -> dict[str, str]:
    path = _schemas_dir() / "providers" / f"{region}.json"
    if not path.is_file():
        return {}
    return json.loads(path.read_text())


@lru_cache(maxsize=None)
def schema(cfn_type: str, region: str = "ap-northeast-2") -> dict[str, Any] | None:
    """The registry schema of `cfn_type` (e.g. `AWS::EC2::Subnet`) as cfn-lint bundles it; None for an unknown type."""
    for where in (region, FALLBACK_REGION):
        digest = _index(where).get(cfn_type)
        if digest:
            return json.loads((_schemas_dir() / "resources" / f"{digest}.json").read_text())
    return None


def create_only(cfn_type: str, region: str = "ap-northeast-2") -> tuple[str, ...]:
    """The type's create-only properties as property paths: `CidrBlock`, `KubernetesNetworkConfig.IpFamily`."""
    document = schema(cfn_type, region) or {}
    return tuple(p.removeprefix("/properties/").replace("/", ".") for p in document.get("createOnlyProperties", ()))


@lru_cache(maxsize=None)
def stateful_types() -> frozenset[str]:
    """The CloudFormation types cfn-lint's data lists as stateful (`StatefulResources.json`)."""
    path = resources.files("cfnlint") / "data" / "AdditionalSpecs" / "StatefulResources.json"
    return frozenset(json.loads(path.read_text())["ResourceTypes"])


def is_stateful(cfn_type: str | None) -> bool:
    return cfn_type in stateful_types()
