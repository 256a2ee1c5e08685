"""Pulumi.yaml and stack files merged as the Pulumi CLI merges them (workspace/project.go, config.go), and refused
where the CLI refuses them. Each case writes a small project; the expected values and messages follow the CLI's
rules as its source states them, not this module's output."""

from __future__ import annotations

import textwrap

import pytest

from infra.offline import engine, project_files
from infra.offline.project_files import InputError, load_project, load_stack


def project(tmp_path, pulumi_yaml: str, **stacks: str):
    (tmp_path / "Pulumi.yaml").write_text(textwrap.dedent(pulumi_yaml))
    for name, text in stacks.items():
        (tmp_path / f"Pulumi.{name}.yaml").write_text(textwrap.dedent(text))
    return load_project(tmp_path)


BASE = "name: platform\nruntime: python\n"


def test_shorthand_is_a_default_for_own_keys_and_a_value_for_other_namespaces(tmp_path):
    p = project(tmp_path, BASE + "config:\n  size: 3\n  aws:region: us-east-1\n  platform:list: [a, b]\n", qa="config: {}\n")
    by_key = {d.key: d for d in p.declarations}
    assert by_key["platform:size"].default == 3 and by_key["platform:size"].value is None
    assert by_key["aws:region"].value == "us-east-1" and by_key["aws:region"].default is None
    assert load_stack("qa", p).values == {"platform:size": 3, "aws:region": "us-east-1", "platform:list": ["a", "b"]}


def test_a_stack_key_replaces_the_project_entry_whole(tmp_path):
    p = project(
        tmp_path,
        BASE + "config:\n  platform:services:\n    value: {a: {image: x}, b: {image: y}}\n",
        qa="config:\n  platform:services: {a: {image: z}}\n",
    )
    assert load_stack("qa", p).values == {"platform:services": {"a": {"image": "z"}}}


