"""YAML read the way the Pulumi CLI reads `Pulumi.yaml` and stack files: Go's `gopkg.in/yaml.v3` into `any`.

ruamel.yaml parses (its composer gives nodes with line and column); the scalars are then resolved by yaml.v3's rules
(`resolve.go`), not YAML 1.1's or ruamel's: only `true/True/TRUE`, `false/...` are booleans (`yes`, `no`, `on`, `off`
stay strings), `20:00` is a string, integers go through Go's `strconv.ParseInt(s, 0, 64)` after `_` is dropped (so
`017` is octal 15 and `0x1F` is 31), `YYYY-M-D` dates and date-times are timestamps, `<<` merges mappings. A key
given twice in one mapping is an error, as it is for yaml.v3 ("mapping key already defined").
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.tag import Tag

# The tag ruamel gives a scalar without an explicit one: left for yaml.v3's rules, never ruamel's.
_UNRESOLVED = "tag:platform.offline,2026:unresolved"


class _NoImplicitResolver(VersionedResolver):
    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is ScalarNode:
            return Tag(suffix=_UNRESOLVED)
        return super().resolve(kind, value, implicit)

_BOOL_NULL_SPECIAL: dict[str, Any] = {
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), None),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
_YAML_STYLE_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
# Go's integer literal syntax for strconv.ParseInt(s, 0, 64): sign, then 0x/0o/0b or a leading 0 for octal.
_GO_INT = re.compile(r"([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)")
# yaml.v3's allowedTimestampFormats: RFC 3339 with short date fields (T or t), space-separated without a zone,
# or a date alone. Go's time.Parse accepts one- or two-digit month, day, hour, minute and second fields.
_TIMESTAMP = re.compile(
    r"(?P<y>[0-9]{4})-(?P<mo>[0-9]{1,2})-(?P<d>[0-9]{1,2})"
    r"(?:(?P<sep>[Tt ])(?P<h>[0-9]{1,2}):(?P<mi>[0-9]{1,2}):(?P<s>[0-9]{1,2})(?P<frac>\.[0-9]{1,9})?"
    r"(?P<zone>Z|[-+][0-9]{2}:[0-9]{2})?)?"
)


class GoYamlError(ValueError):
    """A file the CLI would refuse to read, with where and why."""

    def __init__(self, filename: str, line: int | None, column: int | None, message: str):
        self.filename, self.line, self.column = filename, line, column
        where = f"{filename}:{line}:{column}" if line is not None else filename
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Timestamp:
    """A yaml.v3 timestamp: Pulumi turns it into Go's `time.Time.String()` text."""

    value: datetime

    def go_string(self) -> str:
        offset = self.value.utcoffset() or timedelta(0)
        text = self.value.strftime("%Y-%m-%d %H:%M:%S")
        if self.value.microsecond:
            text += f".{self.value.microsecond:06d}".rstrip("0")
        sign = "-" if offset < timedelta(0) else "+"
        minutes = abs(int(offset.total_seconds())) // 60
        numeric = f"{sign}{minutes // 60:02d}{minutes % 60:02d}"
        # A fixed zone parsed from text has no name, so Go prints the offset again where the name would be.
        return f"{text} {numeric} {'UTC' if offset == timedelta(0) else numeric}"


def _timestamp(text: str) -> Timestamp | None:
    match = _TIMESTAMP.fullmatch(text)
    if not match or (match["h"] is None and match["sep"]):
        return None
    if match["sep"] == " " and match["zone"]:
        return None  # "2006-1-2 15:4:5.999999999" has no zone
    if match["sep"] in ("T", "t") and not match["zone"]:
        return None  # the RFC 3339 forms need one
    try:
        moment = datetime(
            int(match["y"]), int(match["mo"]), int(match["d"]),
            int(match["h"] or 0), int(match["mi"] or 0), int(match["s"] or 0),
            int((match["frac"] or ".0")[1:].ljust(6, "0")[:6]),
            tzinfo=timezone.utc,
        )
    except ValueError:
        return None
    zone = match["zone"]
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        delta = timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        moment = moment.replace(tzinfo=timezone(sign * delta))
    return Timestamp(moment)


