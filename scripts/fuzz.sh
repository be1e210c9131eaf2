#!/usr/bin/env bash
# The libFuzzer targets of tests/fuzz/ (docs/decisions/fuzzing.md), built in their own tree
# (build-fuzz: ASan + UBSan + g++ coverage, -DDRIPR_FUZZ=ON).
#   scripts/fuzz.sh --smoke [SECONDS]   build all targets, run each SECONDS (default 3) from
#                                       the corpus kept in tests/fuzz/corpus/ (what `make test` does)
#   scripts/fuzz.sh TARGET [SECONDS]    a longer run of one target (default 300 s); new inputs
#                                       go to build-fuzz/corpus/NAME, crashes to
#                                       build-fuzz/artifacts/TARGET/ (copy them into
#                                       tests/fuzz/corpus/NAME/ once fixed)
#   scripts/fuzz.sh --list              the targets
# Prints one line per run: target, executions, seconds, new coverage. Exit 1 on a finding.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${DRIPR_FUZZ_BUILD:-build-fuzz}
jobs=${JOBS:-$(nproc)}

targets() { for f in tests/fuzz/*_fuzz.cc; do basename "$f" .cc; done; }
if [[ ${1:-} == --list ]]; then targets; exit 0; fi
[[ $# -ge 1 ]] || { echo "usage: $0 --smoke [SECONDS] | TARGET [SECONDS] | --list" >&2; exit 2; }

smoke=false
if [[ $1 == --smoke ]]; then
  smoke=true
  seconds=${2:-3}
  list=$(targets)
else
  list=$1
  seconds=${2:-300}
  [[ $list =~ ^[a-z0-9_]+_fuzz$ && -f tests/fuzz/$list.cc ]] || { echo "unknown fuzz target '$list' (see $0 --list)" >&2; exit 2; }
fi
[[ $seconds =~ ^[0-9]+$ && $seconds -ge 1 ]] || { echo "SECONDS must be a whole number >= 1" >&2; exit 2; }

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$out" -G Ninja -DDRIPR_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" "${launcher[@]}" >/dev/null
if $smoke; then
  cmake --build "$out" -j "$jobs" --target fuzz_targets
else
  cmake --build "$out" -j "$jobs" --target "$list"
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# FUZZ_SEED fixes libFuzzer's seed (`make test` sets 1, so CI's smoke run mutates the same way
# on every machine and a finding reproduces with the same command); unset, each run picks one.
seed=()
if [[ -n ${FUZZ_SEED:-} ]]; then
  [[ $FUZZ_SEED =~ ^[0-9]+$ ]] || { echo "FUZZ_SEED must be a whole number" >&2; exit 2; }
  seed=(-seed="$FUZZ_SEED")
fi
failed=()
for t in $list; do
  name=${t%_fuzz}
  seeds=tests/fuzz/corpus/$name
  work=$out/corpus/$name
  artifacts=$out/artifacts/$t
  mkdir -p "$work" "$artifacts"
  [[ -d $seeds ]] && cp -n "$seeds"/* "$work"/ 2>/dev/null || true
  log=$out/$t.log
  # The work corpus first (libFuzzer adds new inputs there); the kept seeds are read as well.
  if "$out/tests/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 "${seed[@]}" -print_final_stats=1 -artifact_prefix="$artifacts/" \
      "$work" >"$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo '?')
    printf 'fuzz %-20s %9s runs in %3s s, cov %s: ok\n' "$t" "$runs" "$seconds" "$cov"
  else
    printf 'fuzz %-20s FAILED (log %s, input in %s):\n' "$t" "$log" "$artifacts"
    grep -m 20 -E 'ERROR|SUMMARY|runtime error|deadly signal|#[0-9] 0x' "$log" | sed 's/^/  /' || true
    # The input itself, so a CI log alone reproduces the finding (libFuzzer prints Base64 for
    # inputs of up to a few hundred bytes).
    grep -E 'Test unit written|^Base64:' "$log" | sed 's/^/  /' || true
    failed+=("$t")
  fi
done
if ((${#failed[@]})); then
  echo "fuzz: findings in ${failed[*]}" >&2
  exit 1
fi
