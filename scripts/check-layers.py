#!/usr/bin/env python3
"""Fails when an #include points the wrong way between layers (docs/architecture.md).

Each folder of src/dripr/ is a layer with the layers it may include; a backend folder
(store/sqlite, bus/aws, providers/rentcast, ...) may include its own layer's shared files
but never a sibling backend. Prints one line per violation and exits 1 when there is any.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SRC = ROOT / "src"

# layer -> layers it may include (besides itself)
ALLOWED = {
    "core": set(),
    "sqlite": {"core"},
    "domain": {"core"},
    "ops": {"core", "domain"},
    "store": {"core", "domain", "sqlite"},
    "bus": {"core", "domain", "sqlite"},
    "providers": {"core", "domain", "ops"},
    "fetcher": {"core", "domain", "sqlite", "store", "bus", "providers", "ops"},
}
# Backend folders: a backend never includes a sibling, and a layer's shared code never
# includes a backend, except the one factory per interface that chooses among them.
BACKENDS = {"store": {"sqlite", "postgres", "mysql"}, "bus": {"embedded", "aws"},
            "providers": {"sample", "rentcast"}}
FACTORIES = {"dripr/store/factory.cc", "dripr/providers/provider.cc", "dripr/bus/bus.cc"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def where(rel: pathlib.PurePosixPath):
    """(layer, backend or None) of a path relative to src/ ('cmd' for the CLI)."""
    parts = rel.parts
    if parts[0] == "cmd":
        return "cmd", None
    if parts[0] != "dripr" or len(parts) < 3:
        return None, None
    layer = parts[1]
    backend = parts[2] if len(parts) > 3 and parts[2] in BACKENDS.get(layer, ()) else None
    return layer, backend


def main() -> int:
    problems = []
    for path in sorted(SRC.rglob("*")):
        if path.suffix not in (".h", ".cc"):
            continue
        rel = pathlib.PurePosixPath(path.relative_to(SRC).as_posix())
        layer, backend = where(rel)
        if layer is None:
            continue
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            target = pathlib.PurePosixPath(m.group(1))
            t_layer, t_backend = where(target)
            if t_layer is None:
                continue
            if layer == "cmd":
                continue  # the CLI wires everything
            if t_layer == "cmd":
                problems.append(f"{rel}:{n}: includes the CLI ({target})")
            elif t_layer == layer:
                if backend and t_backend and backend != t_backend:
                    problems.append(f"{rel}:{n}: backend {layer}/{backend} includes sibling backend {target}")
                elif backend is None and t_backend is not None and str(rel) not in FACTORIES:
                    problems.append(f"{rel}:{n}: {layer}'s shared code includes backend {target}")
            elif layer not in ALLOWED:
                problems.append(f"{rel}:{n}: layer '{layer}' is not in scripts/check-layers.py's table")
            elif t_layer not in ALLOWED[layer]:
                problems.append(f"{rel}:{n}: {layer} must not include {t_layer} ({target})")
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} include(s) against the layering (docs/architecture.md)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
