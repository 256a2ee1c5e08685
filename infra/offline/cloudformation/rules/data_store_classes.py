"""Data-store classes offered in the region for the engine, where cfn-lint's stock rules stop.

- `AWS::ElastiCache::ReplicationGroup.CacheNodeType`: stock E3647 checks cache clusters' node types by region, not a
  replication group's; the same regional data applies to both.
- `AWS::RDS::DBInstance.DBInstanceClass`: stock rules match the class to the engine version only for a full
  `major.minor` version; a bare major version ('16', which RDS resolves to the newest 16.x) escapes the check. Here
  the class must be offered for the engine in the region and for at least one minor of that major.
The data is cfn-lint's (read through `infra.config.aws_offerings`, which the config validation uses too).
"""

from __future__ import annotations

from typing import Any

from cfnlint.jsonschema import ValidationError, ValidationResult, Validator
from cfnlint.rules.jsonschema.CfnLintKeyword import CfnLintKeyword

from infra.config import aws_offerings


class ReplicationGroupNodeTypeOffered(CfnLintKeyword):
    id = "E9105"
    shortdesc = "ElastiCache replication group node type offered in the region"
    description = "A replication group's CacheNodeType must be a node type ElastiCache offers in the region"
    source_url = "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheNodes.SupportedTypes.html"
    tags = ["resources", "elasticache", "platform"]

    def __init__(self) -> None:
        super().__init__(["Resources/AWS::ElastiCache::ReplicationGroup/Properties/CacheNodeType"])

    def validate(self, validator: Validator, _: Any, instance: Any, schema: dict[str, Any]) -> ValidationResult:
        if not isinstance(instance, str):
            return
        for region in validator.context.regions:
            offered = aws_offerings.cache_node_types(region)
            if offered is not None and instance not in offered:
                yield ValidationError(f"{instance!r} is not an ElastiCache node type offered in {region!r}")


class DBInstanceClassForEngineVersion(CfnLintKeyword):
    id = "E9106"
    shortdesc = "RDS instance class offered for the engine and version in the region"
    description = (
        "DBInstanceClass must be offered in the region for the Engine and, for a bare major EngineVersion, for at "
        "least one minor version of that major"
    )
    source_url = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Support.html"
    tags = ["resources", "rds", "platform"]

    def __init__(self) -> None:
        super().__init__(["Resources/AWS::RDS::DBInstance/Properties"])

    def validate(self, validator: Validator, _: Any, instance: Any, schema: dict[str, Any]) -> ValidationResult:
        if not isinstance(instance, dict):
            return
        klass, engine, version = (instance.get(k) for k in ("DBInstanceClass", "Engine", "EngineVersion"))
        if not (isinstance(klass, str) and isinstance(engine, str)):
            return
        version = str(version) if isinstance(version, (str, int, float)) else None
        for region in validator.context.regions:
            offered = aws_offerings.rds_instance_classes(region, engine, version)
            if offered is not None and klass not in offered:
                yield ValidationError(
                    f"{klass!r} is not an RDS instance class offered for {engine} {version or ''} in {region!r}"
                    .replace("  ", " ")
                )
