"""The security group in front of a data store: one TCP port, open only to the platform's clients.

Clients are named by security group (the EKS cluster's, which the control plane and every managed node carry), never
by CIDR: no address range, private or public, is ever admitted. There are no egress rules: the stores only answer
connections (security groups are stateful), they never open one, so the group's egress is managed and empty rather
than AWS's allow-all default.

`data_security_group(...)` declares the group and one ingress rule per client security group under the calling
component.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws


def data_security_group(
    name: str,
    *,
    parent: pulumi.Resource,
    vpc_id: pulumi.Input[str],
    port: int,
    what: str,
    client_security_group_ids: Sequence[pulumi.Input[str]],
    name_tag: str,
) -> aws.ec2.SecurityGroup:
    if not client_security_group_ids:
        raise ValueError(f"{name}: a data store needs its clients: client_security_group_ids (the cluster's group)")
    child = pulumi.ResourceOptions(parent=parent)
    group = aws.ec2.SecurityGroup(
        f"{name}-sg",
        vpc_id=vpc_id,
        description=f"{what}: TCP {port} from the platform clients only",
        egress=[],
        tags={"Name": name_tag},
        opts=child,
    )
    for index, source in enumerate(client_security_group_ids):
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-from-sg-{index}",
            security_group_id=group.id,
            description=f"{what} from the cluster security group",
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            referenced_security_group_id=source,
            opts=child,
        )
    return group
