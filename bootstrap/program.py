"""The bootstrap program: one AWS account's state backend, CI identity and security baseline.

Config is read and validated first (`bootstrap/config.py`), so a bad stack file stops the program before any
resource is declared. Every resource goes through one explicit AWS provider carrying the default tags.

What it declares, in order: the account baseline (its CloudTrail bucket logs into the state backend's access-log
bucket); the state backend (state bucket, access-log bucket, one secrets-provider key per hosted environment); the
GitHub OIDC provider with a deploy role per environment and a preview role per non-prod environment.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.account_baseline import AccountBaseline, AccountBaselineArgs, trail_bucket_name
from components.ci_identity import CiIdentity, CiIdentityArgs, EnvironmentAccess
from components.state_backend import StateBackend, StateBackendArgs
from infra.config.reader import runtime_config

from .config import BootstrapConfig, load_bootstrap_config


def build(cfg: BootstrapConfig) -> None:
    provider = aws.Provider(
        "aws",
        region=cfg.region,
        allowed_account_ids=list(cfg.allowed_account_ids) or None,
        default_tags=aws.ProviderDefaultTagsArgs(tags=cfg.default_tags),
    )
    opts = pulumi.ResourceOptions(providers={"aws": provider})
    invoke = pulumi.InvokeOptions(provider=provider)
    account = aws.get_caller_identity(opts=invoke).account_id
    partition = aws.get_partition(opts=invoke).partition
    p = cfg.name_prefix

    # The trail bucket's name is known before the bucket exists, so the access-log bucket can admit it up front.
    trail_bucket_arn = f"arn:{partition}:s3:::{trail_bucket_name(p, account)}"
    state = StateBackend(
        "state",
        StateBackendArgs(
            name_prefix=p,
            environments=tuple(e.name for e in cfg.environments),
            noncurrent_version_days=cfg.noncurrent_version_days,
            access_log_days=cfg.access_log_days,
            extra_log_sources=(trail_bucket_arn,),
            protect=cfg.protect,
        ),
        opts,
    )
    baseline = AccountBaseline(
        "baseline",
        AccountBaselineArgs(
            name_prefix=p,
            access_log_bucket=state.log_bucket_name,
            log_retention_days=cfg.log_retention_days,
            email_subscribers=cfg.email_subscribers,
            guardduty_min_severity=cfg.guardduty_min_severity,
            protect=cfg.protect,
        ),
        opts,
    )
    ci = CiIdentity(
        "ci",
        CiIdentityArgs(
            name_prefix=p,
            github_owner=cfg.github_owner,
            github_repository=cfg.github_repository,
            environments=tuple(
                EnvironmentAccess(
                    name=e.name,
                    deploy_environment=e.deploy_environment,
                    preview_environment=e.preview_environment,
                    secrets_key_arn=state.secrets_key_arns[e.name],
                )
                for e in cfg.environments
            ),
            state_bucket_arn=state.bucket_arn,
            state_bucket_key_arn=state.bucket_key_arn,
            protected_key_arns=(baseline.key_arn,),
            existing_oidc_provider_arn=cfg.oidc_provider_arn,
            region=cfg.region,
        ),
        opts,
    )

    pulumi.export("backendUrl", state.backend_url)
    pulumi.export("stateBucket", state.bucket_name)
    pulumi.export(
        "secretsProviders",
        {env: f"awskms://{alias}?region={cfg.region}" for env, alias in state.secrets_key_aliases.items()},
    )
    pulumi.export("oidcProviderArn", ci.oidc_provider_arn)
    pulumi.export("deployRoleArns", ci.deploy_role_arns)
    pulumi.export("previewRoleArns", ci.preview_role_arns)
    pulumi.export("trailArn", baseline.trail_arn)
    pulumi.export("securityAlertsTopicArn", baseline.topic_arn)
    pulumi.export("guardDutyDetectorId", baseline.detector_id)


def main() -> None:
    cfg = load_bootstrap_config(pulumi.get_stack(), runtime_config())
    build(cfg)
