"""`platform:network`: the VPC layout, read into `components.network.NetworkArgs`.

Rules: the VPC CIDR is a private IPv4 block from /16 to /24; one subnet CIDR per AZ and tier, each inside the VPC and
none overlapping; 2 to 6 AZs (prod at least 3); NAT `single` or `per-az` (prod must be `per-az`); flow-log retention a
value CloudWatch Logs accepts.
"""

from __future__ import annotations

import itertools

from components.network import DEFAULT_INTERFACE_ENDPOINTS, TIERS, NetworkArgs

from .reader import RFC1918_EXPECTED, Section, is_rfc1918, parse_cidr

# The retention periods CloudWatch Logs accepts (days).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)


def log_retention(section: Section, key: str, default: int) -> int:
    value = section.integer(key, default, minimum=1)
    if value not in LOG_RETENTION_DAYS:
        section.problem(key, "a CloudWatch Logs retention period (one of " + ", ".join(map(str, LOG_RETENTION_DAYS)) + ")", value)
        return default
    return value


def parse_network(s: Section, *, prod: bool, cluster_name: str, name_prefix: str) -> NetworkArgs:
    defaults = NetworkArgs()
    before = len(s.problems)
    cidr = s.cidr("cidr", defaults.cidr, min_prefix=16, max_prefix=24)
    # A bad VPC CIDR is reported once, not again for every subnet measured against a fallback.
    vpc = parse_cidr(cidr) if len(s.problems) == before else None
    if vpc is not None and not is_rfc1918(vpc):
        s.problem("cidr", RFC1918_EXPECTED, cidr)

    az_count = s.integer("azCount", defaults.az_count, minimum=2, maximum=6)
    if prod and az_count < 3:
        s.problem("azCount", "at least 3 availability zones in prod", az_count)

    nat_mode = s.string("natMode", defaults.nat_mode, choices=("single", "per-az"))
    if prod and nat_mode != "per-az":
        s.problem("natMode", "'per-az' in prod (one NAT gateway per availability zone)", nat_mode)

    subnets_section = s.section("subnets")
    subnets: dict[str, tuple[str, ...]] = {}
    all_nets = []
    for tier in TIERS:
        listed = subnets_section.strings(tier, defaults.subnets(tier), expected="IPv4 CIDRs")
        if len(listed) != az_count:
            subnets_section.problem(
                tier, f"{az_count} subnet CIDRs (one per availability zone)", listed, cause=s.cause_of("azCount")
            )
        for index, item in enumerate(listed):
            path = f"{tier}[{index}]"
            net = parse_cidr(item)
            if net is None:
                subnets_section.problem(path, "an IPv4 CIDR", item)
            elif not 16 <= net.prefixlen <= 28:
                subnets_section.problem(path, "a subnet prefix from /16 to /28", item)
            elif vpc is not None and not net.subnet_of(vpc):
                subnets_section.problem(path, f"a CIDR inside the VPC CIDR {vpc}", item, cause=s.cause_of("cidr"))
            else:
                all_nets.append((path, net))
        subnets[tier] = tuple(listed)
    for (path_a, a), (path_b, b) in itertools.combinations(all_nets, 2):
        if a.overlaps(b):
            subnets_section.problem(path_b, f"a CIDR that does not overlap {subnets_section.key_path(path_a)} ({a})", str(b))
    subnets_section.done()

    retention = log_retention(s, "flowLogRetentionDays", defaults.flow_log_retention_days)
    endpoints = s.strings(
        "interfaceEndpoints", defaults.interface_endpoints, pattern=r"[a-z0-9][a-z0-9.-]*", expected="AWS service names"
    )
    missing = [e for e in DEFAULT_INTERFACE_ENDPOINTS if e not in endpoints]
    if missing:
        s.problem("interfaceEndpoints", "a list that includes " + ", ".join(DEFAULT_INTERFACE_ENDPOINTS), f"a list without {', '.join(missing)}", quoted=False)
    s.done()
    return NetworkArgs(
        cidr=cidr,
        az_count=az_count,
        nat_mode=nat_mode,  # type: ignore[arg-type]
        public_subnets=subnets["public"],
        private_subnets=subnets["private"],
        data_subnets=subnets["data"],
        flow_log_retention_days=retention,
        interface_endpoints=endpoints,
        cluster_name=cluster_name,
        name_prefix=name_prefix,
    )
