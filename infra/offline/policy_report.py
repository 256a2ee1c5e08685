"""Run a captured plan through the CrossGuard policy pack over its real gRPC protocol, as the Pulumi CLI does.

`evaluate(plan)` starts the pack exactly as `pulumi preview --policy-pack policies` would: the Python policy shim's
command (`python -u -m pulumi.policy <engine-address> .`) in the pack folder, with PULUMI_PROJECT, PULUMI_STACK,
PULUMI_DRY_RUN and PULUMI_CONFIG (the stack's config) in its environment. It reads the port from the first line of
the pack's stdout (anything else there is an error, as it is for the CLI), then speaks `pulumirpc.Analyzer`:
Handshake (the Python SDK does not implement it; the CLI tolerates that), ConfigureStack, GetAnalyzerInfo, Configure
with the per-stack config reconciled with the policies' defaults (`policies/config/<stack>.json`, the file CI passes
with `--policy-pack-config`), Remediate and Analyze for every resource in registration order (the root stack, the
default providers the engine would create, then the program's resources, each with its provider), and AnalyzeStack
once with every resource's parent, dependencies and property dependencies. Resource references are sent as the
engine sends them to analyzers: as the referenced resource's ID, or its URN when it has none.

The engine address handed to the pack points at a tiny in-process `pulumirpc.Engine` that records log messages; the
Python policy SDK does not log through it today, but the pack gets a live address as it does under the CLI.

`PolicyPackSession` keeps one pack process for many plans of the same stack, stack config and mode (the tests start
one per module); `evaluate` starts and stops one for a single plan.
"""

from __future__ import annotations

import collections
import copy
import json
import os
import subprocess
import sys
import threading
from collections.abc import Mapping
from concurrent import futures
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import grpc
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc, engine_pb2, engine_pb2_grpc

from . import cli
from .engine import PROJECT, ROOT, _encode as encode_config, STACK_TYPE, UNKNOWN, CapturedResource, Plan, stack_config as read_stack_config

DEFAULT_PACK_DIR = ROOT / "policies"
RESOURCE_REFERENCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
SIG_KEY = "4dabf18193072939515e22adb298388d"
START_TIMEOUT_SECONDS = 120
# Analyze calls kept in flight at once (the SDK's server answers on four threads).
CALLS_IN_FLIGHT = 8
CALL_TIMEOUT_SECONDS = 120
DEFERRED_MARKER = "can't run policy"

LEVELS = {
    analyzer_pb2.ADVISORY: "advisory",
    analyzer_pb2.MANDATORY: "mandatory",
    analyzer_pb2.REMEDIATE: "remediate",
    analyzer_pb2.DISABLED: "disabled",
}
LEVEL_VALUES = {name: value for value, name in LEVELS.items()}


class PolicyPackError(RuntimeError):
    """The pack did not start, answered out of protocol, or was given an invalid config."""


class PolicyConfigError(PolicyPackError, cli.BadInput):
    """The pack config (`policies/config/<stack>.json` or the one given) is not one the CLI would accept."""


@dataclass(frozen=True)
class Violation:
    policy: str
    level: str  # "mandatory" or "advisory" (as the pack reported it for this run)
    urn: str  # the resource's URN; "" for a stack-wide finding
    message: str  # the policy's description, then what is wrong with the resource and how to fix it
    description: str
    phase: str  # "resource" (Analyze) or "stack" (AnalyzeStack)
    deferred: bool = False  # the SDK's "can't run policy during preview" note: the check runs again on `up`

    @property
    def resource(self) -> str:
        """`type: name` from the URN, the way the CLI labels a violation."""
        if not self.urn:
            return "stack"
        parts = self.urn.split("::")
        if len(parts) < 4:
            return self.urn
        return f"{parts[2].rsplit('$', 1)[-1]}: {'::'.join(parts[3:])}"


@dataclass(frozen=True)
class PolicyInfo:
    name: str
    level: str
    description: str
    kind: str  # "resource" or "stack"


