#!/usr/bin/env python3
"""Fails when library code reads time, randomness or the environment itself.

Everything under src/dripr/ that decides *when* takes a Ticker (core/clock.h) and sleeps or
waits on it, wall time a Clock, randomness a Random (core/random.h), and settings arrive as
plain structs parsed once by LoadConfig (docs/decisions/settings.md). Only core/'s real
sources may name the real ones (clocks, sleeps, condition-variable timed waits, the real
random source); src/cmd/ (the composition root) picks them and is not checked. EXEMPT lists
the few single lines that stay on real time, each with its reason. Prints one line per hit
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
    (re.compile(r"\b(sleep_for|sleep_until|usleep|nanosleep)\b"),
     "sleeps in real time: sleep on the Ticker& (SleepFor/SleepUntil)"),
    (re.compile(r"\b(wait_for|wait_until)\s*\("),
     "waits on a condition variable in real time: use the Ticker's WaitFor/WaitUntil"),
    (re.compile(r"\bSystemRandom\s*\(\s*\)"),
     "picks the real random source: take a Random& (cmd passes it; OrRealRandom for null)"),
    (re.compile(r"\bRandomSeed\s*\("), "seeds a generator of its own: take a Random&"),
    (re.compile(r"\b(mt19937(_64)?|minstd_rand0?|default_random_engine|ranlux(24|48)(_base)?"
                r"|knuth_b)\b"),
     "keeps a generator of its own: take a Random&"),
    (re.compile(r"\bs?rand\s*\("), "C's global generator: take a Random&"),
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
# Single hits that stay on real time, each with its reason: (path relative to src/dripr/, text
# of the code line that holds the hit) -> why. Nothing in them decides a schedule.
EXEMPT = {
    ("fetcher/consumer.cc", "receivers_cv_.wait_for("):
        "shutdown repeats CancelReceives every 100 ms until the receive loops end; the drain "
        "deadline itself is on the ticker, and on a ManualTicker the repeat would never come",
    ("core/ids.cc", "thread_local std::mt19937_64 gen{RandomSeed()};"):
        "NewUuid's fallback when OpenSSL's generator fails: it makes ids and decides nothing",
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


def hits(rel: str, text: str):
    """The forbidden names in file `rel` (relative to src/dripr/) with contents `text`."""
    if rel in ALLOWED:
        return []
    found = []
    for n, code in code_lines(text):
        if any(exempt_path == rel and exempt_text in code for exempt_path, exempt_text in EXEMPT):
            continue
        for pattern, why in FORBIDDEN:
            m = pattern.search(code)
            if m:
                found.append(f"src/dripr/{rel}:{n}: {m.group(0)}: {why}")
    return found


# The check checked: each sample line must be caught (or, for the second list, let through).
CAUGHT = [
    "auto t = std::chrono::steady_clock::now();",
    "std::this_thread::sleep_for(50ms);",
    "std::this_thread::sleep_until(t);",
    "::usleep(1000);",
    "nanosleep(&ts, nullptr);",
    "cv_.wait_for(lock, 1s, [&] { return stop_; });",
    "cv_.wait_until (lock, t);",
    "double u = SystemRandom().Uniform();",
    "Ticker& t = RealTicker();",
    "const char* v = getenv(\"X\");",
    "rng_(options_.jitter_seed ? options_.jitter_seed : RandomSeed()) {}",
    "std::mt19937_64 rng_;",
    "std::minstd_rand gen(42);",
    "int r = std::rand() % 6;",
]
LET_THROUGH = [
    "ticker_.WaitFor(lock, cv_, 1s, [&] { return stop_; });",
    "ticker_.SleepFor(wait);",
    "random_(OrRealRandom(random)),",
    "const double jitter = random_.Uniform(0.5, 1.0);",
    "if (RAND_bytes(b.data(), 16) != 1) {",
    "x = 1;  // std::this_thread::sleep_for(1s) in a comment",
    "/* cv.wait_for(lock, 1s) */ y = 2;",
]


def self_test() -> list:
    failures = [f"not caught: {line}" for line in CAUGHT if not hits("x/y.cc", line)]
    failures += [f"caught: {line}" for line in LET_THROUGH if hits("x/y.cc", line)]
    return failures


def main() -> int:
    broken = self_test()
    if broken:
        for b in broken:
            print(f"check-time-sources.py self-test: {b}", file=sys.stderr)
        return 2
    problems = []
    for path in sorted(LIB.rglob("*")):
        if path.suffix not in (".h", ".cc"):
            continue
        problems += hits(path.relative_to(LIB).as_posix(), path.read_text(errors="replace"))
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} direct use(s) of time, sleeping, randomness or the environment "
              "(docs/decisions/settings.md, \"Injected tickers\")", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
