"""The captured plan's AWS resources as a CloudFormation template, so AWS's own published rules can judge them.

Pulumi's AWS provider and CloudFormation describe the same AWS APIs with different names and shapes. This module holds
one entry per Pulumi type: the CloudFormation type, each wire-form input's CloudFormation property (a dotted path
when CloudFormation nests it), the shape changes, and the inputs that exist only in the provider (with the reason).

Some Pulumi resources are a property of another resource in CloudFormation (S3 bucket settings, a role's managed
policy attachment, a queue's redrive-allow policy, a secret's value, certificate validation): those are *folded* into
their host's template resource. Values that came from another resource (property dependencies) become `Ref` or
`Fn::GetAtt` of that resource's template entry; values from resources the template cannot hold (the pulumi-eks
component, random passwords) become template parameters, never the mock IDs of the offline run.

Public API, reused by the plan diff and the cost estimate:
  cfn_type_of(pulumi_type) -> CloudFormation type or None
  cfn_property_of(pulumi_type, wire_key) -> CloudFormation property (dotted when nested) or None
  to_template(plan) -> the template (dict); `convert(plan)` also returns what was folded, skipped and left unresolved.
  cfn_schema(cfn_type) -> the type's CloudFormation registry schema (e.g. its createOnlyProperties)
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from infra.offline import engine, mock_outputs

Converter = Callable[[Any], Any]
OMIT = object()  # a converter's answer for "nothing to write"


@dataclass(frozen=True)
class Prop:
    """Where a wire-form input goes: a CloudFormation property (dotted for nesting) and an optional shape change."""

    cfn: str
    convert: Converter | None = None
    json: bool = False  # the wire value is a JSON document in a string (policies): parsed before references resolve
    # False where a reference would make a cycle CloudFormation refuses (a dead-letter queue's redrive-allow policy
    # naming the queues that name it): ARNs are then written with Fn::Sub from the plan's (real) names.
    refs: bool = True


@dataclass(frozen=True)
class TypeSpec:
    cfn_type: str | None
    props: Mapping[str, Prop]
    # Inputs the provider uses that have no CloudFormation property, each with the reason. Keep this short.
    provider_only: Mapping[str, str] = field(default_factory=dict)
    # Folded types: the wire key naming the host resource, whose template entry receives this resource's properties.
    host: str | None = None
    # Types without a CloudFormation equivalent: why.
    no_equivalent: str | None = None
    # CloudFormation properties the provider fills in when the input is absent (an autonamed inline policy).
    defaults: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    # Inputs that are provider-only only when empty (an empty list means "none" to the provider, absence to AWS).
    empty_only: frozenset[str] = frozenset()


# --- shape helpers --------------------------------------------------------------------------------------------------


class Intrinsic(dict):
    """A CloudFormation intrinsic function (`Ref`, `Fn::GetAtt`): shape converters pass it through untouched."""


def _pascal(key: str) -> str:
    return key[:1].upper() + key[1:]


def deep(renames: Mapping[str, str] | None = None, drop: frozenset[str] = frozenset()) -> Converter:
    """Nested wire shapes in CloudFormation case: keys PascalCased, with explicit renames (`key` or `parent.key`)."""
    renames = renames or {}

    def convert(value: Any, parent: str = "") -> Any:
        if isinstance(value, Intrinsic):
            return value
        if isinstance(value, list):
            return [convert(v, parent) for v in value]
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                if k in drop:
                    continue
                name = renames.get(f"{parent}.{k}", renames.get(k, _pascal(k)))
                out[name] = convert(v, k)
            return out
        return value

    return convert


def _listify(value: Any) -> Any:
    return value if isinstance(value, list) else [value]


def _name_values(value: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"Name": k, "Value": v} for k, v in value.items()]


def _parameters(value: list[Mapping[str, Any]]) -> dict[str, Any]:
    # applyMethod has no CloudFormation counterpart: CloudFormation applies dynamic parameters at once and static
    # ones at the next reboot, which is what `immediate`/`pending-reboot` ask the provider for.
    return {p["name"]: p["value"] for p in value}


def _certificate_options(value: Mapping[str, Any]) -> Any:
    return value.get("certificateTransparencyLoggingPreference")


def _log_delivery(value: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for entry in value:
        kind = entry.get("destinationType")
        details = (
            {"CloudWatchLogsDetails": {"LogGroup": entry.get("destination")}}
            if kind == "cloudwatch-logs"
            else {"KinesisFirehoseDetails": {"DeliveryStream": entry.get("destination")}}
        )
        out.append(
            {
                "LogType": entry.get("logType"),
                "LogFormat": entry.get("logFormat"),
                "DestinationType": kind,
                "DestinationDetails": details,
            }
        )
    return out


def _sg_rules(value: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Inline rules: the provider takes lists of CIDRs per rule, CloudFormation one source per rule."""
    out = []
    for rule in value:
        base = {
            "IpProtocol": rule.get("protocol"),
            "FromPort": rule.get("fromPort"),
            "ToPort": rule.get("toPort"),
        }
        if rule.get("description"):
            base["Description"] = rule["description"]
        sources = (
            [("CidrIp", c) for c in rule.get("cidrBlocks") or []]
            + [("CidrIpv6", c) for c in rule.get("ipv6CidrBlocks") or []]
            + [("SourceSecurityGroupId", g) for g in rule.get("securityGroups") or []]
            + [("SourcePrefixListId", p) for p in rule.get("prefixListIds") or []]
        )
        out.extend({**base, key: source} for key, source in sources)
    return out


