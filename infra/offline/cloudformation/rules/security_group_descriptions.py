"""Security group rule descriptions must use EC2's character set.

EC2 accepts only a-z A-Z 0-9, spaces and ._-:/()#,@[]+=&;{}!$* in a group's description and in its rules'
descriptions. The CloudFormation schema pattern-checks `GroupDescription` (stock E3031) but not the `Description` of
rules, inline or standalone; this rule applies the schema's own GroupDescription pattern to those.
"""

from __future__ import annotations

from typing import Any

import regex
from cfnlint.jsonschema import ValidationError, ValidationResult, Validator
from cfnlint.rules.jsonschema.CfnLintKeyword import CfnLintKeyword
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER


def _pattern() -> str:
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", "AWS::EC2::SecurityGroup").schema
    return schema["properties"]["GroupDescription"]["pattern"]


class SecurityGroupRuleDescriptionCharacters(CfnLintKeyword):
    id = "E9102"
    shortdesc = "Security group rule descriptions use EC2's character set"
    description = (
        "EC2 rejects a security group rule whose description has characters outside a-z A-Z 0-9, spaces and "
        "._-:/()#,@[]+=&;{}!$* (the pattern CloudFormation's schema gives GroupDescription)"
    )
    source_url = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpRange.html"
    tags = ["resources", "ec2", "platform"]

    def __init__(self) -> None:
        super().__init__(
            [
                "Resources/AWS::EC2::SecurityGroupIngress/Properties/Description",
                "Resources/AWS::EC2::SecurityGroupEgress/Properties/Description",
                "Resources/AWS::EC2::SecurityGroup/Properties/SecurityGroupIngress/*/Description",
                "Resources/AWS::EC2::SecurityGroup/Properties/SecurityGroupEgress/*/Description",
            ]
        )
        self._compiled = None

    def validate(self, validator: Validator, _: Any, instance: Any, schema: dict[str, Any]) -> ValidationResult:
        if not isinstance(instance, str):
            return
        if self._compiled is None:
            self._compiled = regex.compile(_pattern())
        if not self._compiled.search(instance):
            bad = sorted({c for c in instance if not self._compiled.search(c)})
            yield ValidationError(f"{instance!r} has characters EC2 refuses in a rule description: {bad}")
