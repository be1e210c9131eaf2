#!/usr/bin/env python3
"""Fails when library code reads time, randomness or the environment itself.

Everything under src/dripr/ that decides *when* takes a Ticker (core/clock.h), wall time a
Clock, randomness a Random (core/random.h), and settings arrive as plain structs parsed once
by LoadConfig (docs/decisions/settings.md). Only core/'s real sources may name the real ones;
src/cmd/ (the composition root) picks them and is not checked. Prints one line per hit
(comments are skipped) and exits 1 when there is any.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
LIB = ROOT / "src" / "dripr"

# What library code must not name, and why.
FORBIDDEN = [
    (re.compile(r"\bsteady_clock::now\b"), "reads the monotonic clock: take a Ticker&"),
    (re.compile(r"\bsystem_clock::now\b"), "reads the wall clock: take a Clock&"),
    (re.compile(r"\bhigh_resolution_clock\b"), "reads a clock: take a Ticker&"),
    (re.compile(r"\brandom_device\b"), "reads OS randomness: take a Random&"),
    (re.compile(r"\bRealTicker\s*\(\s*\)"), "picks the real ticker: take a Ticker& (cmd passes it)"),
    (re.compile(r"\bSteadyTicker\b"), "makes a real ticker: take a Ticker& (cmd passes it)"),
    (re.compile(r"\b(std::)?getenv\b|\bsecure_getenv\b"), "reads the environment: take a settings struct"),
    (re.compile(r"\benviron\b"), "reads the environment: take a settings struct"),
]
# The real sources themselves (paths relative to src/dripr/).
ALLOWED = {
    "core/clock.h",   # SystemClock, SteadyTicker, RealTicker, OrRealTicker
    "core/clock.cc",
    "core/random.h",  # SystemRandom, RandomSeed
    "core/random.cc",
    "core/env.h",     # the one reader of the process environment (LoadConfig's input)
    "core/env.cc",
}
LINE_COMMENT = re.compile(r"//.*$")


def code_lines(text: str):
    """(line number, code without comments) of a C++ file; /* */ blocks are skipped too."""
    in_block = False
    for n, line in enumerate(text.splitlines(), 1):
        if in_block:
            end = line.find("*/")
            if end < 0:
                continue
            line, in_block = line[end + 2:], False
        while "/*" in line:
            start = line.find("/*")
            end = line.find("*/", start + 2)
            if end < 0:
                line, in_block = line[:start], True
                break
            line = line[:start] + line[end + 2:]
        yield n, LINE_COMMENT.sub("", line)


def main() -> int:
    problems = []
    for path in sorted(LIB.rglob("*")):
        if path.suffix not in (".h", ".cc"):
            continue
        rel = path.relative_to(LIB).as_posix()
        if rel in ALLOWED:
            continue
        for n, code in code_lines(path.read_text(errors="replace")):
            for pattern, why in FORBIDDEN:
                m = pattern.search(code)
                if m:
                    problems.append(f"src/dripr/{rel}:{n}: {m.group(0)}: {why}")
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} direct read(s) of time, randomness or the environment "
              "(docs/decisions/settings.md, \"Injected tickers\")", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
