"""The service-to-service token: the shared value services send and check in the `X-Internal-Token` header.

Generated with pulumi-random (never a literal or a config value) and stored in Secrets Manager under the stack's
prefix, encrypted with the stack's secrets key. Workloads receive it through External Secrets by the exported ARN;
rotating it means replacing the random value (`pulumi up --replace` on it) and rolling the services.

Inputs (`InternalTokenArgs`): the stack's secrets store, the name under its prefix, the token length.
Outputs: `secret_arn`, `secret_name`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from .secrets import GeneratedSecret, GeneratedSecretArgs, SecretStore

HEADER = "X-Internal-Token"


@dataclass(frozen=True)
class InternalTokenArgs:
    store: SecretStore
    name: str = "internal/api-token"
    length: int = 64


class InternalToken(pulumi.ComponentResource):
    secret_arn: pulumi.Output[str]
    secret_name: pulumi.Output[str]

    def __init__(self, name: str, args: InternalTokenArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:secrets:InternalToken", name, None, opts)
        token = GeneratedSecret(
            f"{name}-value",
            GeneratedSecretArgs(
                store=args.store,
                name=args.name,
                description=f"Service-to-service token sent in the {HEADER} header",
                length=args.length,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.secret_arn = token.arn
        self.secret_name = token.name
        self.register_outputs({"secretArn": self.secret_arn, "secretName": self.secret_name})
