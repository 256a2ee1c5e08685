"""A small reader for structured stack config that collects every problem instead of stopping at the first.

Each `Section` wraps one YAML mapping at a key path (`platform:network`, `platform:network.subnets`). Its typed
getters return a usable value even when the input is wrong (the default), so one run reports all the problems of a
stack file. `done()` turns every key nobody asked for into a problem, with the known key it most likely meant: a typo is never
silently ignored. A rule measured against a default (the key was not given) names that key as its cause, so a typo's
consequences are reported after the typo itself.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from .errors import Problem

T = TypeVar("T")
_MISSING: Any = object()


def decode(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Pulumi hands structured values over as JSON text; plain strings stay strings."""
    decoded: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        decoded[key] = value
    return decoded


def runtime_config() -> dict[str, Any]:
    """The stack's config as the running Pulumi program sees it (set by the CLI or by the offline engine)."""
    from pulumi.runtime.config import CONFIG, get_config_env

    return {**get_config_env(), **CONFIG.get()}


def show(value: Any) -> str:
    """How a found value is quoted in a message."""
    if value is _MISSING:
        return "nothing (the key is missing)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)}"
    return repr(value)


class Section:
    """One mapping of the stack config, read with typed getters that record problems."""

    def __init__(self, path: str, raw: Any, problems: list[Problem]):
        self.path = path
        self.problems = problems
        self._used: set[str] = set()
        self._defaulted: set[str] = set()
        if raw is None or raw is _MISSING:
            raw = {}
        if not isinstance(raw, Mapping):
            self.problems.append(Problem(path, "a mapping", show(raw)))
            raw = {}
        self.raw: Mapping[str, Any] = raw

    # -- plumbing -------------------------------------------------------------------------------------------
    def key_path(self, key: str) -> str:
        # The root section is the namespace itself (`platform:`), so its keys read `platform:network`.
        return f"{self.path}{key}" if self.path.endswith(":") else f"{self.path}.{key}"

    def problem(self, key: str, expected: str, found: Any, *, quoted: bool = True, cause: str | None = None) -> None:
        self.problems.append(Problem(self.key_path(key), expected, show(found) if quoted else str(found), cause=cause))

    def consume(self, key: str) -> None:
        """Mark a key as dealt with (reported by the caller), so `done()` does not call it unknown."""
        self._used.add(key)

    def known_keys(self) -> list[str]:
        return sorted(self._used)

    def cause_of(self, key: str) -> str | None:
        """The key's path when its default stood in for a value that was not given, else None."""
        return self.key_path(key) if key in self._defaulted else None

    def has(self, key: str) -> bool:
        return key in self.raw

    def _take(self, key: str) -> Any:
        self._used.add(key)
        value = self.raw.get(key, _MISSING)
        if value is _MISSING:
            self._defaulted.add(key)
        return value

    def _typed(self, key: str, default: T, expected: str, accept: Callable[[Any], bool]) -> T:
        value = self._take(key)
        if value is _MISSING and default is not _MISSING:
            return default
        if value is _MISSING or not accept(value):
            self.problem(key, expected, value)
            return default if default is not _MISSING else None  # type: ignore[return-value]
        return value

    # -- scalars --------------------------------------------------------------------------------------------
    def string(
        self,
        key: str,
        default: Any = _MISSING,
        *,
        choices: Sequence[str] | None = None,
        pattern: str | None = None,
        expected: str | None = None,
    ) -> str:
        if choices is not None:
            expected = expected or "one of " + ", ".join(repr(c) for c in choices)
            accept: Callable[[Any], bool] = lambda v: isinstance(v, str) and v in choices  # noqa: E731
        elif pattern is not None:
            expected = expected or f"a string matching {pattern}"
            accept = lambda v: isinstance(v, str) and re.fullmatch(pattern, v) is not None  # noqa: E731
        else:
            expected = expected or "a non-empty string"
            accept = lambda v: isinstance(v, str) and v.strip() != ""  # noqa: E731
        return self._typed(key, default, expected, accept)

    def integer(self, key: str, default: Any = _MISSING, *, minimum: int | None = None, maximum: int | None = None) -> int:
        if minimum is not None and maximum is not None:
            expected = f"an integer from {minimum} to {maximum}"
        elif minimum is not None:
            expected = f"an integer of at least {minimum}"
        elif maximum is not None:
            expected = f"an integer of at most {maximum}"
        else:
            expected = "an integer"

        def accept(v: Any) -> bool:
            if isinstance(v, bool) or not isinstance(v, int):
                return False
            return (minimum is None or v >= minimum) and (maximum is None or v <= maximum)

        return self._typed(key, default, expected, accept)

    def boolean(self, key: str, default: Any = _MISSING) -> bool:
        return self._typed(key, default, "true or false", lambda v: isinstance(v, bool))

    def cidr(self, key: str, default: Any = _MISSING, *, min_prefix: int = 16, max_prefix: int = 28) -> str:
        expected = f"an IPv4 CIDR with a prefix from /{min_prefix} to /{max_prefix}"

        def accept(v: Any) -> bool:
            network = parse_cidr(v)
            return network is not None and min_prefix <= network.prefixlen <= max_prefix

        value = self._take(key)
        if value is _MISSING and default is not _MISSING:
            return default
        if parse_cidr(value) is None:
            self.problem(key, "an IPv4 CIDR", value)
            return default if default is not _MISSING else None  # type: ignore[return-value]
        if not accept(value):
            self.problem(key, expected, value)
            return default if default is not _MISSING else None  # type: ignore[return-value]
        return value

    def choice_of(self, key: str, default: Any, choices: Mapping[str, T]) -> T:
        """A string picked from a fixed vocabulary, returned as the value it maps to."""
        name = self.string(key, _MISSING if default is _MISSING else _name_of(choices, default), choices=list(choices))
        return choices.get(name, default) if name is not None else default

    # -- collections ----------------------------------------------------------------------------------------
    def strings(
        self, key: str, default: Any = _MISSING, *, pattern: str | None = None, min_items: int = 0, expected: str | None = None
    ) -> tuple[str, ...]:
        value = self._take(key)
        if value is _MISSING and default is not _MISSING:
            return tuple(default)
        what = expected or (f"strings matching {pattern}" if pattern else "non-empty strings")
        if not isinstance(value, list) or len(value) < min_items:
            at_least = f"at least {min_items} " if min_items else ""
            self.problem(key, f"a list of {at_least}{what}", value)
            return tuple(default) if default is not _MISSING else ()
        good: list[str] = []
        for index, item in enumerate(value):
            ok = isinstance(item, str) and (re.fullmatch(pattern, item) if pattern else item.strip())
            if not ok:
                self.problems.append(Problem(f"{self.key_path(key)}[{index}]", what.rstrip("s") if not pattern else f"a string matching {pattern}", show(item)))
            else:
                good.append(item)
        return tuple(good)

    def integers(
        self, key: str, default: Any = _MISSING, *, minimum: int | None = None, maximum: int | None = None
    ) -> tuple[int, ...]:
        """A list of integers, each within [minimum, maximum] where given."""
        value = self._take(key)
        if value is _MISSING and default is not _MISSING:
            return tuple(default)
        bounds = f" from {minimum} to {maximum}" if minimum is not None and maximum is not None else ""
        if not (isinstance(value, list) and all(
            isinstance(v, int) and not isinstance(v, bool)
            and (minimum is None or v >= minimum) and (maximum is None or v <= maximum)
            for v in value
        )):
            self.problem(key, f"a list of integers{bounds}", value)
            return tuple(default) if default is not _MISSING else ()
        return tuple(value)

    def string_map(self, key: str, default: Any = _MISSING, *, key_pattern: str = r".+", value_pattern: str = r".*") -> dict[str, str]:
        value = self._take(key)
        if value is _MISSING and default is not _MISSING:
            return dict(default)
        if not isinstance(value, Mapping):
            self.problem(key, "a mapping of strings", value)
            return dict(default) if default is not _MISSING else {}
        result: dict[str, str] = {}
        for k, v in value.items():
            if not (isinstance(k, str) and re.fullmatch(key_pattern, k)):
                self.problems.append(Problem(f"{self.key_path(key)}", f"keys matching {key_pattern}", show(k)))
            elif not (isinstance(v, str) and re.fullmatch(value_pattern, v)):
                self.problems.append(Problem(f"{self.key_path(key)}.{k}", f"a string matching {value_pattern}", show(v)))
            else:
                result[k] = v
        return result

    def section(self, key: str) -> "Section":
        """A nested mapping; missing means empty (every getter then falls back to its default)."""
        return Section(self.key_path(key), self._take(key), self.problems)

    def named_sections(self, key: str, *, name_pattern: str = r"[a-z][a-z0-9-]{0,39}") -> dict[str, "Section"]:
        """A mapping of name -> mapping (buckets, queues, services): each value read as a Section."""
        value = self._take(key)
        if value is _MISSING or value is None:
            return {}
        if not isinstance(value, Mapping):
            self.problem(key, "a mapping of names to mappings", value)
            return {}
        result: dict[str, Section] = {}
        for name, body in value.items():
            if not (isinstance(name, str) and re.fullmatch(name_pattern, name)):
                self.problems.append(Problem(self.key_path(key), f"names matching {name_pattern}", show(name)))
                continue
            result[name] = Section(f"{self.key_path(key)}.{name}", body, self.problems)
        return result

    def done(self) -> None:
        """Every key nobody read is a typo or a setting this program does not have."""
        known = sorted(self._used)
        for key in self.raw:
            if key not in self._used:
                # A near miss is most likely the key that was left unset by the typo.
                unset = [k for k in known if k in self._defaulted]
                meant = nearest(str(key), unset) or nearest(str(key), known)
                hint = f" (did you mean {meant!r}?)" if meant else ""
                self.problems.append(
                    Problem(
                        self.key_path(str(key)),
                        "one of the known keys " + ", ".join(known),
                        f"unknown key {str(key)!r}{hint}",
                        meant=self.key_path(meant) if meant else None,
                    )
                )


def nearest(word: str, candidates: Sequence[str]) -> str | None:
    """The candidate a misspelt word most likely meant, if any is close."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


# The private ranges of RFC 1918. `IPv4Network.is_private` is wider (loopback, link-local, shared address space,
# documentation and reserved ranges), none of which is a VPC's or an operator network's address space.
RFC1918 = tuple(ipaddress.IPv4Network(block) for block in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
RFC1918_EXPECTED = "a private (RFC 1918) IPv4 CIDR inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16"


def is_rfc1918(network: ipaddress.IPv4Network) -> bool:
    return any(network.subnet_of(block) for block in RFC1918)


def parse_cidr(value: Any) -> ipaddress.IPv4Network | None:
    if not isinstance(value, str):
        return None
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        return None


def _name_of(choices: Mapping[str, Any], value: Any) -> Any:
    for name, mapped in choices.items():
        if mapped == value:
            return name
    return _MISSING
