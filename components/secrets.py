"""Generated credentials kept in Secrets Manager: a random value that never appears in code, config or plain state.

`SecretStore` says where a stack's secrets go: every name under the stack's prefix (`platform/<stack>/`, the only
path External Secrets may read), encrypted with the stack's customer-managed secrets key, with a recovery window.
`GeneratedSecret` generates a value with pulumi-random (its result is a secret Output, so Pulumi encrypts it in
state and it reaches every consumer marked secret) and stores it, alone or as `{"username", "password"}` JSON.

Inputs (`GeneratedSecretArgs`): the store, the name under the prefix, a description, an optional username, length.
Outputs: `value` (secret), `arn`, `name`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random


@dataclass(frozen=True)
class SecretStore:
    """Where and how a stack keeps its secrets."""

    prefix: str  # "platform/<stack>/"
    kms_key_arn: pulumi.Input[str]
    recovery_window_days: int = 30

    def path(self, name: str) -> str:
        return f"{self.prefix}{name}"


@dataclass(frozen=True)
class GeneratedSecretArgs:
    store: SecretStore
    name: str  # under the store's prefix, e.g. "redis/auth-token"
    description: str
    # With a username the secret holds {"username", "password"} JSON; without one it holds the value alone.
    username: str | None = None
    # Letters and digits only: every consumer (Redis AUTH, AMQP URLs, HTTP headers) takes them unescaped.
    length: int = 48


class GeneratedSecret(pulumi.ComponentResource):
    value: pulumi.Output[str]
    arn: pulumi.Output[str]
    name: pulumi.Output[str]

    def __init__(self, name: str, args: GeneratedSecretArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:secrets:GeneratedSecret", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        generated = random.RandomPassword(
            f"{name}-value",
            length=args.length,
            special=False,
            min_lower=4,
            min_upper=4,
            min_numeric=4,
            opts=child,
        )
        secret = aws.secretsmanager.Secret(
            f"{name}-secret",
            name=args.store.path(args.name),
            description=args.description,
            kms_key_id=args.store.kms_key_arn,
            recovery_window_in_days=args.store.recovery_window_days,
            opts=child,
        )
        if args.username is None:
            stored = generated.result
        else:
            stored = pulumi.Output.secret(
                pulumi.Output.json_dumps({"username": args.username, "password": generated.result})
            )
        aws.secretsmanager.SecretVersion(f"{name}-version", secret_id=secret.id, secret_string=stored, opts=child)

        self.value = pulumi.Output.secret(generated.result)
        self.arn = secret.arn
        self.name = secret.name
        self.register_outputs({"arn": self.arn, "name": self.name})