def _lifecycle_rules(value: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for rule in value:
        cfn: dict[str, Any] = {"Id": rule.get("id"), "Status": rule.get("status")}
        prefix = (rule.get("filter") or {}).get("prefix", rule.get("prefix"))
        if prefix:
            cfn["Prefix"] = prefix
        if "abortIncompleteMultipartUpload" in rule:
            cfn["AbortIncompleteMultipartUpload"] = {
                "DaysAfterInitiation": rule["abortIncompleteMultipartUpload"]["daysAfterInitiation"]
            }
        if "noncurrentVersionExpiration" in rule:
            nve = rule["noncurrentVersionExpiration"]
            cfn["NoncurrentVersionExpiration"] = {"NoncurrentDays": nve["noncurrentDays"]}
            if "newerNoncurrentVersions" in nve:
                cfn["NoncurrentVersionExpiration"]["NewerNoncurrentVersions"] = nve["newerNoncurrentVersions"]
        expiration = rule.get("expiration") or {}
        if "days" in expiration:
            cfn["ExpirationInDays"] = expiration["days"]
        if "date" in expiration:
            cfn["ExpirationDate"] = expiration["date"]
        if "expiredObjectDeleteMarker" in expiration:
            cfn["ExpiredObjectDeleteMarker"] = expiration["expiredObjectDeleteMarker"]
        if rule.get("transitions"):
            cfn["Transitions"] = [
                {"StorageClass": t["storageClass"], "TransitionInDays": t["days"]} for t in rule["transitions"]
            ]
        if rule.get("noncurrentVersionTransitions"):
            cfn["NoncurrentVersionTransitions"] = [
                {"StorageClass": t["storageClass"], "TransitionInDays": t["noncurrentDays"]}
                for t in rule["noncurrentVersionTransitions"]
            ]
        out.append(cfn)
    return out


def _sse_rules(value: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return deep({"kmsMasterKeyId": "KMSMasterKeyID", "sseAlgorithm": "SSEAlgorithm",
                 "applyServerSideEncryptionByDefault": "ServerSideEncryptionByDefault"})(value)


def _metric_queries(value: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for query in value:
        cfn = deep(drop=frozenset({"metric"}))(query)
        metric = query.get("metric")
        if metric:
            cfn["MetricStat"] = {
                "Metric": {
                    "MetricName": metric.get("metricName"),
                    "Namespace": metric.get("namespace"),
                    **({"Dimensions": _name_values(metric["dimensions"])} if metric.get("dimensions") else {}),
                },
                "Period": metric.get("period"),
                "Stat": metric.get("stat"),
                **({"Unit": metric["unit"]} if metric.get("unit") else {}),
            }
        out.append(cfn)
    return out


def _as_is(value: Any) -> Any:
    """Maps whose keys are the user's (labels): no case change."""
    return value


def _drop(_: Any) -> Any:
    return OMIT


def _tag_specifications(value: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{"ResourceType": spec["resourceType"],
             "Tags": [{"Key": k, "Value": v} for k, v in (spec.get("tags") or {}).items()]} for spec in value]


def _budget_cost_filters(value: list[Mapping[str, Any]]) -> dict[str, list[str]]:
    return {f["name"]: f["values"] for f in value}


def _budget_notifications(value: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for n in value:
        notification = {"NotificationType": n.get("notificationType"),
                        "ComparisonOperator": n.get("comparisonOperator"), "Threshold": n.get("threshold")}
        if n.get("thresholdType"):
            notification["ThresholdType"] = n["thresholdType"]
        subscribers = ([{"SubscriptionType": "SNS", "Address": a} for a in n.get("subscriberSnsTopicArns") or []]
                       + [{"SubscriptionType": "EMAIL", "Address": a}
                          for a in n.get("subscriberEmailAddresses") or []])
        out.append({"Notification": notification, "Subscribers": subscribers})
    return out


def _lambda_environment(value: Mapping[str, Any]) -> dict[str, Any]:
    # The variables' names are the program's, not the provider's: no case change.
    return {"Variables": value.get("variables") or {}}


# --- the mapping ----------------------------------------------------------------------------------------------------

TAGS = Prop("Tags")  # shape (list of Key/Value or a map) follows the CloudFormation schema of the type
_JSON = {"json": True}


def _p(cfn: str, convert: Converter | None = None, **kw: Any) -> Prop:
    return Prop(cfn, convert, **kw)


def _simple(cfn_type: str, names: Mapping[str, str], **extra: Any) -> TypeSpec:
    props = {k: (v if isinstance(v, Prop) else Prop(v, deep())) for k, v in names.items()}
    return TypeSpec(cfn_type, props, **extra)


_APPLY_IMMEDIATELY = "CloudFormation applies a change in the update that makes it; there is no maintenance-window deferral"
_FINAL_SNAPSHOT = "CloudFormation takes the final snapshot itself (DeletionPolicy: Snapshot, set from this input)"

SPECS: dict[str, TypeSpec] = {
    "aws:ec2/vpc:Vpc": _simple("AWS::EC2::VPC", {
        "cidrBlock": "CidrBlock", "enableDnsSupport": "EnableDnsSupport", "enableDnsHostnames": "EnableDnsHostnames",
        "instanceTenancy": "InstanceTenancy", "tags": TAGS}),
    "aws:ec2/eip:Eip": _simple("AWS::EC2::EIP", {"domain": "Domain", "tags": TAGS}),
    "aws:ec2/internetGateway:InternetGateway": _simple("AWS::EC2::InternetGateway", {
        # CloudFormation attaches a gateway with a separate AWS::EC2::VPCGatewayAttachment (emitted beside it).
        "vpcId": "VPCGatewayAttachment.VpcId", "tags": TAGS}),
    "aws:ec2/subnet:Subnet": _simple("AWS::EC2::Subnet", {
        "vpcId": "VpcId", "cidrBlock": "CidrBlock", "availabilityZone": "AvailabilityZone",
        "availabilityZoneId": "AvailabilityZoneId", "mapPublicIpOnLaunch": "MapPublicIpOnLaunch",
        "ipv6CidrBlock": "Ipv6CidrBlock", "tags": TAGS}),
    "aws:ec2/routeTable:RouteTable": _simple("AWS::EC2::RouteTable", {"vpcId": "VpcId", "tags": TAGS}),
    "aws:ec2/route:Route": _simple("AWS::EC2::Route", {
        "routeTableId": "RouteTableId", "destinationCidrBlock": "DestinationCidrBlock",
        "destinationIpv6CidrBlock": "DestinationIpv6CidrBlock", "destinationPrefixListId": "DestinationPrefixListId",
        "gatewayId": "GatewayId", "natGatewayId": "NatGatewayId", "vpcEndpointId": "VpcEndpointId",
        "transitGatewayId": "TransitGatewayId", "networkInterfaceId": "NetworkInterfaceId"}),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": _simple("AWS::EC2::SubnetRouteTableAssociation", {
        "subnetId": "SubnetId", "routeTableId": "RouteTableId"}),
    "aws:ec2/natGateway:NatGateway": _simple("AWS::EC2::NatGateway", {
        "subnetId": "SubnetId", "allocationId": "AllocationId", "connectivityType": "ConnectivityType",
        "privateIp": "PrivateIpAddress", "tags": TAGS}),
    "aws:ec2/vpcEndpoint:VpcEndpoint": _simple("AWS::EC2::VPCEndpoint", {
        "vpcId": "VpcId", "serviceName": "ServiceName", "vpcEndpointType": "VpcEndpointType",
        "routeTableIds": "RouteTableIds", "subnetIds": "SubnetIds", "securityGroupIds": "SecurityGroupIds",
        "privateDnsEnabled": "PrivateDnsEnabled", "policy": _p("PolicyDocument", **_JSON), "tags": TAGS}),
    "aws:ec2/securityGroup:SecurityGroup": TypeSpec("AWS::EC2::SecurityGroup", {
        "description": _p("GroupDescription"), "name": _p("GroupName"), "vpcId": _p("VpcId"), "tags": TAGS,
        "ingress": _p("SecurityGroupIngress", _sg_rules), "egress": _p("SecurityGroupEgress", _sg_rules)},
        provider_only={
            "revokeRulesOnDelete": "delete-time behaviour of the provider; CloudFormation always revokes the rules",
            "namePrefix": "the provider generates GroupName from it; CloudFormation generates its own"},
        # `egress: []` tells the provider to remove AWS's default allow-all egress rule; CloudFormation has no
        # property for "no rules" (only a rule list), so the empty list is provider-only.
        empty_only=frozenset({"egress", "ingress"})),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _simple("AWS::EC2::SecurityGroupIngress", {
        "securityGroupId": "GroupId", "ipProtocol": "IpProtocol", "fromPort": "FromPort", "toPort": "ToPort",
        "cidrIpv4": "CidrIp", "cidrIpv6": "CidrIpv6", "referencedSecurityGroupId": "SourceSecurityGroupId",
        "prefixListId": "SourcePrefixListId", "description": "Description"}),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _simple("AWS::EC2::SecurityGroupEgress", {
        "securityGroupId": "GroupId", "ipProtocol": "IpProtocol", "fromPort": "FromPort", "toPort": "ToPort",
        "cidrIpv4": "CidrIp", "cidrIpv6": "CidrIpv6", "referencedSecurityGroupId": "DestinationSecurityGroupId",
        "prefixListId": "DestinationPrefixListId", "description": "Description"}),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": TypeSpec(None, {}, no_equivalent=(
        "adopts the VPC's default security group, which AWS creates with the VPC; CloudFormation cannot manage it "
        "(it only exposes its ID as the VPC's DefaultSecurityGroup attribute)")),
    "aws:ec2/flowLog:FlowLog": _simple("AWS::EC2::FlowLog", {
        # The provider names the flow log's target by kind (vpcId, subnetId, ...); CloudFormation by ResourceId and
        # ResourceType (added beside ResourceId).
        "vpcId": "ResourceId", "subnetId": "ResourceId", "eniId": "ResourceId",
        "trafficType": "TrafficType", "iamRoleArn": "DeliverLogsPermissionArn",
        "logDestinationType": "LogDestinationType", "logDestination": "LogDestination",
        "maxAggregationInterval": "MaxAggregationInterval", "logFormat": "LogFormat", "tags": TAGS}),
    "aws:ec2/launchTemplate:LaunchTemplate": TypeSpec("AWS::EC2::LaunchTemplate", {
        "name": _p("LaunchTemplateName"),
        "description": _p("VersionDescription"),
        "blockDeviceMappings": _p("LaunchTemplateData.BlockDeviceMappings", deep()),
        "metadataOptions": _p("LaunchTemplateData.MetadataOptions", deep()),
        "tagSpecifications": _p("LaunchTemplateData.TagSpecifications", _tag_specifications),
        "instanceType": _p("LaunchTemplateData.InstanceType"),
        "imageId": _p("LaunchTemplateData.ImageId"),
        "userData": _p("LaunchTemplateData.UserData"),
        "vpcSecurityGroupIds": _p("LaunchTemplateData.SecurityGroupIds"),
        "ebsOptimized": _p("LaunchTemplateData.EbsOptimized"),
        "keyName": _p("LaunchTemplateData.KeyName"),
        "tags": _p("TagSpecifications"),
    }, provider_only={
        "updateDefaultVersion": "CloudFormation always makes the new version the default one",
        "namePrefix": "the provider generates the name from it; CloudFormation generates its own"}),
    "aws:iam/role:Role": _simple("AWS::IAM::Role", {
        "assumeRolePolicy": _p("AssumeRolePolicyDocument", **_JSON), "description": "Description",
        "maxSessionDuration": "MaxSessionDuration", "name": "RoleName", "path": "Path",
        "permissionsBoundary": "PermissionsBoundary", "managedPolicyArns": "ManagedPolicyArns", "tags": TAGS},
        provider_only={"forceDetachPolicies": "delete-time behaviour of the provider"}),
    "aws:iam/rolePolicy:RolePolicy": _simple("AWS::IAM::RolePolicy", {
        "policy": _p("PolicyDocument", **_JSON), "role": "RoleName", "name": "PolicyName"},
        # Without a name the provider autonames the policy after the resource; CloudFormation requires one.
        defaults={"PolicyName": lambda resource: resource.name}),
    # CloudFormation attaches managed policies through the role's ManagedPolicyArns.
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": TypeSpec("AWS::IAM::Role", {
        "policyArn": _p("ManagedPolicyArns", _listify)}, host="role"),
    "aws:kms/key:Key": _simple("AWS::KMS::Key", {
        "description": "Description", "policy": _p("KeyPolicy", **_JSON), "enableKeyRotation": "EnableKeyRotation",
        "keyUsage": "KeyUsage", "customerMasterKeySpec": "KeySpec", "deletionWindowInDays": "PendingWindowInDays",
        "multiRegion": "MultiRegion", "rotationPeriodInDays": "RotationPeriodInDays",
        "bypassPolicyLockoutSafetyCheck": "BypassPolicyLockoutSafetyCheck", "isEnabled": "Enabled", "tags": TAGS}),
    "aws:kms/alias:Alias": _simple("AWS::KMS::Alias", {"name": "AliasName", "targetKeyId": "TargetKeyId"}),
    "aws:acm/certificate:Certificate": _simple("AWS::CertificateManager::Certificate", {
        "domainName": "DomainName", "subjectAlternativeNames": "SubjectAlternativeNames",
        "validationMethod": "ValidationMethod", "keyAlgorithm": "KeyAlgorithm",
        "options": _p("CertificateTransparencyLoggingPreference", _certificate_options), "tags": TAGS}),
    # CloudFormation's certificate resource waits for its own validation (and creates the DNS records itself when
    # DomainValidationOptions name the hosted zone): the validation and its records fold into the certificate.
    "aws:acm/certificateValidation:CertificateValidation": TypeSpec("AWS::CertificateManager::Certificate", {
        "validationRecordFqdns": _p("DomainValidationOptions", _drop)}, host="certificateArn"),
    "aws:route53/record:Record": _simple("AWS::Route53::RecordSet", {
        "zoneId": "HostedZoneId", "name": "Name", "type": "Type", "ttl": _p("TTL", lambda v: str(v)),
        "records": "ResourceRecords", "aliases": _p("AliasTarget", deep({"zoneId": "HostedZoneId"})),
        "setIdentifier": "SetIdentifier"},
        provider_only={"allowOverwrite": "the provider may take over an existing record; CloudFormation never does"}),
    "aws:eks/addon:Addon": _simple("AWS::EKS::Addon", {
        "addonName": "AddonName", "clusterName": "ClusterName", "addonVersion": "AddonVersion",
        "serviceAccountRoleArn": "ServiceAccountRoleArn", "configurationValues": "ConfigurationValues",
        "resolveConflictsOnUpdate": "ResolveConflicts", "preserve": "PreserveOnDelete",
        "podIdentityAssociations": "PodIdentityAssociations", "tags": TAGS},
        provider_only={"resolveConflictsOnCreate": "CloudFormation's one ResolveConflicts covers creation too"}),
    "aws:eks/nodeGroup:NodeGroup": _simple("AWS::EKS::Nodegroup", {
        "clusterName": "ClusterName", "nodeGroupName": "NodegroupName", "nodeRoleArn": "NodeRole",
        "subnetIds": "Subnets", "amiType": "AmiType", "version": "Version", "releaseVersion": "ReleaseVersion",
        "instanceTypes": "InstanceTypes", "capacityType": "CapacityType", "diskSize": "DiskSize", "labels": _p("Labels", _as_is),
        "taints": "Taints", "launchTemplate": "LaunchTemplate", "scalingConfig": "ScalingConfig",
        "updateConfig": "UpdateConfig", "nodeRepairConfig": "NodeRepairConfig",
        "forceUpdateVersion": "ForceUpdateEnabled", "remoteAccess": "RemoteAccess", "tags": TAGS},
        provider_only={"nodeGroupNamePrefix": "the provider generates NodegroupName from it; CloudFormation "
                                              "generates its own"}),
    "aws:rds/subnetGroup:SubnetGroup": _simple("AWS::RDS::DBSubnetGroup", {
        "description": "DBSubnetGroupDescription", "subnetIds": "SubnetIds", "name": "DBSubnetGroupName",
        "tags": TAGS}),
    "aws:rds/parameterGroup:ParameterGroup": _simple("AWS::RDS::DBParameterGroup", {
        "description": "Description", "family": "Family", "name": "DBParameterGroupName",
        "parameters": _p("Parameters", _parameters), "tags": TAGS}),
    "aws:rds/instance:Instance": _simple("AWS::RDS::DBInstance", {
        "allocatedStorage": _p("AllocatedStorage", str), "allowMajorVersionUpgrade": "AllowMajorVersionUpgrade",
        "autoMinorVersionUpgrade": "AutoMinorVersionUpgrade", "backupRetentionPeriod": "BackupRetentionPeriod",
        "backupWindow": "PreferredBackupWindow", "caCertIdentifier": "CACertificateIdentifier",
        "copyTagsToSnapshot": "CopyTagsToSnapshot", "dbName": "DBName", "dbSubnetGroupName": "DBSubnetGroupName",
        "deleteAutomatedBackups": "DeleteAutomatedBackups", "deletionProtection": "DeletionProtection",
        "enabledCloudwatchLogsExports": "EnableCloudwatchLogsExports", "engine": "Engine",
        "engineVersion": "EngineVersion", "iamDatabaseAuthenticationEnabled": "EnableIAMDatabaseAuthentication",
        "identifier": "DBInstanceIdentifier", "instanceClass": "DBInstanceClass", "kmsKeyId": "KmsKeyId",
        "maintenanceWindow": "PreferredMaintenanceWindow", "manageMasterUserPassword": "ManageMasterUserPassword",
        "masterUserSecretKmsKeyId": "MasterUserSecret.KmsKeyId", "maxAllocatedStorage": "MaxAllocatedStorage",
        "multiAz": "MultiAZ", "networkType": "NetworkType", "parameterGroupName": "DBParameterGroupName",
        "performanceInsightsEnabled": "EnablePerformanceInsights",
        "performanceInsightsKmsKeyId": "PerformanceInsightsKMSKeyId",
        "performanceInsightsRetentionPeriod": "PerformanceInsightsRetentionPeriod", "port": _p("Port", str),
        "publiclyAccessible": "PubliclyAccessible", "storageEncrypted": "StorageEncrypted",
        "storageType": "StorageType", "username": "MasterUsername", "vpcSecurityGroupIds": "VPCSecurityGroups",
        "iops": "Iops", "storageThroughput": "StorageThroughput", "monitoringInterval": "MonitoringInterval",
        "monitoringRoleArn": "MonitoringRoleArn", "tags": TAGS},
        provider_only={"applyImmediately": _APPLY_IMMEDIATELY, "finalSnapshotIdentifier": _FINAL_SNAPSHOT,
                       "skipFinalSnapshot": _FINAL_SNAPSHOT}),
    "aws:elasticache/subnetGroup:SubnetGroup": _simple("AWS::ElastiCache::SubnetGroup", {
        "description": "Description", "subnetIds": "SubnetIds", "name": "CacheSubnetGroupName", "tags": TAGS}),
    "aws:elasticache/replicationGroup:ReplicationGroup": _simple("AWS::ElastiCache::ReplicationGroup", {
        "description": "ReplicationGroupDescription", "numCacheClusters": "NumCacheClusters",
        "snapshotWindow": "SnapshotWindow", "snapshotRetentionLimit": "SnapshotRetentionLimit",
        "parameterGroupName": "CacheParameterGroupName", "kmsKeyId": "KmsKeyId",
        "automaticFailoverEnabled": "AutomaticFailoverEnabled", "authToken": "AuthToken", "nodeType": "CacheNodeType",
        "port": "Port", "multiAzEnabled": "MultiAZEnabled",
        "logDeliveryConfigurations": _p("LogDeliveryConfigurations", _log_delivery),
        "autoMinorVersionUpgrade": "AutoMinorVersionUpgrade", "subnetGroupName": "CacheSubnetGroupName",
        "securityGroupIds": "SecurityGroupIds", "maintenanceWindow": "PreferredMaintenanceWindow",
        "transitEncryptionEnabled": "TransitEncryptionEnabled", "transitEncryptionMode": "TransitEncryptionMode",
        "engineVersion": "EngineVersion", "replicationGroupId": "ReplicationGroupId", "engine": "Engine",
        "atRestEncryptionEnabled": "AtRestEncryptionEnabled", "preferredCacheClusterAzs": "PreferredCacheClusterAZs",
        "numNodeGroups": "NumNodeGroups", "replicasPerNodeGroup": "ReplicasPerNodeGroup",
        "dataTieringEnabled": "DataTieringEnabled", "clusterMode": "ClusterMode", "tags": TAGS},
        provider_only={
            "applyImmediately": _APPLY_IMMEDIATELY, "finalSnapshotIdentifier": _FINAL_SNAPSHOT,
            "authTokenUpdateStrategy": "how the provider rotates an existing token; CloudFormation sets AuthToken "
                                       "with the ROTATE strategy on update"}),
    "aws:secretsmanager/secret:Secret": _simple("AWS::SecretsManager::Secret", {
        "name": "Name", "description": "Description", "kmsKeyId": "KmsKeyId", "tags": TAGS},
        provider_only={"recoveryWindowInDays": "delete-time behaviour of the provider (CloudFormation deletes "
                                               "with its default recovery window)"}),
    # CloudFormation holds a secret's value on the secret itself.
    "aws:secretsmanager/secretVersion:SecretVersion": TypeSpec("AWS::SecretsManager::Secret", {
        "secretString": _p("SecretString")}, host="secretId"),
    "aws:s3/bucket:Bucket": _simple("AWS::S3::Bucket", {
        "bucket": "BucketName", "objectLockEnabled": "ObjectLockEnabled", "tags": TAGS},
        provider_only={"forceDestroy": "delete-time behaviour of the provider (empties the bucket first)"}),
    # The split S3 resources are properties of the bucket in CloudFormation.
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": TypeSpec("AWS::S3::Bucket", {
        k: _p(f"PublicAccessBlockConfiguration.{_pascal(k)}") for k in
        ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")}, host="bucket"),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": TypeSpec("AWS::S3::Bucket", {
        "rule": _p("OwnershipControls.Rules", lambda v: [deep()(v)])}, host="bucket"),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": TypeSpec(
        "AWS::S3::Bucket", {"rules": _p("BucketEncryption.ServerSideEncryptionConfiguration", _sse_rules)},
        host="bucket"),
    "aws:s3/bucketVersioning:BucketVersioning": TypeSpec("AWS::S3::Bucket", {
        "versioningConfiguration": _p("VersioningConfiguration", deep(drop=frozenset({"mfaDelete"})))},
        host="bucket"),
    "aws:s3/bucketLogging:BucketLogging": TypeSpec("AWS::S3::Bucket", {
        "targetBucket": _p("LoggingConfiguration.DestinationBucketName"),
        "targetPrefix": _p("LoggingConfiguration.LogFilePrefix"),
        "targetObjectKeyFormat": _p("LoggingConfiguration.TargetObjectKeyFormat", deep())}, host="bucket"),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": TypeSpec("AWS::S3::Bucket", {
        "rules": _p("LifecycleConfiguration.Rules", _lifecycle_rules)}, host="bucket"),
    "aws:s3/bucketPolicy:BucketPolicy": _simple("AWS::S3::BucketPolicy", {
        "bucket": "Bucket", "policy": _p("PolicyDocument", **_JSON)}),
    "aws:sqs/queue:Queue": _simple("AWS::SQS::Queue", {
        "name": "QueueName", "kmsMasterKeyId": "KmsMasterKeyId",
        "kmsDataKeyReusePeriodSeconds": "KmsDataKeyReusePeriodSeconds",
        "messageRetentionSeconds": "MessageRetentionPeriod", "visibilityTimeoutSeconds": "VisibilityTimeout",
        "delaySeconds": "DelaySeconds", "receiveWaitTimeSeconds": "ReceiveMessageWaitTimeSeconds",
        "redrivePolicy": _p("RedrivePolicy", **_JSON), "maxMessageSize": "MaximumMessageSize",
        "fifoQueue": "FifoQueue", "sqsManagedSseEnabled": "SqsManagedSseEnabled", "tags": TAGS}),
    "aws:sqs/queuePolicy:QueuePolicy": _simple("AWS::SQS::QueuePolicy", {
        "queueUrl": _p("Queues", _listify), "policy": _p("PolicyDocument", **_JSON)}),
    "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy": TypeSpec("AWS::SQS::Queue", {
        "redriveAllowPolicy": _p("RedriveAllowPolicy", json=True, refs=False)}, host="queueUrl"),
    "aws:sns/topic:Topic": _simple("AWS::SNS::Topic", {
        "name": "TopicName", "kmsMasterKeyId": "KmsMasterKeyId", "displayName": "DisplayName",
        "fifoTopic": "FifoTopic", "tags": TAGS}),
    "aws:sns/topicPolicy:TopicPolicy": _simple("AWS::SNS::TopicPolicy", {
        "arn": _p("Topics", _listify), "policy": _p("PolicyDocument", **_JSON)}),
    "aws:sns/topicSubscription:TopicSubscription": _simple("AWS::SNS::Subscription", {
        "topic": "TopicArn", "protocol": "Protocol", "endpoint": "Endpoint",
        "rawMessageDelivery": "RawMessageDelivery", "filterPolicy": _p("FilterPolicy", **_JSON)}),
    "aws:cloudwatch/logGroup:LogGroup": _simple("AWS::Logs::LogGroup", {
        "name": "LogGroupName", "retentionInDays": "RetentionInDays", "kmsKeyId": "KmsKeyId",
        "logGroupClass": "LogGroupClass", "tags": TAGS},
        provider_only={"skipDestroy": "delete-time behaviour of the provider (CloudFormation: DeletionPolicy)"}),
    "aws:cloudwatch/metricAlarm:MetricAlarm": _simple("AWS::CloudWatch::Alarm", {
        "name": "AlarmName", "alarmDescription": "AlarmDescription", "comparisonOperator": "ComparisonOperator",
        "evaluationPeriods": "EvaluationPeriods", "metricName": "MetricName", "namespace": "Namespace",
        "period": "Period", "statistic": "Statistic", "threshold": "Threshold",
        "treatMissingData": "TreatMissingData", "dimensions": _p("Dimensions", _name_values),
        "alarmActions": "AlarmActions", "okActions": "OKActions",
        "insufficientDataActions": "InsufficientDataActions", "datapointsToAlarm": "DatapointsToAlarm",
        "metricQueries": _p("Metrics", _metric_queries), "actionsEnabled": "ActionsEnabled", "unit": "Unit",
        "extendedStatistic": "ExtendedStatistic", "tags": TAGS}),
    "aws:cloudwatch/dashboard:Dashboard": _simple("AWS::CloudWatch::Dashboard", {
        "dashboardName": "DashboardName", "dashboardBody": "DashboardBody"}),
    "aws:mq/broker:Broker": _simple("AWS::AmazonMQ::Broker", {
        "brokerName": "BrokerName", "engineType": "EngineType", "engineVersion": "EngineVersion",
        "hostInstanceType": "HostInstanceType", "deploymentMode": "DeploymentMode",
        "publiclyAccessible": "PubliclyAccessible", "autoMinorVersionUpgrade": "AutoMinorVersionUpgrade",
        "subnetIds": "SubnetIds", "securityGroups": "SecurityGroups", "users": "Users", "logs": "Logs",
        "maintenanceWindowStartTime": "MaintenanceWindowStartTime", "encryptionOptions": "EncryptionOptions",
        "authenticationStrategy": "AuthenticationStrategy", "configuration": "Configuration", "tags": TAGS},
        provider_only={"applyImmediately": _APPLY_IMMEDIATELY}),
    "aws:ecr/repository:Repository": _simple("AWS::ECR::Repository", {
        "name": "RepositoryName", "forceDelete": "EmptyOnDelete", "imageTagMutability": "ImageTagMutability",
        "imageScanningConfiguration": "ImageScanningConfiguration",
        # The provider takes a list of (at most one) encryption configuration, CloudFormation the one object.
        "encryptionConfigurations": _p("EncryptionConfiguration", lambda v: deep()(v[0]) if v else OMIT),
        "tags": TAGS}),
    # A repository's lifecycle and access policies are properties of the repository in CloudFormation.
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": TypeSpec("AWS::ECR::Repository", {
        # CloudFormation takes the lifecycle policy as the JSON text itself, not as a document.
        "policy": _p("LifecyclePolicy.LifecyclePolicyText")}, host="repository"),
    "aws:ecr/repositoryPolicy:RepositoryPolicy": TypeSpec("AWS::ECR::Repository", {
        "policy": _p("RepositoryPolicyText", **_JSON)}, host="repository"),
    "aws:autoscaling/schedule:Schedule": _simple("AWS::AutoScaling::ScheduledAction", {
        "autoscalingGroupName": "AutoScalingGroupName", "scheduledActionName": "ScheduledActionName",
        "desiredCapacity": "DesiredCapacity", "minSize": "MinSize", "maxSize": "MaxSize",
        "recurrence": "Recurrence", "timeZone": "TimeZone", "startTime": "StartTime", "endTime": "EndTime"}),
    "aws:budgets/budget:Budget": _simple("AWS::Budgets::Budget", {
        "name": "Budget.BudgetName", "budgetType": "Budget.BudgetType", "timeUnit": "Budget.TimeUnit",
        "limitAmount": _p("Budget.BudgetLimit.Amount", float), "limitUnit": _p("Budget.BudgetLimit.Unit"),
        "costFilters": _p("Budget.CostFilters", _budget_cost_filters),
        "notifications": _p("NotificationsWithSubscribers", _budget_notifications), "tags": _p("ResourceTags")}),
    "aws:lambda/function:Function": _simple("AWS::Lambda::Function", {
        "name": "FunctionName", "description": "Description", "runtime": "Runtime", "handler": "Handler",
        "role": "Role", "memorySize": "MemorySize", "timeout": "Timeout", "architectures": "Architectures",
        "kmsKeyArn": "KmsKeyArn", "reservedConcurrentExecutions": "ReservedConcurrentExecutions",
        "environment": _p("Environment", _lambda_environment), "loggingConfig": "LoggingConfig",
        "tracingConfig": "TracingConfig", "vpcConfig": "VpcConfig", "layers": "Layers",
        "ephemeralStorage": "EphemeralStorage", "deadLetterConfig": "DeadLetterConfig",
        "packageType": "PackageType",
        # The provider uploads the program's archive itself; CloudFormation takes it from S3, where `cloudformation
        # package` puts it: the bucket and key are template parameters (written by _lambda_code).
        "code": _p("Code", _drop), "tags": TAGS},
        provider_only={"publish": "CloudFormation publishes versions with a separate AWS::Lambda::Version",
                       "sourceCodeHash": "the provider's change detection for the archive; CloudFormation "
                                         "redeploys when the S3 key changes"}),
    "aws:scheduler/schedule:Schedule": _simple("AWS::Scheduler::Schedule", {
        "name": "Name", "description": "Description", "groupName": "GroupName", "state": "State",
        "scheduleExpression": "ScheduleExpression", "scheduleExpressionTimezone": "ScheduleExpressionTimezone",
        "flexibleTimeWindow": "FlexibleTimeWindow", "target": "Target", "kmsKeyArn": "KmsKeyArn",
        "startDate": "StartDate", "endDate": "EndDate"}),
}


