"""Wiring of the data stores and messaging: placement from the network, clients, secrets, alarms, exports.

`build_data_stores(cfg, network, opts, client_security_group_ids=...)` declares the stack's secrets key, the
database, the cache, the buckets, the queues and broker, the internal token and the alarms, all in the network's data
tier, and exports what workloads and IRSA roles need. Clients: the cluster's security group ids, the only sources the
stores' security groups admit (no CIDR ever).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import pulumi

from components.alarms import Alarms
from components.cache import Cache
from components.database import Database
from components.internal_token import InternalToken, InternalTokenArgs
from components.kms import EncryptionKey, KeyArgs
from components.messaging import Messaging
from components.network import Network
from components.secrets import SecretStore
from components.storage import Storage

from .config import StackConfig


@dataclass(frozen=True)
class DataStores:
    secrets_key: EncryptionKey
    secret_store: SecretStore
    database: Database
    cache: Cache
    storage: Storage
    messaging: Messaging
    internal_token: InternalToken
    alarms: Alarms


def build_data_stores(
    cfg: StackConfig,
    network: Network,
    opts: pulumi.ResourceOptions,
    *,
    client_security_group_ids: Sequence[pulumi.Input[str]],
) -> DataStores:
    p = cfg.name_prefix
    secrets_key = EncryptionKey(
        "secrets-kms",
        KeyArgs(
            description=f"{p}: every Secrets Manager secret of the stack", alias=f"alias/{p}/secrets", protect=cfg.secrets.protect
        ),
        opts,
    )
    store = SecretStore(
        prefix=cfg.secrets_prefix, kms_key_arn=secrets_key.arn, recovery_window_days=cfg.secrets.recovery_window_days
    )
    placement = dict(
        vpc_id=network.vpc_id,
        subnet_ids=network.data_subnet_ids,
        client_security_group_ids=tuple(client_security_group_ids),
        secrets=store,
    )
    database = Database("database", replace(cfg.database, **placement), opts)
    cache = Cache("cache", replace(cfg.cache, availability_zones=tuple(network.availability_zones), **placement), opts)
    storage = Storage("storage", cfg.storage, opts)
    messaging = Messaging("messaging", replace(cfg.messaging, **placement), opts)
    internal_token = InternalToken("internal-token", InternalTokenArgs(store=store), opts)
    alarms = Alarms(
        "alarms",
        replace(
            cfg.alarms,
            database_instance_id=database.identifier,
            cache_cluster_ids=tuple(cache.member_cluster_ids),
            dead_letter_queues=dict(messaging.dead_letter_queue_names),
            broker_name=messaging.broker_name,
        ),
        opts,
    )

    pulumi.export("secretsPrefix", cfg.secrets_prefix)
    pulumi.export(
        "database",
        {
            "endpoint": database.endpoint,
            "address": database.address,
            "port": database.port,
            "name": database.database_name,
            "masterSecretArn": database.master_secret_arn,
            "securityGroupId": database.security_group_id,
            "resourceId": database.resource_id,
        },
    )
    pulumi.export(
        "redis",
        {
            "primaryEndpoint": cache.primary_endpoint,
            "readerEndpoint": cache.reader_endpoint,
            "port": cache.port,
            "authTokenSecretArn": cache.auth_token_secret_arn,
            "securityGroupId": cache.security_group_id,
        },
    )
    pulumi.export("buckets", storage.buckets)
    pulumi.export("queues", messaging.queues)
    if messaging.amqps_endpoint is not None:
        pulumi.export(
            "rabbitmq",
            {
                "amqpsEndpoint": messaging.amqps_endpoint,
                "credentialsSecretArn": messaging.broker_credentials_secret_arn,
                "securityGroupId": messaging.broker_security_group_id,
            },
        )
    pulumi.export("internalTokenSecretArn", internal_token.secret_arn)
    # What a reader needs kms:Decrypt on: secrets (External Secrets), objects and messages (services, via IRSA).
    pulumi.export(
        "kmsKeyArns", {"secrets": secrets_key.arn, "storage": storage.kms_key_arn, "messaging": messaging.kms_key_arn}
    )
    pulumi.export("alertsTopicArn", alarms.topic_arn)
    return DataStores(
        secrets_key=secrets_key,
        secret_store=store,
        database=database,
        cache=cache,
        storage=storage,
        messaging=messaging,
        internal_token=internal_token,
        alarms=alarms,
    )
