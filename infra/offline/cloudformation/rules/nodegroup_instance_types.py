"""EKS managed node group instance types must be offered in the region.

cfn-lint's stock E3628 checks EC2 instances and launch templates against its regional instance-type data (from the
AWS pricing APIs) but not `AWS::EKS::Nodegroup.InstanceTypes`, where EKS would fail the node group at creation.
"""

from __future__ import annotations

from typing import Any

import cfnlint.data.schemas.extensions.aws_ec2_instance
from cfnlint.jsonschema import ValidationError, ValidationResult, Validator
from cfnlint.rules.jsonschema.CfnLintJsonSchema import SchemaDetails
from cfnlint.rules.jsonschema.CfnLintJsonSchemaRegional import CfnLintJsonSchemaRegional


class NodegroupInstanceTypeOffered(CfnLintJsonSchemaRegional):
    id = "E9101"
    shortdesc = "EKS node group instance types offered in the region"
    description = (
        "Each AWS::EKS::Nodegroup instance type must be an EC2 instance type offered in the region "
        "(cfn-lint's regional instance-type data, the same E3628 uses)"
    )
    source_url = "https://docs.aws.amazon.com/eks/latest/userguide/choosing-instance-type.html"
    tags = ["resources", "eks", "platform"]

    def __init__(self) -> None:
        super().__init__(
            keywords=["Resources/AWS::EKS::Nodegroup/Properties/InstanceTypes/*"],
            schema_details=SchemaDetails(
                module=cfnlint.data.schemas.extensions.aws_ec2_instance,
                filename="instancetype_enum.json",
            ),
        )

    def validate(self, validator: Validator, keywords: Any, instance: Any, schema: dict[str, Any]) -> ValidationResult:
        for err in super().validate(validator, keywords, instance, schema):
            # The stock message lists every offered type; name the one that is not.
            region = err.message.rsplit(" in ", 1)[-1]
            yield ValidationError(f"{instance!r} is not an EC2 instance type offered in {region}", path=err.path)
