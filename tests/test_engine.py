"""The offline engine: preview and update modes, secrets kept marked, parents and dependencies captured, and the
program started the way the Pulumi CLI's language host starts it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from infra.offline import engine

from .conftest import plan_for

SECRET_PROGRAM = '''
import pulumi
import pulumi_aws as aws

class Box(pulumi.ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("test:index:Box", name, None, opts)
        topic = aws.sns.Topic("topic", opts=pulumi.ResourceOptions(parent=self, protect=True, ignore_changes=["tags"]))
        aws.secretsmanager.SecretVersion(
            "token",
            secret_id=topic.arn,
            secret_string=pulumi.Output.secret("hunter2-" + pulumi.Config("box").require("suffix")),
            opts=pulumi.ResourceOptions(parent=self),
        )

Box("box")
pulumi.export("answer", 42)
'''


def test_update_mode_fills_in_realistic_outputs():
    plan = plan_for("staging")
    assert plan.outputs["vpcId"].startswith("vpc-")
    subnet = plan.one("aws:ec2/subnet:Subnet", "network-private-0")
    assert subnet.props["vpcId"] == plan.outputs["vpcId"]


def test_preview_mode_leaves_computed_outputs_unknown():
    plan = plan_for("staging", preview=True)
    assert plan.preview
    assert plan.outputs["vpcId"] == engine.UNKNOWN
    subnet = plan.one("aws:ec2/subnet:Subnet", "network-private-0")
    assert subnet.inputs["vpcId"] == engine.UNKNOWN
    # Property dependencies still say where the unknown comes from: that is what policies follow.
    assert subnet.property_dependencies["vpcId"] == (plan.one("aws:ec2/vpc:Vpc").urn,)
    # Both modes declare the same resources.
    assert sorted(r.urn for r in plan) == sorted(r.urn for r in plan_for("staging"))


def test_parents_providers_and_urns_are_captured():
    plan = plan_for("prod")
    network = plan.one("platform:network:Network")
    assert network.parent is None and not network.custom
    assert network.urn == "urn:pulumi:prod::platform::platform:network:Network::network"
    vpc = plan.one("aws:ec2/vpc:Vpc")
    assert vpc.parent == network.urn
    assert vpc.urn == "urn:pulumi:prod::platform::platform:network:Network$aws:ec2/vpc:Vpc::network-vpc"
    assert vpc in plan.descendants(network.urn)
    provider = plan.one("pulumi:providers:aws")
    assert vpc.provider_urn == provider.urn


def test_dependencies_include_depends_on():
    plan = plan_for("prod")
    igw = plan.one("aws:ec2/internetGateway:InternetGateway")
    for nat in plan.of_type("aws:ec2/natGateway:NatGateway"):
        assert igw.urn in nat.dependencies  # explicit depends_on, not a property dependency
        assert igw.urn not in [u for urns in nat.property_dependencies.values() for u in urns]


def _program_root(tmp_path):
    root = tmp_path / "repo"
    (root / "infra").mkdir(parents=True)
    (root / "infra" / "__main__.py").write_text(textwrap.dedent(SECRET_PROGRAM))
    (root / "Pulumi.yaml").write_text("name: box\nruntime: python\nmain: infra/\n")
    (root / "Pulumi.test.yaml").write_text("config:\n  box:suffix: abc\n")
    return root


def test_secrets_stay_marked_and_options_are_captured(tmp_path):
    plan = engine.run("test", root=_program_root(tmp_path))
    version = plan.one("aws:secretsmanager/secretVersion:SecretVersion")
    assert engine.is_secret(version.inputs["secretString"])
    assert version.props["secretString"] == "hunter2-abc"
    assert "hunter2" not in json.dumps({k: v for k, v in version.inputs.items() if k != "secretString"})
    topic = plan.one("aws:sns/topic:Topic")
    assert topic.protect and topic.options["ignoreChanges"] == ["tags"]
    assert version.property_dependencies["secretId"] == (topic.urn,)
    box = plan.one("test:index:Box")
    assert topic.parent == box.urn and version.parent == box.urn
    assert plan.outputs == {"answer": 42}
    # The JSON form keeps the marker too: tools reading plan.json can tell secrets apart.
    dumped = json.dumps(plan.to_json())
    assert engine.SECRET_SIG in dumped


def test_plan_json_schema():
    document = plan_for("staging").to_json()
    assert document["schema"] == "platform-plan/1" and document["stack"] == "staging"
    first = document["resources"][0]
    assert set(first) == {"urn", "type", "name", "custom", "remote", "parent", "provider", "options",
                          "dependencies", "propertyDependencies", "inputs"}
    json.dumps(document)  # serialisable as is


def test_program_runs_the_way_the_cli_starts_it(tmp_path):
    """The language host runs `infra/` with runpy, with that folder (not the root) first on sys.path."""
    script = textwrap.dedent(
        f"""
        import os, runpy, sys
        root, infra = {str(engine.ROOT)!r}, {str(engine.ROOT / 'infra')!r}
        sys.path = [infra] + [p for p in sys.path if p not in ("", root, os.getcwd())]
        import yaml
        from pulumi.runtime import mocks, settings
        from pulumi.runtime.config import set_all_config
        config = yaml.safe_load(open(os.path.join(root, "Pulumi.staging.yaml")))["config"]
        # As the CLI assembles it: Pulumi.yaml's project-level values, replaced key by key by the stack file's.
        project = yaml.safe_load(open(os.path.join(root, "Pulumi.yaml"))).get("config") or {{}}
        config = {{**{{k: v["value"] if isinstance(v, dict) else v for k, v in project.items()}}, **config}}
        set_all_config({{k: v if isinstance(v, str) else __import__("json").dumps(v) for k, v in config.items()}})
        # The engine's realistic results, loaded by file so the repository root stays off sys.path.
        import importlib.util
        spec = importlib.util.spec_from_file_location("mock_outputs", os.path.join(infra, "offline", "mock_outputs.py"))
        results = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(results)
        seen = []
        class M(mocks.Mocks):
            def new_resource(self, args):
                seen.append(args.typ)
                resource_id, computed = results.resource_outputs(args.typ, args.name, args.inputs, "ap-northeast-2")
                return resource_id, {{**args.inputs, **computed}}
            def call(self, args):
                return results.function_result(args.token, args.args, "ap-northeast-2")
        mocks.set_mocks(M(), project="platform", stack="staging", preview=False)
        runpy.run_path(infra, run_name="__main__")
        from pulumi.runtime.stack import wait_for_rpcs
        from pulumi.runtime.sync_await import _sync_await
        _sync_await(wait_for_rpcs())
        print(len(seen), "aws:ec2/vpc:Vpc" in seen)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    count, has_vpc = result.stdout.split()
    assert int(count) > 20 and has_vpc == "True"