@dataclass
class PolicyReport:
    stack: str
    preview: bool
    pack_name: str
    pack_version: str
    pack_dir: Path
    policies: list[PolicyInfo]
    violations: list[Violation]
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def findings(self) -> list[Violation]:
        """Violations proper, without the deferral notes."""
        return [v for v in self.violations if not v.deferred]

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.findings if v.level == "mandatory"]

    @property
    def advisory(self) -> list[Violation]:
        return [v for v in self.findings if v.level == "advisory"]

    @property
    def deferred(self) -> list[Violation]:
        return [v for v in self.violations if v.deferred]

    @property
    def mandatory_count(self) -> int:
        return len(self.mandatory)

    @property
    def advisory_count(self) -> int:
        return len(self.advisory)

    @property
    def passed(self) -> bool:
        return self.mandatory_count == 0

    def of(self, policy: str) -> list[Violation]:
        return [v for v in self.findings if v.policy == policy]

    def render(self) -> str:
        """The verdicts in the manner of the CLI's "Policies:" section, then a summary line."""
        try:
            where = self.pack_dir.relative_to(ROOT)
        except ValueError:
            where = self.pack_dir
        mark = "✅" if self.passed else "❌"
        mode = "preview" if self.preview else "update"
        lines = [
            f"Policies ({self.stack}, offline {mode}, {len(self.policies)} policies):",
            f"    {mark} {self.pack_name}@v{self.pack_version} (local: {where})",
        ]
        ordered = sorted(self.findings, key=lambda v: (v.level != "mandatory", v.policy, v.urn))
        for violation in ordered:
            lines.append(f"        - [{violation.level}]  {violation.policy}  ({violation.resource})")
            lines.extend(f"          {line}" for line in violation.message.splitlines())
        if self.deferred:
            counts: dict[str, int] = {}
            for note in self.deferred:
                counts[note.policy] = counts.get(note.policy, 0) + 1
            lines.append("    Deferred to `pulumi up` (values unknown at preview; checked again with known values):")
            lines.extend(f"        - {name}: {count} resource(s)" for name, count in sorted(counts.items()))
        lines.append(
            f"Policy summary: {self.mandatory_count} mandatory violation(s)"
            f"{' (the deployment would be blocked)' if self.mandatory_count else ''}, "
            f"{self.advisory_count} advisory, {len(self.deferred)} deferred check(s)."
        )
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "mode": "preview" if self.preview else "update",
            "pack": {"name": self.pack_name, "version": self.pack_version},
            "mandatory": self.mandatory_count,
            "advisory": self.advisory_count,
            "violations": [v.__dict__ for v in self.violations],
        }


# --- wire forms ---------------------------------------------------------------------------------------------------------


def _downgrade_references(value: Any) -> Any:
    """Resource references as the engine marshals them for analyzers (KeepResources off): the ID, else the URN."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == RESOURCE_REFERENCE_SIG:
            if "id" in value:
                return value["id"] if value["id"] not in (None, "") else UNKNOWN
            return value.get("urn", "")
        return {k: _downgrade_references(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_downgrade_references(v) for v in value]
    return value


def _struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(_downgrade_references(dict(value)))
    return message


def _pack_version(pack_dir: Path) -> str:
    """The CLI reports the version of PulumiPolicy.yaml over the one the Python SDK sends (always 0.0.1)."""
    try:
        document = yaml.safe_load((pack_dir / "PulumiPolicy.yaml").read_text()) or {}
    except OSError as error:
        raise PolicyPackError(f"{pack_dir} has no readable PulumiPolicy.yaml: {error}") from None
    return str(document.get("version") or "")


@dataclass(frozen=True)
class _Node:
    """A resource as the engine would hand it to the analyzer."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    provider: str | None  # URN of its provider resource
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    protect: bool
    dependencies: tuple[str, ...]
    property_dependencies: dict[str, tuple[str, ...]]


