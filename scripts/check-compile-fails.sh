#!/usr/bin/env bash
# A rule the compiler enforces still holds (ctest conventions.nodiscard, conventions.enum_names):
# SRC compiles as it is, and with -DDRIPR_CASE=k, for k = 1..CASES, each case FAILS to compile
# with an error that mentions WHAT (so it fails for the rule's reason, not another).
# Usage: check-compile-fails.sh CXX SRC CASES WHAT [compiler flags...]
# One translation unit, -fsyntax-only: about a second per case.
set -uo pipefail
cd "$(dirname "$0")/.."
cxx=$1 src=$2 cases=$3 what=$4
shift 4
compile() { "$cxx" -std=c++23 -fsyntax-only -Isrc "$@" "$src" 2>&1; }

if ! out=$(compile "$@"); then
  echo "FAIL: $src does not compile as it is:"; echo "$out"; exit 1
fi
status=0
for c in $(seq 1 "$cases"); do
  if out=$(compile "$@" -DDRIPR_CASE="$c"); then
    echo "FAIL: case $c of $src compiled: the rule it breaks is no longer enforced"
    status=1
  elif ! grep -q -- "$what" <<<"$out"; then
    echo "FAIL: case $c of $src failed for another reason than \"$what\":"; echo "$out"
    status=1
  else
    echo "ok: case $c rejected (\"$what\")"
  fi
done
exit $status
