"""`Pulumi.yaml` and `Pulumi.<stack>.yaml` read and merged as the Pulumi CLI does, so an offline run sees the config a
real `pulumi preview` would hand the program, and refuses what the CLI would refuse.

What the CLI does, and this module with it (sdk/go/common/workspace/project.go, config.go and
resource/config/object.go in the Pulumi repository):
- files are YAML read by yaml.v3 (`go_yaml`): YAML 1.2-style scalars, duplicate keys are errors;
- `name` and `runtime` are required; `main` names the program's folder (or file);
- project-level `config:` entries: a plain string, integer, boolean or list is a `default` for the project's own keys
  and a `value` for other namespaces; a project key without `value`/`default` must be set by every stack; keys of
  other namespaces take `value` only; `type:` (string, integer, boolean, array with `items`) and `secret:` are
  checked against the stack's value;
- a stack file's key replaces the project-level entry of the same key whole;
- a top-level scalar reaches the program as text (`true`, `15`), a structured value as JSON; a timestamp as Go's
  `time.Time.String()`; `{secure: ...}` values are decrypted by the CLI. Offline there is no key, so each becomes a
  marked placeholder and its key a secret key, and the caller is told which keys those were.
"""

from __future__ import annotations

import copy
import difflib
import functools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from . import go_yaml

# ProjectStack's fields (workspace/project.go): everything a stack file may hold.
STACK_FILE_KEYS = ("secretsprovider", "encryptedkey", "encryptionsalt", "config", "environment")
CONFIG_TYPES = ("string", "integer", "boolean", "array")
SUPPORTED_RUNTIME = "python"


class InputError(pulumi.RunError):
    """A project or stack file that the CLI would refuse, or that an offline run cannot stand in for."""


class UnknownStackError(InputError):
    """The named stack has no Pulumi.<stack>.yaml."""


def placeholder(key: str) -> str:
    """What a `secure:` value stands for offline: recognisable, never a real secret, different per key."""
    return f"offline-placeholder-for-{key.replace(':', '-')}"


@dataclass(frozen=True)
class ConfigDeclaration:
    """One entry of Pulumi.yaml's `config:`, after the CLI's shorthand rewrite."""

    key: str  # namespaced: `platform:services`
    project_namespaced: bool
    type: str | None = None
    items: Any = None
    secret: bool = False
    value: Any = None
    default: Any = None

    @property
    def given(self) -> Any:
        return self.default if self.default is not None else self.value


@dataclass(frozen=True)
class Project:
    root: Path
    name: str
    runtime: str
    main: Path
    stack_dir: Path
    declarations: tuple[ConfigDeclaration, ...]


@dataclass(frozen=True)
class StackInputs:
    """A stack's config as the program receives it: values (objects decoded), which keys are secret, and which of
    them are offline placeholders for `secure:` values."""

    values: dict[str, Any]
    secret_keys: frozenset[str] = frozenset()
    placeholders: tuple[str, ...] = field(default=())


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(f"{path.name}: cannot read it ({error.strerror})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path.name}: not UTF-8 text") from None
    return copy.deepcopy(_parsed(text, path.name))


@functools.lru_cache(maxsize=16)
def _parsed(text: str, filename: str) -> Any:
    """One parse per file content: a preview reads Pulumi.yaml and the stack file for each engine run and each pack
    session, and the parse (pure-Python YAML) grows with the catalogue. Callers get a copy (`_read`)."""
    try:
        return go_yaml.load(text, filename)
    except go_yaml.GoYamlError as error:
        raise InputError(str(error)) from None


def _close(word: str, candidates: Any) -> str | None:
    # The same rule as infra.config.reader.nearest; not imported from there, since importing infra.config would load
    # the whole program (its components and SDKs) into every engine process before the program runs.
    match = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return match[0] if match else None


def _nearest(word: str, candidates: Any) -> str:
    match = _close(word, candidates)
    return f" (did you mean {match!r}?)" if match else ""


def _misspelt(wanted: str, document: dict[str, Any]) -> str:
    match = _close(wanted, [k for k in document if isinstance(k, str)])
    return f" (found {match!r}: a misspelling of {wanted!r}?)" if match else ""


def _runtime_name(runtime: Any) -> str | None:
    if isinstance(runtime, str):
        return runtime
    if isinstance(runtime, dict) and isinstance(runtime.get("name"), str):
        return runtime["name"]
    return None


def _shorthand(value: Any) -> bool:
    # isPrimitiveValue (string, int, bool) or an array: rewritten into a declaration by the CLI.
    return isinstance(value, (str, bool, int, list)) and not isinstance(value, go_yaml.Timestamp)


