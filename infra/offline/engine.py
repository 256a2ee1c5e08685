"""The offline engine: run the real program for a stack under Pulumi's mock runtime and capture what it declares.

`run("staging")` reads `Pulumi.staging.yaml`, runs `infra/__main__.py` exactly as the language host would (with
`runpy`), and returns a `Plan`: every registered resource as the engine sees it. Preview mode (`preview=True`)
leaves computed outputs unknown like a first `pulumi preview`; update mode fills them with realistic values from
`infra/offline/mock_outputs.py`. `run_modes(stack)` gives both, the update run in a forked child beside the
preview run. Tests, the preview command, the policy report and the manifest renderer all use this one engine; nothing
else hand-rolls mocks.

Data model (stable; `Plan.to_json()` writes it, see README "Plan schema"):
  CapturedResource: urn, type, name, custom, remote, parent (URN or None), provider (provider reference
  "<urn>::<id>" or None), options {protect, ignoreChanges, deleteBeforeReplace, retainOnDelete, replaceOnChanges,
  additionalSecretOutputs, deletedWith}, dependencies [URN], propertyDependencies {wire property: [URN]},
  inputs (wire form: camelCase keys, secrets as {SECRET_SIG: SECRET_VALUE, "value": ...}, unknowns as UNKNOWN),
  outputs (what the engine returned: the inputs plus computed values; empty of computed values in preview).
"""

from __future__ import annotations

import contextlib
import copy
import gc
import json
import os
import pickle
import runpy
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime.proto import source_pb2
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

from . import mock_outputs, project_files

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "platform"
SECRET_SIG = "4dabf18193072939515e22adb298388d"
SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
STACK_TYPE = "pulumi:pulumi:Stack"

# One program run at a time: the Pulumi runtime keeps its settings in process-wide state.
_LOCK = threading.Lock()


UnknownStackError = project_files.UnknownStackError
InputError = project_files.InputError


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIG) == SECRET_VALUE


def unwrap(value: Any) -> Any:
    """The plain value: secret markers removed (recursively). Unknowns stay the UNKNOWN sentinel."""
    if is_secret(value):
        return unwrap(value.get("value"))
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


@dataclass(frozen=True)
class CapturedResource:
    urn: str
    type: str
    name: str
    custom: bool
    remote: bool
    parent: str | None
    provider: str | None
    options: dict[str, Any]
    dependencies: tuple[str, ...]
    property_dependencies: dict[str, tuple[str, ...]]
    inputs: dict[str, Any]
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def protect(self) -> bool:
        return bool(self.options.get("protect"))

    @property
    def props(self) -> dict[str, Any]:
        """Inputs without secret markers: what a policy sees in `args.props`."""
        return unwrap(self.inputs)

    @property
    def provider_urn(self) -> str | None:
        return self.provider.rsplit("::", 1)[0] if self.provider else None

    def to_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "custom": self.custom,
            "remote": self.remote,
            "parent": self.parent,
            "provider": self.provider,
            "options": self.options,
            "dependencies": list(self.dependencies),
            "propertyDependencies": {k: list(v) for k, v in self.property_dependencies.items()},
            "inputs": self.inputs,
        }


@dataclass
class Plan:
    stack: str
    preview: bool
    resources: list[CapturedResource]
    outputs: dict[str, Any]
    project: str = PROJECT
    root: Path = ROOT
    # Keys whose `secure:` values are offline placeholders (the CLI would have decrypted them).
    placeholders: tuple[str, ...] = ()
    # The stack outputs as registered: secrets still marked, so a display can mask them.
    raw_outputs: dict[str, Any] = field(default_factory=dict)

    def __iter__(self) -> Iterator[CapturedResource]:
        return iter(self.resources)

    def __len__(self) -> int:
        return len(self.resources)

    def of_type(self, *types: str) -> list[CapturedResource]:
        return [r for r in self.resources if r.type in types]

    def one(self, type_: str, name: str | None = None) -> CapturedResource:
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        if len(found) != 1:
            raise LookupError(f"expected exactly one {type_} named {name!r}, found {[r.name for r in found]}")
        return found[0]

    def get(self, urn: str) -> CapturedResource:
        for r in self.resources:
            if r.urn == urn:
                return r
        raise LookupError(urn)

    def children(self, urn: str) -> list[CapturedResource]:
        return [r for r in self.resources if r.parent == urn]

    def descendants(self, urn: str) -> list[CapturedResource]:
        out = []
        for child in self.children(urn):
            out.append(child)
            out.extend(self.descendants(child.urn))
        return out

    def depends_on(self, resource: CapturedResource, prop: str) -> list[CapturedResource]:
        """The resources a property's value came from (property dependencies, as the engine records them)."""
        return [self.get(urn) for urn in resource.property_dependencies.get(prop, ())]

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "platform-plan/1",
            "project": self.project,
            "stack": self.stack,
            "mode": "preview" if self.preview else "update",
            "resources": [r.to_json() for r in self.resources],
            "outputs": self.outputs,
        }