def _stack_urn(stack: str, project: str = PROJECT) -> str:
    return f"urn:pulumi:{stack}::{project}::{STACK_TYPE}::{project}-{stack}"


def _default_provider(package: str, stack: str, config: Mapping[str, Any], project: str = PROJECT) -> _Node:
    try:
        version = metadata.version(f"pulumi_{package.replace('-', '_')}")
        name = "default_" + version.replace(".", "_").replace("-", "_")
    except metadata.PackageNotFoundError:
        name = "default"
    props = {k.split(":", 1)[1]: v for k, v in encode_config(config).items() if k.startswith(f"{package}:")}
    urn = f"urn:pulumi:{stack}::{project}::pulumi:providers:{package}::{name}"
    return _Node(urn, f"pulumi:providers:{package}", name, True, _stack_urn(stack, project), None, props, props, False, (), {})


def _nodes(plan: Plan, config: Mapping[str, Any]) -> list[_Node]:
    """The plan in registration order, with the root stack and the default providers the engine would add."""
    stack_urn = _stack_urn(plan.stack, plan.project)
    nodes = [_Node(stack_urn, STACK_TYPE, f"{plan.project}-{plan.stack}", False, "", None, {}, dict(plan.outputs), False, (), {})]
    defaults: dict[str, _Node] = {}
    for resource in plan.resources:
        provider = resource.provider_urn
        if provider is None and resource.custom and not resource.type.startswith("pulumi:providers:"):
            package = resource.type.split(":", 1)[0]
            if package not in defaults:
                defaults[package] = _default_provider(package, plan.stack, config, plan.project)
                nodes.append(defaults[package])
            provider = defaults[package].urn
        nodes.append(_node(resource, stack_urn, provider))
    return nodes


def _node(resource: CapturedResource, stack_urn: str, provider: str | None) -> _Node:
    return _Node(
        urn=resource.urn,
        type=resource.type,
        name=resource.name,
        custom=resource.custom,
        parent=resource.parent or stack_urn,
        provider=provider,
        inputs=resource.inputs,
        outputs=resource.outputs or resource.inputs,
        protect=resource.protect,
        dependencies=resource.dependencies,
        property_dependencies=resource.property_dependencies,
    )


# --- the fake engine the pack is pointed at ----------------------------------------------------------------------------


class _Engine(engine_pb2_grpc.EngineServicer):
    def __init__(self) -> None:
        self.logs: list[tuple[int, str, str]] = []
        self.root = ""

    def Log(self, request, context):  # noqa: N802 (gRPC method names)
        self.logs.append((request.severity, request.urn, request.message))
        return empty_pb2.Empty()

    def GetRootResource(self, request, context):  # noqa: N802
        return engine_pb2.GetRootResourceResponse(urn=self.root)

    def SetRootResource(self, request, context):  # noqa: N802
        self.root = request.urn
        return engine_pb2.SetRootResourceResponse()

    def RequirePulumiVersion(self, request, context):  # noqa: N802
        return engine_pb2.RequirePulumiVersionResponse()

    def StartDebugging(self, request, context):  # noqa: N802
        return empty_pb2.Empty()


# --- the session ----------------------------------------------------------------------------------------------------------


