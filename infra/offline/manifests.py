"""`make manifests`: every Kubernetes object a stack declares, rendered from the offline engine's plan as YAML.

The program runs under the offline engine (update mode by default, so computed values such as role ARNs are filled
in with the engine's realistic stand-ins; `--preview` leaves them as `(known after apply)`). Every captured
pulumi-kubernetes resource that is a Kubernetes object (its inputs carry `apiVersion` and `kind`) becomes one YAML
document, written to `OUT/<namespace>/<kind>-<name>.yaml` (`OUT/_cluster/` for cluster-scoped objects), exactly as
Pulumi would send it. A value Pulumi marks secret is written as `(secret)`, never in plain text. Helm releases and
the provider are not Kubernetes objects and are left out. The same functions feed the test suite's third-party checks
(kubernetes-validate and checkov).

Exit status: 0 written, 2 bad input (unknown stack, invalid stack config, an output folder that is not ours).
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from . import cli, engine

UNKNOWN_TEXT = "(known after apply)"
SECRET_TEXT = "(secret)"
CLUSTER_SCOPED_DIR = "_cluster"
# Written into the output folder so that a later run may replace its contents and never touches any other folder.
MARKER = ".rendered-manifests"


@dataclass(frozen=True)
class Manifest:
    """One Kubernetes object and the Pulumi resource it came from."""

    urn: str
    resource_type: str
    body: dict[str, Any]

    @property
    def kind(self) -> str:
        return self.body["kind"]

    @property
    def api_version(self) -> str:
        return self.body["apiVersion"]

    @property
    def name(self) -> str:
        return self.body["metadata"]["name"]

    @property
    def namespace(self) -> str | None:
        return self.body["metadata"].get("namespace")

    @property
    def path(self) -> Path:
        folder = self.namespace or CLUSTER_SCOPED_DIR
        return Path(folder) / f"{self.kind.lower()}-{_file_safe(self.name)}.yaml"


def _file_safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def _plain(value: Any) -> Any:
    """Wire form to what a manifest says: secrets redacted, unknowns spelled out, whole numbers as integers."""
    if engine.is_secret(value):
        return SECRET_TEXT
    if value == engine.UNKNOWN:
        return UNKNOWN_TEXT
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the engine's wire form carries every number as a float
    return value


def is_kubernetes_object(resource: engine.CapturedResource) -> bool:
    return (
        resource.type.startswith("kubernetes:")
        and resource.custom
        and "apiVersion" in resource.inputs
        and "kind" in resource.inputs
    )


def manifests(plan: engine.Plan) -> list[Manifest]:
    """The plan's Kubernetes objects, in a stable order (namespace, kind, name)."""
    found = []
    for resource in plan:
        if not is_kubernetes_object(resource):
            continue
        body = _plain(resource.inputs)
        metadata = body.setdefault("metadata", {})
        # Pulumi auto-names an object without a name: the resource name plus a random suffix chosen at apply time.
        metadata.setdefault("name", resource.name)
        ordered = {key: body[key] for key in ("apiVersion", "kind", "metadata") if key in body}
        ordered.update({k: v for k, v in body.items() if k not in ordered})
        found.append(Manifest(urn=resource.urn, resource_type=resource.type, body=ordered))
    return sorted(found, key=lambda m: (m.namespace or "", m.kind, m.name))


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def to_yaml(manifest: Manifest) -> str:
    # apiVersion, kind, metadata first as people write them; below that, keys sorted so that renderings diff cleanly.
    body = {key: _sorted(value) for key, value in manifest.body.items()}
    return yaml.safe_dump(body, sort_keys=False, default_flow_style=False, width=120)


def write(found: list[Manifest], out: Path) -> list[Path]:
    """Write one file per object under `out`, replacing an earlier rendering there (and nothing else)."""
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise FileExistsError(f"{out} is not empty and was not written by this command; choose an empty or new folder")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / MARKER).write_text("Rendered by `python -m infra.offline.manifests`; the next run replaces this folder.\n")
    written = []
    for manifest in found:
        target = out / manifest.path
        if target.exists():
            raise FileExistsError(f"two objects render to {manifest.path}: {manifest.urn}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f"# {manifest.urn}\n" + to_yaml(manifest))
        written.append(target)
    return written


def render(stack: str, out: Path, *, preview: bool = False) -> list[Path]:
    return write(manifests(engine.run(stack, preview=preview)), out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.offline.manifests", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="staging", help="stack name (Pulumi.<stack>.yaml), default staging")
    parser.add_argument("--out", required=True, type=cli.writable_folder, help="folder to write (replaced if an earlier run wrote it)")
    parser.add_argument("--preview", action="store_true", help="leave computed values unknown, as at a first preview")
    args = parser.parse_args(argv)
    written = render(args.stack, args.out, preview=args.preview)
    folders = sorted({path.parent.name for path in written})
    print(
        f"Wrote {len(written)} Kubernetes objects for stack {args.stack} to {args.out} ({', '.join(folders) or 'none'})"
    )
    return 0


if __name__ == "__main__":
    cli.exit_with(main)
