"""What AWS offers in the stack's region, from the regional data cfn-lint ships, checked at config time.

A stack file naming an instance type, an RDS class, an ElastiCache node type or an Amazon MQ host type that the region
does not offer would pass every offline check and fail at the first `pulumi up`, after the network and the cluster
were created. cfn-lint bundles AWS's regional offerings (gathered from the AWS pricing APIs; the data's date is in
cfn-lint's release) as JSON schema extensions; this module reads those files directly, so no list is kept here.
Also: characters AWS refuses in names that come from config, by the CloudFormation schema's own patterns.
"""

from __future__ import annotations

import importlib.util
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import Problem

@lru_cache(maxsize=1)
def _schemas() -> Path:
    """cfn-lint's bundled data folder, found without importing cfn-lint (its package import costs about a second, which
    every program run would pay)."""
    spec = importlib.util.find_spec("cfnlint")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("cfn-lint is not installed (requirements.txt pins it)")
    return Path(spec.origin).parent / "data" / "schemas"


@lru_cache(maxsize=None)
def _data(module: str, filename: str) -> dict[str, Any]:
    return json.loads((_schemas() / "extensions" / module / filename).read_text())


def _regional_enum(module: str, filename: str, region: str) -> frozenset[str] | None:
    entry = _data(module, filename).get(region)
    return frozenset(entry["enum"]) if entry and "enum" in entry else None


def ec2_instance_types(region: str) -> frozenset[str] | None:
    """EC2 instance types offered in `region` (None: cfn-lint has no data for the region)."""
    return _regional_enum("aws_ec2_instance", "instancetype_enum.json", region)


def cache_node_types(region: str) -> frozenset[str] | None:
    return _regional_enum("aws_elasticache_cachecluster", "cachenodetype_enum.json", region)


def mq_instance_types(region: str) -> frozenset[str] | None:
    return _regional_enum("aws_amazonmq_broker", "instancetype_enum.json", region)


def _engine_entries(document: dict[str, Any], engine: str) -> list[dict[str, Any]]:
    """The `if Engine == engine [and EngineVersion ~ ...] then DBInstanceClass in enum` branches for one engine."""
    out = []
    for branch in document.get("allOf", []):
        condition = branch.get("if", {}).get("properties", {})
        if condition.get("Engine", {}).get("const") != engine:
            continue
        if set(branch["if"].get("required", [])) - {"Engine", "EngineVersion", "DBInstanceClass"}:
            continue  # licence-model variants of commercial engines
        enum = branch.get("then", {}).get("properties", {}).get("DBInstanceClass", {}).get("enum")
        if enum:
            out.append({"version": condition.get("EngineVersion", {}).get("pattern"), "classes": set(enum)})
    return out


def rds_instance_classes(region: str, engine: str, version: str | None = None) -> frozenset[str] | None:
    """RDS instance classes offered in `region` for `engine` and, when the data has it, that engine version (a major
    version such as '16' takes every 16.x the data knows)."""
    regional = _data("aws_rds_dbinstance", "dbinstanceclass_enum.json").get(region)
    if not regional:
        return None
    offered = set().union(*(e["classes"] for e in _engine_entries(regional, engine))) or None
    if offered is None:
        return None
    if version:
        by_version = _engine_entries(_data("aws_rds_dbinstance", "db_instance_class.json"), engine)
        matching = [
            e["classes"] for e in by_version
            if e["version"] and (re.match(e["version"], version) or re.match(e["version"], _first_minor(e, version)))
        ]
        if matching:
            offered &= set().union(*matching)
    return frozenset(offered)


def _first_minor(entry: dict[str, Any], version: str) -> str:
    """A major version ('16') matches the data's minor versions of that major ('^(16\\.4\\..+|16\\.4)$')."""
    if "." in version:
        return version
    found = re.match(r"\^\((\d+)\\\.(\d+)", entry["version"] or "")
    return f"{found.group(1)}.{found.group(2)}" if found and found.group(1) == version else version


@lru_cache(maxsize=None)
def resource_schema(cfn_type: str, region: str = "us-east-1") -> dict[str, Any]:
    """The CloudFormation registry schema of a type, as cfn-lint bundles it for a region."""
    index = json.loads((_schemas() / "providers" / f"{region}.json").read_text())
    return json.loads((_schemas() / "resources" / f"{index[cfn_type]}.json").read_text())


def schema_pattern(cfn_type: str, prop: str) -> tuple[str | None, int | None]:
    """The pattern and maximum length the CloudFormation schema gives a property."""
    schema = resource_schema(cfn_type)["properties"].get(prop, {})
    return schema.get("pattern"), schema.get("maxLength")


def _offered(path: str, value: str, offered: frozenset[str] | None, what: str, region: str) -> list[Problem]:
    if offered is None or value in offered:
        return []
    return [Problem(path, f"{what} offered in {region} (cfn-lint's regional data)", repr(value))]


def check(config: Any) -> list[Problem]:
    """Every region-offering and name-character problem of a parsed `StackConfig`."""
    region = config.region
    problems: list[Problem] = []
    types = ec2_instance_types(region)
    for group, args in (("system", config.cluster.system_nodes), ("workload", config.cluster.workload_nodes)):
        for index, instance_type in enumerate(args.instance_types):
            problems += _offered(f"platform:cluster.nodeGroups.{group}.instanceTypes[{index}]", instance_type, types,
                                 "an EC2 instance type", region)
    db = config.database
    problems += _offered("platform:database.instanceClass", db.instance_class,
                         rds_instance_classes(region, "postgres", db.engine_version),
                         f"an RDS instance class for postgres {db.engine_version}", region)
    problems += _offered("platform:cache.nodeType", config.cache.node_type, cache_node_types(region),
                         "an ElastiCache node type", region)
    broker = getattr(config.messaging, "broker", None)
    if broker is not None:
        problems += _offered("platform:messaging.rabbitmq.instanceType", broker.instance_type,
                             mq_instance_types(region), "an Amazon MQ instance type", region)
    problems += _names(config)
    return problems


def _names(config: Any) -> list[Problem]:
    """Names built from config, against the CloudFormation schema's pattern and length for the property."""
    out = _matches("platform:database.username", "AWS::RDS::DBInstance", "MasterUsername",
                   config.database.master_username)
    if getattr(config.messaging, "broker", None) is not None:
        # The broker is named after the stack; Amazon MQ allows letters, digits, - and _ only.
        out += _matches("platform:messaging.rabbitmq", "AWS::AmazonMQ::Broker", "BrokerName",
                        f"{config.name_prefix}-rabbitmq", what="a stack name that makes a valid broker name")
    return out


def _matches(path: str, cfn_type: str, prop: str, value: str | None, what: str = "a value") -> list[Problem]:
    if not isinstance(value, str):
        return []
    pattern, max_length = schema_pattern(cfn_type, prop)
    if pattern and not re.search(pattern, value):
        return [Problem(path, f"{what} matching {cfn_type} {prop}'s pattern {pattern}", repr(value))]
    if max_length and len(value) > max_length:
        return [Problem(path, f"at most {max_length} characters ({cfn_type} {prop})", f"{len(value)} characters")]
    return []
