#!/usr/bin/env bash
# Builds a libFuzzer target with g++ (see gcc_libfuzzer_shim.cc for why not clang 14).
#   tests/fuzz/build.sh event_fuzz [OUT_DIR]      (default OUT_DIR: build-fuzz)
#   build-fuzz/event_fuzz -max_total_time=300 -use_value_profile=1 build-fuzz/corpus-event
# Needs: g++ 12, libclang-rt-14-dev (libclang_rt.fuzzer-x86_64.a), nlohmann-json.
set -euo pipefail
target=${1:?usage: $0 TARGET [OUT_DIR]}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${2:-$root/build-fuzz}

# Sources each target needs besides tests/fuzz/<target>.cc.
case $target in
  event_fuzz)
    srcs="src/dripr/domain/event.cc src/dripr/domain/status.cc src/dripr/core/time.cc
          src/dripr/core/error.cc" ;;
  *) echo "unknown fuzz target '$target'" >&2; exit 2 ;;
esac

rt=$(ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a 2>/dev/null | tail -1)
[[ -n $rt ]] || { echo "libclang_rt.fuzzer not found: apt-get install libclang-rt-14-dev" >&2; exit 2; }

mkdir -p "$out/obj-$target"
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cov="-fsanitize-coverage=trace-pc,trace-cmp"
objs=()
for f in $srcs tests/fuzz/$target.cc; do
  o="$out/obj-$target/$(basename "$f").o"
  g++ -std=c++23 -O1 -g $san $cov -I"$root/src" -c "$root/$f" -o "$o"
  objs+=("$o")
done
# The shim is compiled without coverage (it is the coverage callback).
g++ -std=c++23 -O1 -g $san -c "$root/tests/fuzz/gcc_libfuzzer_shim.cc" -o "$out/obj-$target/shim.o"
# libFuzzer's own __sanitizer_cov_trace_pc only says "unsupported" and exits; weaken it so
# the shim's definition wins.
objcopy --weaken-symbol=__sanitizer_cov_trace_pc "$rt" "$out/libfuzzer_gcc.a"
g++ $san "${objs[@]}" "$out/obj-$target/shim.o" "$out/libfuzzer_gcc.a" -o "$out/$target"

# Seed corpus: the checked-in examples, if any.
mkdir -p "$out/corpus-${target%_fuzz}"
if [[ -d $root/tests/fuzz/corpus/${target%_fuzz} ]]; then
  cp -n "$root"/tests/fuzz/corpus/"${target%_fuzz}"/* "$out/corpus-${target%_fuzz}/" 2>/dev/null || true
fi
echo "built $out/$target"