def cfn_type_of(pulumi_type: str) -> str | None:
    """The CloudFormation type a Pulumi type becomes (its host's type when folded), or None when unmapped."""
    spec = SPECS.get(pulumi_type)
    return spec.cfn_type if spec else None


def cfn_property_of(pulumi_type: str, wire_key: str) -> str | None:
    """The CloudFormation property a top-level wire-form input becomes (dotted when CloudFormation nests it, e.g.
    `LaunchTemplateData.InstanceType`; a folded type's property of its host). None for provider-only inputs, for the
    input naming a folded resource's host, and for unmapped types or keys."""
    spec = SPECS.get(pulumi_type)
    if spec is None or wire_key not in spec.props:
        return None
    return spec.props[wire_key].cfn


# --- the template ---------------------------------------------------------------------------------------------------

@dataclass
class Conversion:
    """The template and an account of every AWS resource: converted (own logical ID), folded into a host, or
    skipped with the reason; plus what the converter could not place (coverage)."""

    template: dict[str, Any]
    logical_ids: dict[str, str]  # URN -> logical ID (a folded resource: its host's)
    folded: dict[str, str]  # URN -> host URN
    skipped: dict[str, str]  # URN -> why the resource has no CloudFormation equivalent
    unmapped_types: set[str]  # AWS types the mapping does not know
    unconverted_inputs: list[tuple[str, str]]  # (URN, wire key) neither converted nor provider-only
    unresolved: list[tuple[str, str, str]]  # (URN, wire key, value): a dependency's value with no Ref/GetAtt

    aws_urns: list[str] = field(default_factory=list)  # every AWS resource of the plan

    @property
    def converted_share(self) -> float:
        """The share of the plan's AWS resources in the template (standing alone or folded into a host)."""
        return len(self.logical_ids) / len(self.aws_urns) if self.aws_urns else 1.0


