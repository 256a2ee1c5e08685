"""The README's configuration reference, generated from the config parsers themselves (as terraform-docs does).

Each stack's config is parsed by the real `load_stack_config` while every typed getter of `infra.config.reader.Section`
is observed: which key it read, as what type, under which rule (choices, pattern, range), with which default, and what
the stack file set. Keys under a mapping of named entries (buckets, queues, node groups, catalogue entries) are shown
once, with `<name>` in the path and each entry's value. The result replaces the block between the README's marker
comments; `python -m infra.offline.docs` writes it and the test suite fails when the committed block is stale.
Rules the parsers check across keys or only in prod (e.g. `protect` must be on in prod) are in each section's own
module docstring and error messages; this table holds the per-key facts.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.config import load_stack_config, namespaces, reader, stack as stack_module
from infra.config.reader import Section

from . import engine

if TYPE_CHECKING:
    from .docs import Stack

BEGIN = "<!-- BEGIN GENERATED CONFIG REFERENCE (make docs) -->"
END = "<!-- END GENERATED CONFIG REFERENCE -->"
MISSING = reader._MISSING  # the reader's "no default: required" sentinel


@dataclass
class Key:
    path: str  # generalised, e.g. platform:storage.buckets.<name>.expireAfterDays
    type: str
    rule: str
    default: str
    values: dict[str, dict[str, Any]] = field(default_factory=dict)  # stack -> {entry name or "": raw value}


def _show(value: Any) -> str:
    if value is MISSING:
        return "required"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(list(value) if isinstance(value, tuple) else value, separators=(", ", ": "))
    if value is None:
        return "none"
    return str(value)


def _range(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f"{minimum} to {maximum}"
    if minimum is not None:
        return f"at least {minimum}"
    if maximum is not None:
        return f"at most {maximum}"
    return ""


class _Recorder:
    """Observes Section's getters during one parse; `keys` maps a concrete key path to (type, rule, default)."""

    def __init__(self) -> None:
        self.keys: dict[str, tuple[str, str, str]] = {}
        self.values: dict[str, Any] = {}
        self.entry_paths: set[str] = set()  # paths of mappings whose keys are names, not settings
        self._expected_sections: set[str] = set()

    @contextlib.contextmanager
    def observing(self) -> Iterator[None]:
        originals = {name: getattr(Section, name) for name in (
            "__init__", "_take", "string", "integer", "integers", "boolean", "cidr", "strings", "string_map", "section",
            "named_sections")}
        recorder = self

        def init(self, path, raw, problems):
            # A Section built directly by a parser (not through section()) is one entry of a named collection.
            if path not in recorder._expected_sections and not path.endswith(":") and "." in path:
                recorder.entry_paths.add(path.rsplit(".", 1)[0])
            originals["__init__"](self, path, raw, problems)

        def take(self, key):
            value = originals["_take"](self, key)
            recorder.values[self.key_path(key)] = value
            return value

        def record(kind: str, rule_of):
            def getter(self, key, default=MISSING, **options):
                recorder.keys.setdefault(self.key_path(key), (kind, rule_of(options), _show(default)))
                return originals[kind_to_method[kind]](self, key, default, **options)
            return getter

        def string_rule(o: dict[str, Any]) -> str:
            if o.get("choices") is not None:
                return "one of " + ", ".join(f"`{c}`" for c in o["choices"])
            if o.get("expected"):
                return o["expected"]
            return f"matches `{o['pattern']}`" if o.get("pattern") else "non-empty"

        def section(self, key):
            recorder._expected_sections.add(self.key_path(key))
            return originals["section"](self, key)

        def named_sections(self, key, **options):
            recorder.entry_paths.add(self.key_path(key))
            value = self.raw.get(key)
            if isinstance(value, dict):
                recorder._expected_sections.update(f"{self.key_path(key)}.{name}" for name in value)
            return originals["named_sections"](self, key, **options)

        kind_to_method = {"string": "string", "integer": "integer", "boolean": "boolean", "CIDR": "cidr",
                          "list of strings": "strings", "map of strings": "string_map", "list of integers": "integers"}
        Section.__init__ = init
        Section._take = take
        Section.string = record("string", string_rule)
        Section.integer = record("integer", lambda o: _range(o.get("minimum"), o.get("maximum")))
        Section.boolean = record("boolean", lambda o: "")
        Section.integers = record("list of integers", lambda o: _range(o.get("minimum"), o.get("maximum")))
        Section.cidr = record("CIDR", lambda o: f"IPv4, /{o.get('min_prefix', 16)} to /{o.get('max_prefix', 28)}")
        Section.strings = record("list of strings", lambda o: o.get("expected") or (f"each matches `{o['pattern']}`" if o.get("pattern") else ""))
        Section.string_map = record("map of strings", lambda o: f"keys match `{o.get('key_pattern', '.+')}`")
        Section.section = section
        Section.named_sections = named_sections
        try:
            yield
        finally:
            for name, method in originals.items():
                setattr(Section, name, method)


