"""The Pulumi state backend of one AWS account: the state bucket, its access-log bucket, and the secrets-provider keys.

The state bucket and the access-log bucket are `components.storage.Storage` buckets, so they get exactly the
platform's bucket baseline: all four public-access blocks, ACLs off, versioning (every state file ever written can
be recovered), SSE-KMS with the bucket's own customer-managed key (SSE-S3 for the log bucket, which S3 server access
logging requires), a policy refusing anything but TLS 1.2+, lifecycle rules, and server access logging of the state
bucket into the log bucket.

The secrets provider is one KMS key per environment (`alias/<prefix>/secrets-<environment>`), never shared: a role
that may decrypt staging's stack secrets cannot decrypt prod's, even when both environments live in one account.

The CLI's layout of a project-mode state bucket (`pkg/backend/diy` in the Pulumi CLI), used for the roles' object
ARNs: `.pulumi/meta.yaml`, `.pulumi/stacks/<project>/<stack>.json` (plus `.bak`/`.gz` variants),
`.pulumi/history/<project>/<stack>/`, `.pulumi/backups/<project>/<stack>/`,
`.pulumi/locks/organization/<project>/<stack>/`.

Inputs (`StateBackendArgs`): name prefix, environments, noncurrent-version retention, access-log expiry, protect,
extra access-log sources (other buckets of the account logging into the log bucket).
Outputs: `bucket_name`, `bucket_arn`, `bucket_key_arn`, `log_bucket_name`, `log_bucket_arn`, `secrets_key_arns`
({environment: ARN}), `secrets_key_aliases`, `backend_url`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from .kms import EncryptionKey, KeyArgs
from .storage import BucketSpec, Storage, StorageArgs

STATE = "state"
ACCESS_LOGS = "access-logs"


@dataclass(frozen=True)
class StateBackendArgs:
    """Inputs of the state backend. Defaults are the safe choice: protected, long retention."""

    name_prefix: str
    environments: tuple[str, ...]
    noncurrent_version_days: int = 365
    access_log_days: int = 365
    extra_log_sources: tuple[pulumi.Input[str], ...] = ()
    protect: bool = True


def secrets_key_alias(name_prefix: str, environment: str) -> str:
    return f"alias/{name_prefix}/secrets-{environment}"


def state_object_arns(bucket_arn: str, project: str, stack: str) -> list[str]:
    """Every object the CLI writes for one stack of one project (state, history, backups, locks)."""
    return [
        f"{bucket_arn}/.pulumi/stacks/{project}/{stack}.json*",
        f"{bucket_arn}/.pulumi/history/{project}/{stack}/*",
        f"{bucket_arn}/.pulumi/backups/{project}/{stack}/*",
        f"{bucket_arn}/.pulumi/locks/organization/{project}/{stack}/*",
    ]


def state_read_arns(bucket_arn: str, project: str, stack: str) -> list[str]:
    """What a preview reads: the backend's metadata and the stack's current state (no lock, no history: the CLI's
    diy backend takes a lock and writes history only for operations that change the stack)."""
    return [f"{bucket_arn}/.pulumi/meta.yaml", f"{bucket_arn}/.pulumi/stacks/{project}/{stack}.json*"]


class StateBackend(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    bucket_key_arn: pulumi.Output[str]
    log_bucket_name: pulumi.Output[str]
    log_bucket_arn: pulumi.Output[str]
    secrets_key_arns: dict[str, pulumi.Output[str]]
    secrets_key_aliases: dict[str, str]
    backend_url: pulumi.Output[str]

    def __init__(self, name: str, args: StateBackendArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:state:StateBackend", name, None, opts)
        if not args.environments:
            raise ValueError(f"{name}: at least one environment is needed (one secrets key each)")
        child = pulumi.ResourceOptions(parent=self)
        storage = Storage(
            f"{name}-buckets",
            StorageArgs(
                name_prefix=args.name_prefix,
                buckets=(
                    BucketSpec(STATE, noncurrent_version_days=args.noncurrent_version_days),
                    BucketSpec(ACCESS_LOGS, expire_after_days=args.access_log_days),
                ),
                access_log_bucket=ACCESS_LOGS,
                extra_log_sources=args.extra_log_sources,
                force_destroy=False,  # a state bucket is never emptied by a destroy
                protect=args.protect,
            ),
            child,
        )
        keys = {
            env: EncryptionKey(
                f"{name}-secrets-{env}",
                KeyArgs(
                    description=f"{args.name_prefix}: Pulumi secrets provider of the {env} stacks",
                    alias=secrets_key_alias(args.name_prefix, env),
                    protect=args.protect,
                ),
                child,
            )
            for env in args.environments
        }

        self.bucket_name = storage.bucket_names[STATE]
        self.bucket_arn = storage.bucket_arns[STATE]
        self.bucket_key_arn = storage.kms_key_arn
        self.log_bucket_name = storage.bucket_names[ACCESS_LOGS]
        self.log_bucket_arn = storage.bucket_arns[ACCESS_LOGS]
        self.secrets_key_arns = {env: key.arn for env, key in keys.items()}
        self.secrets_key_aliases = {env: secrets_key_alias(args.name_prefix, env) for env in args.environments}
        self.backend_url = self.bucket_name.apply(lambda bucket: f"s3://{bucket}")
        self.register_outputs({"bucketName": self.bucket_name, "backendUrl": self.backend_url})
