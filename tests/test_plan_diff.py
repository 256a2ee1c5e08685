"""The plan diff on real edits of the stack config: the exact create/update/replace/delete sets and the services
affected.

Each expectation is derived from the edit and what the program documents it builds (README, components), never from
the diff code: which resources hold the edited value, which the cloud cannot change in place (AWS's create-only
properties, the Kubernetes provider's replace-on fields), and which take their inputs from a replaced resource.
"""

from __future__ import annotations

import copy

from infra.offline import affected_services, change_review, engine, plan_diff

from .conftest import plan_for, run_mutated

SUBNET = "aws:ec2/subnet:Subnet"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
RDS_SUBNETS = "aws:rds/subnetGroup:SubnetGroup"
CACHE_SUBNETS = "aws:elasticache/subnetGroup:SubnetGroup"
RDS = "aws:rds/instance:Instance"
QUEUE = "aws:sqs/queue:Queue"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
REDRIVE_ALLOW = "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"

# The catalogue as Pulumi.yaml declares it (the ingress a route names), for the affected-services reading.
CATALOGUE = {"frontend": {"ingress": "ingress"}, "backend": {"ingress": None}}

# The README's "Adding a service" entry.
WORKER = {
    "image": "platform/worker:0.9.1",
    "port": 8080,
    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
    "autoscaling": {"minReplicas": 2, "maxReplicas": 4, "targetCpuPercent": 70},
    "callers": ["backend"],
    "uses": {"queues": {"notifications": "receive"}, "buckets": {"uploads": "read-write"}, "secrets": ["internal-token"]},
}


def review(stack: str, mutate, head_catalogue=CATALOGUE):
    base = plan_for(stack)
    head = run_mutated(stack, mutate)
    diff = plan_diff.diff(base, head)
    return diff, affected_services.affected(diff, head_catalogue, CATALOGUE)


def ops(diff: plan_diff.StackDiff) -> dict[str, set[tuple[str, str]]]:
    return {op: {(c.type, c.name) for c in diff.of(op)} for op in plan_diff.OPS}


def test_an_unchanged_program_has_no_changes(stack):
    diff = plan_diff.diff(plan_for(stack), run_mutated(stack, lambda config: None))
    assert diff.empty and diff.counts["same"] == len(plan_for(stack))


def test_a_changed_subnet_cidr_replaces_the_subnet_and_its_association():
    """The third data subnet moves to 10.20.15.0/24. A subnet's CIDR cannot change in place, so it is replaced; its
    route table association names it (SubnetId, create-only too) and is replaced with it; the RDS and ElastiCache
    subnet groups list the data subnets and are updated; the backend's egress NetworkPolicy names the data tier's
    CIDRs for its PostgreSQL and Redis ports and is updated. The broker (single instance) sits in the first data
    subnet only, so it is untouched, and the frontend uses no data store."""

    def mutate(config):
        config["platform:network"]["subnets"]["data"][2] = "10.20.15.0/24"

    diff, services = review("staging", mutate)
    assert ops(diff) == {
        "create": set(),
        "update": {(RDS_SUBNETS, "database-subnets"), (CACHE_SUBNETS, "cache-subnets"),
                   (NETWORK_POLICY, "service-backend-allow-egress")},
        "replace": {(SUBNET, "network-data-2"), (ASSOCIATION, "network-data-2")},
        "delete": set(),
    }
    subnet = next(c for c in diff.of("replace") if c.type == SUBNET)
    [cidr] = subnet.properties
    assert (cidr.key, cidr.old, cidr.new) == ("cidrBlock", "10.20.14.0/24", "10.20.15.0/24")
    assert "CidrBlock is create-only" in cidr.replaces
    association = next(c for c in diff.of("replace") if c.type == ASSOCIATION)
    [subnet_id] = association.properties
    assert subnet_id.key == "subnetId" and subnet_id.computed and subnet_id.source == subnet.urn
    assert "SubnetId is create-only" in subnet_id.replaces
    assert affected_services.names(services) == {"backend"}


def test_a_bigger_database_class_updates_the_instance_in_place():
    """RDS changes an instance's class in place (DBInstanceClass is not create-only): one update, nothing else; the
    backend is affected because it uses PostgreSQL."""

    def mutate(config):
        config["platform:database"]["instanceClass"] = "db.m7g.large"

    diff, services = review("staging", mutate)
    assert ops(diff) == {"create": set(), "update": {(RDS, "database-instance")}, "replace": set(), "delete": set()}
    [change] = diff.of("update")
    [prop] = change.properties
    assert (prop.key, prop.old, prop.new, prop.replaces) == ("instanceClass", "db.t4g.medium", "db.m7g.large", None)
    assert change.stateful  # an RDS instance is stateful (cfn-lint's list), but it is not replaced: no warning
    assert affected_services.names(services) == {"backend"}
    assert [c.name for c in services[0].dependencies] == ["database-instance"] and not services[0].own