class PolicyPackSession:
    """One running pack process, configured for one stack, stack config and mode."""

    def __init__(
        self,
        stack: str,
        *,
        preview: bool,
        stack_config: Mapping[str, Any] | None = None,
        pack_dir: Path = DEFAULT_PACK_DIR,
        python: str = sys.executable,
        project: str = PROJECT,
        root: Path | None = None,
    ) -> None:
        self.stack = stack
        self.preview = preview
        self.project = project
        self.stack_config = dict(read_stack_config(stack, root) if stack_config is None else stack_config)
        self.pack_dir = Path(pack_dir).resolve()
        self.python = python
        self.engine = _Engine()
        self.stray_stdout: list[str] = []
        self.stderr: list[str] = []
        self._process: subprocess.Popen[str] | None = None
        self._server: grpc.Server | None = None
        self._channel: grpc.Channel | None = None
        self.stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self.info: analyzer_pb2.AnalyzerInfo | None = None
        self.version = _pack_version(self.pack_dir)
        self._configured: str | None = None

    # lifecycle -------------------------------------------------------------------------------------------------------

    def environment(self) -> dict[str, str]:
        """The pack's environment, as the CLI builds it (constructEnv): the caller's plus the PULUMI_* variables."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_CONFIG")}
        env.update(
            PULUMI_PROJECT=self.project,
            PULUMI_STACK=self.stack,
            PULUMI_ORGANIZATION="organization",
            PULUMI_DRY_RUN="true" if self.preview else "false",
            PULUMI_CONFIG=json.dumps(encode_config(self.stack_config)),
        )
        return env

    def start(self) -> "PolicyPackSession":
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        engine_pb2_grpc.add_EngineServicer_to_server(self.engine, self._server)
        engine_port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()
        engine_address = f"127.0.0.1:{engine_port}"
        self._process = subprocess.Popen(
            [self.python, "-u", "-m", "pulumi.policy", engine_address, "."],
            cwd=self.pack_dir,
            env=self.environment(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        port_line = self._first_line()
        if not port_line.strip().isdigit():
            self.close()
            raise PolicyPackError(
                f"the policy pack printed {port_line!r} where the CLI reads its port; nothing may print to stdout "
                f"before PolicyPack starts.\nstderr:\n{''.join(self.stderr)[-4000:]}"
            )
        threading.Thread(target=self._drain, args=(self._process.stdout, self.stray_stdout), daemon=True).start()
        self._channel = grpc.insecure_channel(
            f"127.0.0.1:{port_line.strip()}", options=[("grpc.max_receive_message_length", 400 * 1024 * 1024)]
        )
        grpc.channel_ready_future(self._channel).result(timeout=START_TIMEOUT_SECONDS)
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
        self._handshake(engine_address)
        self.info = self.stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=CALL_TIMEOUT_SECONDS)
        return self

    def _first_line(self) -> str:
        assert self._process is not None and self._process.stdout is not None and self._process.stderr is not None
        threading.Thread(target=self._drain, args=(self._process.stderr, self.stderr), daemon=True).start()
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(self._process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(START_TIMEOUT_SECONDS)
        if not result:
            self.close()
            raise PolicyPackError(f"the policy pack did not report a port within {START_TIMEOUT_SECONDS}s")
        if not result[0]:
            code = self._process.wait(timeout=10)
            stderr = "".join(self.stderr)[-4000:]
            self.close()
            raise PolicyPackError(f"the policy pack exited ({code}) before reporting a port:\n{stderr}")
        return result[0]

    @staticmethod
    def _drain(stream, sink: list[str]) -> None:
        for line in iter(stream.readline, ""):
            sink.append(line)

    def _handshake(self, engine_address: str) -> None:
        assert self.stub is not None
        directory = str(self.pack_dir)
        try:
            self.stub.Handshake(
                analyzer_pb2.AnalyzerHandshakeRequest(
                    engine_address=engine_address, root_directory=directory, program_directory=directory
                ),
                timeout=CALL_TIMEOUT_SECONDS,
            )
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.UNIMPLEMENTED:  # the CLI, too, falls back when it is unimplemented
                raise
        request = analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=self.stack, project=self.project, organization="organization", dry_run=self.preview
        )
        for key, value in encode_config(self.stack_config).items():
            request.config[key] = value
        try:
            self.stub.ConfigureStack(request, timeout=CALL_TIMEOUT_SECONDS)
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self._process is not None:
            if self._process.poll() is None:
                self._process.terminate()
                try:
                    self._process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait(timeout=10)
            self._process = None
        if self._server is not None:
            self._server.stop(0)
            self._server = None

    def __enter__(self) -> "PolicyPackSession":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # configuration -----------------------------------------------------------------------------------------------------

    def policies(self) -> list[PolicyInfo]:
        assert self.info is not None
        kinds = {analyzer_pb2.POLICY_TYPE_RESOURCE: "resource", analyzer_pb2.POLICY_TYPE_STACK: "stack"}
        return [
            PolicyInfo(p.name, LEVELS[p.enforcementLevel], p.description, kinds.get(p.policy_type, "?"))
            for p in self.info.policies
        ]

    def reconcile(self, given: Mapping[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
        """Each policy's level and properties: its defaults, then the pack's initial config, then the given config.

        As the CLI does (ReconcilePolicyPackConfig), plus two checks the CLI leaves out, because a typo in a config
        file must not silently switch a rule off: every key names a policy (or "all"), and each property exists in
        the policy's schema with the right JSON type.
        """
        assert self.info is not None
        schemas = {p.name: json_format.MessageToDict(p.configSchema.properties) for p in self.info.policies}
        result = {
            p.name: (LEVELS[p.enforcementLevel],
                     {k: copy.deepcopy(v["default"]) for k, v in schemas[p.name].items() if "default" in v})
            for p in self.info.policies
        }
        for name, config in self.info.initialConfig.items():
            _, props = result[name]
            result[name] = (LEVELS[config.enforcementLevel], {**props, **json_format.MessageToDict(config.properties)})
        problems = []
        if isinstance(given.get("all"), (str, Mapping)):
            level = given["all"] if isinstance(given["all"], str) else given["all"].get("enforcementLevel")
            if level:
                result = {name: (level, props) for name, (_, props) in result.items()}
        for name, value in given.items():
            if name == "all":
                continue
            if name not in result:
                problems.append(f"{name}: no such policy in the pack")
                continue
            level, props = result[name]
            if isinstance(value, str):
                level = value
            elif isinstance(value, Mapping):
                for key, item in value.items():
                    if key == "enforcementLevel":
                        level = item
                    elif key not in schemas[name]:
                        problems.append(f"{name}.{key}: the policy has no such config property")
                    elif not _json_type_ok(item, schemas[name][key].get("type")):
                        problems.append(f"{name}.{key}: expected {schemas[name][key].get('type')}, got {item!r}")
                    else:
                        props[key] = item
            else:
                problems.append(f"{name}: expected an enforcement level or an object, got {value!r}")
            if level not in LEVEL_VALUES:
                problems.append(f"{name}: {level!r} is not an enforcement level")
            result[name] = (level, props)
        if problems:
            raise PolicyConfigError("invalid policy pack config:\n  " + "\n  ".join(problems))
        return result

    def configure(self, given: Mapping[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
        assert self.stub is not None
        key = json.dumps(given, sort_keys=True)
        reconciled = self.reconcile(given)
        if key != self._configured:
            self.stub.Configure(configure_request(reconciled), timeout=CALL_TIMEOUT_SECONDS)
            self._configured = key
        return reconciled

    # analysis ------------------------------------------------------------------------------------------------------

    def evaluate(self, plan: Plan, pack_config: Mapping[str, Any] | None = None) -> PolicyReport:
        """Configure the pack (the stack's config file unless one is given) and run every resource and the stack."""
        assert self.stub is not None
        if plan.stack != self.stack or plan.preview != self.preview:
            raise PolicyPackError(
                f"this pack session runs stack {self.stack} in {'preview' if self.preview else 'update'} mode; "
                f"the plan is {plan.stack} in {'preview' if plan.preview else 'update'} mode"
            )
        given = load_pack_config(self.pack_dir, plan.stack) if pack_config is None else pack_config
        reconciled = self.configure(given)
        requests, stack_request = analysis_requests(plan, self.stack_config)
        violations: list[Violation] = []
        # The engine analyses resources as their steps run, several at once; so do we, keeping a few calls in flight
        # (a remediation would have to come before its resource's analysis, but this pack must never remediate, and
        # any remediation fails the run). Findings are collected in registration order.
        in_flight: collections.deque[tuple[str, Any, Any]] = collections.deque()

        def settle() -> None:
            urn, remediation, analysis = in_flight.popleft()
            if remediation.result().remediations:
                raise PolicyPackError(f"the pack remediated {urn}; this pack must only validate")
            # The engine labels a resource policy's findings with the resource it analysed.
            violations.extend(_violations(analysis.result(), "resource", default_urn=urn, force_urn=True))

        for request in requests:
            remediation = self.stub.Remediate.future(request, timeout=CALL_TIMEOUT_SECONDS)
            in_flight.append((request.urn, remediation, self.stub.Analyze.future(request, timeout=CALL_TIMEOUT_SECONDS)))
            if len(in_flight) >= CALLS_IN_FLIGHT:
                settle()
        while in_flight:
            settle()
        response = self.stub.AnalyzeStack(stack_request, timeout=CALL_TIMEOUT_SECONDS)
        violations.extend(_violations(response, "stack", default_urn="", force_urn=False))
        assert self.info is not None
        return PolicyReport(
            stack=plan.stack,
            preview=plan.preview,
            pack_name=self.info.name,
            pack_version=self.version or self.info.version,
            pack_dir=self.pack_dir,
            policies=self.policies(),
            violations=violations,
            config={name: {"enforcementLevel": level, **props} for name, (level, props) in reconciled.items()},
        )


def configure_request(reconciled: Mapping[str, tuple[str, Mapping[str, Any]]]) -> analyzer_pb2.ConfigureAnalyzerRequest:
    """The Configure call for each policy's reconciled level and properties (`PolicyPackSession.reconcile`)."""
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for name, (level, props) in reconciled.items():
        entry = request.policyConfig[name]
        entry.enforcementLevel = LEVEL_VALUES[level]
        entry.properties.update(props)
    return request


def analysis_requests(plan: Plan, config: Mapping[str, Any]
                      ) -> tuple[list[analyzer_pb2.AnalyzeRequest], analyzer_pb2.AnalyzeStackRequest]:
    """What the engine sends the pack for a plan run with `config`: one request per resource, for its Remediate and
    its Analyze call (inputs), then the stack's (outputs, links), in registration order, the root stack and default
    providers included. Each provider is marshalled once, and a resource whose outputs are its inputs once."""
    nodes = _nodes(plan, config)
    by_urn = {n.urn: n for n in nodes}
    providers: dict[str, analyzer_pb2.AnalyzerProviderResource | None] = {}

    def provider(node: _Node) -> analyzer_pb2.AnalyzerProviderResource | None:
        urn = node.provider or ""
        if urn not in providers:
            providers[urn] = _provider(by_urn.get(urn))
        return providers[urn]

    requests, resources = [], []
    for node in nodes:
        inputs = _struct(node.inputs)
        outputs = inputs if node.outputs == node.inputs else _struct(node.outputs)
        options, its_provider = _options(node), provider(node)
        requests.append(analyzer_pb2.AnalyzeRequest(
            urn=node.urn, type=node.type, name=node.name, properties=inputs, options=options, provider=its_provider))
        resources.append(analyzer_pb2.AnalyzerResource(
            urn=node.urn, type=node.type, name=node.name, properties=outputs, options=options, provider=its_provider,
            parent=node.parent, dependencies=list(node.dependencies),
            propertyDependencies={
                prop: analyzer_pb2.AnalyzerPropertyDependencies(urns=list(urns))
                for prop, urns in node.property_dependencies.items() if urns
            },
        ))
    return requests, analyzer_pb2.AnalyzeStackRequest(resources=resources)


def _json_type_ok(value: Any, expected: Any) -> bool:
    checks = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "array": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, Mapping),
    }
    return expected not in checks or checks[expected](value)