def is_aws(resource: engine.CapturedResource) -> bool:
    return resource.custom and resource.type.startswith("aws:")


@lru_cache(maxsize=None)
def cfn_schema(cfn_type: str, region: str = "us-east-1") -> dict[str, Any]:
    """The CloudFormation registry schema of a type as cfn-lint bundles it (properties, createOnlyProperties,
    readOnlyProperties, ...)."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    return PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, cfn_type).schema


@lru_cache(maxsize=None)
def _attributes(cfn_type: str) -> dict[str, str]:
    """CloudFormation's GetAtt attributes of a type, by lower-cased name without dots."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    atts = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", cfn_type).get_atts
    return {name.replace(".", "").lower(): name for name in atts}


# Outputs whose CloudFormation attribute is not the PascalCased output name (Pulumi type -> output path -> attribute):
# "Ref" where CloudFormation's Ref returns it, "Sub:<template>" where CloudFormation has no attribute but the value is
# built from one (`${Ref}` is the resource's Ref), "Literal" where AWS derives the value by a documented naming rule
# that CloudFormation cannot reference (the value in the plan is then the real one, not a mock's), "Parameter" where
# AWS makes the value up and CloudFormation exposes no attribute for it (a template parameter, like values from
# outside the template).
_ATTRIBUTE_OF: dict[str, dict[str, str]] = {
    "aws:cloudwatch/logGroup:LogGroup": {"name": "Ref"},
    "aws:ec2/vpc:Vpc": {"arn": "Sub:arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:vpc/${Ref}"},
    "aws:ec2/subnet:Subnet": {
        "arn": "Sub:arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:subnet/${Ref}"},
    "aws:ec2/securityGroup:SecurityGroup": {
        "id": "GroupId",
        "arn": "Sub:arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:security-group/${Ref}"},
    "aws:rds/instance:Instance": {"address": "Endpoint.Address", "endpoint": "Endpoint.Address",
                                  "masterUserSecrets.0.secretArn": "MasterUserSecret.SecretArn",
                                  "resourceId": "DbiResourceId"},
    "aws:elasticache/replicationGroup:ReplicationGroup": {
        "primaryEndpointAddress": "PrimaryEndPoint.Address", "readerEndpointAddress": "ReaderEndPoint.Address",
        # ElastiCache names a group's member clusters <group id>-001, -002, ...
        **{f"memberClusters.{i}": "Literal" for i in range(6)}},
    "aws:sqs/queue:Queue": {"url": "QueueUrl", "name": "QueueName"},
    "aws:ec2/eip:Eip": {"allocationId": "AllocationId", "publicIp": "PublicIp"},
    "aws:ec2/launchTemplate:LaunchTemplate": {"latestVersion": "LatestVersionNumber"},
    "aws:mq/broker:Broker": {"arn": "Arn"},
    # EKS names a node group's autoscaling group itself; AWS::EKS::Nodegroup has no attribute for it.
    "aws:eks/nodeGroup:NodeGroup": {"resources.0.autoscalingGroups.0.name": "Parameter"},
}


