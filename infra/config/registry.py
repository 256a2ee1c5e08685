"""`platform:registry`: the account's ECR repositories for the catalogue's images, and who may push to them.

The repositories themselves are not configured: there is one for each catalogued image without a registry host (the
catalogue is the list). This section says who pushes (`pushRoleArn`, the CI role that GitHub Actions assumes over
OIDC; required, since nothing else may write an image) and how long images are kept. Rules: the push role is an IAM
role ARN; untagged images expire after 1-90 days; 5-1000 images are kept per repository; prod keeps `protect` on and
`forceDelete` off (deleting the stack must not delete the images a running service pulls).
"""

from __future__ import annotations

from dataclasses import dataclass

from .durability import prod_requires, protect_flag
from .reader import Section

ROLE_ARN_PATTERN = r"arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}"


@dataclass(frozen=True)
class RegistrySettings:
    push_role_arn: str = ""
    untagged_expire_days: int = 7
    keep_releases: int = 30
    force_delete: bool = False
    protect: bool = True


def parse_registry(s: Section, *, prod: bool) -> RegistrySettings:
    d = RegistrySettings()
    push_role_arn = s.string(
        "pushRoleArn",
        pattern=ROLE_ARN_PATTERN,
        expected="the ARN of the CI role that pushes images (arn:aws:iam::<account>:role/<name>)",
    )
    force_delete = s.boolean("forceDelete", d.force_delete)
    prod_requires(s, "forceDelete", force_delete, False, prod=prod, why="deleting the stack must keep the images")
    settings = RegistrySettings(
        push_role_arn=push_role_arn or "",
        untagged_expire_days=s.integer("untaggedExpireDays", d.untagged_expire_days, minimum=1, maximum=90),
        keep_releases=s.integer("keepImages", d.keep_releases, minimum=5, maximum=1000),
        force_delete=force_delete,
        protect=protect_flag(s, prod=prod),
    )
    s.done()
    return settings