def _options(node: _Node) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(protect=node.protect, parent=node.parent)


def _provider(node: _Node | None) -> analyzer_pb2.AnalyzerProviderResource | None:
    if node is None:
        return None
    return analyzer_pb2.AnalyzerProviderResource(urn=node.urn, type=node.type, name=node.name, properties=_struct(node.inputs))


def _violations(response: analyzer_pb2.AnalyzeResponse, phase: str, *, default_urn: str, force_urn: bool) -> list[Violation]:
    return [
        Violation(
            policy=d.policyName,
            level=LEVELS.get(d.enforcementLevel, "advisory"),
            urn=default_urn if force_urn or not d.urn else d.urn,
            message=d.message,
            description=d.description,
            phase=phase,
            deferred=d.message.startswith(DEFERRED_MARKER),
        )
        for d in response.diagnostics
    ]


def load_pack_config(pack_dir: Path, stack: str) -> dict[str, Any]:
    """`policies/config/<stack>.json`, the file CI passes with --policy-pack-config; empty when there is none."""
    path = Path(pack_dir) / "config" / f"{stack}.json"
    if not path.is_file():
        return {}
    try:
        document = json.loads(path.read_text())
    except ValueError as error:
        raise PolicyConfigError(f"{path}: not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise PolicyConfigError(f"{path}: expected a JSON object of policy names, got {type(document).__name__}")
    return document


def evaluate(
    plan: Plan,
    *,
    pack_dir: Path = DEFAULT_PACK_DIR,
    pack_config: Mapping[str, Any] | None = None,
    stack_config: Mapping[str, Any] | None = None,
) -> PolicyReport:
    """Run `plan` through the pack in a fresh pack process and return the report.

    `pack_config` replaces `policies/config/<stack>.json`; `stack_config` replaces the stack file's config in the
    pack's PULUMI_CONFIG (pass the config the plan was run with when it was mutated).
    """
    with PolicyPackSession(
        plan.stack, preview=plan.preview, stack_config=stack_config, pack_dir=pack_dir, project=plan.project, root=plan.root
    ) as session:
        return session.evaluate(plan, pack_config)


class PackSessions:
    """The pack processes a preview needs, one per mode, started at once so that their start-up (the SDK, the
    policies, the IAM data) runs beside the engine's work; then both plans judged side by side.

        with PackSessions(stack, project=..., root=...) as packs:
            plans = {...}                      # the engine's runs, while the packs start
            reports = packs.evaluate(plans)   # {"preview": PolicyReport, "update": PolicyReport}
    """

    MODES = ("preview", "update")

    def __init__(self, stack: str, *, project: str = PROJECT, root: Path | None = None,
                 pack_dir: Path = DEFAULT_PACK_DIR) -> None:
        self.sessions = {
            mode: PolicyPackSession(stack, preview=mode == "preview", project=project, root=root, pack_dir=pack_dir)
            for mode in self.MODES
        }
        self._pool = futures.ThreadPoolExecutor(max_workers=len(self.MODES))
        self._started: dict[str, futures.Future[PolicyPackSession]] = {}

    def __enter__(self) -> "PackSessions":
        self._started = {mode: self._pool.submit(session.start) for mode, session in self.sessions.items()}
        return self

    def evaluate(self, plans: Mapping[str, Plan]) -> dict[str, PolicyReport]:
        running = {mode: self._started[mode].result() for mode in self.MODES}
        judged = {mode: self._pool.submit(running[mode].evaluate, plans[mode]) for mode in self.MODES}
        return {mode: judged[mode].result() for mode in self.MODES}

    def __exit__(self, *exc: object) -> None:
        for mode, session in self.sessions.items():
            started = self._started.get(mode)
            if started is not None:
                started.cancel()
                try:
                    started.result()
                except BaseException:  # noqa: BLE001 (a pack that failed to start has nothing to close but itself)
                    pass
            session.close()
        self._pool.shutdown(wait=True)
