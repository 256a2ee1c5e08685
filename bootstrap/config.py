"""The bootstrap's stack config, read once, validated, frozen: one stack per AWS account.

`load_bootstrap_config(stack, raw)` takes the flat Pulumi config map and returns a `BootstrapConfig`, or raises
`ConfigError` listing every problem (key path, what was expected, what was found) before any resource is declared.
The same reader and namespace rules as the platform's (`infra/config/reader.py`, `infra/config/namespaces.py`), so a
bootstrap error reads like a platform one: `aws:region` must be a real region, `aws:allowedAccountIds` pins the
account the provider may act in, and any other key outside `platform-bootstrap:` is refused with the reason.

Keys (namespace `platform-bootstrap:`; the only other key is `aws:region`):
- `tags.owner`, `tags.costCentre`: the default tags' values.
- `github.owner`, `github.repository`: the repository whose workflows may assume the roles;
  `github.oidcProviderArn`: an existing GitHub OIDC provider of the account (IAM allows one per URL), else created.
- `environments.<env>` (`staging`, `prod`): the platform stacks this account hosts. `deployEnvironment`: the GitHub
  environment of its deploy job (default `<env>`, `production` for prod); `previewEnvironment`: the GitHub environment
  of its pull-request preview job (default `<env>-preview`; prod gets none and may not set one: pull-request code
  must never reach prod's state or secrets key).
- `state.noncurrentVersionDays`, `state.accessLogDays`: how long old state versions and access logs are kept.
- `baseline.logRetentionDays`, `baseline.emailSubscribers`, `baseline.guardDutyMinSeverity`.
- `aws:region`, `aws:allowedAccountIds`: the region, and the account(s) the provider may act in (the bootstrap is
  applied by an administrator: this stops it in the wrong account).
- `protect`: Pulumi refuses to delete the buckets, keys, trail and detector; must be true when prod is hosted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra.config.errors import ConfigError, Problem
from infra.config.namespaces import allowed_account_ids, check_namespaces, region as parse_region
from infra.config.reader import Section, decode

NAMESPACE = "platform-bootstrap"
ENVIRONMENTS = ("staging", "prod")
DEFAULT_REGION = "ap-northeast-2"
TAG_VALUE = r"[\w .:/=+@-]{1,256}"
GITHUB_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}"
GITHUB_ENVIRONMENT = r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}"
EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
OIDC_ARN = r"arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/token\.actions\.githubusercontent\.com"
# CloudWatch Logs accepts only these retention periods.
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)
DEFAULT_DEPLOY_ENVIRONMENT = {"staging": "staging", "prod": "production"}


@dataclass(frozen=True)
class EnvironmentSettings:
    name: str
    deploy_environment: str
    preview_environment: str | None


@dataclass(frozen=True)
class BootstrapConfig:
    stack: str
    region: str
    allowed_account_ids: tuple[str, ...]
    owner: str
    cost_centre: str
    github_owner: str
    github_repository: str
    oidc_provider_arn: str | None
    environments: tuple[EnvironmentSettings, ...]
    noncurrent_version_days: int
    access_log_days: int
    log_retention_days: int
    email_subscribers: tuple[str, ...]
    guardduty_min_severity: int
    protect: bool

    @property
    def name_prefix(self) -> str:
        return f"{NAMESPACE}-{self.stack}"

    @property
    def hosts_prod(self) -> bool:
        return any(e.name == "prod" for e in self.environments)

    @property
    def default_tags(self) -> dict[str, str]:
        return {
            "project": NAMESPACE,
            "environment": "prod" if self.hosts_prod else "staging",
            "managed-by": "pulumi",
            "owner": self.owner,
            "cost-centre": self.cost_centre,
            "stack": self.stack,
        }


def _environments(root: Section) -> tuple[EnvironmentSettings, ...]:
    found: list[EnvironmentSettings] = []
    sections = root.named_sections("environments", name_pattern="|".join(ENVIRONMENTS))
    if not sections:
        root.problem("environments", "at least one of " + ", ".join(ENVIRONMENTS), root.raw.get("environments", None))
    for name, s in sections.items():
        deploy = s.string("deployEnvironment", DEFAULT_DEPLOY_ENVIRONMENT[name], pattern=GITHUB_ENVIRONMENT,
                          expected="a GitHub environment name")
        if name == "prod":
            if s.has("previewEnvironment"):
                s.problem("previewEnvironment", "nothing for prod (pull-request code must never reach prod's state or "
                          "secrets key; prod is previewed on main behind the production environment)",
                          s.raw.get("previewEnvironment"))
                s.consume("previewEnvironment")
            preview = None
        else:
            preview = s.string("previewEnvironment", f"{name}-preview", pattern=GITHUB_ENVIRONMENT,
                               expected="a GitHub environment name")
        if preview is not None and preview == deploy:
            s.problem("previewEnvironment", f"a GitHub environment other than the deploy one ({deploy!r})", preview)
        s.done()
        found.append(EnvironmentSettings(name=name, deploy_environment=deploy, preview_environment=preview))
    deploy_names = [e.deploy_environment for e in found]
    if len(set(deploy_names)) != len(deploy_names):
        root.problem("environments", "a distinct deployEnvironment per environment", deploy_names)
    return tuple(found)


def load_bootstrap_config(stack: str, raw: Mapping[str, Any]) -> BootstrapConfig:
    values = decode(raw)
    problems: list[Problem] = []
    ours = {k.split(":", 1)[1]: v for k, v in values.items() if k.startswith(f"{NAMESPACE}:")}
    root = Section(f"{NAMESPACE}:", ours, problems)
    region = parse_region(values, DEFAULT_REGION, problems)
    account_ids = allowed_account_ids(values, problems)

    tags = root.section("tags")
    owner = tags.string("owner", pattern=TAG_VALUE, expected="a tag value (owner team or person)") or ""
    cost_centre = tags.string("costCentre", pattern=TAG_VALUE, expected="a tag value (cost centre)") or ""
    tags.done()

    github = root.section("github")
    github_owner = github.string("owner", pattern=GITHUB_NAME, expected="a GitHub user or organisation name") or ""
    github_repository = github.string("repository", pattern=GITHUB_NAME, expected="a GitHub repository name") or ""
    oidc_arn = github.string("oidcProviderArn", None, pattern=OIDC_ARN,
                             expected="the ARN of the account's token.actions.githubusercontent.com OIDC provider")
    github.done()

    environments = _environments(root)
    hosts_prod = any(e.name == "prod" for e in environments)

    state = root.section("state")
    noncurrent = state.integer("noncurrentVersionDays", 365, minimum=30, maximum=3650)
    access_log_days = state.integer("accessLogDays", 365, minimum=1, maximum=3650)
    state.done()

    baseline = root.section("baseline")
    retention = baseline.integer("logRetentionDays", 365, minimum=1, maximum=3653)
    if retention not in RETENTION_DAYS:
        baseline.problem("logRetentionDays", "a CloudWatch Logs retention period (" + ", ".join(map(str, RETENTION_DAYS)) + ")", retention)
    elif retention < 365:
        baseline.problem("logRetentionDays", "at least 365 (the CIS benchmark keeps a year of trail logs searchable)", retention)
    emails = baseline.strings("emailSubscribers", (), pattern=EMAIL, expected="e-mail addresses")
    if not emails:
        baseline.problem("emailSubscribers", "at least one address (a root-user alarm nobody receives protects nothing)", [])
    severity = baseline.integer("guardDutyMinSeverity", 7, minimum=1, maximum=8)
    baseline.done()

    protect = root.boolean("protect", True)
    if hosts_prod and not protect:
        root.problem("protect", "true when the account hosts prod (Pulumi must refuse to delete the state and the trail)", protect)
    root.done()
    check_namespaces(values, NAMESPACE, root.known_keys(), problems)
    if problems:
        raise ConfigError(stack, problems)
    return BootstrapConfig(
        stack=stack,
        region=region,
        allowed_account_ids=account_ids,
        owner=owner,
        cost_centre=cost_centre,
        github_owner=github_owner,
        github_repository=github_repository,
        oidc_provider_arn=oidc_arn,
        environments=environments,
        noncurrent_version_days=noncurrent,
        access_log_days=access_log_days,
        log_retention_days=retention,
        email_subscribers=emails,
        guardduty_min_severity=severity,
        protect=protect,
    )
