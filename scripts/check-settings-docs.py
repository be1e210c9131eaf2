#!/usr/bin/env python3
"""Fails when docs/architecture.md's settings table and `dripr config --json` disagree.

Runs `DRIPR [config --json]` in an empty environment and compares, setting by setting, its
`default` with the table's default column; a setting missing on either side is a failure.
Usage: check-settings-docs.py PATH/TO/dripr
"""
import json
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
ROW = re.compile(r"^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|\s*(.*?)\s*\|")


def docs_table():
    text = (ROOT / "docs" / "architecture.md").read_text()
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        m = ROW.match(line)
        if m:
            rows[m.group(1)] = m.group(2)
    return rows


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = subprocess.run([sys.argv[1], "config", "--json"], env={}, capture_output=True,
                         text=True, check=False)
    if out.returncode != 0:
        print(f"dripr config --json exited {out.returncode}: {out.stderr.strip()}")
        return 1
    printed = {s["name"]: s["default"] for s in json.loads(out.stdout)["settings"]}
    documented = docs_table()
    problems = []
    for name, default in printed.items():
        if name not in documented:
            problems.append(f"{name}: printed by dripr config, missing from docs/architecture.md")
        elif documented[name] != default:
            problems.append(f"{name}: docs say {documented[name]!r}, dripr config {default!r}")
    for name in documented:
        if name not in printed:
            problems.append(f"{name}: in docs/architecture.md, not a setting of dripr config")
    for p in problems:
        print(p)
    print(f"{len(printed)} settings, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
