"""Entry point the Pulumi CLI runs (`pulumi preview --policy-pack policies`): assemble the pack and serve it.

Only assembly happens here (and `serving.install()`, which has the SDK run on each resource only the policies that
apply to its type). `PolicyPack(...)` starts the gRPC server, prints its port on stdout for the CLI and
blocks, so the policies live in the importable `platform_policies` package, and nothing else in this pack prints to
stdout. The default enforcement level is mandatory: a policy that forgets to set its own level blocks rather than
being silently advisory.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from platform_policies import PACK_NAME, POLICIES, serving

serving.install()
PolicyPack(
    name=PACK_NAME,
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=POLICIES,
    description="Security baseline of the platform: secrets, exposure, root, permissions, encryption, data loss.",
)
