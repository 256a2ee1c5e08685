"""The catalogued services on the cluster (`components/workloads.py`, wired by `infra/workloads.py`), both stacks.

Every workload's objects are read from the offline engine's plan; relations are followed through property
dependencies and the resources' own values (the subnets' CIDRs, the queue's ARN), not through names. The
NetworkPolicies are evaluated as Kubernetes does (the union of every policy that selects a pod) to say who can reach
a service and what a service can reach.
"""

from __future__ import annotations

import copy
import ipaddress
import json
from collections.abc import Iterable
from typing import Any

import pytest

from components.catalogue import NAME_LABEL
from infra.offline import engine
from infra.config import load_stack_config

from .conftest import STACKS, plan_for, run_mutated

NAMESPACE = "kubernetes:core/v1:Namespace"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
SERVICE = "kubernetes:core/v1:Service"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
INGRESS_CLASS = "kubernetes:networking.k8s.io/v1:IngressClass"
INGRESS_CLASS_PARAMS = "kubernetes:elbv2.k8s.aws/v1beta1:IngressClassParams"
EXTERNAL_SECRET = "kubernetes:external-secrets.io/v1:ExternalSecret"
CLUSTER_SECRET_STORE = "kubernetes:external-secrets.io/v1:ClusterSecretStore"
APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application"
APP_PROJECT = "kubernetes:argoproj.io/v1alpha1:AppProject"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
SUBNET = "aws:ec2/subnet:Subnet"
VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
QUEUE = "aws:sqs/queue:Queue"
SECRET = "aws:secretsmanager/secret:Secret"
RDS = "aws:rds/instance:Instance"
CERTIFICATE_VALIDATION = "aws:acm/certificateValidation:CertificateValidation"
DNS_PEER = ("pods", "kube-system", (("k8s-app", "kube-dns"),))
SERVICE_KINDS = {NAMESPACE, SERVICE_ACCOUNT, CONFIG_MAP, SERVICE, HPA, PDB, NETWORK_POLICY}


def cfg_of(stack: str, config: dict | None = None):
    return load_stack_config(stack, engine._encode(config or engine.stack_config(stack)))


def services_of(stack: str) -> list[str]:
    return [s.name for s in cfg_of(stack).catalogue.services]


def objects(plan: engine.Plan, type_: str, namespace: str | None = None) -> list[engine.CapturedResource]:
    return [r for r in plan.of_type(type_) if namespace is None or r.props.get("metadata", {}).get("namespace") == namespace]


