#!/usr/bin/env bash
# conventions.nodiscard: a dropped Result<T>/Status must not compile (-Werror=unused-result),
# while the same file without the drop compiles. Usage: check-nodiscard.sh CXX
# One translation unit, -fsyntax-only: about a second per case.
set -uo pipefail
cd "$(dirname "$0")/.."
cxx=${1:-c++}
src=tests/conventions/nodiscard_check.cc
compile() { "$cxx" -std=c++23 -fsyntax-only -Werror=unused-result -Isrc "$@" "$src" 2>&1; }

if ! out=$(compile); then
  echo "FAIL: $src does not compile without a dropped result:"; echo "$out"; exit 1
fi
status=0
for c in 1 2 3; do
  if out=$(compile -DDRIPR_DROP=$c); then
    echo "FAIL: case $c of $src compiled: a dropped Result/Status is no longer an error"
    status=1
  elif ! grep -q "nodiscard" <<<"$out"; then
    echo "FAIL: case $c of $src failed for another reason than [[nodiscard]]:"; echo "$out"
    status=1
  else
    echo "ok: case $c rejected by [[nodiscard]]"
  fi
done
exit $status