class _CapturingMonitor(pulumi_mocks.MockMonitor):
    """The mock monitor, recording each registration's options and dependencies before answering it."""

    def __init__(self, mocks: pulumi_mocks.Mocks):
        super().__init__(mocks)
        self.captured: list[CapturedResource] = []
        self.stack_urn: str | None = None
        self.stack_outputs: dict[str, Any] = {}

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # The real engine leaves the root stack out of its children's qualified types.
        if parent and parent == self.stack_urn:
            parent = ""
        return super().make_urn(parent, type_, name)

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        if request.type == STACK_TYPE:
            self.stack_urn = response.urn
            return response
        options: dict[str, Any] = {
            "protect": request.protect if request.HasField("protect") else False,
            "ignoreChanges": list(request.ignoreChanges),
            "deleteBeforeReplace": request.deleteBeforeReplace,
            "retainOnDelete": request.retainOnDelete if request.HasField("retainOnDelete") else False,
            "replaceOnChanges": list(request.replaceOnChanges),
            "additionalSecretOutputs": list(request.additionalSecretOutputs),
            "deletedWith": request.deletedWith or None,
        }
        parent = request.parent or None
        self.captured.append(
            CapturedResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=request.custom,
                remote=request.remote,
                parent=None if parent == self.stack_urn else parent,
                provider=request.provider or None,
                options=options,
                # Sets to the engine; the SDK sends them in its sets' order, which differs from one process to the next,
                # so they are kept sorted and every plan of the same program is the same plan.
                dependencies=tuple(sorted(request.dependencies)),
                property_dependencies={k: tuple(sorted(v.urns)) for k, v in request.propertyDependencies.items()},
                inputs=json_format.MessageToDict(request.object),
                outputs=json_format.MessageToDict(response.object),
            )
        )
        return response

    def RegisterResourceOutputs(self, request):  # noqa: N802
        if request.urn == self.stack_urn:
            self.stack_outputs = json_format.MessageToDict(request.outputs)
        return super().RegisterResourceOutputs(request)


