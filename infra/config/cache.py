"""`platform:cache`: the Valkey/Redis replication group, read into `components.cache.CacheArgs` (placement left empty).

Rules: an engine and a version ElastiCache offers for it; a cache node type; 1-6 nodes; Multi-AZ needs at least two
nodes; snapshots kept 0-35 days; in prod Multi-AZ, at least one day of snapshots, a final snapshot and `protect`.
"""

from __future__ import annotations

from components.cache import FAMILIES, CacheArgs

from .durability import daily_window, prod_requires, protect_flag, weekly_window, windows_apart
from .network import log_retention
from .reader import Section


def parse_cache(s: Section, *, prod: bool, name_prefix: str) -> CacheArgs:
    d = CacheArgs()
    engine = s.string("engine", d.engine, choices=tuple(FAMILIES))
    versions = FAMILIES.get(engine, FAMILIES[d.engine])
    engine_version = s.string(
        "engineVersion",
        d.engine_version if engine == d.engine else max(versions),
        choices=tuple(versions),
        expected=f"a {engine} version ElastiCache offers: " + ", ".join(repr(v) for v in versions),
    )
    node_type = s.string(
        "nodeType", d.node_type, pattern=r"cache\.[a-z0-9-]+\.[a-z0-9]+", expected="a cache node type such as cache.t4g.micro"
    )
    nodes = s.integer("nodes", d.nodes, minimum=1, maximum=6)
    multi_az = s.boolean("multiAz", d.multi_az)
    prod_requires(s, "multiAz", multi_az, True, prod=prod, why="automatic failover to a replica in another availability zone")
    if multi_az and nodes < 2:
        s.problem("nodes", "at least 2 nodes when multiAz is true (a primary and a replica)", nodes)

    before = len(s.problems)
    snapshots = s.integer("snapshotRetentionDays", d.snapshot_retention_days, minimum=0, maximum=35)
    if len(s.problems) == before and prod and snapshots < 1:
        s.problem("snapshotRetentionDays", "at least 1 day in prod", snapshots)
    skip_final_snapshot = s.boolean("skipFinalSnapshot", d.skip_final_snapshot)
    prod_requires(s, "skipFinalSnapshot", skip_final_snapshot, False, prod=prod, why="a final snapshot is taken on deletion")

    # ElastiCache: each window at least 60 minutes, and the snapshot window clear of the maintenance window.
    snapshot_window = daily_window(s, "snapshotWindow", d.snapshot_window, minimum_minutes=60)
    maintenance_window = weekly_window(s, "maintenanceWindow", d.maintenance_window, minimum_minutes=60)
    windows_apart(s, "snapshotWindow", snapshot_window, "maintenanceWindow", maintenance_window)
    settings = CacheArgs(
        name_prefix=name_prefix,
        engine=engine,  # type: ignore[arg-type]
        engine_version=engine_version,
        node_type=node_type,
        nodes=nodes,
        multi_az=multi_az,
        snapshot_retention_days=snapshots,
        snapshot_window=snapshot_window,
        maintenance_window=maintenance_window,
        skip_final_snapshot=skip_final_snapshot,
        protect=protect_flag(s, prod=prod),
        apply_immediately=s.boolean("applyImmediately", d.apply_immediately),
        log_retention_days=log_retention(s, "logRetentionDays", d.log_retention_days),
    )
    s.done()
    return settings
