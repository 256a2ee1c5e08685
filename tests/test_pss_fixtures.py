"""The fixture cross-check command (`python -m infra.offline.pss_fixtures`), on a fixture tree laid out like Pod
Security Admission's, with pods written here: agreement exits 0, a disagreement 1, no fixtures 2."""

from __future__ import annotations

from pathlib import Path

import yaml

from infra.offline import pss_fixtures

CONTAINER = {"name": "app", "image": "registry.example.com/app:1.0.0"}
RESTRICTED = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
# Admitted at baseline (nothing privileged) but not at restricted (no runAsNonRoot, no seccomp, no drop ALL).
PLAIN = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "plain"}, "spec": {"containers": [CONTAINER]}}
PRIVILEGED = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "privileged"},
              "spec": {"containers": [{**CONTAINER, "securityContext": {"privileged": True}}]}}
COMPLIANT = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "compliant"},
             "spec": {"securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                      "containers": [{**CONTAINER, "securityContext": RESTRICTED}]}}


def tree(root: Path, pods: dict[str, dict]) -> Path:
    for where, pod in pods.items():
        path = root / "test" / "testdata" / f"{where}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(pod))
    return root


def test_fixtures_that_agree_exit_zero(tmp_path, capsys):
    root = tree(tmp_path, {
        "baseline/v1.35/fail/privileged": PRIVILEGED, "baseline/v1.35/pass/plain": PLAIN,
        "restricted/v1.35/fail/plain": PLAIN, "restricted/v1.35/pass/compliant": COMPLIANT})
    assert pss_fixtures.main([str(root)]) == 0
    assert "4 fixture pods (v1.35): 4 agree with Pod Security Admission, 0 differ deliberately, 0 disagree." in capsys.readouterr().out


def test_a_disagreement_exits_one_and_names_the_fixture(tmp_path, capsys):
    root = tree(tmp_path, {"restricted/v1.35/pass/plain": PLAIN})
    assert pss_fixtures.main([str(root)]) == 1
    assert "DISAGREES: restricted/pass/plain.yaml: flagged by" in capsys.readouterr().out


def test_no_fixtures_is_bad_input(tmp_path, capsys):
    assert pss_fixtures.main([str(tmp_path)]) == 2
    assert "no fixtures under" in capsys.readouterr().err