def _generalise(path: str, entry_paths: set[str]) -> tuple[str, str]:
    """`platform:storage.buckets.uploads.x` -> (`platform:storage.buckets.<name>.x`, `uploads`)."""
    for collection in sorted(entry_paths, key=len, reverse=True):
        if path.startswith(collection + "."):
            rest = path[len(collection) + 1 :]
            name, _, tail = rest.partition(".")
            general = f"{collection}.<name>" + (f".{tail}" if tail else "")
            inner, inner_name = _generalise(general, entry_paths - {collection})
            return inner, name if not inner_name else f"{name}.{inner_name}"
    return path, ""


def collect(stacks: Sequence["Stack"], root: Path = engine.ROOT) -> list[Key]:
    keys: dict[str, Key] = {}
    for stack in stacks:
        raw = engine.stack_config(stack.name, root)
        recorder = _Recorder()
        with recorder.observing():
            load_stack_config(stack.name, raw)
        for path, (kind, rule, default) in recorder.keys.items():
            general, name = _generalise(path, recorder.entry_paths)
            key = keys.setdefault(general, Key(general, kind, rule, default))
            if key.default == "required" and default != "required":
                key.default = default  # e.g. `kind`: required of an ingress entry, `service` by default otherwise
            value = recorder.values.get(path, MISSING)
            if value is not MISSING:
                key.values.setdefault(stack.name, {})[name] = value
    provider_keys = []
    # The aws: keys the program reads (outside the platform: sections): their rule is what their parser expects of a
    # wrong value, their default what it returns for none.
    for name, parse in (("aws:region", lambda v, p: namespaces.region(v, stack_module.DEFAULT_REGION, p)),
                        ("aws:allowedAccountIds", namespaces.allowed_account_ids)):
        problems: list = []
        parse({name: object()}, problems)
        default = parse({}, [])
        key = Key(name, "list of strings" if isinstance(default, tuple) else "string",
                  problems[0].expected if problems else "", _show(default) if default else "none")
        for stack in stacks:
            value = engine.stack_config(stack.name, root).get(name)
            if value is not None:
                key.values[stack.name] = {"": value}
        provider_keys.append(key)
    return [*provider_keys, *sorted(keys.values(), key=lambda k: _order(k.path))]


def _order(path: str) -> tuple:
    # The overrides read the same keys again: list the base catalogue first and each key once per place.
    return tuple(part for part in re.split(r"[.:]", path))


def _cell(values: dict[str, Any] | None) -> str:
    if not values:
        return "default"
    if list(values) == [""]:
        return f"`{_show(values[''])}`"
    return "<br>".join(f"{name}: `{_show(v)}`" for name, v in sorted(values.items()))


def reference(stacks: Sequence["Stack"], root: Path = engine.ROOT) -> str:
    names = [s.name for s in stacks]
    lines = [
        BEGIN,
        "<!-- Generated by `make docs` (infra/offline/config_reference.py) from the config parsers; do not edit. -->",
        "",
        "Every key the parsers read, with its type, rule and default, and what each stack file sets (`default`: the",
        "stack leaves it at its default). `<name>` stands for an entry of a named mapping; cross-key and prod-only",
        "rules are in the sections above and in each parser's error messages.",
        "",
        "| key | type | rule | default | " + " | ".join(f"`{n}`" for n in names) + " |",
        "|---|---|---|---|" + "---|" * len(names),
    ]
    for key in collect(stacks, root):
        cells = [f"`{key.path}`", key.type, key.rule.replace("|", "\\|"), f"`{key.default}`" if key.default not in ("required",) else "required"]
        cells += [_cell(key.values.get(n)).replace("|", "\\|") for n in names]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append(END)
    return "\n".join(lines)


def splice(readme: str, block: str) -> str:
    """The README with the text between the markers replaced by `block`."""
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        raise ValueError(f"README.md has no {BEGIN} ... {END} markers for the configuration reference")
    return readme[:start] + block + readme[end + len(END) :]