@pytest.mark.parametrize(
    "config, message",
    [
        ("  aws:region:\n    default: us-east-1\n", "should not define a default value"),
        ("  aws:region:\n    type: string\n    value: x\n", "should not define a type"),
        ("  aws:region:\n    description: where\n", "must provide an attribute 'value'"),
        ("  size:\n    default: 1\n    value: 2\n", "cannot have both a 'default' and 'value'"),
        ("  size:\n    type: array\n", "does not specify the underlying type via 'items'"),
        ("  size:\n    type: integer\n    default: big\n", "not of the expected type 'integer'"),
        ("  size:\n    type: number\n", "expected one of string, integer, boolean, array"),
        ("  size:\n    valeu: 3\n", "unknown attribute 'valeu' (did you mean 'value'?)"),
    ],
)
def test_project_config_declarations_the_cli_refuses(tmp_path, config, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        project(tmp_path, BASE + "config:\n" + config)


def test_a_required_project_key_must_be_set_by_the_stack(tmp_path):
    p = project(tmp_path, BASE + "config:\n  owner:\n    type: string\n  team:\n    type: string\n", qa="config: {}\n")
    with pytest.raises(InputError, match="^Stack 'qa' is missing configuration values 'owner' and 'team'$"):
        load_stack("qa", p)


@pytest.mark.parametrize(
    "declared, stack_value, ok",
    [
        ("string", "42", True),  # a top-level scalar reaches the CLI's check as text
        ("integer", "42", True),
        ("integer", "'42'", True),
        ("integer", "4.5", False),
        ("integer", "true", False),
        ("boolean", "true", True),
        ("boolean", "yes", False),  # yaml.v3: `yes` is the string "yes", not a boolean
    ],
)
def test_typed_project_keys_check_the_stack_value(tmp_path, declared, stack_value, ok):
    p = project(tmp_path, BASE + f"config:\n  knob:\n    type: {declared}\n", qa=f"config:\n  platform:knob: {stack_value}\n")
    if ok:
        load_stack("qa", p)
    else:
        with pytest.raises(InputError, match=f"^Stack 'qa' with configuration key 'knob' must be of type '{declared}'$"):
            load_stack("qa", p)


def test_secret_declarations_need_a_secure_value(tmp_path):
    p = project(tmp_path, BASE + "config:\n  token:\n    type: string\n    secret: true\n", qa="config:\n  platform:token: plain\n")
    with pytest.raises(InputError, match="must be encrypted as it's secret"):
        load_stack("qa", p)


def test_secure_values_become_marked_placeholders(tmp_path):
    p = project(
        tmp_path,
        BASE,
        qa="""\
        config:
          platform:token:
            secure: AAABAG7o0pN9ZPT4dMVGW
          platform:nested:
            inner: {secure: AAABAxyz}
            plain: 1
        """,
    )
    inputs = load_stack("qa", p)
    assert inputs.values["platform:token"] == "offline-placeholder-for-platform-token"
    assert inputs.values["platform:nested"] == {"inner": "offline-placeholder-for-platform-nested", "plain": 1}
    assert inputs.secret_keys == {"platform:token", "platform:nested"}
    assert inputs.placeholders == ("platform:token", "platform:nested")


@pytest.mark.parametrize(
    "pulumi_yaml, message",
    [
        ("runtime: python\n", "project is missing a 'name' attribute"),
        ("nmae: platform\nruntime: python\n", "missing a 'name' attribute (found 'nmae': a misspelling of 'name'?)"),
        ("name: platform\n", "project is missing a 'runtime' attribute"),
        ("name: platform\nruntime: nodejs\n", "runtime: expected 'python'"),
        ("name: platform\nruntime: {options: {}}\n", "runtime: expected a string or an object with name"),
        ("- name\n", "expected a mapping of project settings, got a list"),
        ("name: platform\nruntime: python\nconfig: [a]\n", "config: expected a mapping of configuration keys"),
        ("name: platform\nname: other\nruntime: python\n", "Pulumi.yaml:2:1: mapping key 'name' already defined at line 1"),
    ],
)
def test_project_files_the_cli_refuses(tmp_path, pulumi_yaml, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        project(tmp_path, pulumi_yaml)


def test_main_must_name_the_program(tmp_path):
    p = project(tmp_path, BASE + "main: infra2/\n")
    with pytest.raises(InputError, match=r"^Pulumi.yaml main: expected the program's folder .*got 'infra2', which does not exist"):
        project_files.program(p)
    (tmp_path / "infra2").mkdir()
    with pytest.raises(InputError, match="which has no __main__.py"):
        project_files.program(project(tmp_path, BASE + "main: infra2/\n"))


@pytest.mark.parametrize(
    "stack_yaml, message",
    [
        ("- a\n", "Pulumi.qa.yaml: expected a mapping with a config: section, got a list"),
        ("just text\n", "Pulumi.qa.yaml: expected a mapping with a config: section, got 'just text'"),
        ("config:\n  - a\n", "Pulumi.qa.yaml config: expected a mapping of namespace:key to values, got a list"),
        ("confg:\n  platform:a: 1\n", "unknown top-level key 'confg' (did you mean 'config'?)"),
        ("config:\n  region: x\n", "config.region: expected a key of the form <namespace>:<name>"),
        ("environment: [prod-env]\n", "imports Pulumi ESC environments"),
        ("config:\n\tplatform:a: 1\n", r"Pulumi.qa.yaml:2:1: "),
    ],
)
def test_stack_files_the_cli_refuses(tmp_path, stack_yaml, message):
    p = project(tmp_path, BASE, qa=stack_yaml)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        load_stack("qa", p)


def test_the_engine_runs_the_project_named_in_pulumi_yaml(tmp_path):
    (tmp_path / "prog").mkdir()
    (tmp_path / "prog" / "__main__.py").write_text("import pulumi\npulumi.export('project', pulumi.get_project())\n")
    project(tmp_path, "name: elsewhere\nruntime: python\nmain: prog/\n", qa="config: {}\n")
    plan = engine.run("qa", root=tmp_path)
    assert plan.outputs == {"project": "elsewhere"} and plan.project == "elsewhere"
