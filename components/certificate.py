"""The public TLS certificate of the platform's ALB: ACM, validated by DNS in the stack's Route 53 zone.

DNS validation keeps a CNAME in the zone for as long as the certificate exists, so ACM renews it by itself. The zone
is looked up by name (it is created and delegated outside this program). The certificate ARN is taken from the
validation resource, so whoever uses it waits until ACM has issued the certificate. The Ingresses that serve it (HTTPS
with the ingress's TLS policy, HTTP redirected) are `components/workloads.py`'s.

Inputs (`CertificateArgs`): the hosted zone's name, the domain, subject alternative names (e.g. the wildcard).
Outputs: `certificate_arn` (validated), `zone_id`, `domains`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

# TLS 1.3 and 1.2 only, forward-secret ciphers: the ELB policy recommended for internet-facing listeners.
SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


@dataclass(frozen=True)
class CertificateArgs:
    hosted_zone: str = "example.com"
    domain: str = "example.com"
    alternative_names: tuple[str, ...] = ()


def validation_names(domains: Sequence[str]) -> list[str]:
    """One validation record per distinct name: `*.example.com` and `example.com` share theirs."""
    seen: dict[str, str] = {}
    for domain in domains:
        seen.setdefault(domain.removeprefix("*."), domain)
    return list(seen.values())


def _option_for(options: Sequence[Any], domain: str) -> Any:
    for option in options:
        if option.domain_name == domain:
            return option
    raise ValueError(f"ACM returned no DNS validation option for {domain}")


class PublicCertificate(pulumi.ComponentResource):
    certificate_arn: pulumi.Output[str]
    zone_id: pulumi.Output[str]
    domains: list[str]

    def __init__(self, name: str, args: CertificateArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:tls:PublicCertificate", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        zone = aws.route53.get_zone_output(
            name=args.hosted_zone, private_zone=False, opts=pulumi.InvokeOutputOptions(parent=self)
        )
        self.domains = [args.domain, *args.alternative_names]
        certificate = aws.acm.Certificate(
            f"{name}-certificate",
            domain_name=args.domain,
            subject_alternative_names=list(args.alternative_names) or None,
            validation_method="DNS",
            options=aws.acm.CertificateOptionsArgs(certificate_transparency_logging_preference="ENABLED"),
            tags={"Name": args.domain},
            opts=child,
        )
        records = []
        for index, domain in enumerate(validation_names(self.domains)):
            option = certificate.domain_validation_options.apply(lambda options, d=domain: _option_for(options, d))
            records.append(
                aws.route53.Record(
                    f"{name}-validation-{index}",
                    zone_id=zone.zone_id,
                    name=option.resource_record_name,
                    type=option.resource_record_type,
                    records=[option.resource_record_value],
                    ttl=300,
                    # A record left by an earlier certificate for the same name is the same CNAME: take it over.
                    allow_overwrite=True,
                    opts=child,
                )
            )
        validation = aws.acm.CertificateValidation(
            f"{name}-validation",
            certificate_arn=certificate.arn,
            validation_record_fqdns=[record.fqdn for record in records],
            opts=child,
        )

        self.certificate_arn = validation.certificate_arn
        self.zone_id = zone.zone_id
        self.register_outputs({"certificateArn": self.certificate_arn, "domains": self.domains})