FORKED = textwrap.dedent('''
    import json, sys, threading
    from pathlib import Path
    from infra.offline import engine
    root = Path(sys.argv[1])
    started = []
    try:
        plans = engine.run_modes("staging", root=root, before=lambda: started.append(threading.active_count()))
    except Exception as error:
        print(json.dumps({"error": type(error).__name__, "message": str(error), "started": started}))
    else:
        print(json.dumps({m: p.to_json() for m, p in plans.items()} | {"started": started}))
''')


def _forked(root) -> dict:
    done = subprocess.run([sys.executable, "-c", FORKED, str(root)], cwd=engine.ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_both_modes_side_by_side_give_the_plans_of_two_runs_one_after_the_other():
    # A fresh process (no threads yet), so the update run really goes to a forked child; the reference plans are the
    # ordinary in-process runs.
    forked = _forked(engine.ROOT)
    assert forked.pop("started") == [1]  # `before` ran once, in the parent, before any thread of its own
    for mode in engine.MODES:
        expected = json.loads(json.dumps(plan_for("staging", preview=mode == "preview").to_json()))
        # Registration order follows when outputs resolve, which varies from run to run: compared by URN.
        for plan in (forked[mode], expected):
            plan["resources"] = sorted(plan["resources"], key=lambda r: r["urn"])
        assert forked[mode] == expected


def test_an_error_in_the_forked_update_run_is_raised_as_a_local_one_would_be(tmp_path):
    # Only the update run can fail here: a program that raises once every value is known.
    (tmp_path / "Pulumi.yaml").write_text("name: platform\nruntime: python\nmain: program.py\n")
    (tmp_path / "Pulumi.staging.yaml").write_text("config: {}\n")
    (tmp_path / "program.py").write_text(
        "import pulumi\nif not pulumi.runtime.is_dry_run():\n    raise pulumi.RunError('only on update')\n"
    )
    result = _forked(tmp_path)
    assert result["error"] == "RunError" and "only on update" in result["message"]