def load_project(root: Path) -> Project:
    path = root / "Pulumi.yaml"
    if not path.is_file():
        raise InputError(f"{root}: no Pulumi.yaml (the folder is not a Pulumi project)")
    document = _read(path)
    if not isinstance(document, dict):
        raise InputError(f"Pulumi.yaml: expected a mapping of project settings, got {_kind(document)}")
    name = document.get("name")
    if "name" not in document:
        raise InputError("Pulumi.yaml: project is missing a 'name' attribute" + _misspelt("name", document))
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"Pulumi.yaml name: expected a project name, got {_kind(name)}")
    runtime = _runtime_name(document.get("runtime"))
    if "runtime" not in document:
        raise InputError("Pulumi.yaml: project is missing a 'runtime' attribute" + _misspelt("runtime", document))
    if runtime is None:
        raise InputError("Pulumi.yaml runtime: expected a string or an object with name and options attributes")
    if runtime != SUPPORTED_RUNTIME:
        raise InputError(f"Pulumi.yaml runtime: expected {SUPPORTED_RUNTIME!r} (this is a Python program), got {runtime!r}")
    main_text = document.get("main", ".")
    if not isinstance(main_text, str):
        raise InputError(f"Pulumi.yaml main: expected a path, got {_kind(main_text)}")
    stack_dir_text = document.get("stackConfigDir", ".")
    if not isinstance(stack_dir_text, str) or not (root / stack_dir_text).is_dir():
        raise InputError(f"Pulumi.yaml stackConfigDir: expected an existing folder, got {stack_dir_text!r}")
    return Project(
        root=root,
        name=name,
        runtime=runtime,
        main=root / main_text,
        stack_dir=root / stack_dir_text,
        declarations=_declarations(name, document.get("config")),
    )


def _declarations(project: str, config: Any) -> tuple[ConfigDeclaration, ...]:
    if config is None:
        return ()
    if not isinstance(config, dict):
        raise InputError(f"Pulumi.yaml config: expected a mapping of configuration keys, got {_kind(config)}")
    found: list[ConfigDeclaration] = []
    for key in sorted(config):
        entry = config[key]
        own = ":" not in key or key.startswith(f"{project}:")
        full = key if ":" in key else f"{project}:{key}"
        where = f"Pulumi.yaml config.{key}"
        if _shorthand(entry):
            entry = {"default": entry} if own else {"value": entry}
        if not isinstance(entry, dict):
            raise InputError(f"{where}: expected a value, or a mapping with value, default, type, ... , got {_kind(entry)}")
        unknown = sorted(set(entry) - {"type", "description", "items", "default", "value", "secret"})
        if unknown:
            raise InputError(f"{where}: unknown attribute {unknown[0]!r}" + _nearest(unknown[0], ("value", "default", "type", "secret")))
        if "default" in entry and "value" in entry:
            raise InputError(f"{where}: cannot have both a 'default' and 'value' attribute")
        declared_type = entry.get("type")
        if not own:
            if declared_type is not None:
                raise InputError(f"{where}: the key is not namespaced by the project and should not define a type")
            if "default" in entry:
                raise InputError(
                    f"{where}: the key is not namespaced by the project and should not define a default value "
                    "(use 'value')"
                )
            if entry.get("value") is None:
                raise InputError(f"{where}: the key is namespaced and must provide an attribute 'value'")
        if declared_type is not None and declared_type not in CONFIG_TYPES:
            raise InputError(f"{where}.type: expected one of {', '.join(CONFIG_TYPES)}, got {declared_type!r}")
        if declared_type == "array" and entry.get("items") is None:
            raise InputError(f"{where}: declares an array but does not specify the underlying type via 'items'")
        declaration = ConfigDeclaration(
            key=full,
            project_namespaced=own,
            type=declared_type,
            items=entry.get("items"),
            secret=bool(entry.get("secret")),
            value=_plain(entry.get("value"), where),
            default=_plain(entry.get("default"), where),
        )
        if declared_type and declaration.default is not None and not _of_type(declared_type, declaration.items, declaration.default):
            raise InputError(f"{where}: the default value is not of the expected type {_type_name(declared_type, declaration.items)!r}")
        found.append(declaration)
    return tuple(found)


def program(project: Project) -> Path:
    """What the language host runs: `main`'s folder (its __main__.py) or file. Checked only when a program runs, as
    the CLI does (`pulumi config` works without one)."""
    main = project.main.resolve()
    if not (main.is_file() or (main / "__main__.py").is_file()):
        relative = project.main.relative_to(project.root).as_posix() + ("/" if project.main.is_dir() else "")
        raise InputError(
            f"Pulumi.yaml main: expected the program's folder (holding __main__.py) or file, got {relative!r}, "
            + ("which has no __main__.py" if main.is_dir() else "which does not exist")
        )
    return main


def stack_file(stack: str, project: Project) -> Path:
    path = project.stack_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project.stack_dir.glob("Pulumi.*.yaml"))
        raise UnknownStackError(f"unknown stack {stack!r}: there is no {path.name} (stacks: {', '.join(known) or 'none'})")
    return path


