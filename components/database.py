"""RDS PostgreSQL in the data tier: encrypted, TLS-only, IAM-authenticated, its master password managed by RDS.

The instance sits in a subnet group made of the data subnets only, behind its own security group that admits 5432
from the cluster's security group and nothing else. Storage and Performance
Insights are encrypted with the component's customer-managed key. RDS generates and rotates the master password in
Secrets Manager (encrypted with the stack's secrets key), so no password is ever a literal, a config value or a
random string in state. The parameter group forces TLS and logs connections, slow statements, locks and DDL to
CloudWatch Logs, whose groups are created here first so that they get a retention. Storage grows on its own up to
a ceiling. "Nothing lost" (deletion protection, a final snapshot, kept automated backups, `protect`) is on unless
the args say otherwise.

Inputs (`DatabaseArgs`): engine version, instance class, storage and its ceiling, Multi-AZ, backup retention and
windows, database and master user names, the nothing-lost switches, logging settings; placement (`vpc_id`, the data
tier's `subnet_ids`), clients (`client_security_group_ids`: the cluster's security group) and the stack's
`secrets` store.
Outputs: `endpoint` (host:port), `address`, `port`, `database_name`, `master_username`, `master_secret_arn`,
`security_group_id`, `resource_id` (for `rds-db:connect` ARNs), `identifier`, `kms_key_arn`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .ingress import data_security_group
from .kms import EncryptionKey, KeyArgs
from .secrets import SecretStore

PORT = 5432
LOG_EXPORTS = ("postgresql", "upgrade")


def parameter_family(engine_version: str) -> str:
    """The parameter group family of a PostgreSQL version: `16` and `16.4` both belong to `postgres16`."""
    return f"postgres{engine_version.split('.')[0]}"


@dataclass(frozen=True)
class DatabaseArgs:
    """Inputs of the database. Defaults are the resilient choice; placement and clients come from the program."""

    name_prefix: str = "platform"
    # A major version: with automatic minor upgrades on, RDS keeps the newest minor and Pulumi sees no drift.
    engine_version: str = "16"
    instance_class: str = "db.m7g.large"
    allocated_storage_gib: int = 50
    max_allocated_storage_gib: int = 500
    multi_az: bool = True
    backup_retention_days: int = 14
    backup_window: str = "17:00-18:00"  # UTC (02:00-03:00 KST)
    maintenance_window: str = "sun:18:30-sun:19:30"  # UTC, after the backup window
    database_name: str = "platform"
    master_username: str = "platform_admin"
    deletion_protection: bool = True
    skip_final_snapshot: bool = False
    protect: bool = True
    apply_immediately: bool = False
    performance_insights_retention_days: int = 7
    log_retention_days: int = 365
    log_min_duration_ms: int = 1000
    vpc_id: pulumi.Input[str] | None = None
    subnet_ids: Sequence[pulumi.Input[str]] = ()
    client_security_group_ids: Sequence[pulumi.Input[str]] = ()
    secrets: SecretStore | None = None


def parameters(args: DatabaseArgs) -> dict[str, str]:
    """The parameter group's settings: TLS only, and enough logging to investigate an incident."""
    return {
        "rds.force_ssl": "1",
        "log_connections": "1",
        "log_disconnections": "1",
        "log_lock_waits": "1",
        "log_statement": "ddl",
        "log_min_duration_statement": str(args.log_min_duration_ms),
        "log_temp_files": "10240",  # kB: sorts and hashes spilling more than 10 MB to disk
        "log_autovacuum_min_duration": "10000",
    }


