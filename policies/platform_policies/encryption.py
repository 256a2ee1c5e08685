"""Rule 5 (mandatory): TLS and encryption.

Every data store is encrypted at rest (RDS, Aurora, ElastiCache, S3 with KMS whether set on the bucket or by its own
resource, SQS, SNS, EFS, EBS, the EKS secrets store) and in transit (ElastiCache TLS required; RDS parameter groups
that force TLS, an engine the pack does not know being reported for a manual check (advisory); S3 bucket policies that
deny plain HTTP). Every load balancer listener serves HTTPS (or TLS), and plain HTTP only to redirect to HTTPS,
whether it is an `aws.lb.Listener` or an ALB the AWS Load Balancer Controller builds from an Ingress. Certificates
renew themselves: ACM with DNS validation (or a private CA), never an imported certificate.

Unknowns: encryption and TLS flags are literals; an unknown one is deferred to `pulumi up`. A KMS key ARN or a
certificate ARN that is unknown is a key or certificate of this stack, and its presence is what counts. Links a stack
policy follows (parameter group, bucket policy, encryption configuration) are known at preview, so a missing link is
a violation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from .core import (
    ADVISORY,
    MANDATORY,
    UNKNOWN,
    Context,
    Deferred,
    OddInput,
    Outcome,
    Resource,
    Stack,
    as_bool,
    as_list,
    as_str,
    dig,
    is_unknown,
    resource_policy,
    stack_policy,
)
from .documents import grants_everyone, parse_document


def _present(value: Any) -> bool:
    return value is not None and value != ""


def _flag(resource: Resource, path: tuple[str, ...], problem: str) -> Iterator[Outcome]:
    value = as_bool(dig(resource.props, *path), ".".join(path))
    if value is UNKNOWN:
        yield Deferred(".".join(path))
    elif value is not True:
        yield problem


def check_encrypted_at_rest(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    kind = resource.type
    if kind == "aws:rds/instance:Instance":
        if _present(resource.get("replicateSourceDb")):
            return  # a replica inherits its source's encryption
        yield from _flag(resource, ("storageEncrypted",), "storage is not encrypted (storageEncrypted is off by default)")
    elif kind == "aws:rds/cluster:Cluster":
        if resource.get("engineMode") == "serverless":
            return  # Aurora Serverless v1 is always encrypted
        yield from _flag(resource, ("storageEncrypted",), "storage is not encrypted (storageEncrypted)")
    elif kind == "aws:elasticache/replicationGroup:ReplicationGroup":
        yield from _flag(resource, ("atRestEncryptionEnabled",), "at-rest encryption is off (atRestEncryptionEnabled)")
    elif kind == "aws:elasticache/cluster:Cluster":
        if not _present(resource.get("replicationGroupId")):
            yield ("is a standalone cache cluster, which cannot be encrypted at rest; use a replication group with "
                   "at-rest and in-transit encryption")
    elif kind == "aws:sqs/queue:Queue":
        managed = as_bool(resource.get("sqsManagedSseEnabled"), "sqsManagedSseEnabled")
        if managed is UNKNOWN:
            yield Deferred("sqsManagedSseEnabled")
        elif managed is not True and not _present(resource.get("kmsMasterKeyId")):
            yield "has no server-side encryption (kmsMasterKeyId or sqsManagedSseEnabled)"
    elif kind == "aws:sns/topic:Topic":
        if not _present(resource.get("kmsMasterKeyId")):
            yield "has no KMS encryption (kmsMasterKeyId)"
    elif kind in ("aws:efs/fileSystem:FileSystem", "aws:ebs/volume:Volume"):
        yield from _flag(resource, ("encrypted",), "is not encrypted (encrypted)")
    elif kind == "eks:index:Cluster":
        if not _present(resource.get("encryptionConfigKeyArn")):
            yield "Kubernetes Secrets are not envelope-encrypted with a KMS key (encryptionConfigKeyArn)"
    elif kind == "aws:eks/cluster:Cluster":
        config = resource.get("encryptionConfig")
        if is_unknown(config):
            yield Deferred("encryptionConfig")
            return
        resources = dig(config, "resources")
        if is_unknown(resources):
            yield Deferred("encryptionConfig.resources")
        elif "secrets" not in as_list(resources, "encryptionConfig.resources") or not _present(dig(config, "provider", "keyArn")):
            yield "Kubernetes Secrets are not envelope-encrypted with a KMS key (encryptionConfig)"


AT_REST_TYPES = (
    "aws:rds/instance:Instance",
    "aws:rds/cluster:Cluster",
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:elasticache/cluster:Cluster",
    "aws:sqs/queue:Queue",
    "aws:sns/topic:Topic",
    "aws:efs/fileSystem:FileSystem",
    "aws:ebs/volume:Volume",
    "eks:index:Cluster",
    "aws:eks/cluster:Cluster",
)

data_stores_encrypted_at_rest = resource_policy(
    name="data-stores-encrypted-at-rest",
    description="Databases, caches, queues, topics, volumes and the EKS secrets store are encrypted at rest.",
    level=MANDATORY,
    severity=Severity.HIGH,
    remediation=("turn on the store's encryption with the stack's customer-managed KMS key (storage_encrypted + "
                 "kms_key_id, at_rest_encryption_enabled + kms_key_id, kms_master_key_id, encryption_config_key_arn)."),
    types=AT_REST_TYPES,
    check=check_encrypted_at_rest,
)


def check_encrypted_in_transit(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    if resource.type == "aws:elasticache/cluster:Cluster" and _present(resource.get("replicationGroupId")):
        return
    yield from _flag(resource, ("transitEncryptionEnabled",), "in-transit encryption (TLS) is off")
    mode = as_str(resource.get("transitEncryptionMode"), "transitEncryptionMode")
    if is_unknown(mode):
        yield Deferred("transitEncryptionMode")
    elif mode is not None and mode != "required":
        yield f"transitEncryptionMode is {mode!r}: clients may still connect without TLS"


data_stores_encrypted_in_transit = resource_policy(
    name="data-stores-encrypted-in-transit",
    description="Caches accept TLS connections only.",
    level=MANDATORY,
    severity=Severity.HIGH,
    remediation='set transit_encryption_enabled=True and transit_encryption_mode="required".',
    types=("aws:elasticache/replicationGroup:ReplicationGroup", "aws:elasticache/cluster:Cluster"),
    check=check_encrypted_in_transit,
)

# --- TLS enforced by RDS parameter groups and S3 bucket policies (stack) --------------------------------------------

BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
TLS_PARAMETERS = {"postgres": "rds.force_ssl", "sqlserver": "rds.force_ssl", "mysql": "require_secure_transport",
                  "mariadb": "require_secure_transport"}
ON_VALUES = ("1", "on", "true")


def _engine_family(engine: str) -> str | None:
    lowered = engine.lower()
    for family in ("postgres", "mysql", "mariadb"):
        if family in lowered:
            return family
    if lowered.startswith("sqlserver"):
        return "sqlserver"
    return None


def _parameter_on(group: Resource, name: str) -> bool | Any:
    parameters = group.get("parameters")
    if is_unknown(parameters):
        return UNKNOWN
    for parameter in as_list(parameters, "parameters"):
        if isinstance(parameter, Mapping) and parameter.get("name") == name:
            value = parameter.get("value")
            if is_unknown(value):
                return UNKNOWN
            return str(value).strip().lower() in ON_VALUES
    return False


def _rds_tls(resource: Resource) -> Iterator[Outcome]:
    engine = as_str(resource.get("engine"), "engine")
    if is_unknown(engine):
        yield Deferred("engine")
        return
    if not isinstance(engine, str) or not engine:
        if _present(resource.get("replicateSourceDb")):
            return  # a replica takes its source's engine and parameter group
        raise OddInput("engine is not set")
    family = _engine_family(engine)
    if family is None:
        return  # an engine whose TLS setting this pack does not know: `data-stores-tls-unverified` (advisory) says so
    parameter = TLS_PARAMETERS[family]
    if resource.type == "aws:rds/instance:Instance":
        prop, group_type = "parameterGroupName", "aws:rds/parameterGroup:ParameterGroup"
    else:
        prop, group_type = "dbClusterParameterGroupName", "aws:rds/clusterParameterGroup:ClusterParameterGroup"
    if not _present(resource.get(prop)):
        version = str(resource.get("engineVersion") or "")
        major = re.match(r"(\d+)", version)
        if engine == "postgres" and major and int(major.group(1)) >= 15:
            return  # the default parameter group of PostgreSQL 15+ sets rds.force_ssl=1
        yield f"uses the default parameter group, which does not force TLS; set {parameter}=1 in its own group"
        return
    groups = resource.sources(prop, group_type)
    if not groups:
        yield f"{prop} does not come from a parameter group of this stack, so TLS enforcement cannot be proven"
    for group in groups:
        on = _parameter_on(group, parameter)
        if is_unknown(on):
            yield Deferred(f"{group.name}.parameters")
        elif not on:
            yield f"parameter group {group.name} does not set {parameter}=1, so clients may connect without TLS"


def _denies_plain_http(statement: Any) -> bool:
    if statement.effect != "Deny" or not grants_everyone(statement.principals):
        return False
    for operator, block in statement.conditions.items():
        if operator.startswith("Bool") and [str(v).lower() for v in block.get("aws:SecureTransport", ())] == ["false"]:
            return any(isinstance(a, str) and a.lower() in ("s3:*", "*") for a in statement.actions)
    return False


def _s3_tls(resource: Resource, stack: Stack) -> Iterator[Outcome]:
    """The bucket has a policy denying plain HTTP. A document unknown at preview is left to
    `s3-bucket-policies-deny-plain-http`, which judges the BucketPolicy itself before `pulumi up` creates it (a stack
    policy cannot stop a creation during `up`)."""
    documents = [(p.name, p.get("policy")) for p in stack.dependents(resource, "bucket", BUCKET_POLICY)]
    if _present(resource.get("policy")):
        documents.append(("inline policy", resource.get("policy")))
    if not documents:
        yield "has no bucket policy denying requests without TLS (aws:SecureTransport = false)"
        return
    known = [parse_document(value, "policy") for _, value in documents]
    if any(is_unknown(document) for document in known):
        return
    if not any(document is not None and any(_denies_plain_http(s) for s in document.statements) for document in known):
        yield "no bucket policy denies requests without TLS (Deny s3:* to \"*\" when aws:SecureTransport is false)"


def check_tls_enforced(resource: Resource, stack: Stack, ctx: Context) -> Iterator[Outcome]:
    if resource.type in BUCKET_TYPES:
        yield from _s3_tls(resource, stack)
    else:
        yield from _rds_tls(resource)


data_stores_enforce_tls = stack_policy(
    name="data-stores-enforce-tls",
    description="Databases reject connections without TLS (parameter group) and buckets deny requests without TLS.",
    level=MANDATORY,
    severity=Severity.HIGH,
    remediation=("give the database a parameter group with rds.force_ssl=1 (PostgreSQL) or "
                 "require_secure_transport=ON (MySQL), and give each bucket a policy that denies s3:* to \"*\" when "
                 "aws:SecureTransport is false."),
    types=("aws:rds/instance:Instance", "aws:rds/cluster:Cluster") + BUCKET_TYPES,
    check=check_tls_enforced,
)

def check_tls_unverified(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    engine = as_str(resource.get("engine"), "engine")
    if is_unknown(engine):
        yield Deferred("engine")
    elif isinstance(engine, str) and engine and _engine_family(engine) is None:
        yield (f"engine {engine!r} is not one whose TLS parameter this pack knows ({', '.join(sorted(TLS_PARAMETERS))}); "
               "verify by hand that it rejects connections without TLS")


data_stores_tls_unverified = resource_policy(
    name="data-stores-tls-unverified",
    description="Databases whose engine's TLS enforcement the pack cannot verify are reported for a manual check.",
    level=ADVISORY,
    severity=Severity.LOW,
    remediation=("check the engine's documentation for the parameter that rejects plain connections and set it in "
                 "the database's parameter group; then add the engine to the pack's TLS_PARAMETERS."),
    types=("aws:rds/instance:Instance", "aws:rds/cluster:Cluster"),
    check=check_tls_unverified,
)


def check_bucket_policy_tls(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    document = parse_document(resource.get("policy"), "policy")
    if document is None:
        yield "has no policy document"
        return
    if is_unknown(document):
        yield Deferred("policy")
        return
    for problem in document.problems:
        yield f"its policy is malformed: {problem}"
    if not any(_denies_plain_http(statement) for statement in document.statements):
        yield "does not deny requests without TLS (Deny s3:* to \"*\" when aws:SecureTransport is false)"


s3_bucket_policies_deny_plain_http = resource_policy(
    name="s3-bucket-policies-deny-plain-http",
    description="Every S3 bucket policy denies requests made without TLS.",
    level=MANDATORY,
    severity=Severity.HIGH,
    remediation=('add the statement {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [bucket ARN, '
                 'bucket ARN + "/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}.'),
    types=(BUCKET_POLICY,),
    check=check_bucket_policy_tls,
)

SSE_CONFIG = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)


def _sse_algorithms(rules: Any) -> Iterator[Any]:
    if is_unknown(rules):
        yield UNKNOWN
        return
    for rule in ([rules] if isinstance(rules, Mapping) else as_list(rules, "rules")):
        if is_unknown(rule):
            yield UNKNOWN
            continue
        default = dig(rule, "applyServerSideEncryptionByDefault")
        if isinstance(default, list):  # some provider versions send the block as a list of one
            default = default[0] if default else None
        yield dig(default, "sseAlgorithm")


LOGGING_TYPES = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")


def check_bucket_encryption(resource: Resource, stack: Stack, ctx: Context) -> Iterator[Outcome]:
    # S3 server access logging cannot deliver to a bucket encrypted with SSE-KMS: a bucket that is the target of a
    # BucketLogging of this stack must use SSE-S3 (AES256), which is still encryption at rest.
    log_target = bool(stack.dependents(resource, "targetBucket", *LOGGING_TYPES))
    allowed = KMS_ALGORITHMS + (("AES256",) if log_target else ())
    configs = [(f"encryption configuration {c.name}", c.name, c.get("rules")) for c in
               stack.dependents(resource, "bucket", *SSE_CONFIG)]
    configs.extend(_inline_sse(resource))
    if not configs:
        yield "has no default server-side encryption configuration"
        return
    for label, name, rules in configs:
        for algorithm in _sse_algorithms(rules):
            if is_unknown(algorithm):
                yield Deferred(f"{name}.rules")
            elif algorithm not in allowed:
                yield f"{label} uses {algorithm!r}, not a KMS key (aws:kms)"


def _inline_sse(resource: Resource) -> list[tuple[str, str, Any]]:
    """Encryption set on the bucket itself: `serverSideEncryptionConfiguration.rule` (Bucket) or the list
    `serverSideEncryptionConfigurations[].rules` (BucketV2); deprecated in favour of the separate resource, still valid."""
    out: list[tuple[str, str, Any]] = []
    single = resource.get("serverSideEncryptionConfiguration")
    if is_unknown(single):
        out.append(("its inline encryption", "serverSideEncryptionConfiguration", UNKNOWN))
    elif isinstance(single, Mapping) and single.get("rule") is not None:
        out.append(("its inline encryption", "serverSideEncryptionConfiguration", single.get("rule")))
    listed = resource.get("serverSideEncryptionConfigurations")
    if is_unknown(listed):
        out.append(("its inline encryption", "serverSideEncryptionConfigurations", UNKNOWN))
    elif isinstance(listed, list):
        for item in listed:
            rules = dig(item, "rules") if not is_unknown(item) else UNKNOWN
            if rules is not None:
                out.append(("its inline encryption", "serverSideEncryptionConfigurations", rules))
    return out


s3_buckets_encrypted_with_kms = stack_policy(
    name="s3-buckets-encrypted-with-kms",
    description="Every S3 bucket encrypts objects by default with a KMS key (SSE-S3 only for access-log targets).",
    level=MANDATORY,
    severity=Severity.HIGH,
    remediation=('declare aws.s3.BucketServerSideEncryptionConfiguration with sse_algorithm="aws:kms", the '
                 "stack's KMS key and bucket_key_enabled=True (AES256 only for a server-access-log target bucket)."),
    types=BUCKET_TYPES,
    check=check_bucket_encryption,
)

# --- load balancers ---------------------------------------------------------------------------------------------------

LISTENER_TYPES = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
INGRESS_TYPES = tuple(
    f"kubernetes:{group}:Ingress" for group in ("networking.k8s.io/v1", "networking.k8s.io/v1beta1", "extensions/v1beta1")
)
SERVICE_TYPE = "kubernetes:core/v1:Service"
ALB = "alb.ingress.kubernetes.io/"


def _listener(resource: Resource) -> Iterator[Outcome]:
    protocol = as_str(resource.get("protocol"), "protocol")
    if is_unknown(protocol):
        yield Deferred("protocol")
        return
    protocol = (protocol or "HTTP").upper()
    if protocol in ("HTTPS", "TLS", "GENEVE"):
        return
    if protocol != "HTTP":
        yield f"serves plain {protocol}; use a TLS listener"
        return
    actions = resource.get("defaultActions")
    if is_unknown(actions):
        yield Deferred("defaultActions")
        return
    actions = as_list(actions, "defaultActions")
    redirects = [a for a in actions if isinstance(a, Mapping) and a.get("type") == "redirect"
                 and str(dig(a, "redirect", "protocol") or "").upper() == "HTTPS"]
    if not actions or len(redirects) != len(actions):
        yield "serves plain HTTP; an HTTP listener may only redirect to HTTPS (HTTP_301 to port 443)"


def _annotations(resource: Resource) -> Mapping[str, Any] | Any:
    annotations = resource.get("metadata", "annotations")
    if is_unknown(annotations):
        return UNKNOWN
    return annotations if isinstance(annotations, Mapping) else {}


def _ingress(resource: Resource) -> Iterator[Outcome]:
    annotations = _annotations(resource)
    if is_unknown(annotations):
        yield Deferred("metadata.annotations")
        return
    ingress_class = resource.get("spec", "ingressClassName")
    tls = resource.get("spec", "tls")
    if is_unknown(ingress_class) or is_unknown(tls):
        yield Deferred("spec")
        return
    ingress_class = ingress_class or annotations.get("kubernetes.io/ingress.class")
    is_alb = ingress_class == "alb" or any(str(k).startswith(ALB) for k in annotations)
    if not is_alb:
        if not tls:
            yield "has no spec.tls, so its load balancer serves plain HTTP"
        return
    for key in (f"{ALB}listen-ports", f"{ALB}ssl-redirect"):
        if is_unknown(annotations.get(key)):
            yield Deferred(f"metadata.annotations.{key}")
            return
    # An unknown certificate ARN is a certificate of this stack: present, which is what counts.
    certificate = annotations.get(f"{ALB}certificate-arn")
    has_certificate = is_unknown(certificate) or bool(certificate) or bool(tls)
    raw_ports = annotations.get(f"{ALB}listen-ports")
    if raw_ports is None:
        # The controller's default: HTTPS 443 when a certificate is given, otherwise HTTP 80.
        ports = [{"HTTPS": 443}] if is_unknown(certificate) or certificate else [{"HTTP": 80}]
    else:
        try:
            ports = json.loads(raw_ports) if isinstance(raw_ports, str) else raw_ports
        except ValueError:
            raise OddInput(f"{ALB}listen-ports is not JSON: {raw_ports!r}") from None
        if not isinstance(ports, list) or not all(isinstance(p, Mapping) for p in ports):
            raise OddInput(f"{ALB}listen-ports should be a JSON list of objects")
    protocols = {str(k).upper() for p in ports for k in p}
    if "HTTPS" not in protocols:
        yield "its ALB has no HTTPS listener (alb.ingress.kubernetes.io/listen-ports)"
    elif not has_certificate:
        yield "its ALB HTTPS listener has no certificate (alb.ingress.kubernetes.io/certificate-arn or spec.tls)"
    if "HTTP" in protocols and not annotations.get(f"{ALB}ssl-redirect"):
        yield "its ALB serves plain HTTP without redirecting to HTTPS (alb.ingress.kubernetes.io/ssl-redirect: '443')"


def _service(resource: Resource) -> Iterator[Outcome]:
    kind = as_str(resource.get("spec", "type"), "spec.type")
    if is_unknown(kind):
        yield Deferred("spec.type")
        return
    if kind != "LoadBalancer":
        return
    annotations = _annotations(resource)
    if is_unknown(annotations):
        yield Deferred("metadata.annotations")
        return
    scheme = str(annotations.get("service.beta.kubernetes.io/aws-load-balancer-scheme", "")).lower()
    internal = str(annotations.get("service.beta.kubernetes.io/aws-load-balancer-internal", "")).lower()
    if scheme == "internal" or internal in ("true", "0.0.0.0/0"):
        return
    if not annotations.get("service.beta.kubernetes.io/aws-load-balancer-ssl-cert"):
        yield "is an internet-facing LoadBalancer Service without TLS (aws-load-balancer-ssl-cert)"


def check_https_only(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    if resource.type in LISTENER_TYPES:
        yield from _listener(resource)
    elif resource.type in INGRESS_TYPES:
        yield from _ingress(resource)
    else:
        yield from _service(resource)


load_balancers_https_only = resource_policy(
    name="load-balancers-https-only",
    description="Every load balancer listener serves HTTPS; plain HTTP only redirects to HTTPS.",
    level=MANDATORY,
    severity=Severity.HIGH,
    remediation=("serve HTTPS with an ACM certificate and make the HTTP listener a redirect to HTTPS (for an "
                 "Ingress: listen-ports HTTP 80 + HTTPS 443, certificate-arn and ssl-redirect: '443')."),
    types=LISTENER_TYPES + INGRESS_TYPES + (SERVICE_TYPE,),
    check=check_https_only,
)


def check_certificates_renew(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    if resource.type == "aws:iam/serverCertificate:ServerCertificate":
        yield "is an uploaded IAM server certificate, which never renews"
        return
    if resource.type in LISTENER_TYPES:
        arn = resource.get("certificateArn")
        if isinstance(arn, str) and ":server-certificate/" in arn:
            yield "serves an uploaded IAM server certificate, which never renews"
        return
    if _present(resource.get("privateKey")) or _present(resource.get("certificateBody")):
        yield "is an imported certificate: ACM cannot renew it"
        return
    if _present(resource.get("certificateAuthorityArn")):
        return  # issued by a private CA, which ACM renews
    method = as_str(resource.get("validationMethod"), "validationMethod")
    if is_unknown(method):
        yield Deferred("validationMethod")
    elif method != "DNS":
        yield f"is validated by {method or 'no method'}; only DNS validation renews without anyone acting"


certificates_auto_renew = resource_policy(
    name="certificates-auto-renew",
    description="Certificates renew themselves: ACM with DNS validation, never imported or uploaded ones.",
    level=MANDATORY,
    severity=Severity.MEDIUM,
    remediation='request the certificate from ACM with validation_method="DNS" and a Route 53 validation record.',
    types=("aws:acm/certificate:Certificate", "aws:iam/serverCertificate:ServerCertificate") + LISTENER_TYPES,
    check=check_certificates_renew,
)

POLICIES = [
    data_stores_encrypted_at_rest,
    data_stores_encrypted_in_transit,
    data_stores_enforce_tls,
    data_stores_tls_unverified,
    s3_bucket_policies_deny_plain_http,
    s3_buckets_encrypted_with_kms,
    load_balancers_https_only,
    certificates_auto_renew,
]