def test_a_removed_queue_deletes_it_with_its_dead_letter_queue_policies_and_alarm():
    """Removing `notifications` removes what the messaging component makes per queue (the queue, its dead-letter
    queue, a TLS-only policy on each, the dead-letter queue's redrive-allow policy) and the alarm on its dead-letter
    queue. No catalogued service uses it, so none is affected."""

    def mutate(config):
        del config["platform:messaging"]["queues"]["notifications"]

    diff, services = review("staging", mutate)
    assert ops(diff) == {
        "create": set(),
        "update": set(),
        "replace": set(),
        "delete": {(QUEUE, "messaging-notifications"), (QUEUE, "messaging-notifications-dlq"),
                   (QUEUE_POLICY, "messaging-notifications-policy"), (QUEUE_POLICY, "messaging-notifications-dlq-policy"),
                   (REDRIVE_ALLOW, "messaging-notifications-dlq-allow"), (ALARM, "alarms-dlq-notifications")},
    }
    assert services == []
    assert {c.name for c in diff.of("delete") if c.stateful} == {"messaging-notifications", "messaging-notifications-dlq"}


def test_a_changed_service_environment_replaces_its_config_map_and_rolls_its_deployment():
    """The backend's LOG_LEVEL lives in its ConfigMap, whose data the Kubernetes provider does not change in place:
    the ConfigMap is replaced (deleted first: it has a fixed name). The Deployment's pod template carries a checksum
    of that configuration, so it is updated and its pods roll. Only the backend is affected."""

    def mutate(config):
        config["platform:serviceOverrides"]["backend"]["env"] = {"LOG_LEVEL": "info"}

    diff, services = review("staging", mutate)
    assert ops(diff) == {
        "create": set(),
        "update": {(DEPLOYMENT, "service-backend-deployment")},
        "replace": {(CONFIG_MAP, "service-backend-config")},
        "delete": set(),
    }
    [config_map] = diff.of("replace")
    assert config_map.delete_before_replace
    [data] = config_map.properties
    assert data.key == "data" and "ConfigMap" in data.replaces
    assert engine.unwrap(data.old)["LOG_LEVEL"] == "debug" and engine.unwrap(data.new)["LOG_LEVEL"] == "info"
    assert affected_services.names(services) == {"backend"}


