"""The monitoring gate (`delivery/monitoring_gate.py`) against moto's CloudWatch on 127.0.0.1 and a fake cluster.

The CloudWatch part talks to a real HTTP endpoint (moto's server, started on a free local port), through the same
boto3 calls the deploy workflow makes; alarm states are set with `set_alarm_state`, as CloudWatch itself would. The
Kubernetes part reads what `kubectl get -o json` prints, from an injected runner.
"""

from __future__ import annotations

import json
import socket
import subprocess

import boto3
import pytest
from moto.server import ThreadedMotoServer

from delivery import monitoring_gate as gate

REGION = "ap-northeast-2"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def endpoint():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def cloudwatch(endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("cloudwatch", region_name=REGION, endpoint_url=endpoint)
    boto3.client("s3", region_name=REGION, endpoint_url=endpoint)  # same server: nothing else needed
    existing = [a["AlarmName"] for page in client.get_paginator("describe_alarms").paginate() for a in page["MetricAlarms"]]
    if existing:
        client.delete_alarms(AlarmNames=existing)
    return client


def put_alarm(client, name: str, state: str = "OK") -> None:
    client.put_metric_alarm(
        AlarmName=name, Namespace="AWS/RDS", MetricName="CPUUtilization", Statistic="Average", Period=300,
        EvaluationPeriods=1, Threshold=80, ComparisonOperator="GreaterThanThreshold",
    )
    client.set_alarm_state(AlarmName=name, StateValue=state, StateReason=f"test: {state}")


def healthy_cluster() -> dict[str, list]:
    return {
        "deployments": [
            {"metadata": {"namespace": "frontend", "name": "frontend"}, "spec": {"replicas": 2},
             "status": {"readyReplicas": 2, "availableReplicas": 2,
                        "conditions": [{"type": "Available", "status": "True"}]}},
        ],
        "statefulsets": [],
        "nodes": [{"metadata": {"name": "ip-10-20-32-10"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}],
    }


def kubectl_printing(objects: dict[str, list]):
    calls: list[list[str]] = []

    def run(command, **_):
        calls.append(command)
        kind = command[2]
        return subprocess.CompletedProcess(command, 0, json.dumps({"items": objects.get(kind, [])}), "")

    run.calls = calls
    return run


def test_every_alarm_ok_passes(cloudwatch, capsys):
    for name in ("platform-staging-database-cpu", "platform-staging-cache-001-cpu"):
        put_alarm(cloudwatch, name, "OK")
    put_alarm(cloudwatch, "platform-prod-database-cpu", "ALARM")  # another stack's alarm is not this gate's business
    status = gate.main(["--stack", "staging", "--bake-seconds", "0"], cloudwatch=cloudwatch, run=kubectl_printing(healthy_cluster()))
    out = capsys.readouterr().out
    assert status == 0, out
    assert "2 of 2 alarm(s) OK" in out and "pass" in out


def test_one_alarm_in_alarm_fails_and_is_named(cloudwatch, capsys):
    put_alarm(cloudwatch, "platform-staging-database-cpu", "OK")
    put_alarm(cloudwatch, "platform-staging-dlq-jobs", "ALARM")
    status = gate.main(["--stack", "staging", "--bake-seconds", "0"], cloudwatch=cloudwatch, run=kubectl_printing(healthy_cluster()))
    out = capsys.readouterr().out
    assert status == 1
    assert "UNHEALTHY: alarm platform-staging-dlq-jobs is in ALARM: test: ALARM" in out
    assert "platform-staging-database-cpu is in ALARM" not in out


def test_alarms_are_read_across_pages(cloudwatch):
    for index in range(120):  # DescribeAlarms returns at most 100 per page
        put_alarm(cloudwatch, f"platform-staging-many-{index:03d}", "ALARM" if index == 117 else "OK")
    alarms = gate.alarms_in(cloudwatch, gate.alarm_prefix("staging"))
    assert len(alarms) == 120
    verdict = gate.check_alarms(alarms)
    assert verdict.problems == ["alarm platform-staging-many-117 is in ALARM: test: ALARM"]


def test_insufficient_data_is_reported_and_fails_only_when_asked(cloudwatch):
    put_alarm(cloudwatch, "platform-staging-broker-cpu", "INSUFFICIENT_DATA")
    alarms = gate.alarms_in(cloudwatch, "platform-staging-")
    assert gate.check_alarms(alarms).healthy
    assert not gate.check_alarms(alarms, fail_on_insufficient_data=True).healthy


def test_no_alarm_at_all_fails(cloudwatch, capsys):
    status = gate.main(["--stack", "staging", "--bake-seconds", "0", "--skip-kubernetes"], cloudwatch=cloudwatch)
    assert status == 1 and "no CloudWatch alarm found" in capsys.readouterr().out


def test_the_gate_bakes_first(cloudwatch):
    put_alarm(cloudwatch, "platform-staging-database-cpu", "OK")
    slept: list[float] = []
    status = gate.main(["--stack", "staging", "--bake-seconds", "600"], cloudwatch=cloudwatch,
                       run=kubectl_printing(healthy_cluster()), sleep=slept.append)
    assert status == 0 and slept == [600]


def test_unavailable_replicas_fail_naming_the_workload(cloudwatch, capsys):
    put_alarm(cloudwatch, "platform-staging-database-cpu", "OK")
    cluster = healthy_cluster()
    cluster["deployments"].append(
        {"metadata": {"namespace": "backend", "name": "backend"}, "spec": {"replicas": 2},
         "status": {"readyReplicas": 1, "availableReplicas": 1,
                    "conditions": [{"type": "Available", "status": "False", "message": "MinimumReplicasUnavailable"}]}}
    )
    run = kubectl_printing(cluster)
    status = gate.main(["--stack", "staging", "--bake-seconds", "0"], cloudwatch=cloudwatch, run=run)
    out = capsys.readouterr().out
    assert status == 1
    assert "deployment backend/backend: 1 available and 1 ready of 2 replicas" in out
    assert "deployment backend/backend: not Available (MinimumReplicasUnavailable)" in out
    assert "frontend/frontend" not in out.split("UNHEALTHY", 1)[1]
    assert ["kubectl", "get", "deployments", "-o", "json", "--all-namespaces"] in run.calls


def test_a_node_not_ready_fails():
    cluster = healthy_cluster()
    cluster["nodes"].append({"metadata": {"name": "ip-10-20-40-7"},
                             "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "KubeletNotReady"}]}})
    verdict = gate.check_workloads(cluster)
    assert verdict.problems == ["node ip-10-20-40-7 is not Ready (KubeletNotReady)"]


def test_a_statefulset_short_of_replicas_fails():
    cluster = healthy_cluster()
    cluster["statefulsets"] = [{"metadata": {"namespace": "argocd", "name": "argo-cd-application-controller"},
                                "spec": {"replicas": 1}, "status": {"readyReplicas": 0}}]
    assert gate.check_workloads(cluster).problems == [
        "statefulset argocd/argo-cd-application-controller: 0 available and 0 ready of 1 replicas"
    ]


def test_kubectl_failing_is_bad_input_not_a_traceback(cloudwatch, capsys):
    put_alarm(cloudwatch, "platform-staging-database-cpu", "OK")

    def failing(command, **_):
        return subprocess.CompletedProcess(command, 1, "", "error: You must be logged in to the server (Unauthorized)")

    assert gate.main(["--stack", "staging", "--bake-seconds", "0"], cloudwatch=cloudwatch, run=failing) == 2
    assert "Unauthorized" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--stack", "Prod!"], ["--stack", "staging", "--bake-seconds", "-1"], ["--bake-seconds", "5"]])
def test_bad_arguments_exit_2(argv, capsys):
    assert gate.main(argv, cloudwatch=object()) == 2


def test_a_bug_is_one_line_and_exit_3_not_a_traceback(cloudwatch, capsys):
    put_alarm(cloudwatch, "platform-staging-database-cpu", "OK")

    def garbled(command, **_):
        return subprocess.CompletedProcess(command, 0, json.dumps({"items": [{"status": "not a mapping"}]}), "")

    assert gate.main(["--stack", "staging", "--bake-seconds", "0"], cloudwatch=cloudwatch, run=garbled) == 3
    err = capsys.readouterr().err
    assert err.startswith("internal error:") and len(err.strip().splitlines()) == 1