def _num(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return value if isinstance(value, Intrinsic) else {k: _num(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_num(v) for v in value]
    return value


def _flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """Every string leaf of a resource's outputs, by dotted path."""
    out: dict[str, str] = {}
    if isinstance(value, dict):
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}{k}."))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.update(_flatten(v, f"{prefix}{i}."))
    elif isinstance(value, str) and value:
        out[prefix[:-1]] = value
    return out


def logical_id(name: str, cfn_type: str) -> str:
    words = re.split(r"[^A-Za-z0-9]+", name)
    base = "".join(w[:1].upper() + w[1:] for w in words if w) + cfn_type.rsplit("::", 1)[-1]
    return base if base[:1].isalpha() else "R" + base


def _set_path(props: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = props
    for key in parents:
        node = node.setdefault(key, {})
    if isinstance(node.get(last), list) and isinstance(value, list):
        # Folded contributions (managed policy ARNs) arrive in the plan's varying order: keep them sorted.
        node[last] = sorted([*node[last], *(v for v in value if v not in node[last])], key=json.dumps)
    else:
        node[last] = value


LITERAL = Intrinsic()  # "keep the plan's value": AWS derives it by a naming rule CloudFormation cannot reference


class _Builder:
    def __init__(self, plan: engine.Plan):
        self.plan = plan
        self.by_urn = {r.urn: r for r in plan}
        self.resources: dict[str, dict[str, Any]] = {}
        self.parameters: dict[str, dict[str, Any]] = {}
        self.conv = Conversion({}, {}, {}, {}, set(), [], [])
        self._ids: dict[str, str] = {}
        self.regions = {self._region_and_tags(r)[0] for r in plan if is_aws(r)}

    # -- identity of plan resources --

    def _region_and_tags(self, resource: engine.CapturedResource) -> tuple[str, dict[str, str]]:
        provider = self.by_urn.get(resource.provider_urn or "")
        inputs = provider.props if provider else {}
        tags = json.loads(inputs["defaultTags"]).get("tags", {}) if inputs.get("defaultTags") else {}
        return inputs.get("region") or "us-east-1", tags

    def resource_id(self, resource: engine.CapturedResource) -> str:
        """The ID the offline engine gave the resource (recomputed: the mocks are deterministic)."""
        if resource.urn not in self._ids:
            region, _ = self._region_and_tags(resource)
            self._ids[resource.urn] = mock_outputs.resource_outputs(
                resource.type, resource.name, resource.props, region)[0]
        return self._ids[resource.urn]

    def host_of(self, resource: engine.CapturedResource) -> engine.CapturedResource | None:
        """A folded resource's host: the dependency of its host input that stands on its own with the same
        CloudFormation type (a DNS validation record's host: the certificate its name came from)."""
        if resource.type == "aws:route53/record:Record":
            found = [d for d in self.plan.depends_on(resource, "name") if d.type == "aws:acm/certificate:Certificate"]
            return found[0] if found else None
        spec = SPECS[resource.type]
        for dep in self.plan.depends_on(resource, spec.host or ""):
            dep_spec = SPECS.get(dep.type)
            if dep_spec is not None and dep_spec.cfn_type == spec.cfn_type and dep_spec.host is None:
                return dep
        return None

    def folds(self, resource: engine.CapturedResource) -> bool:
        if resource.type == "aws:route53/record:Record":
            return any(d.type == "aws:acm/certificate:Certificate" for d in self.plan.depends_on(resource, "name"))
        return SPECS[resource.type].host is not None

    # -- references --

    def _parameter(self, dep: engine.CapturedResource, path: str, secret: bool) -> Intrinsic:
        name = logical_id(f"{dep.name}-{path}", "Input")
        where = "a secret, never written into the template" if secret else "outside the template"
        entry: dict[str, Any] = {"Type": "String", "Description": f"{path} of {dep.type} {dep.name} ({where})"}
        if secret:
            entry["NoEcho"] = True
        self.parameters[name] = entry
        return Intrinsic({"Ref": name})

    def _reference(self, dep: engine.CapturedResource, path: str, secret: bool) -> Intrinsic | None:
        target = dep
        if dep.urn in self.conv.folded:
            target = self.by_urn[self.conv.folded[dep.urn]]
        logical = self.conv.logical_ids.get(target.urn)
        if logical is None or not is_aws(dep):
            return self._parameter(dep, path, secret)
        if path == "id" and target is dep:
            return Intrinsic({"Ref": logical})
        cfn_type = SPECS[target.type].cfn_type
        attr = _ATTRIBUTE_OF.get(dep.type, {}).get(path) or _attributes(cfn_type).get(path.replace(".", "").lower())
        if attr == "Ref":
            return Intrinsic({"Ref": logical})
        if attr and attr.startswith("Sub:"):
            return Intrinsic({"Fn::Sub": attr[4:].replace("${Ref}", "${" + logical + "}")})
        if attr == "Literal":
            return LITERAL
        if attr == "Parameter":
            return self._parameter(dep, path, secret)
        if attr:
            return Intrinsic({"Fn::GetAtt": [logical, attr]})
        return None

    def resolve(self, resource: engine.CapturedResource, key: str, value: Any, secret: bool) -> Any:
        deps = [self.by_urn[u] for u in resource.property_dependencies.get(key, ()) if u in self.by_urn]
        if not deps:
            # Unknown without a dependency (a preview, a provider function's result): a parameter, not the sentinel.
            return self._parameter(resource, key, secret) if value == engine.UNKNOWN else value
        candidates: dict[str, tuple[engine.CapturedResource, str]] = {}
        for dep in deps:
            for path, out in _flatten(engine.unwrap(dep.outputs)).items():
                if out != engine.UNKNOWN:
                    candidates.setdefault(out, (dep, path))
            if dep.custom:
                candidates[self.resource_id(dep)] = (dep, "id")  # the ID wins over an equal output

        def walk(v: Any) -> Any:
            if isinstance(v, dict):
                return {k: walk(x) for k, x in v.items()}
            if isinstance(v, list) and len(v) == len(deps) > 1 and all(x == engine.UNKNOWN for x in v):
                # A preview's list of unknown IDs, one per dependency (subnets, security groups), in order.
                return [self._reference(dep, "id", secret) or self._parameter(resource, key, secret) for dep in deps]
            if isinstance(v, list):
                return [walk(x) for x in v]
            if isinstance(v, str) and v in candidates:
                dep, path = candidates[v]
                ref = self._reference(dep, path, secret or dep.type.startswith("random:"))
                if ref is LITERAL:
                    return v
                if ref is None:
                    self.conv.unresolved.append((resource.urn, key, v))
                    return v
                return ref
            if v == engine.UNKNOWN:  # a preview: the value will come from the (first) dependency
                path = "arn" if key.endswith(("Arn", "Arns")) else "id"  # which output, by the input's name
                return self._reference(deps[0], path, secret) or self._parameter(resource, key, secret)
            return v

        return walk(value)

    # -- conversion --

    def convert_props(self, resource: engine.CapturedResource, host_props: dict[str, Any]) -> None:
        spec = SPECS[resource.type]
        _, default_tags = self._region_and_tags(resource)
        for key, raw in resource.inputs.items():
            secret = engine.is_secret(raw)
            value = engine.unwrap(raw)
            if key == spec.host or (resource.type == "aws:route53/record:Record" and key in spec.props
                                    and self.folds(resource)):
                continue
            if key in spec.empty_only and value in ([], {}, None):
                continue
            if key in spec.provider_only:
                continue
            prop = spec.props.get(key)
            if prop is None:
                self.conv.unconverted_inputs.append((resource.urn, key))
                continue
            if prop.convert is _drop:
                continue
            if prop.json and value == engine.UNKNOWN:  # a preview's document built from outputs: not known yet
                _set_path(host_props, prop.cfn, self._parameter(resource, key, secret))
                continue
            if prop.json and isinstance(value, str):
                value = json.loads(value)
            value = self.resolve(resource, key, value, secret) if prop.refs else value
            value = _num(value)
            if secret and not isinstance(value, Intrinsic):
                # Never write a secret into the template: it becomes a NoEcho parameter.
                value = self._parameter(resource, key, True)
            if prop is TAGS or (key == "tags" and prop.cfn in ("Tags", "TagSpecifications", "ResourceTags")):
                value = self.tags(spec.cfn_type, {**default_tags, **value}, prop.cfn)
            elif prop.convert:
                value = prop.convert(value)
            elif not prop.json:
                value = deep()(value)
            if value is OMIT:
                continue
            _set_path(host_props, prop.cfn, _num(value))
        for cfn, default in spec.defaults.items():
            host_props.setdefault(cfn, default(resource))
        if "tags" in spec.props and "tags" not in resource.inputs and default_tags and spec.host is None:
            _set_path(host_props, spec.props["tags"].cfn, self.tags(spec.cfn_type, default_tags,
                                                                    spec.props["tags"].cfn))

    def tags(self, cfn_type: str, tags: Mapping[str, str], where: str) -> Any:
        if where == "TagSpecifications":
            return [{"ResourceType": "launch-template", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]
        if cfn_schema(cfn_type).get("properties", {}).get("Tags", {}).get("type") == "object":
            return dict(tags)
        return [{"Key": k, "Value": v} for k, v in tags.items()]

    def build(self) -> Conversion:
        aws = [r for r in self.plan if is_aws(r)]
        self.conv.aws_urns = [r.urn for r in aws]
        # Pass 1: logical IDs of the resources that stand on their own. The plan's order varies between runs (the
        # program registers resources concurrently): names that collide all get a suffix from their URN.
        standing: dict[str, str] = {}
        for r in aws:
            spec = SPECS.get(r.type)
            if spec is None:
                self.conv.unmapped_types.add(r.type)
                continue
            if spec.cfn_type is None:
                self.conv.skipped[r.urn] = spec.no_equivalent or "no CloudFormation equivalent"
                continue
            if not self.folds(r):
                standing[r.urn] = logical_id(r.name, spec.cfn_type)
        counts: dict[str, int] = {}
        for lid in standing.values():
            counts[lid] = counts.get(lid, 0) + 1
        for urn, lid in standing.items():
            if counts[lid] > 1:
                lid += hashlib.sha256(urn.encode()).hexdigest()[:8].upper()
            self.conv.logical_ids[urn] = lid
        # Pass 2: hosts of folded resources (a host may itself be a plain resource only).
        for r in aws:
            if r.type in SPECS and SPECS[r.type].cfn_type and self.folds(r):
                host = self.host_of(r)
                if host is None or host.urn not in self.conv.logical_ids:
                    self.conv.skipped[r.urn] = "folded type whose host resource is not in the plan"
                    continue
                self.conv.folded[r.urn] = host.urn
                self.conv.logical_ids[r.urn] = self.conv.logical_ids[host.urn]
        # Pass 3: properties, hosts first so folded properties land on an existing entry.
        for r in aws:
            if r.urn in self.conv.logical_ids and r.urn not in self.conv.folded:
                self.resources[self.conv.logical_ids[r.urn]] = {"Type": SPECS[r.type].cfn_type, "Properties": {}}
        for r in aws:
            if r.urn not in self.conv.logical_ids:
                continue
            entry = self.resources[self.conv.logical_ids[r.urn]]
            if r.type == "aws:route53/record:Record" and r.urn in self.conv.folded:
                self._validation_record(r, entry)
            self.convert_props(r, entry["Properties"])
            self._depends_on(r, entry)
            _SPECIAL.get(r.type, lambda *_: None)(self, r, entry)
        for entry in self.resources.values():
            referenced = _targets(entry.get("Properties", {}))
            entry["DependsOn"] = sorted(d for d in entry.get("DependsOn", []) if d not in referenced)
            if not entry["DependsOn"]:
                entry.pop("DependsOn")
        self.resources = dict(sorted(self.resources.items()))
        account, partition = mock_outputs.ACCOUNT_ID, mock_outputs.PARTITION
        self.resources = _arns_as_sub(self.resources, account, partition, self.regions)
        self.conv.template = {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": f"{engine.PROJECT} {self.plan.stack}: the captured plan's AWS resources",
            **({"Parameters": dict(sorted(self.parameters.items()))} if self.parameters else {}),
            "Resources": self.resources,
        }
        return self.conv

    def _depends_on(self, r: engine.CapturedResource, entry: dict[str, Any]) -> None:
        by_props = {u for urns in r.property_dependencies.values() for u in urns}
        own = self.conv.logical_ids[r.urn]
        for urn in r.dependencies:
            if urn in by_props:
                continue
            logical = self.conv.logical_ids.get(urn)
            if logical and logical != own and logical not in entry.setdefault("DependsOn", []):
                entry["DependsOn"].append(logical)

    def _validation_record(self, record: engine.CapturedResource, entry: dict[str, Any]) -> None:
        """A DNS validation record becomes DomainValidationOptions naming its hosted zone: CloudFormation then
        creates the record itself and waits for the validation."""
        certificate = self.by_urn[self.conv.folded[record.urn]]
        props = record.props
        name = props.get("name", "").rstrip(".")
        options = engine.unwrap(certificate.outputs).get("domainValidationOptions") or []
        dvos = entry["Properties"].setdefault("DomainValidationOptions", [])
        for option in options:
            if option.get("resourceRecordName", "").rstrip(".") == name:
                dvo = {"DomainName": option["domainName"], "HostedZoneId": props.get("zoneId")}
                if dvo not in dvos:
                    dvos.append(dvo)


def _targets(value: Any) -> set[str]:
    """The logical IDs a value refers to (Ref, Fn::GetAtt, Fn::Sub)."""
    if isinstance(value, list):
        return set().union(*(_targets(v) for v in value)) if value else set()
    if isinstance(value, dict):
        if "Ref" in value and len(value) == 1:
            return {value["Ref"]}
        if "Fn::GetAtt" in value:
            return {value["Fn::GetAtt"][0]}
        if "Fn::Sub" in value:
            return set(re.findall(r"\$\{([A-Za-z0-9]+)\}", value["Fn::Sub"]))
        return set().union(*(_targets(v) for v in value.values())) if value else set()
    return set()


def _arns_as_sub(value: Any, account: str, partition: str, regions: set[str]) -> Any:
    """ARNs the program formatted from the account, partition and region (policy documents): their account,
    partition and region become pseudo parameters, so no value of the offline run's account stays literal."""
    if isinstance(value, Intrinsic):
        return value
    if isinstance(value, list):
        return [_arns_as_sub(v, account, partition, regions) for v in value]
    if isinstance(value, dict):
        return {k: _arns_as_sub(v, account, partition, regions) for k, v in value.items()}
    if isinstance(value, str) and value.startswith(f"arn:{partition}:"):
        parts = value.replace("${", "${!").split(":", 5)
        if len(parts) == 6 and (parts[4] == account or parts[3] in regions):
            parts[1] = "${AWS::Partition}"
            if parts[3] in regions:
                parts[3] = "${AWS::Region}"
            if parts[4] == account:
                parts[4] = "${AWS::AccountId}"
            return Intrinsic({"Fn::Sub": ":".join(parts)})
    if isinstance(value, str) and account in value:  # a name formatted with the account (bucket names)
        return Intrinsic({"Fn::Sub": value.replace("${", "${!").replace(account, "${AWS::AccountId}")})
    return value


def _internet_gateway(builder: _Builder, r: engine.CapturedResource, entry: dict[str, Any]) -> None:
    attachment = entry["Properties"].pop("VPCGatewayAttachment", None)
    if attachment:
        own = builder.conv.logical_ids[r.urn]
        builder.resources[own + "Attachment"] = {
            "Type": "AWS::EC2::VPCGatewayAttachment",
            "Properties": {**attachment, "InternetGatewayId": Intrinsic({"Ref": own})},
        }


def _flow_log(builder: _Builder, r: engine.CapturedResource, entry: dict[str, Any]) -> None:
    kinds = {"vpcId": "VPC", "subnetId": "Subnet", "eniId": "NetworkInterface"}
    for key, kind in kinds.items():
        if key in r.inputs:
            entry["Properties"]["ResourceType"] = kind


def _final_snapshot(builder: _Builder, r: engine.CapturedResource, entry: dict[str, Any]) -> None:
    props = r.props
    if props.get("finalSnapshotIdentifier") and not props.get("skipFinalSnapshot"):
        entry["DeletionPolicy"] = "Snapshot"
        entry["UpdateReplacePolicy"] = "Snapshot"


def _lambda_code(builder: _Builder, r: engine.CapturedResource, entry: dict[str, Any]) -> None:
    if "code" in r.inputs:
        entry["Properties"]["Code"] = {"S3Bucket": builder._parameter(r, "code.S3Bucket", False),
                                       "S3Key": builder._parameter(r, "code.S3Key", False)}


_SPECIAL: dict[str, Callable[[_Builder, engine.CapturedResource, dict[str, Any]], None]] = {
    "aws:ec2/internetGateway:InternetGateway": _internet_gateway,
    "aws:ec2/flowLog:FlowLog": _flow_log,
    "aws:rds/instance:Instance": _final_snapshot,
    "aws:elasticache/replicationGroup:ReplicationGroup": _final_snapshot,
    "aws:lambda/function:Function": _lambda_code,
}


def convert(plan: engine.Plan) -> Conversion:
    """The template and the account of every AWS resource of the plan."""
    return _Builder(plan).build()


def to_template(plan: engine.Plan) -> dict[str, Any]:
    """The plan's AWS resources as a CloudFormation template (logical IDs from resource names, deterministic)."""
    return convert(plan).template
