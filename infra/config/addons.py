"""`platform:addons`: chart pins, Argo CD, and the public TLS certificate, read into `AddonsArgs` and `CertificateArgs`.

Rules: `charts` is the one table of Helm chart versions: every add-on the platform knows is listed, nothing else is,
and each version is an exact pin (`1.2.3`, optionally `v`-prefixed, with a pre-release or build suffix): empty,
`latest`, ranges (`^1.2`, `~1`, `>=1.0`, `1.2 - 1.4`) and wildcards (`*`, `1.x`) are refused, because a chart that
moves under a stack is an unreviewed change. The certificate's domain and alternative names are inside the hosted
zone, a wildcard only as the leftmost label.
"""

from __future__ import annotations

from components.addons import CHARTS, AddonsArgs
from components.certificate import CertificateArgs

from .cluster import listed
from .reader import Section

EXACT_VERSION = r"v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?"
UNPINNED = (
    "an exact chart version such as '1.2.3' (not empty, 'latest', a range like '^1.2', '~1' or '>=1.0', "
    "or a wildcard like '*' or '1.x')"
)
HOSTNAME = r"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
DOMAIN = rf"(\*\.)?{HOSTNAME}"


def _in_zone(name: str, zone: str) -> bool:
    bare = name.removeprefix("*.")
    return bare == zone or bare.endswith(f".{zone}")


def parse_charts(s: Section) -> dict[str, str]:
    """The version table: exact pins only, every known add-on, no unknown ones."""
    versions: dict[str, str] = {}
    for key in CHARTS:
        version = s.string(key, pattern=EXACT_VERSION, expected=UNPINNED)
        if version:
            versions[key] = version
    s.done()
    return versions


def parse_certificate(s: Section) -> CertificateArgs:
    zone = s.string("hostedZone", pattern=HOSTNAME, expected="a DNS zone name such as 'example.com' (lower case)") or ""
    domain = s.string("domain", pattern=DOMAIN, expected="a DNS name in the hosted zone (lower case)") or ""
    alternatives = listed(
        s, "alternativeNames", (), pattern=DOMAIN, items="DNS names in the hosted zone",
        item="a DNS name (lower case, a wildcard only as the leftmost label)",
    )
    if zone:
        for key, name in [("domain", domain), *((f"alternativeNames[{i}]", n) for i, n in enumerate(alternatives))]:
            if name and not _in_zone(name, zone):
                s.problem(key, f"a name inside the hosted zone {zone}", name)
    if domain in alternatives:
        s.problem("alternativeNames", f"names other than the domain {domain}", list(alternatives))
    s.done()
    return CertificateArgs(hosted_zone=zone, domain=domain, alternative_names=alternatives)


def parse_addons(s: Section) -> tuple[AddonsArgs, CertificateArgs]:
    versions = parse_charts(s.section("charts"))
    argocd = s.section("argocd")
    argocd_enabled = argocd.boolean("enabled", False)
    argocd.done()
    certificate = parse_certificate(s.section("tls"))
    s.done()
    return AddonsArgs(chart_versions=versions, argocd_enabled=argocd_enabled), certificate
