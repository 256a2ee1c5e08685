"""The stack files' YAML read as the Pulumi CLI reads it (Go's yaml.v3 into `any`), not as YAML 1.1 or ruamel would.

The expected values come from yaml.v3's resolve.go (its resolve table, timestamp formats and strconv.ParseInt with
base 0) and from Pulumi's config object.go (a timestamp becomes Go's time.Time.String()), read in their sources;
PyYAML's YAML 1.1 answer is shown beside each where it differs, because that is what this project used to get.
"""

from __future__ import annotations

import math

import pytest
import yaml as pyyaml

from infra.offline import go_yaml, project_files

# (YAML scalar, yaml.v3's value, PyYAML's YAML 1.1 value where it differs)
TRICKY = [
    ("no", "no", False),
    ("yes", "yes", True),
    ("on", "on", True),
    ("off", "off", False),
    ("No", "No", False),
    ("y", "y", "y"),
    ("true", True, True),
    ("True", True, True),
    ("tRUE", "tRUE", "tRUE"),
    ("20:00", "20:00", 1200),
    ("1:30:00", "1:30:00", 5400),
    ("017", 15, 15),  # Go's base-0 ParseInt: a leading 0 is octal, as YAML 1.1 had it (YAML 1.2 says 17)
    ("0o17", 15, "0o17"),
    ("0x1F", 31, 31),
    ("0b101", 5, 5),
    ("1_000", 1000, 1000),
    ("+12", 12, 12),
    ("-0", 0, 0),
    ("08", 8.0, "08"),  # not an octal integer, so yaml.v3 tries a float and gets one
    ("1e3", 1000.0, "1e3"),
    ("1.5", 1.5, 1.5),
    (".5", 0.5, 0.5),
    ("~", None, None),
    ("null", None, None),
    ("Null", None, None),
    ("", None, None),
    ("'017'", "017", "017"),
    ('"no"', "no", "no"),
    ("m6a.xlarge", "m6a.xlarge", "m6a.xlarge"),
    ("10.0.0.0/16", "10.0.0.0/16", "10.0.0.0/16"),
    ("sun:18:30-sun:19:30", "sun:18:30-sun:19:30", "sun:18:30-sun:19:30"),
]


@pytest.mark.parametrize("text, expected, yaml11", TRICKY, ids=[t[0] or "empty" for t in TRICKY])
def test_scalars_resolve_as_yaml_v3_resolves_them(text, expected, yaml11):
    got = go_yaml.load(f"key: {text}\n", "t.yaml")["key"]
    assert got == expected and type(got) is type(expected)
    # The old reader's answer, to show the table is not vacuous where the two disagree.
    assert pyyaml.safe_load(f"key: {text}\n")["key"] == yaml11


def test_special_floats_are_read_and_refused_as_config():
    assert math.isinf(go_yaml.load("a: .inf\n", "t.yaml")["a"])
    assert math.isnan(go_yaml.load("a: .NaN\n", "t.yaml")["a"])
    with pytest.raises(project_files.InputError, match="JSON has no NaN or infinity"):
        project_files._plain(math.inf, "Pulumi.qa.yaml config.platform:x")


@pytest.mark.parametrize(
    "text, go_string",
    [
        ("2026-12-01", "2026-12-01 00:00:00 +0000 UTC"),
        ("2026-1-2", "2026-01-02 00:00:00 +0000 UTC"),
        ("2026-12-01T10:20:30Z", "2026-12-01 10:20:30 +0000 UTC"),
        ("2026-12-01 10:20:30", "2026-12-01 10:20:30 +0000 UTC"),
        ("2026-12-01T10:20:30+09:00", "2026-12-01 10:20:30 +0900 +0900"),
    ],
)
def test_timestamps_become_go_time_strings(text, go_string):
    value = go_yaml.load(f"a: {text}\n", "t.yaml")["a"]
    assert isinstance(value, go_yaml.Timestamp) and value.go_string() == go_string


def test_not_timestamps_stay_strings():
    # yaml.v3 wants exactly four digits before the first dash, and a zone on the T form.
    for text in ("12026-12-01", "2026-12-01T10:20:30", "2026-13-01"):
        assert go_yaml.load(f"a: {text}\n", "t.yaml")["a"] == text


def test_duplicate_keys_are_an_error_with_line_and_column():
    with pytest.raises(go_yaml.GoYamlError) as raised:
        go_yaml.load("config:\n  platform:cache:\n    nodes: 1\n    nodes: 2\n", "Pulumi.staging.yaml")
    assert str(raised.value) == "Pulumi.staging.yaml:4:5: mapping key 'nodes' already defined at line 3"


def test_merge_keys_and_anchors():
    doc = go_yaml.load("base: &b {a: 1, b: 2}\nthis: {<<: *b, b: 3}\n", "t.yaml")
    assert doc["this"] == {"a": 1, "b": 3}


@pytest.mark.parametrize(
    "text, message",
    [
        ("a:\n\tb: 1\n", "Pulumi.x.yaml:2:1: "),  # a tab indent
        ("a: [1, 2\n", "Pulumi.x.yaml:2:1: "),
        ("a: b: c\n", "Pulumi.x.yaml:1:5: "),
        ("a: !!int 3\n", "Pulumi.x.yaml:1:4: unsupported explicit tag"),
    ],
)
def test_syntax_errors_name_the_file_line_and_column(text, message):
    with pytest.raises(go_yaml.GoYamlError, match="^" + message.replace("[", r"\[")):
        go_yaml.load(text, "Pulumi.x.yaml")


def test_go_json_floats():
    assert [go_yaml.go_float(v) for v in (8.0, 1.5, 1e21, 1e-7, -3.0)] == ["8", "1.5", "1e+21", "1e-07", "-3"]