@contextlib.contextmanager
def _no_source_positions() -> Iterator[None]:
    """The SDK walks and formats the Python stack at every registration to tell the engine where the resource was
    declared (for the CLI's source links); the mock monitor drops that, and it is a fifth of a run. Skipped here,
    offline only; the program under the real CLI is untouched."""
    from pulumi.runtime import resource as sdk_resource

    original = getattr(sdk_resource, "_get_stack_trace", None)
    if original is None:
        yield
        return
    sdk_resource._get_stack_trace = lambda: source_pb2.StackTrace()
    try:
        yield
    finally:
        sdk_resource._get_stack_trace = original


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """A program run (or a command made of them) is a batch: what it allocates (resources, outputs, futures) lives
    until it ends, so the cyclic collector finds almost nothing to free meanwhile, yet each pass walks every live
    object, the SDKs' classes included: two thirds of a run's time. It is paused for the batch and resumes after; what
    the batch left in cycles is collected then."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _PlatformMocks(pulumi_mocks.Mocks):
    def __init__(self, region: str, preview: bool):
        self.region = region
        self.preview = preview

    def new_resource(self, args: pulumi_mocks.MockResourceArgs):
        if self.preview:
            # Like a first preview: no IDs, and every computed output unknown.
            return None, dict(args.inputs)
        resource_id, computed = mock_outputs.resource_outputs(args.typ, args.name, args.inputs, self.region)
        return resource_id, {**args.inputs, **computed}

    def call(self, args: pulumi_mocks.MockCallArgs):
        return mock_outputs.function_result(args.token, args.args, self.region)


def project(root: Path | None = None) -> project_files.Project:
    """The project at `root` (its Pulumi.yaml; by default this repository's, `ROOT`), as the CLI reads it."""
    return project_files.load_project(ROOT if root is None else root)


def stack_file(stack: str, root: Path | None = None) -> Path:
    return project_files.stack_file(stack, project(root))


def project_config(root: Path | None = None) -> dict[str, Any]:
    """Pulumi.yaml's project-level values, namespaced, as the CLI gives them to a stack that does not set the key."""
    return {d.key: copy.deepcopy(d.given) for d in project(root).declarations if d.given is not None}


def stack_inputs(stack: str, root: Path | None = None) -> project_files.StackInputs:
    """The stack's config after the CLI's merge, with its secret keys and offline placeholders."""
    return project_files.load_stack(stack, project(root))


def stack_config(stack: str, root: Path | None = None) -> dict[str, Any]:
    """The stack's config values as the CLI assembles them (objects stay objects). A fresh copy each call."""
    return copy.deepcopy(stack_inputs(stack, root).values)


def _go_json(value: Any) -> Any:
    """Floats as Go's encoding/json writes them: a whole number has no fraction."""
    if isinstance(value, float) and value == int(value) and abs(value) < 1e21:
        return int(value)
    if isinstance(value, dict):
        return {k: _go_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_go_json(v) for v in value]
    return value


def _encode(config: Mapping[str, Any]) -> dict[str, str]:
    """As the CLI passes config to a program: strings as they are, everything else as JSON text."""
    return {k: v if isinstance(v, str) else json.dumps(_go_json(v)) for k, v in config.items()}


def run(
    stack: str,
    *,
    preview: bool = False,
    config: Mapping[str, Any] | None = None,
    root: Path | None = None,
    captured: list[CapturedResource] | None = None,
) -> Plan:
    """Run the program for `stack` under mocks. `config` replaces the stack file's config (tests mutate a copy).

    `captured`, if given, receives the registrations as they happen, so a caller can see what was declared before
    an error stopped the program (a config error must stop it before the first resource).
    """
    the_project = project(root)
    program = str(project_files.program(the_project))
    if config is None:
        inputs = project_files.load_stack(stack, the_project)
        values, secret_keys, placeholders = inputs.values, sorted(inputs.secret_keys), inputs.placeholders
    else:
        values, secret_keys, placeholders = dict(config), [], ()
    region = values.get("aws:region") if isinstance(values.get("aws:region"), str) else "ap-northeast-2"
    mocks = _PlatformMocks(region, preview)
    monitor = _CapturingMonitor(mocks)
    if captured is not None:
        monitor.captured = captured
    with _LOCK:
        set_all_config(_encode(values), secret_keys)
        pulumi_mocks.set_mocks(mocks, project=the_project.name, stack=stack, preview=preview, monitor=monitor)
        # set_mocks leaves a finished root stack behind; run the program in a fresh one, as the language host does.
        pulumi_settings.ROOT.set(None)
        with _no_source_positions(), collector_paused():
            _sync_await(run_in_stack(lambda: runpy.run_path(program, run_name="__main__")))
    return Plan(
        stack=stack,
        preview=preview,
        resources=monitor.captured,
        outputs=unwrap(monitor.stack_outputs),
        project=the_project.name,
        root=the_project.root,
        placeholders=tuple(placeholders),
        raw_outputs=monitor.stack_outputs,
    )


MODES = ("preview", "update")


def run_modes(stack: str, *, root: Path | None = None, before: Callable[[], object] | None = None
              ) -> dict[str, Plan]:
    """Both plans of a stack, {"preview": ..., "update": ...}, the update run in a forked child beside the preview run,
    so that two cores run them at once (the program holds the process's one Pulumi runtime, so one process cannot).

    The fork comes first, while this process has no threads of its own (a child forked from a threaded process can
    inherit a lock some other thread held); `before()`, if given, is called right after it, in the parent, to start
    such work (the pack processes) beside both runs. The child sends its plan back pickled, or the error that stopped
    it, which is raised here as if the run had been local. Without fork (Windows), or in a process that already runs
    threads (a test session), the runs are one after the other.
    """
    if not hasattr(os, "fork") or threading.active_count() > 1:
        if before is not None:
            before()
        return {mode: run(stack, preview=mode == "preview", root=root) for mode in MODES}
    # Output buffered before the fork would be written twice, once by each process.
    sys.stdout.flush()
    sys.stderr.flush()
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child reports through the pipe, then leaves at once)
        os.close(reader)
        try:
            result: Any = ("plan", run(stack, preview=False, root=root))
        except BaseException as error:  # noqa: BLE001 (every failure goes back to the parent)
            result = ("error", error)
        try:
            payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as error:  # noqa: BLE001 (an unpicklable error: its text goes back)
            payload = pickle.dumps(("error", RuntimeError(f"{type(result[1]).__name__}: {result[1]}")))
        with os.fdopen(writer, "wb") as out:
            out.write(payload)
        sys.stdout.flush()  # what the program printed
        sys.stderr.flush()
        os._exit(0)
    os.close(writer)
    try:
        if before is not None:
            before()
        preview = run(stack, preview=True, root=root)
        with os.fdopen(reader, "rb") as incoming:
            reader = -1
            payload = incoming.read()
    finally:
        if reader != -1:
            os.close(reader)
            os.kill(child, 9)
        os.waitpid(child, 0)
    if not payload:
        raise RuntimeError(f"the update run of {stack} (a forked child) ended without a plan")
    kind, value = pickle.loads(payload)
    if kind == "error":
        raise value
    return {"preview": preview, "update": value}
