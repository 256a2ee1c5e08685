"""Every stack config key outside `platform:` accounted for: read by the program, or refused with the reason.

The program declares its own AWS and Kubernetes providers, and an explicit provider reads no stack config: only the
`aws:` keys the program passes to its provider take effect, so any other key the AWS provider knows would be
silently ignored, and is refused. Keys the provider does not know at all (`aws:regoin`) and namespaces nobody reads
(`platfrom:cache`) are typos, reported with the key they most likely meant. The AWS provider's keys and regions come
from pulumi-aws itself, not from a list kept here.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

import pulumi_aws as aws

from .errors import Problem
from .reader import nearest, show

# The aws: keys the program passes to its explicit provider.
AWS_KEYS_USED = ("region", "allowedAccountIds")
# Engine settings under pulumi: that the CLI itself reads.
PULUMI_KEYS = ("tags", "disable-default-providers")
# Providers the program declares itself: stack config under their namespaces never reaches them.
EXPLICIT_PROVIDERS = ("kubernetes", "eks", "random")


@cache
def aws_provider_keys() -> tuple[str, ...]:
    """The config keys of the AWS provider (its ProviderArgs, in camelCase as stack files spell them)."""
    names = [p for p in inspect.signature(aws.ProviderArgs.__init__).parameters if p not in ("self", "__self__")]
    return tuple(re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), n) for n in names)


@cache
def aws_regions() -> frozenset[str]:
    return frozenset(r.value for r in aws.Region)


def check_namespaces(values: Mapping[str, Any], project: str, platform_keys: Iterable[str], problems: list[Problem]) -> None:
    known = [f"{project}:{k}" for k in platform_keys] + [f"aws:{k}" for k in AWS_KEYS_USED]
    for key in values:
        namespace, _, name = key.partition(":")
        if namespace == project:
            continue  # the platform: parsers report their own unknown keys
        if namespace == "aws":
            if name in AWS_KEYS_USED:
                continue
            if name in aws_provider_keys():
                problems.append(Problem(
                    key,
                    "only aws:" + " or aws:".join(AWS_KEYS_USED) + " (the program declares its own AWS provider, "
                    "which reads no other aws: stack config)",
                    f"{key}, which would be ignored",
                ))
            else:
                meant = nearest(key, known)
                problems.append(Problem(
                    key,
                    "a key of the AWS provider",
                    f"unknown key {key!r}" + (f" (did you mean {meant!r}?)" if meant else ""),
                ))
        elif namespace == "pulumi" and name in PULUMI_KEYS:
            continue
        elif namespace in EXPLICIT_PROVIDERS:
            problems.append(Problem(
                key,
                f"no {namespace}: keys (the program declares its own {namespace} provider, which reads no stack config)",
                f"{key}, which would be ignored",
            ))
        else:
            meant = nearest(key, known)
            problems.append(Problem(
                key,
                f"a key of a namespace the program reads ({project}:, aws:)",
                f"unknown namespace {namespace!r}" + (f" (did you mean {meant!r}?)" if meant else ""),
            ))


def region(values: Mapping[str, Any], default: str, problems: list[Problem]) -> str:
    value = values.get("aws:region", default)
    if not (isinstance(value, str) and value in aws_regions()):
        meant = nearest(str(value), sorted(aws_regions())) if isinstance(value, str) else None
        problems.append(Problem(
            "aws:region",
            "an AWS region such as ap-northeast-2",
            show(value) + (f" (did you mean {meant!r}?)" if meant else ""),
        ))
        return default
    return value


def allowed_account_ids(values: Mapping[str, Any], problems: list[Problem]) -> tuple[str, ...]:
    """`aws:allowedAccountIds`: the provider refuses to act in any other account (a prod stack in a wrong account)."""
    value = values.get("aws:allowedAccountIds", [])
    if not (isinstance(value, list) and all(isinstance(v, str) and re.fullmatch(r"[0-9]{12}", v) for v in value)):
        problems.append(Problem("aws:allowedAccountIds", "a list of 12-digit AWS account IDs (as strings)", show(value)))
        return ()
    return tuple(value)
