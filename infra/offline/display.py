"""Text layout shared by the preview and the change review: terminal width, display width, Pulumi-style values.

`pulumi preview` fits its resource table to the terminal and prints property and output values as nested blocks
(`key: value`, maps as `{ ... }`, lists with `[i]:` indexes, unknowns as `output<string>`, secrets as `[secret]`).
These helpers do the same for the offline commands, so both print values the way a Pulumi user reads them.
"""

from __future__ import annotations

import json
import shutil
import sys
import unicodedata
from typing import Any

from . import engine

DEFAULT_WIDTH = 120
SECRET = "[secret]"
UNKNOWN = "output<string>"
ELLIPSIS = "…"


def terminal_width() -> int:
    """The terminal's width when stdout is one; 120 columns otherwise (a pipe, a file, CI)."""
    if sys.stdout.isatty():
        return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
    return DEFAULT_WIDTH


def width(text: str) -> int:
    """Columns the text takes on a terminal: wide characters (the lock emoji) take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 0 if unicodedata.combining(ch) else 1 for ch in text)


def clip(text: str, columns: int) -> str:
    """The text cut to `columns` display columns, ending in an ellipsis when cut."""
    if width(text) <= columns:
        return text
    out, used = [], 0
    for ch in text:
        w = width(ch)
        if used + w > columns - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + ELLIPSIS


def pad(text: str, columns: int) -> str:
    return text + " " * max(0, columns - width(text))


def scalar(value: Any) -> str:
    """A leaf value as Pulumi prints it: strings quoted, unknowns `output<string>`, secrets `[secret]`."""
    if engine.is_secret(value):
        return SECRET
    if value == engine.UNKNOWN:
        return UNKNOWN
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value)


def inline(value: Any) -> str:
    """A value on one line: `{ key: value, ... }`, `[ a, b ]`, leaves as `scalar` shows them."""
    if engine.is_secret(value) or not isinstance(value, (dict, list)):
        return scalar(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k}: {inline(value[k])}" for k in sorted(value)) + " }" if value else "{}"
    return "[ " + ", ".join(inline(v) for v in value) + " ]" if value else "[]"


def value_lines(key: str, value: Any, indent: int, key_width: int | None = None, columns: int | None = None) -> list[str]:
    """`key: value` as nested lines, as Pulumi prints values: maps as `{`..`}` with aligned keys, lists with `[i]:`
    entries. With `columns`, a map or list that fits on the line stays on it (nothing is ever cut)."""
    label = key if key_width is None else key.ljust(key_width)
    lead = " " * indent
    one_line = f"{lead}{label}: {inline(value)}"
    if engine.is_secret(value) or not isinstance(value, (dict, list)) or not value:
        return [one_line]
    if columns is not None and width(one_line) <= columns:
        return [one_line]
    if columns is not None and not any(isinstance(v, (dict, list)) and not engine.is_secret(v) for v in
                                       (value.values() if isinstance(value, dict) else value)):
        wrapped = _wrapped(f"{lead}{label}: ", value, columns)
        if wrapped is not None:
            return wrapped
    if isinstance(value, dict):
        inner = max(len(k) for k in value)
        lines = [f"{lead}{label}: {{"]
        for k in sorted(value):
            lines += value_lines(k, value[k], indent + 4, inner, columns)
        return lines + [f"{lead}}}"]
    lines = [f"{lead}{label}: ["]
    for index, item in enumerate(value):
        lines += value_lines(f"[{index}]", item, indent + 4, None, columns)
    return lines + [f"{lead}]"]


def _wrapped(head: str, value: dict | list, columns: int) -> list[str] | None:
    """A map or list of leaves on as few lines as fit: `{ a: 1, b: 2,` and the rest under the first entry; None when
    an entry is too long for that (the caller nests it instead)."""
    items = [f"{k}: {inline(value[k])}" for k in sorted(value)] if isinstance(value, dict) else [inline(v) for v in value]
    opening, closing = ("{ ", " }") if isinstance(value, dict) else ("[ ", " ]")
    indent = " " * width(head + opening)
    pieces = [item + ("," if index < len(items) - 1 else closing) for index, item in enumerate(items)]
    if any(width(indent) + width(piece) > columns for piece in pieces):
        return None
    lines, current = [], head + opening
    for piece in pieces:
        if current != head + opening and width(current) + width(piece) > columns:
            lines.append(current.rstrip())
            current = indent
        current += piece + " "
    return lines + [current.rstrip()]


def short_type(type_: str) -> str:
    """`aws:s3/bucketPolicy:BucketPolicy` -> `aws:s3:BucketPolicy`, as `pulumi preview` shows types."""
    parts = type_.split(":")
    if len(parts) == 3 and parts[2] and "/" in parts[1]:
        module, member = parts[1].rsplit("/", 1)
        # As the CLI's display does (simplifyTypeName): only when the member is the type's name in camelCase, so
        # `networking.k8s.io/v1`, which carries the API version, stays.
        if member == parts[2][0].lower() + parts[2][1:]:
            return f"{parts[0]}:{module}:{parts[2]}"
    return type_