def one(plan: engine.Plan, type_: str, namespace: str, name: str | None = None) -> engine.CapturedResource:
    found = [r for r in objects(plan, type_, namespace) if name is None or r.props["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {type_} in {namespace}, got {[r.name for r in found]}"
    return found[0]


def namespace_of(plan: engine.Plan, name: str) -> engine.CapturedResource:
    (found,) = [r for r in plan.of_type(NAMESPACE) if r.props["metadata"].get("name") == name]
    return found


def container(deployment: engine.CapturedResource) -> dict[str, Any]:
    (only,) = deployment.props["spec"]["template"]["spec"]["containers"]
    return only


def cidrs_of(plan: engine.Plan, tier: str) -> set[str]:
    return {s.props["cidrBlock"] for s in plan.of_type(SUBNET) if s.props["tags"].get("tier") == tier}


# -- NetworkPolicy semantics ------------------------------------------------------------------------------------------
def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert not selector.get("matchExpressions"), "the evaluator reads matchLabels only"
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())


def _peer(peer: dict[str, Any], own_namespace: str) -> tuple:
    if "ipBlock" in peer:
        assert not peer["ipBlock"].get("except")
        return ("ip", peer["ipBlock"]["cidr"])
    namespace = own_namespace
    if "namespaceSelector" in peer:
        labels = peer["namespaceSelector"].get("matchLabels") or {}
        assert set(labels) == {"kubernetes.io/metadata.name"}, f"namespace selectors must name one namespace: {peer}"
        namespace = labels["kubernetes.io/metadata.name"]
    pods = tuple(sorted((peer.get("podSelector") or {}).get("matchLabels", {}).items()))
    return ("pods", namespace, pods)


def allowed(plan: engine.Plan, namespace: str, pod_labels: dict[str, str], direction: str) -> set[tuple]:
    """(peer, protocol, port) the policies of `namespace` allow for pods with `pod_labels`, in `direction`
    ("Ingress" or "Egress"). Kubernetes: a pod selected by any policy of that type allows the union of their rules."""
    selected, rules = False, set()
    key, side = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    for policy in objects(plan, NETWORK_POLICY, namespace):
        spec = policy.props["spec"]
        if direction not in spec["policyTypes"] or not _selects(spec["podSelector"], pod_labels):
            continue
        selected = True
        for rule in spec.get(key, []):
            assert rule.get(side) and rule.get("ports"), f"{policy.name}: a rule without peers or ports allows everything"
            for peer in rule[side]:
                for port in rule["ports"]:
                    rules.add((_peer(peer, namespace), port["protocol"], int(port["port"])))
    assert selected, f"no {direction} policy selects {pod_labels} in {namespace}: everything would be allowed"
    return rules


def pods(service: str) -> dict[str, str]:
    return {NAME_LABEL: service}


# -- every workload, both stacks ------------------------------------------------------------------------------------
def every_workload() -> Iterable[tuple[str, str]]:
    return [(stack, name) for stack in STACKS for name in services_of(stack)]


@pytest.mark.parametrize("stack, name", every_workload())
def test_namespace_is_restricted_and_served_by_the_secret_store(stack, name):
    plan = plan_for(stack)
    labels = namespace_of(plan, name).props["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
    store = plan.one(CLUSTER_SECRET_STORE).props["spec"]
    assert any(_selects(c["namespaceSelector"], labels) for c in store["conditions"])


@pytest.mark.parametrize("stack, name", every_workload())
def test_service_account_carries_its_own_irsa_role_and_no_api_token(stack, name):
    plan = plan_for(stack)
    account = one(plan, SERVICE_ACCOUNT, name, name)
    assert account.props["automountServiceAccountToken"] is False
    role = next(r for r in plan.depends_on(account, "metadata") if r.type == ROLE)
    assert account.props["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == role.outputs["arn"]
    (statement,) = json.loads(role.props["assumeRolePolicy"])["Statement"]
    subjects = [v for k, v in statement["Condition"]["StringEquals"].items() if k.endswith(":sub")]
    assert subjects == [f"system:serviceaccount:{name}:{name}"]


@pytest.mark.parametrize("stack, name", every_workload())
def test_deployment_security_context_resources_probes_spread_and_rollout(stack, name):
    plan, spec = plan_for(stack), cfg_of(stack).catalogue.service(name)
    deployment = one(plan, DEPLOYMENT, name, name)
    pod = deployment.props["spec"]["template"]["spec"]
    main = container(deployment)

    assert pod["serviceAccountName"] == name and pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] > 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    security = main["securityContext"]
    assert security["runAsNonRoot"] is True and security["runAsUser"] >= 10000
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False and security["privileged"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    # The read-only root filesystem gets a writable /tmp, and only that.
    (mount,) = main["volumeMounts"]
    (volume,) = pod["volumes"]
    assert mount == {"name": volume["name"], "mountPath": "/tmp"} and "sizeLimit" in volume["emptyDir"]

    assert main["resources"] == {
        "requests": {"cpu": spec.resources.cpu_request, "memory": spec.resources.memory_request},
        "limits": {"cpu": spec.resources.cpu_limit, "memory": spec.resources.memory_limit},
    }
    for probe, path in (("readinessProbe", spec.probes.readiness_path), ("livenessProbe", spec.probes.liveness_path)):
        assert main[probe]["httpGet"] == {"path": path, "port": "http"}
    assert main["ports"] == [{"name": "http", "containerPort": spec.port, "protocol": "TCP"}]

    zone = [c for c in pod["topologySpreadConstraints"] if c["topologyKey"] == "topology.kubernetes.io/zone"]
    assert zone and zone[0]["whenUnsatisfiable"] == "DoNotSchedule" and zone[0]["maxSkew"] == 1
    assert zone[0]["labelSelector"]["matchLabels"] == pods(name)
    rollout = deployment.props["spec"]["strategy"]
    assert rollout["type"] == "RollingUpdate" and rollout["rollingUpdate"]["maxUnavailable"] == 0
    assert deployment.props["spec"]["selector"]["matchLabels"] == pods(name)
    assert deployment.props["spec"]["template"]["metadata"]["labels"][NAME_LABEL] == name
    # The first size only: the autoscaler owns the count afterwards.
    assert deployment.props["spec"]["replicas"] == spec.replicas
    assert deployment.options["ignoreChanges"] == ["spec.replicas"]


@pytest.mark.parametrize("stack, name", every_workload())
def test_image_is_pinned_and_comes_from_the_accounts_registry(stack, name):
    plan, spec = plan_for(stack), cfg_of(stack).catalogue.service(name)
    image = container(one(plan, DEPLOYMENT, name, name))["image"]
    assert image == f"123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/{spec.image}"
    assert not image.endswith(":latest") and (":" in image.rsplit("/", 1)[1] or "@sha256:" in image)


@pytest.mark.parametrize("stack, name", every_workload())
def test_service_autoscaler_and_disruption_budget(stack, name):
    plan, spec = plan_for(stack), cfg_of(stack).catalogue.service(name)
    service = one(plan, SERVICE, name, name).props["spec"]
    assert service["type"] == "ClusterIP" and service["selector"] == pods(name)
    assert service["ports"] == [{"name": "http", "port": spec.port, "targetPort": "http", "protocol": "TCP"}]

    hpa = one(plan, HPA, name, name).props["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (spec.autoscaling.min_replicas, spec.autoscaling.max_replicas)
    (metric,) = hpa["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"]["averageUtilization"] == spec.autoscaling.target_cpu_percent

    pdb = one(plan, PDB, name, name).props["spec"]
    assert pdb["selector"]["matchLabels"] == pods(name)
    # One pod at a time may go at the minimum size, so a drain can proceed and the rest stay up.
    assert pdb["minAvailable"] == hpa["minReplicas"] - 1 >= 1
    if stack == "prod":
        assert pdb["minAvailable"] >= 2  # two replicas across zones, always


@pytest.mark.parametrize("stack, name", every_workload())
def test_namespace_denies_everything_by_default(stack, name):
    plan = plan_for(stack)
    deny = one(plan, NETWORK_POLICY, name, "default-deny").props["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    # Every pod of the namespace is selected in both directions: nothing is open by omission.
    assert allowed(plan, name, {"any": "pod"}, "Ingress") == set()
    assert allowed(plan, name, {"any": "pod"}, "Egress") == set()


def test_policies_select_only_pods_that_exist(plan):
    for policy in plan.of_type(NETWORK_POLICY):
        selector = policy.props["spec"]["podSelector"]
        if selector:
            namespace = policy.props["metadata"]["namespace"]
            deployment = one(plan, DEPLOYMENT, namespace)
            assert _selects(selector, deployment.props["spec"]["template"]["metadata"]["labels"])


# -- who reaches whom -----------------------------------------------------------------------------------------------
def test_frontend_is_reachable_only_through_the_load_balancer(plan):
    public = cidrs_of(plan, "public")
    assert allowed(plan, "frontend", pods("frontend"), "Ingress") == {(("ip", cidr), "TCP", 8080) for cidr in public}
    # ... and the load balancer is the internet-facing ALB of the shared group, HTTPS with the ACM certificate.
    ingress = one(plan, INGRESS, "frontend", "frontend")
    annotations = ingress.props["metadata"]["annotations"]
    assert annotations["alb.ingress.kubernetes.io/scheme"] == "internet-facing"
    assert annotations["alb.ingress.kubernetes.io/target-type"] == "ip"  # why the public subnets are the source
    assert json.loads(annotations["alb.ingress.kubernetes.io/listen-ports"]) == [{"HTTP": 80}, {"HTTPS": 443}]
    assert annotations["alb.ingress.kubernetes.io/ssl-redirect"] == "443"
    validation = next(r for r in plan.depends_on(ingress, "metadata") if r.type == CERTIFICATE_VALIDATION)
    assert annotations["alb.ingress.kubernetes.io/certificate-arn"] == validation.outputs["certificateArn"]
    (rule,) = ingress.props["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    assert path["backend"]["service"] == {"name": "frontend", "port": {"name": "http"}}
    assert rule["host"] == cfg_of(plan.stack).catalogue.service("frontend").route.host


def test_the_shared_ingress_is_one_alb_group_only_public_namespaces_may_join(plan):
    klass = plan.one(INGRESS_CLASS).props
    params = plan.one(INGRESS_CLASS_PARAMS).props
    assert klass["spec"]["controller"] == "ingress.k8s.aws/alb"
    assert klass["spec"]["parameters"]["name"] == params["metadata"]["name"] == klass["metadata"]["name"]
    assert params["spec"]["scheme"] == "internet-facing"
    assert params["spec"]["group"]["name"] == "ingress"
    (selector,) = params["spec"]["namespaceSelector"]["matchExpressions"]
    assert selector == {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["frontend"]}
    attributes = {a["key"]: a["value"] for a in params["spec"]["loadBalancerAttributes"]}
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert attributes["deletion_protection.enabled"] == ("true" if plan.stack == "prod" else "false")
    for ingress in plan.of_type(INGRESS):
        assert ingress.props["spec"]["ingressClassName"] == klass["metadata"]["name"]
        assert ingress.props["metadata"]["annotations"]["alb.ingress.kubernetes.io/group.name"] == "ingress"


def test_backend_is_reachable_only_from_the_frontend(plan):
    assert allowed(plan, "backend", pods("backend"), "Ingress") == {(("pods", "frontend", (( NAME_LABEL, "frontend"),)), "TCP", 8080)}
    assert not objects(plan, INGRESS, "backend")


def test_frontend_reaches_dns_and_the_backend_only(plan):
    egress = allowed(plan, "frontend", pods("frontend"), "Egress")
    assert egress == {
        (DNS_PEER, "UDP", 53),
        (DNS_PEER, "TCP", 53),
        (("pods", "backend", ((NAME_LABEL, "backend"),)), "TCP", 8080),
    }
    config = one(plan, CONFIG_MAP, "frontend").props["data"]
    assert config["BACKEND_URL"] == "http://backend.backend.svc.cluster.local:8080"


def test_backend_reaches_postgres_redis_and_its_queue_and_nothing_else(plan):
    egress = allowed(plan, "backend", pods("backend"), "Egress")
    data = cidrs_of(plan, "data")
    # The VPC endpoints (SQS among them) live in the private subnets: followed from the endpoints themselves.
    sqs = next(e for e in plan.of_type(VPC_ENDPOINT) if e.props["serviceName"].endswith(".sqs"))
    endpoint_cidrs = {s.props["cidrBlock"] for s in plan.depends_on(sqs, "subnetIds") if s.type == SUBNET}
    assert endpoint_cidrs == cidrs_of(plan, "private")
    assert egress == (
        {(DNS_PEER, "UDP", 53), (DNS_PEER, "TCP", 53)}
        | {(("ip", cidr), "TCP", 5432) for cidr in data}
        | {(("ip", cidr), "TCP", 6379) for cidr in data}
        | {(("ip", cidr), "TCP", 443) for cidr in endpoint_cidrs}
    )
    # Port 443 to the endpoints is only as wide as the role behind it: the jobs queue (and its key), nothing else.
    role_policy = next(
        p for p in plan.of_type(ROLE_POLICY)
        if any(plan.get(u).props.get("assumeRolePolicy", "").count("system:serviceaccount:backend:backend")
               for u in p.property_dependencies["role"])
    )
    queues = [r for r in plan.depends_on(role_policy, "policy") if r.type == QUEUE]
    assert [q.props["name"] for q in queues] == [f"platform-{plan.stack}-jobs"]
    document = json.loads(role_policy.props["policy"])
    resources = {arn for s in document["Statement"] for arn in s["Resource"]}
    assert {q.outputs["arn"] for q in queues} <= resources
    assert all(arn.startswith(("arn:aws:sqs:", "arn:aws:kms:")) for arn in resources)
    assert all(a.startswith(("sqs:", "kms:")) and "*" not in a for s in document["Statement"] for a in s["Action"])
    # Where the data stores are: the configuration points at the real endpoints.
    config = one(plan, CONFIG_MAP, "backend").props["data"]
    database = plan.one(RDS)
    assert config["DATABASE_HOST"] == database.outputs["address"]
    assert config["QUEUE_JOBS_URL"] == queues[0].outputs["url"]


def test_the_frontends_role_grants_nothing(plan):
    role = next(r for r in plan.of_type(ROLE) if "system:serviceaccount:frontend:frontend" in r.props["assumeRolePolicy"])
    assert not [p for p in plan.of_type(ROLE_POLICY) if role.urn in p.property_dependencies["role"]]


# -- secrets --------------------------------------------------------------------------------------------------------
def _plan_secret_values(plan: engine.Plan) -> set[str]:
    found: set[str] = set()

    def walk(value: Any) -> None:
        if engine.is_secret(value):
            plain = engine.unwrap(value)
            if isinstance(plain, str) and len(plain) >= 8:
                found.add(plain)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for resource in plan:
        walk(resource.inputs)
        walk(resource.outputs)
    return found


@pytest.mark.parametrize("stack, name", every_workload())
def test_no_container_env_var_carries_a_literal_secret(stack, name):
    plan = plan_for(stack)
    main = container(one(plan, DEPLOYMENT, name, name))
    # Configuration comes whole from the ConfigMap and the synced Secret; there is no literal `env` to leak into.
    assert "env" not in main
    assert {next(iter(source)) for source in main["envFrom"]} <= {"configMapRef", "secretRef"}
    config = one(plan, CONFIG_MAP, name).props["data"]
    secrets = _plan_secret_values(plan)
    assert secrets, "the plan has generated secrets to look for"
    assert not [k for k, v in config.items() if v in secrets]
    assert not [k for k in config if any(word in k for word in ("PASSWORD", "TOKEN", "SECRET"))]


@pytest.mark.parametrize("stack, name", every_workload())
def test_every_secret_reference_resolves_to_an_external_secret_on_the_platforms_path(stack, name):
    plan = plan_for(stack)
    prefix = f"platform/{stack}/"
    main = container(one(plan, DEPLOYMENT, name, name))
    referenced = [s["secretRef"]["name"] for s in main["envFrom"] if "secretRef" in s]
    assert referenced, f"{name} declares secrets"
    for secret_name in referenced:
        external = [e for e in objects(plan, EXTERNAL_SECRET, name) if e.props["spec"]["target"]["name"] == secret_name]
        assert len(external) == 1, f"{secret_name} is synced by exactly one ExternalSecret"
        spec = external[0].props["spec"]
        assert spec["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": plan.one(CLUSTER_SECRET_STORE).props["metadata"]["name"]}
        sources = plan.depends_on(external[0], "spec")
        for item in spec["data"]:
            key = item["remoteRef"]["key"]
            secret = [s for s in sources if s.type == SECRET and s.outputs.get("arn") == key]
            managed = [d for d in sources if d.type == RDS and d.outputs["masterUserSecrets"][0]["secretArn"] == key]
            if secret:
                assert secret[0].props["name"].startswith(prefix), f"{key} is not under {prefix}"
            else:
                # The database credentials: the secret RDS itself manages for the platform's instance.
                assert managed and managed[0].props["manageMasterUserPassword"] is True, f"{key} comes from nowhere known"


def test_backend_gets_database_redis_and_internal_token_credentials(plan):
    keys = {d["secretKey"] for d in one(plan, EXTERNAL_SECRET, "backend").props["spec"]["data"]}
    assert keys == {"DATABASE_USERNAME", "DATABASE_PASSWORD", "REDIS_AUTH_TOKEN", "INTERNAL_TOKEN"}
    keys = {d["secretKey"] for d in one(plan, EXTERNAL_SECRET, "frontend").props["spec"]["data"]}
    assert keys == {"INTERNAL_TOKEN"}


# -- ordering -------------------------------------------------------------------------------------------------------
def test_objects_wait_for_the_release_that_serves_them(plan):
    """A custom resource needs its CRD (from a Helm release) and an Ingress the controller's webhook: declared after."""
    releases = {r.props["name"]: r.urn for r in plan.of_type("kubernetes:helm.sh/v3:Release")}
    needs = {
        EXTERNAL_SECRET: "external-secrets",
        INGRESS_CLASS_PARAMS: "aws-load-balancer-controller",
        INGRESS_CLASS: "aws-load-balancer-controller",
        INGRESS: "aws-load-balancer-controller",
    }
    for type_, release in needs.items():
        found = [r for r in plan.of_type(type_) if r.parent and "platform:workloads:" in r.parent]
        assert found and all(releases[release] in r.dependencies for r in found), type_


# -- per-stack differences ------------------------------------------------------------------------------------------
def test_stack_overrides_reach_the_cluster():
    staging, prod = plan_for("staging"), plan_for("prod")
    assert one(prod, HPA, "backend").props["spec"]["minReplicas"] == 3
    assert one(staging, HPA, "backend").props["spec"]["maxReplicas"] == 3
    assert container(one(prod, DEPLOYMENT, "backend"))["resources"]["limits"] == {"cpu": "2", "memory": "1Gi"}
    assert container(one(staging, DEPLOYMENT, "backend"))["resources"]["limits"] == {"cpu": "1", "memory": "512Mi"}
    assert one(staging, INGRESS, "frontend").props["spec"]["rules"][0]["host"] == "app.staging.example.com"
    assert one(prod, INGRESS, "frontend").props["spec"]["rules"][0]["host"] == "app.example.com"


@pytest.mark.parametrize("stack", STACKS)
def test_preview_declares_the_same_objects(stack):
    kinds = lambda p: sorted((r.type, r.name) for r in p if r.type.startswith("kubernetes:"))  # noqa: E731
    assert kinds(plan_for(stack, preview=True)) == kinds(plan_for(stack))


# -- adding a service is one catalogue entry ------------------------------------------------------------------------
WORKER = {
    "image": "platform/worker:0.9.1",
    "callers": ["backend"],
    "uses": {"queues": {"notifications": "receive"}, "buckets": {"uploads": "read-write"}, "secrets": ["internal-token"]},
}


def with_entry(name: str, entry: dict[str, Any]):
    def mutate(config):
        config["platform:services"][name] = copy.deepcopy(entry)

    return mutate


@pytest.fixture(scope="module")
def worker_plan() -> engine.Plan:
    return run_mutated("staging", with_entry("worker", WORKER))


def test_a_new_entry_gets_the_full_set_of_objects(worker_plan):
    plan = worker_plan
    kinds = {r.type for r in plan if r.props.get("metadata", {}).get("namespace") == "worker"}
    kinds |= {NAMESPACE} if namespace_of(plan, "worker") else set()
    assert kinds == SERVICE_KINDS | {DEPLOYMENT, EXTERNAL_SECRET}
    assert not objects(plan, INGRESS, "worker")  # internal: no route
    assert {p.props["metadata"]["name"] for p in objects(plan, NETWORK_POLICY, "worker")} == {
        "default-deny", "worker-ingress", "worker-egress"
    }
    # Its callers, its role and its configuration follow from the entry alone.
    assert allowed(plan, "worker", pods("worker"), "Ingress") == {(("pods", "backend", ((NAME_LABEL, "backend"),)), "TCP", 8080)}
    assert one(plan, CONFIG_MAP, "backend").props["data"]["WORKER_URL"] == "http://worker.worker.svc.cluster.local:8080"
    assert (("pods", "worker", ((NAME_LABEL, "worker"),)), "TCP", 8080) in allowed(plan, "backend", pods("backend"), "Egress")
    role = next(r for r in plan.of_type(ROLE) if "system:serviceaccount:worker:worker" in r.props["assumeRolePolicy"])
    (policy,) = [p for p in plan.of_type(ROLE_POLICY) if role.urn in p.property_dependencies["role"]]
    document = json.loads(policy.props["policy"])
    objects_granted = {arn for s in document["Statement"] if s["Sid"] in ("ReadObjects", "WriteObjects") for arn in s["Resource"]}
    assert objects_granted and all(arn.endswith("/worker/*") for arn in objects_granted)
    receive = next(s for s in document["Statement"] if s["Sid"] == "ReceiveMessages")
    assert receive["Resource"] == ["arn:aws:sqs:ap-northeast-2:123456789012:platform-staging-notifications"]
    assert "SendMessages" not in {s["Sid"] for s in document["Statement"]}
    # S3 is reached through its gateway endpoint, at S3's own addresses: HTTPS to the region's prefix list only.
    egress = allowed(plan, "worker", pods("worker"), "Egress")
    public = {(peer, protocol, port) for peer, protocol, port in egress if peer[0] == "ip" and not ipaddress.ip_network(peer[1]).is_private}
    assert public and {(protocol, port) for _, protocol, port in public} == {("TCP", 443)}


def test_a_new_entry_changes_nothing_else_about_the_others(worker_plan):
    before = {(r.type, r.name) for r in plan_for("staging")}
    after = {(r.type, r.name) for r in worker_plan}
    added = after - before
    assert before <= after
    # The service's own objects, the ECR repository of its in-account image (with its lifecycle and policy), and its
    # own alarms (replicas unavailable, pods restarting) in the monitoring component.
    assert all(name.startswith(("service-worker", "registry-platform-worker", "monitoring-worker-")) for _, name in added), sorted(added)


def test_a_gitops_entry_becomes_an_argo_cd_application_in_its_place():
    entry = {
        "image": "platform/reports:3.2.0",
        "delivery": {"mode": "gitops", "repository": "https://git.example.com/team/reports.git", "path": "deploy", "targetRevision": "v3.2.0"},
        "uses": {"secrets": ["internal-token"]},
    }
    plan = run_mutated("staging", with_entry("reports", entry))
    assert not objects(plan, DEPLOYMENT, "reports")
    application = one(plan, APPLICATION, "argocd", "reports").props["spec"]
    assert application["source"] == {"repoURL": entry["delivery"]["repository"], "path": "deploy", "targetRevision": "v3.2.0"}
    assert application["destination"]["namespace"] == "reports" and application["project"] == "reports"
    project = one(plan, APP_PROJECT, "argocd", "reports").props["spec"]
    assert project["sourceRepos"] == [entry["delivery"]["repository"]]
    assert project["destinations"] == [{"server": "https://kubernetes.default.svc", "namespace": "reports"}]
    assert project["clusterResourceWhitelist"] == []
    denied = {(d["group"], d["kind"]) for d in project["namespaceResourceBlacklist"]}
    assert {("networking.k8s.io", "NetworkPolicy"), ("", "Secret"), ("external-secrets.io", "ExternalSecret")} <= denied
    # The same namespace, service account, secrets and policies around it.
    kinds = {r.type for r in plan if r.props.get("metadata", {}).get("namespace") == "reports"}
    assert kinds == (SERVICE_KINDS - {NAMESPACE}) | {EXTERNAL_SECRET}
    assert namespace_of(plan, "reports").props["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_an_internal_ingress_admits_its_load_balancer_from_the_private_subnets():
    """An internal ALB's nodes sit in the private subnets (`kubernetes.io/role/internal-elb`), not the public ones:
    the IP-mode targets must admit it from where it is."""

    def internal(config):
        config["platform:services"]["ingress"]["scheme"] = "internal"

    plan = run_mutated("staging", internal)
    assert plan.one(INGRESS_CLASS_PARAMS).props["spec"]["scheme"] == "internal"
    internal_elb = {
        s.props["cidrBlock"] for s in plan.of_type(SUBNET) if s.props["tags"].get("kubernetes.io/role/internal-elb") == "1"
    }
    assert internal_elb == cidrs_of(plan, "private")
    assert allowed(plan, "frontend", pods("frontend"), "Ingress") == {(("ip", cidr), "TCP", 8080) for cidr in internal_elb}


def test_only_a_service_that_talks_to_the_kubernetes_api_reaches_it():
    entry = {"image": "platform/operator:1.0.0", "kubernetesApi": True}
    plan = run_mutated("staging", with_entry("operator", entry))
    account = one(plan, SERVICE_ACCOUNT, "operator", "operator").props
    assert account["automountServiceAccountToken"] is True
    # The control plane's ENIs are in the cluster's subnets: followed from the cluster itself.
    cluster = plan.one("eks:index:Cluster")
    api_cidrs = {s.props["cidrBlock"] for s in plan.depends_on(cluster, "privateSubnetIds") if s.type == SUBNET}
    assert api_cidrs == cidrs_of(plan, "private")
    assert allowed(plan, "operator", pods("operator"), "Egress") == (
        {(DNS_PEER, "UDP", 53), (DNS_PEER, "TCP", 53)} | {(("ip", cidr), "TCP", 443) for cidr in api_cidrs}
    )
