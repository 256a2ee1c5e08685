"""The service catalogue's config: Pulumi.yaml's base plus each stack's overrides, and the rules with named errors."""

from __future__ import annotations

import copy

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from infra.offline import engine
from infra.config import ConfigError, load_stack_config
from infra.config.services import IMAGE_PATTERN, merge

from .conftest import config_error

BASE = "platform:services"
OVERRIDES = "platform:serviceOverrides"


def catalogue(stack: str, config: dict | None = None):
    raw = engine.stack_config(stack) if config is None else config
    return load_stack_config(stack, engine._encode(raw)).catalogue


def messages(error: ConfigError) -> list[str]:
    return [str(p) for p in error.problems]


def base(service: str, **changes):
    def mutate(config):
        config[BASE][service].update(changes)

    return mutate


def override(service: str, **changes):
    def mutate(config):
        config.setdefault(OVERRIDES, {}).setdefault(service, {}).update(changes)

    return mutate


def uses(service: str, **changes):
    def mutate(config):
        config[BASE][service].setdefault("uses", {}).update(changes)

    return mutate


# -- the shipped catalogue ------------------------------------------------------------------------------------------
def test_the_base_is_shared_project_config_and_each_stack_gets_it():
    for stack in ("staging", "prod"):
        cat = catalogue(stack)
        # Every entry of Pulumi.yaml's base, in its order (a scaffolded service adds one): the two shipped first.
        entries = engine.project_config()[BASE]
        assert [s.name for s in cat.services] == [n for n, e in entries.items() if e.get("kind", "service") == "service"]
        assert [s.name for s in cat.services][:2] == ["frontend", "backend"]
        assert [i.name for i in cat.ingresses] == ["ingress"]
    # The base lives in Pulumi.yaml only; the stack files carry overrides alone.
    for stack in ("staging", "prod"):
        stack_file = yaml.safe_load(engine.stack_file(stack).read_text())["config"]
        assert BASE not in stack_file and OVERRIDES in stack_file
    assert BASE in engine.project_config()


def test_frontend_is_public_and_backend_internal_with_its_data():
    cat = catalogue("staging")
    frontend, backend = cat.service("frontend"), cat.service("backend")
    assert frontend.public and frontend.route.ingress == "ingress"
    assert not backend.public
    assert backend.callers == ("frontend",) and cat.callees("frontend") == (backend,)
    assert set(backend.uses.data_stores) == {"postgres", "redis"}
    assert backend.uses.queues == (("jobs", "send-receive"),)
    assert "internal-token" in backend.uses.secrets and "internal-token" in frontend.uses.secrets


def test_per_stack_overrides_apply_and_the_rest_is_the_base():
    project = engine.project_config()[BASE]
    staging, prod = catalogue("staging"), catalogue("prod")
    # Staging: its own host, smaller ceilings, debug logs; sizes from the base.
    assert staging.service("frontend").route.host == "app.staging.example.com"
    assert staging.service("backend").autoscaling.max_replicas == 3
    assert dict(staging.service("backend").env)["LOG_LEVEL"] == "debug"
    assert staging.service("backend").resources.cpu_limit == project["backend"]["resources"]["limits"]["cpu"]
    assert staging.ingress("ingress").deletion_protection is False
    # Prod: three replicas and bigger backends; the host and the ingress from the base.
    assert prod.service("frontend").route.host == project["frontend"]["route"]["host"]
    assert prod.service("backend").replicas == 3
    assert prod.service("backend").autoscaling.min_replicas == 3
    assert prod.service("backend").resources.cpu_request == "500m"
    assert prod.service("backend").resources.memory_limit == "1Gi"
    # A key the override does not name keeps the base value (merge, not replace).
    assert prod.service("backend").resources.memory_request == "512Mi"
    assert prod.service("backend").autoscaling.target_cpu_percent == project["backend"]["autoscaling"]["targetCpuPercent"]
    assert prod.ingress("ingress").deletion_protection is True


def test_null_in_an_override_removes_the_key():
    config = copy.deepcopy(engine.stack_config("staging"))
    config[OVERRIDES]["frontend"]["route"] = None
    assert not catalogue("staging", config).service("frontend").public


