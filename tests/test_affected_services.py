"""Which services a change touches: own resources, what they depend on in the plan, the cluster, the ingress."""

from __future__ import annotations

from infra.offline import affected_services, plan_diff

from .conftest import plan_for, run_mutated

CATALOGUE = {"frontend": {"ingress": "ingress"}, "backend": {"ingress": None}}


def affected(stack, mutate):
    diff = plan_diff.diff(plan_for(stack), run_mutated(stack, mutate))
    return diff, {s.name: s for s in affected_services.affected(diff, CATALOGUE, CATALOGUE)}


def test_a_service_owns_its_workload_and_its_role():
    own, _ = affected_services.scope(plan_for("staging"), "backend")
    names = {urn.rsplit("::", 1)[-1] for urn in own}
    assert {"service-backend-deployment", "service-backend-config", "service-backend-role", "service-backend-policy"} <= names
    assert not any("frontend" in name for name in names)


def test_the_backend_depends_on_its_data_stores_queue_and_secret_but_not_on_the_other_queue():
    _, depends = affected_services.scope(plan_for("staging"), "backend")
    names = {urn.rsplit("::", 1)[-1] for urn in depends}
    assert {"database-instance", "cache-group", "messaging-jobs", "internal-token-value-secret"} <= names
    # What the jobs queue itself depends on inside the messaging component: its dead-letter queue and key.
    assert {"messaging-jobs-dlq", "messaging-kms-key"} <= names
    assert "messaging-notifications" not in names
    # The cluster it runs on, node groups included.
    assert {"cluster", "cluster-workload", "cluster-k8s"} <= names


def test_a_change_to_the_shared_load_balancer_affects_the_public_service_only():
    """The ALB's idle timeout is in the IngressGroup's IngressClassParams: the frontend's route uses it."""

    def mutate(config):
        config["platform:services"]["ingress"]["idleTimeoutSeconds"] = 120

    diff, services = affected("staging", mutate)
    assert {c.name for c in diff.changes} == {"ingress-params"}
    assert set(services) == {"frontend"}
    assert [c.name for c in services["frontend"].dependencies] == ["ingress-params"]


def test_a_cluster_change_affects_every_service():
    """A bigger workload node group is part of the cluster every service runs on."""

    def mutate(config):
        config["platform:cluster"]["nodeGroups"]["workload"]["maxSize"] = 8

    diff, services = affected("staging", mutate)
    # The off-hours schedule that brings the group back in the morning restores its working sizes, the new max too.
    assert {c.name for c in diff.changes} == {"cluster-workload", "off-hours-workload-start"}
    assert set(services) == {"frontend", "backend"}


def test_without_a_catalogue_the_services_come_from_the_workload_components():
    assert set(affected_services.services_of(None, plan_for("staging"))) == {"frontend", "backend"}


def test_the_exported_catalogue_names_each_service_and_its_route_ingress():
    from infra.offline import engine, plan_export

    catalogue, why = plan_export.catalogue_summary("staging", engine.stack_config("staging"))
    assert why is None and catalogue == CATALOGUE
