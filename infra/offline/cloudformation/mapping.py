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


@dataclass(frozen=True)
class Prop:
    """Where a wire-form input goes: a CloudFormation property (dotted for nesting) and an optional shape change."""

    cfn: str
    convert: Converter | None = None
    json: bool = False  # the wire value is a JSON document in a string (policies): parsed before references resolve


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


def _lookup(mapping: Mapping[str, str]) -> Converter:
    return lambda value: mapping.get(value, value)


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
        "tagSpecifications": _p("LaunchTemplateData.TagSpecifications", deep()),
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
        "policy": _p("PolicyDocument", **_JSON), "role": "RoleName", "name": "PolicyName"}),
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
        "validationRecordFqdns": _p("DomainValidationOptions")}, host="certificateArn"),
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
        "instanceTypes": "InstanceTypes", "capacityType": "CapacityType", "diskSize": "DiskSize", "labels": "Labels",
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
        "redriveAllowPolicy": _p("RedriveAllowPolicy", **_JSON)}, host="queueUrl"),
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
    "aws:mq/broker:Broker": _simple("AWS::AmazonMQ::Broker", {
        "brokerName": "BrokerName", "engineType": "EngineType", "engineVersion": "EngineVersion",
        "hostInstanceType": "HostInstanceType", "deploymentMode": "DeploymentMode",
        "publiclyAccessible": "PubliclyAccessible", "autoMinorVersionUpgrade": "AutoMinorVersionUpgrade",
        "subnetIds": "SubnetIds", "securityGroups": "SecurityGroups", "users": "Users", "logs": "Logs",
        "maintenanceWindowStartTime": "MaintenanceWindowStartTime", "encryptionOptions": "EncryptionOptions",
        "authenticationStrategy": "AuthenticationStrategy", "configuration": "Configuration", "tags": TAGS},
        provider_only={"applyImmediately": _APPLY_IMMEDIATELY}),
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
