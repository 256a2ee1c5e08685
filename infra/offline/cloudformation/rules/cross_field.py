"""Cross-field rules AWS enforces at the API that no CloudFormation schema shows.

- ElastiCache: automatic failover needs at least two nodes (a primary and a replica) in a replication group with
  NumCacheClusters, and Multi-AZ needs automatic failover.
- EKS managed node groups: MinSize <= DesiredSize <= MaxSize, and MaxSize >= 1; with a launch template, no DiskSize
  or RemoteAccess, and no InstanceTypes when the template names one.
"""

from __future__ import annotations

from typing import Any

from cfnlint.jsonschema import ValidationError, ValidationResult, Validator
from cfnlint.rules.jsonschema.CfnLintKeyword import CfnLintKeyword


def _literal(value: Any) -> Any:
    """Booleans and numbers as CloudFormation accepts them ("true", "2"); None for anything else (intrinsics)."""
    if isinstance(value, bool) or isinstance(value, int):
        return value
    if isinstance(value, str):
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        if value.isdigit():
            return int(value)
    return None


class ReplicationGroupFailoverNodes(CfnLintKeyword):
    id = "E9103"
    shortdesc = "ElastiCache automatic failover needs two or more nodes"
    description = (
        "ElastiCache refuses AutomaticFailoverEnabled with fewer than two cache clusters, and MultiAZEnabled without "
        "AutomaticFailoverEnabled"
    )
    source_url = "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/AutoFailover.html"
    tags = ["resources", "elasticache", "platform"]

    def __init__(self) -> None:
        super().__init__(["Resources/AWS::ElastiCache::ReplicationGroup/Properties"])

    def validate(self, validator: Validator, _: Any, instance: Any, schema: dict[str, Any]) -> ValidationResult:
        if not isinstance(instance, dict):
            return
        failover = _literal(instance.get("AutomaticFailoverEnabled"))
        nodes = _literal(instance.get("NumCacheClusters"))
        multi_az = _literal(instance.get("MultiAZEnabled"))
        if failover is True and isinstance(nodes, int) and nodes < 2:
            yield ValidationError(f"AutomaticFailoverEnabled needs NumCacheClusters >= 2, found {nodes}")
        if multi_az is True and failover is False:
            yield ValidationError("MultiAZEnabled needs AutomaticFailoverEnabled")


class NodegroupScalingOrder(CfnLintKeyword):
    id = "E9104"
    shortdesc = "EKS node group MinSize <= DesiredSize <= MaxSize"
    description = "EKS refuses a node group scaling config unless MinSize <= DesiredSize <= MaxSize and MaxSize >= 1"
    source_url = "https://docs.aws.amazon.com/eks/latest/APIReference/API_NodegroupScalingConfig.html"
    tags = ["resources", "eks", "platform"]

    def __init__(self) -> None:
        super().__init__(["Resources/AWS::EKS::Nodegroup/Properties/ScalingConfig"])

    def validate(self, validator: Validator, _: Any, instance: Any, schema: dict[str, Any]) -> ValidationResult:
        if not isinstance(instance, dict):
            return
        low, want, high = (_literal(instance.get(k)) for k in ("MinSize", "DesiredSize", "MaxSize"))
        if isinstance(high, int) and high < 1:
            yield ValidationError(f"MaxSize must be at least 1, found {high}")
        if isinstance(low, int) and isinstance(high, int) and low > high:
            yield ValidationError(f"MinSize {low} is above MaxSize {high}")
        if isinstance(want, int):
            if isinstance(low, int) and want < low:
                yield ValidationError(f"DesiredSize {want} is below MinSize {low}")
            if isinstance(high, int) and want > high:
                yield ValidationError(f"DesiredSize {want} is above MaxSize {high}")


class NodegroupLaunchTemplateConflicts(CfnLintKeyword):
    id = "E9107"
    shortdesc = "EKS node group settings a launch template replaces"
    description = (
        "EKS refuses a node group with a launch template that also sets DiskSize or RemoteAccess, or InstanceTypes "
        "when the launch template names an instance type"
    )
    source_url = "https://docs.aws.amazon.com/eks/latest/userguide/launch-templates.html"
    tags = ["resources", "eks", "platform"]

    def __init__(self) -> None:
        super().__init__(["Resources/AWS::EKS::Nodegroup/Properties"])

    def validate(self, validator: Validator, _: Any, instance: Any, schema: dict[str, Any]) -> ValidationResult:
        if not isinstance(instance, dict) or not isinstance(instance.get("LaunchTemplate"), dict):
            return
        for key in ("DiskSize", "RemoteAccess"):
            if key in instance:
                yield ValidationError(f"{key} cannot be set on a node group that uses a launch template")
        template_id = instance["LaunchTemplate"].get("Id")
        if isinstance(template_id, dict) and set(template_id) == {"Ref"}:
            resource = validator.cfn.template.get("Resources", {}).get(template_id["Ref"], {})
            data = resource.get("Properties", {}).get("LaunchTemplateData", {})
            if "InstanceType" in data and instance.get("InstanceTypes"):
                yield ValidationError(
                    f"InstanceTypes cannot be set when the launch template {template_id['Ref']} names InstanceType"
                )
