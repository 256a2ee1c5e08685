"""Recognising secrets in text: secret-named variables with literal values, and well-known credential formats.

A policy cannot tell a secret input from a literal one (the engine hands both over as plain values), so the
"no hardcoded secrets" rule is structural: a variable whose name says it holds a secret must get its value from a
secret store at run time (`valueFrom`, External Secrets, Secrets Manager), never inline; and no value anywhere may
look like a credential (AWS access key, private key, token formats, passwords embedded in URLs).
"""

from __future__ import annotations

import base64
import binascii
import re

SECRET_NAME = re.compile(
    r"(pass(word|wd|phrase)?|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|auth[_-]?key"
    r"|client[_-]?secret|signing[_-]?key|encryption[_-]?key|session[_-]?key)",
    re.IGNORECASE,
)

# Names that mention a secret but hold a reference or a setting, never the secret itself.
REFERENCE_SUFFIXES = (
    "_ARN", "_NAME", "_PATH", "_FILE", "_DIR", "_HEADER", "_HEADER_NAME", "_ID", "_KEY_ID", "_REF", "_URL", "_URI",
    "_ENDPOINT", "_HOST", "_PORT", "_REGION", "_ENABLED", "_TTL", "_TIMEOUT", "_SECONDS", "_MINUTES", "_EXPIRY",
    "_LENGTH", "_AUDIENCE", "_ISSUER", "_TYPE", "_MODE", "_PREFIX", "_KEY_NAME", "_SECRET_NAME", "_STORE",
)

CREDENTIAL_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an AWS access key ID", re.compile(r"\b(AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b")),
    ("a private key", re.compile(r"-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----")),
    ("a GitHub token", re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[0-9A-Za-z-]{10,}")),
    ("a JSON Web Token", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
    ("a Stripe live key", re.compile(r"\b[sr]k_live_[0-9A-Za-z]{16,}")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("a password inside a URL", re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:[^/\s@'\"$]+@")),
)

# `NAME=value`, `export NAME=value`, `NAME: value` (cloud-init YAML) at the start of a line.
ASSIGNMENT = re.compile(r"""^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*[=:]\s*["']?([^"'\s#]*)""", re.MULTILINE)


def is_secret_name(name: str) -> bool:
    upper = name.upper().replace("-", "_").replace(".", "_")
    if not SECRET_NAME.search(upper):
        return False
    return not upper.endswith(REFERENCE_SUFFIXES)


def is_literal_secret_value(value: str) -> bool:
    """A value that could be a secret: not empty, not a flag, not a reference to something resolved at run time."""
    stripped = value.strip()
    if not stripped or stripped.lower() in ("true", "false", "yes", "no", "null", "none", "changeme-from-secret-store"):
        return False
    return not stripped.startswith(("$", "{{", "arn:", "resolve:", "secretsmanager:", "ssm:"))


def credential_kinds(text: str) -> list[str]:
    """The kinds of credential found in the text, in a fixed order."""
    return [kind for kind, pattern in CREDENTIAL_PATTERNS if pattern.search(text)]


def literal_secret_assignments(text: str) -> list[str]:
    """Secret-named variables assigned a literal value in a script or cloud-init document."""
    return sorted(
        {name for name, value in ASSIGNMENT.findall(text) if is_secret_name(name) and is_literal_secret_value(value)}
    )


def decoded(text: str) -> str:
    """User data is often base64 (launch templates require it): decode when it is valid base64 of UTF-8 text."""
    compact = "".join(text.split())
    if len(compact) >= 8 and len(compact) % 4 == 0 and re.fullmatch(r"[A-Za-z0-9+/]+=*", compact):
        try:
            return base64.b64decode(compact, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            pass
    return text