def _go_int(text: str) -> int | None:
    match = _GO_INT.fullmatch(text)
    if not match:
        return None
    sign, digits = match.groups()
    lowered = digits.lower()
    if lowered.startswith(("0x", "0o", "0b")):
        value = int(digits, 0)
    elif len(digits) > 1 and digits.startswith("0"):
        value = int(digits, 8)
    else:
        value = int(digits)
    return -value if sign == "-" else value


def resolve_plain(text: str) -> Any:
    """The value of an unquoted scalar, as yaml.v3's resolve() gives it for an `any` target."""
    if text in _BOOL_NULL_SPECIAL:
        return _BOOL_NULL_SPECIAL[text]
    hint = text[:1]
    if hint == ".":
        try:
            return float(text) if _YAML_STYLE_FLOAT.fullmatch(text) else text
        except ValueError:
            return text
    if hint and (hint.isdigit() or hint in "+-"):
        stamp = _timestamp(text)
        if stamp is not None:
            return stamp
        plain = text.replace("_", "")
        number = _go_int(plain)
        if number is not None and -(2**63) <= number < 2**64:
            return number
        if _YAML_STYLE_FLOAT.fullmatch(plain):
            return float(plain)
    return text


class _Constructor:
    def __init__(self, filename: str):
        self.filename = filename

    def error(self, node: Node, message: str) -> GoYamlError:
        mark = node.start_mark
        return GoYamlError(self.filename, mark.line + 1, mark.column + 1, message)

    def build(self, node: Node) -> Any:
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        if isinstance(node, SequenceNode):
            return [self.build(item) for item in node.value]
        if isinstance(node, MappingNode):
            return self.mapping(node)
        raise self.error(node, f"unsupported YAML node {type(node).__name__}")

    def scalar(self, node: ScalarNode) -> Any:
        tag = str(node.tag)
        if node.style in ("'", '"', "|", ">") or tag == "tag:yaml.org,2002:str":
            return node.value
        if tag != _UNRESOLVED:
            # Explicit tags (`!!int`, custom ones) are not used in Pulumi's files; refuse rather than guess.
            raise self.error(node, f"unsupported explicit tag {tag!r}")
        return resolve_plain(node.value)

    def mapping(self, node: MappingNode) -> dict[str, Any]:
        result: dict[str, Any] = {}
        seen: dict[Any, int] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value == "<<" and key_node.style is None:
                sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                for source in sources:
                    if not isinstance(source, MappingNode):
                        raise self.error(source, "map merge requires map or sequence of maps as the value")
                    for k, v in self.mapping(source).items():
                        merged.setdefault(k, v)
                continue
            key = self.build(key_node)
            if isinstance(key, (dict, list)):
                raise self.error(key_node, "a mapping key must be a scalar")
            text_key = _go_key(key)
            if text_key in seen:
                raise self.error(
                    key_node, f"mapping key {text_key!r} already defined at line {seen[text_key]}"
                )
            seen[text_key] = key_node.start_mark.line + 1
            result[text_key] = self.build(value_node)
        return {**{k: v for k, v in merged.items() if k not in result}, **result}


def _go_key(key: Any) -> str:
    """Pulumi turns every key into a string with fmt's %v."""
    if key is None:
        return "<nil>"
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, Timestamp):
        return key.go_string()
    if isinstance(key, float):
        return go_float(key)
    return str(key)


def go_float(value: float) -> str:
    """A float64 as Go's encoding/json writes it (integral values without a fraction, e below 1e-6 and from 1e21)."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"unsupported value {value!r}: JSON has no NaN or infinity")
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        sign = "-" if exponent.startswith("-") else "+"
        return f"{mantissa}e{sign}{abs(int(exponent)):02d}"
    return text


def load(text: str, filename: str) -> Any:
    """The document's value; an empty document is None. Raises GoYamlError with file, line and column."""
    yaml = YAML(typ="rt", pure=True)
    yaml.Resolver = _NoImplicitResolver
    try:
        node = yaml.compose(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = " ".join(str(p) for p in (error.context, error.problem) if p)
        raise GoYamlError(filename, mark.line + 1 if mark else None, mark.column + 1 if mark else None, problem) from None
    except YAMLError as error:
        raise GoYamlError(filename, None, None, str(error)) from None
    if node is None:
        return None
    return _Constructor(filename).build(node)