def load_stack(stack: str, project: Project) -> StackInputs:
    """The stack's config after the CLI's merge with the project-level declarations."""
    path = stack_file(stack, project)
    document = _read(path)
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise InputError(f"{path.name}: expected a mapping with a config: section, got {_kind(document)}")
    for key in document:
        if key not in STACK_FILE_KEYS:
            raise InputError(f"{path.name}: unknown top-level key {key!r}{_nearest(key, STACK_FILE_KEYS)}; a stack file holds {', '.join(STACK_FILE_KEYS)}")
    if document.get("environment"):
        raise InputError(
            f"{path.name} environment: the stack imports Pulumi ESC environments, which an offline run cannot "
            "resolve; set the values under config: instead"
        )
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise InputError(f"{path.name} config: expected a mapping of namespace:key to values, got {_kind(config)}")

    values: dict[str, Any] = {}
    secret_keys: set[str] = set()
    placeholders: list[str] = []
    secure_given: set[str] = set()
    for key, raw in config.items():
        if ":" not in key or key.startswith(":") or key.endswith(":"):
            raise InputError(f"{path.name} config.{key}: expected a key of the form <namespace>:<name>, got {key!r}")
        value, secret = _stack_value(raw, key, f"{path.name} config.{key}")
        values[key] = value
        if secret:
            secret_keys.add(key)
            placeholders.append(key)
            secure_given.add(key)

    missing: list[str] = []
    for declaration in project.declarations:
        if declaration.key in values:
            _check_declared(stack, declaration, values[declaration.key], declaration.key in secure_given)
            continue
        if declaration.given is not None:
            values[declaration.key] = declaration.given
        elif declaration.project_namespaced:
            missing.append(declaration.key.split(":", 1)[1])
    if missing:
        names = " and ".join(repr(m) for m in sorted(missing))
        raise InputError(f"Stack '{stack}' is missing configuration value{'s' if len(missing) > 1 else ''} {names}")
    return StackInputs(values=values, secret_keys=frozenset(secret_keys), placeholders=tuple(placeholders))


def _stack_value(raw: Any, key: str, where: str) -> tuple[Any, bool]:
    """The plain value and whether a `secure:` value was inside it (replaced by a placeholder)."""
    found_secret = False

    def convert(value: Any, path: str) -> Any:
        nonlocal found_secret
        if isinstance(value, dict):
            if len(value) == 1 and isinstance(value.get("secure"), str):
                found_secret = True
                return placeholder(key)
            return {k: convert(v, f"{path}.{k}") for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v, f"{path}[{i}]") for i, v in enumerate(value)]
        return _plain(value, path)

    return convert(raw, where), found_secret


def _plain(value: Any, where: str) -> Any:
    if isinstance(value, go_yaml.Timestamp):
        return value.go_string()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        raise InputError(f"{where}: the CLI cannot encode {value!r} (JSON has no NaN or infinity)")
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        raise InputError(f"{where}: the integer {value} does not fit in 64 bits")
    if isinstance(value, dict):
        return {k: _plain(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def _check_declared(stack: str, declaration: ConfigDeclaration, value: Any, secure: bool) -> None:
    short = declaration.key.split(":", 1)[1] if declaration.project_namespaced else declaration.key
    if declaration.secret and not secure:
        raise InputError(f"Stack '{stack}' with configuration key '{short}' must be encrypted as it's secret")
    # The CLI checks the text a top-level scalar becomes ("42", "true"), and a structured value as JSON.
    content = value if isinstance(value, (dict, list)) or value is None else cli_text(value)
    if declaration.type and not _of_type(declaration.type, declaration.items, content):
        raise InputError(
            f"Stack '{stack}' with configuration key '{short}' must be of type "
            f"'{_type_name(declaration.type, declaration.items)}'"
        )


def cli_text(value: Any) -> str:
    """A top-level scalar as the program receives it: strings as they are, others as Go's JSON writes them."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_yaml.go_float(value)
    return str(value)


def _of_type(type_name: str, items: Any, value: Any) -> bool:
    """ValidateConfigValue: a top-level scalar arrives as text, so "42" is an integer and "true" a boolean."""
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, int) or (isinstance(value, float) and value == int(value)):
            return True
        return isinstance(value, str) and value.lstrip("+-").isdigit()
    if type_name == "boolean":
        return isinstance(value, bool) or value in ("true", "false")
    if type_name == "array" and isinstance(value, list) and isinstance(items, dict):
        return all(_of_type(items.get("type", ""), items.get("items"), item) for item in value)
    return False


def _type_name(type_name: str, items: Any) -> str:
    if type_name == "array" and isinstance(items, dict):
        return f"List<{_type_name(items.get('type', ''), items.get('items'))}>"
    return type_name


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)