def test_a_new_service_creates_its_full_set_and_its_caller_learns_its_address():
    """The README's worker: its IRSA role component (role and policy: it receives from a queue and writes a bucket)
    and its workload component (namespace, service account, ConfigMap, ExternalSecret, Deployment, Service,
    autoscaler, disruption budget, default-deny/ingress/egress NetworkPolicies; no Ingress, it is internal). The
    backend may call it: the backend's ConfigMap gains WORKER_URL (replaced), its Deployment rolls (updated) and its
    egress policy admits the worker (updated)."""

    def mutate(config):
        config["platform:services"]["worker"] = copy.deepcopy(WORKER)

    diff, services = review("staging", mutate, {**CATALOGUE, "worker": {"ingress": None}})
    expected_creates = {
        ("platform:iam:IrsaRole", "service-worker"), ("aws:iam/role:Role", "service-worker-role"),
        ("aws:iam/rolePolicy:RolePolicy", "service-worker-policy"),
        ("platform:workloads:Workload", "service-worker"),
        ("kubernetes:core/v1:Namespace", "service-worker-namespace"),
        ("kubernetes:core/v1:ServiceAccount", "service-worker-service-account"),
        (CONFIG_MAP, "service-worker-config"),
        ("kubernetes:external-secrets.io/v1:ExternalSecret", "service-worker-external-secret"),
        (DEPLOYMENT, "service-worker-deployment"), ("kubernetes:core/v1:Service", "service-worker-service"),
        ("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "service-worker-autoscaler"),
        ("kubernetes:policy/v1:PodDisruptionBudget", "service-worker-disruption-budget"),
        (NETWORK_POLICY, "service-worker-default-deny"), (NETWORK_POLICY, "service-worker-allow-ingress"),
        (NETWORK_POLICY, "service-worker-allow-egress"),
        # Its image lives in this account, so it gets its ECR repository (with lifecycle and pull/push policy), and the
        # monitoring component watches its replicas and restarts (the stack's dashboard gains its widgets).
        ("aws:ecr/repository:Repository", "registry-platform-worker"),
        ("aws:ecr/lifecyclePolicy:LifecyclePolicy", "registry-platform-worker-lifecycle"),
        ("aws:ecr/repositoryPolicy:RepositoryPolicy", "registry-platform-worker-policy"),
        ("aws:cloudwatch/metricAlarm:MetricAlarm", "monitoring-worker-pods-restarting"),
        ("aws:cloudwatch/metricAlarm:MetricAlarm", "monitoring-worker-replicas-unavailable"),
    }
    assert ops(diff) == {
        "create": expected_creates,
        "update": {(DEPLOYMENT, "service-backend-deployment"), (NETWORK_POLICY, "service-backend-allow-egress"),
                   ("aws:cloudwatch/dashboard:Dashboard", "monitoring-dashboard")},
        "replace": {(CONFIG_MAP, "service-backend-config")},
        "delete": set(),
    }
    [config_map] = diff.of("replace")
    assert "WORKER_URL" in engine.unwrap(config_map.properties[0].new)
    assert "WORKER_URL" not in engine.unwrap(config_map.properties[0].old)
    by_name = {s.name: s for s in services}
    assert set(by_name) == {"worker", "backend"}
    assert by_name["worker"].new and not by_name["backend"].new


def test_a_renamed_bucket_is_a_delete_and_a_create_since_resources_are_matched_by_urn():
    def mutate(config):
        buckets = config["platform:storage"]["buckets"]
        buckets["files"] = buckets.pop("static-assets")

    diff, _ = review("staging", mutate)
    deleted = {name for _, name in ops(diff)["delete"]}
    created = {name for _, name in ops(diff)["create"]}
    assert "storage-static-assets" in deleted and "storage-files" in created
    assert {n.replace("static-assets", "files") for n in deleted} == created


def test_replacing_the_prod_database_is_a_loud_warning_and_refused_while_protected():
    """A new database name cannot be applied in place (DBName is create-only), so the prod database would be
    replaced: the review says so loudly, and that `pulumi up` refuses while the instance is protected."""

    def mutate(config):
        config["platform:database"]["databaseName"] = "orders"

    diff, _ = review("prod", mutate)
    database = next(c for c in diff.of("replace") if c.type == RDS)
    assert database.name == "database-instance" and database.stateful and database.protected
    assert any("DBName is create-only" in reason for reason in database.replace_reasons)
    review_ = change_review.StackReview(diff, [])
    warnings = review_.warnings()
    assert any(w.startswith("WARNING: this replaces the prod database") for w in warnings)
    assert any("protected" in w and "database-instance" in w for w in warnings)
    # Loud in every rendering: first in the terminal form, in bold in the comment, listed in the JSON.
    assert change_review.text_lines(review_, 120)[1].startswith("WARNING: this replaces the prod database")
    assert "> **WARNING: this replaces the prod database" in "\n".join(change_review.markdown_lines(review_))
    assert change_review.to_json(review_)["warnings"] == warnings


def test_the_same_replacement_in_staging_is_a_note_not_a_warning():
    def mutate(config):
        config["platform:database"]["databaseName"] = "orders"

    diff, _ = review("staging", mutate)
    warnings = change_review.StackReview(diff, []).warnings()
    assert warnings and not any(w.startswith("WARNING") for w in warnings)


def test_secrets_are_masked_in_every_rendering():
    """A change touching a secret input (the rotated Redis auth token is random, so swap a marked value in) shows
    only [secret]; the plain values stay readable."""
    base = plan_for("staging")
    head = copy.deepcopy(base)
    version = next(r for r in head if r.name == "cache-auth-token-version")
    secret = version.inputs["secretString"]
    assert engine.is_secret(secret)
    changed = {**secret, "value": "a-new-token-value"}
    head.resources[head.resources.index(version)] = engine.CapturedResource(
        **{**version.__dict__, "inputs": {**version.inputs, "secretString": changed}})
    diff = plan_diff.diff(base, head)
    review_ = change_review.StackReview(diff, [])
    text = "\n".join(change_review.text_lines(review_, 120) + change_review.markdown_lines(review_))
    document = change_review.to_json(review_)
    assert "a-new-token-value" not in text and "a-new-token-value" not in str(document)
    assert engine.unwrap(secret) not in text and engine.unwrap(secret) not in str(document)
    assert "~ secretString: [secret] => [secret]" in text


def test_the_stack_outputs_that_change_are_shown():
    """Removing a queue removes its entry from the `queues` output; nothing else among the outputs changes."""

    def mutate(config):
        del config["platform:messaging"]["queues"]["notifications"]

    diff, _ = review("staging", mutate)
    review_ = change_review.StackReview(diff, [])
    [(key, old, new)] = review_.output_changes()
    assert key == "queues" and set(old) - set(new) == {"notifications"}
    text = "\n".join(change_review.text_lines(review_, 120))
    assert "Outputs:" in text and "  - notifications: {" in text
    assert change_review.to_json(review_)["outputs"][0]["key"] == "queues"
