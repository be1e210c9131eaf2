#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, only those missing
# (`--build-only`: just what building needs).
# Uses sudo when not root. Safe to run repeatedly (it is a no-op once all are present).
set -euo pipefail

# What building `dripr` needs (`make run` installs only these: a new user waits for them).
build_packages=(
  g++ cmake ninja-build pkg-config make
  libsqlite3-dev libpq-dev libmariadb-dev
  nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev libcpp-httplib-dev
  libcurl4-openssl-dev libssl-dev libpugixml-dev prometheus-cpp-dev
  libjemalloc-dev  # the dripr binary's allocator (docs/decisions/performance.md)
  libgtest-dev libgmock-dev
)
# What the tests add: the servers they start, the tools that check deploy files and style.
test_packages=(
  postgresql mariadb-server
  python3 python3-boto3 curl
  buildah systemd binutils
  prometheus  # promtool and the server for tests/e2e/test_ops_*.sh
  chromium chromium-driver python3-selenium  # the dashboard's browser test (test_dashboard.sh)
  clang-format
  libclang-rt-14-dev  # libFuzzer's runtime for tests/fuzz/ (scripts/fuzz.sh)
)
packages=("${build_packages[@]}")
[[ ${1:-} == --build-only ]] || packages+=("${test_packages[@]}")

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "installing missing packages: ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