class Database(pulumi.ComponentResource):
    endpoint: pulumi.Output[str]
    address: pulumi.Output[str]
    port: pulumi.Output[int]
    database_name: pulumi.Output[str]
    master_username: pulumi.Output[str]
    master_secret_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    resource_id: pulumi.Output[str]
    identifier: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:database:Database", name, None, opts)
        if args.vpc_id is None or not args.subnet_ids or args.secrets is None:
            raise ValueError(f"{name}: vpc_id, subnet_ids (the data tier) and the secrets store are required")
        child = pulumi.ResourceOptions(parent=self)
        p = args.name_prefix
        identifier = f"{p}-postgres"

        key = EncryptionKey(
            f"{name}-kms",
            KeyArgs(
                description=f"{identifier}: storage and Performance Insights", alias=f"alias/{p}/database", protect=args.protect
            ),
            opts=child,
        )
        subnet_group = aws.rds.SubnetGroup(
            f"{name}-subnets",
            name=f"{p}-postgres",
            description=f"{identifier}: the data tier only",
            subnet_ids=list(args.subnet_ids),
            opts=child,
        )
        security_group = data_security_group(
            name,
            parent=self,
            vpc_id=args.vpc_id,
            port=PORT,
            what="PostgreSQL",
            client_security_group_ids=args.client_security_group_ids,
            name_tag=identifier,
        )
        family = parameter_family(args.engine_version)
        parameter_group = aws.rds.ParameterGroup(
            f"{name}-params",
            name=f"{p}-{family}",
            family=family,
            description=f"{identifier}: TLS only, connection and slow-statement logging",
            parameters=[
                aws.rds.ParameterGroupParameterArgs(name=k, value=v, apply_method="immediate")
                for k, v in parameters(args).items()
            ],
            opts=child,
        )
        # Created before the instance so that RDS writes into groups with a retention rather than never-expiring ones.
        log_groups = [
            aws.cloudwatch.LogGroup(
                f"{name}-log-{export}",
                name=f"/aws/rds/instance/{identifier}/{export}",
                retention_in_days=args.log_retention_days,
                opts=child,
            )
            for export in LOG_EXPORTS
        ]

        instance = aws.rds.Instance(
            f"{name}-instance",
            identifier=identifier,
            engine="postgres",
            engine_version=args.engine_version,
            auto_minor_version_upgrade=True,
            allow_major_version_upgrade=False,
            instance_class=args.instance_class,
            storage_type="gp3",
            allocated_storage=args.allocated_storage_gib,
            max_allocated_storage=args.max_allocated_storage_gib,
            storage_encrypted=True,
            kms_key_id=key.arn,
            db_name=args.database_name,
            username=args.master_username,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=args.secrets.kms_key_arn,
            iam_database_authentication_enabled=True,
            port=PORT,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[security_group.id],
            publicly_accessible=False,
            network_type="IPV4",
            parameter_group_name=parameter_group.name,
            ca_cert_identifier="rds-ca-rsa2048-g1",
            multi_az=args.multi_az,
            backup_retention_period=args.backup_retention_days,
            backup_window=args.backup_window,
            maintenance_window=args.maintenance_window,
            copy_tags_to_snapshot=True,
            deletion_protection=args.deletion_protection,
            skip_final_snapshot=args.skip_final_snapshot,
            final_snapshot_identifier=None if args.skip_final_snapshot else f"{identifier}-final",
            # Keeping a final snapshot and keeping the automated backups are the same decision: nothing lost.
            delete_automated_backups=args.skip_final_snapshot,
            enabled_cloudwatch_logs_exports=list(LOG_EXPORTS),
            performance_insights_enabled=True,
            performance_insights_kms_key_id=key.arn,
            performance_insights_retention_period=args.performance_insights_retention_days,
            apply_immediately=args.apply_immediately,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=log_groups),
        )

        self.endpoint = instance.endpoint
        self.address = instance.address
        self.port = instance.port
        self.database_name = instance.db_name
        self.master_username = instance.username
        self.master_secret_arn = instance.master_user_secrets.apply(lambda secrets: secrets[0].secret_arn)
        self.security_group_id = security_group.id
        self.resource_id = instance.resource_id
        self.identifier = instance.identifier
        self.kms_key_arn = key.arn
        self.register_outputs(
            {
                "endpoint": self.endpoint,
                "port": self.port,
                "databaseName": self.database_name,
                "masterSecretArn": self.master_secret_arn,
                "securityGroupId": self.security_group_id,
                "resourceId": self.resource_id,
            }
        )