# -- named errors -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "stack, mutate, path, expected, found",
    [
        # Unknown fields, in the base and in an override (the problem names the key where it was written).
        ("staging", base("frontend", replicaz=3), f"{BASE}.frontend.replicaz", "known keys", "unknown key 'replicaz'"),
        ("prod", override("backend", replicaz=3), f"{OVERRIDES}.backend.replicaz", "known keys", "unknown key 'replicaz'"),
        ("staging", override("backend", resources={"limits": {"gpu": 1}}), f"{OVERRIDES}.backend.resources.limits.gpu", "known keys", "unknown key"),
        # Images: never `latest`, never untagged.
        ("staging", base("frontend", image="platform/frontend:latest"), f"{BASE}.frontend.image", "other than 'latest'", "'platform/frontend:latest'"),
        ("staging", base("frontend", image="platform/frontend"), f"{BASE}.frontend.image", "pinned by a tag or a sha256 digest", "'platform/frontend'"),
        ("staging", base("frontend", image="Not An Image"), f"{BASE}.frontend.image", "an image reference", "'Not An Image'"),
        # Replicas and autoscaling.
        ("prod", override("backend", autoscaling={"minReplicas": 10}), f"{OVERRIDES}.backend.autoscaling.minReplicas", "no greater than maxReplicas (8)", "10"),
        ("staging", base("backend", autoscaling={"minReplicas": 5, "maxReplicas": 3}), f"{BASE}.backend.autoscaling.minReplicas", "no greater than maxReplicas (3)", "5"),
        ("prod", override("frontend", autoscaling={"minReplicas": 2}), f"{OVERRIDES}.frontend.autoscaling.minReplicas", "at least 3 replicas in prod", "2"),
        ("staging", base("frontend", replicas=9), f"{BASE}.frontend.replicas", "from minReplicas (2) to maxReplicas", "9"),
        # Sizes.
        ("staging", base("backend", resources={"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}), f"{BASE}.backend.resources.requests.cpu", "no larger than the limit (1)", "'2'"),
        ("staging", base("backend", resources={"requests": {"memory": "1 GB"}}), f"{BASE}.backend.resources.requests.memory", "memory quantity", "'1 GB'"),
        # Callers and routes.
        ("staging", base("backend", callers=["frontend", "admin"]), f"{BASE}.backend.callers[1]", "catalogued service", "'admin'"),
        ("staging", base("backend", callers=["backend"]), f"{BASE}.backend.callers[0]", "another service", "'backend'"),
        ("staging", base("frontend", route={"host": "app.example.com", "ingress": "edge"}), f"{BASE}.frontend.route.ingress", "kind ingress", "'edge'"),
        ("staging", base("backend", route={"host": "app.staging.example.com"}), f"{BASE}.backend.route", "no other service routes", "app.staging.example.com/"),
        ("prod", base("frontend", route={"host": "not a host"}), f"{BASE}.frontend.route.host", "DNS host name", "'not a host'"),
        ("staging", override("frontend", route={"host": "app.example.org"}), f"{OVERRIDES}.frontend.route.host", "certificate covers (staging.example.com, *.staging.example.com)", "'app.example.org'"),
        ("prod", base("frontend", route={"host": "deep.app.example.com"}), f"{BASE}.frontend.route.host", "certificate covers", "'deep.app.example.com'"),
        # What a service uses must exist in the stack's data-stores config.
        ("staging", uses("backend", queues={"jobz": "send"}), f"{BASE}.backend.uses.queues.jobz", "declared in platform:messaging.queues", "'jobz'"),
        ("staging", uses("backend", queues={"jobs": "write"}), f"{BASE}.backend.uses.queues.jobs", "'send', 'receive', 'send-receive'", "'write'"),
        ("staging", uses("backend", buckets={"access-logs": "read"}), f"{BASE}.backend.uses.buckets.access-logs", "declared in platform:storage.buckets", "'access-logs'"),
        ("staging", uses("backend", secrets=["root-password"]), f"{BASE}.backend.uses.secrets[0]", "generated secrets", "'root-password'"),
        ("staging", uses("backend", dataStores=["mysql"]), f"{BASE}.backend.uses.dataStores[0]", "a data store kind (postgres, redis, rabbitmq)", "'mysql'"),
        # Plain configuration never carries a secret, nor shadows what the platform sets.
        ("staging", base("frontend", env={"DB_PASSWORD": "hunter2"}), f"{BASE}.frontend.env.DB_PASSWORD", "plain configuration", "secret-looking"),
        ("staging", base("frontend", env={"BACKEND_URL": "http://elsewhere"}), f"{BASE}.frontend.env.BACKEND_URL", "does not set itself", "'BACKEND_URL'"),
        # Delivery.
        ("prod", base("backend", delivery={"mode": "gitops", "repository": "https://git.example.com/t/b.git", "path": "deploy", "targetRevision": "v1"}), f"{BASE}.backend.delivery.mode", "without Argo CD", "'gitops'"),
        ("staging", base("backend", delivery={"mode": "gitops", "path": "deploy", "targetRevision": "v1"}), f"{BASE}.backend.delivery.repository", "Git repository URL", "missing"),
        ("staging", base("backend", delivery={"mode": "pulumi", "repository": "https://git.example.com/t/b.git"}), f"{BASE}.backend.delivery.repository", "unless mode is 'gitops'", "git.example.com"),
        ("staging", base("backend", delivery={"mode": "helm"}), f"{BASE}.backend.delivery.mode", "'pulumi', 'gitops'", "'helm'"),
        # Entries and overrides themselves.
        ("staging", override("admin", replicas=2), f"{OVERRIDES}.admin", "an entry in platform:services", "'admin'"),
        ("staging", lambda c: c[BASE].update({"kube-system": {"image": "x/y:1"}}), f"{BASE}.kube-system", "not a system namespace", "'kube-system'"),
        ("prod", override("ingress", deletionProtection=False), f"{OVERRIDES}.ingress.deletionProtection", "true in prod", "false"),
        ("staging", base("ingress", scheme="public"), f"{BASE}.ingress.scheme", "'internet-facing', 'internal'", "'public'"),
        ("staging", base("ingress", port=443), f"{BASE}.ingress.port", "known keys", "unknown key 'port'"),
    ],
)
def test_bad_entries_fail_with_named_errors(stack, mutate, path, expected, found):
    error = config_error(stack, mutate)
    matching = [m for m in messages(error) if m.startswith(f"{path}: ")]
    assert matching, f"no problem for {path} in {messages(error)}"
    assert any(expected in m and found in m for m in matching), matching


def test_rabbitmq_only_where_the_stack_switches_it_on():
    def mutate(config):
        config["platform:messaging"]["rabbitmq"]["enabled"] = False
        config[BASE]["backend"]["uses"]["dataStores"] = ["postgres", "rabbitmq"]

    assert messages(config_error("staging", mutate)) == [
        f"{BASE}.backend.uses.dataStores[1]: expected a data store this stack declares in platform:database, "
        "platform:cache and platform:messaging.rabbitmq (postgres, redis), got 'rabbitmq'"
    ]


def test_every_problem_of_every_entry_is_reported_at_once():
    def mutate(config):
        config[BASE]["frontend"]["image"] = "platform/frontend:latest"
        config[BASE]["backend"]["callers"] = ["nobody"]
        config[OVERRIDES]["backend"]["autoscaling"]["minReplicas"] = 9

    paths = config_error("staging", mutate).paths()
    assert {f"{BASE}.frontend.image", f"{BASE}.backend.callers[0]", f"{OVERRIDES}.backend.autoscaling.minReplicas"} <= paths


# -- the merge and the image grammar ----------------------------------------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=12,
)
mappings = st.dictionaries(st.text(max_size=4), json_values, max_size=4)


@given(mappings, mappings)
def test_merge_keeps_what_the_overlay_does_not_name_and_takes_what_it_does(base_doc, overlay):
    merged = merge(base_doc, overlay)
    for key, value in base_doc.items():
        if key not in overlay:
            assert merged[key] == value
    for key, value in overlay.items():
        if value is None:
            assert key not in merged
        elif not (isinstance(value, dict) and isinstance(base_doc.get(key), dict)):
            assert merged[key] == value
    assert merge(base_doc, {}) == base_doc


@given(
    repository=st.from_regex(r"[a-z0-9]{1,8}(/[a-z0-9]{1,8}){0,2}", fullmatch=True),
    tag=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True),
)
def test_any_release_tag_pins_and_latest_never_does(repository, tag):
    match = IMAGE_PATTERN.fullmatch(f"{repository}:{tag}")
    assert match is not None and match.group("tag") == tag
    assert IMAGE_PATTERN.fullmatch(f"{repository}").group("tag") is None
    assert IMAGE_PATTERN.fullmatch(f"123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/{repository}:{tag}").group("registry")


def test_the_engine_assembles_config_as_the_cli_does(tmp_path):
    """Project-level values (plain, `value:`, or a schema's `default:`) first; a stack file's key replaces one whole."""
    (tmp_path / "Pulumi.yaml").write_text(
        "name: platform\nruntime: python\nconfig:\n"
        "  aws:region: us-east-1\n"
        "  platform:services:\n    value: {a: {image: x/a:1}}\n"
        "  size:\n    type: integer\n    default: 3\n"
    )
    (tmp_path / "Pulumi.qa.yaml").write_text("config:\n  aws:region: ap-northeast-2\n  platform:extra: 1\n")
    assert engine.stack_config("qa", tmp_path) == {
        "aws:region": "ap-northeast-2",
        "platform:services": {"a": {"image": "x/a:1"}},
        "platform:size": 3,
        "platform:extra": 1,
    }
