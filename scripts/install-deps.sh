#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, only those missing.
# Uses sudo when not root. Safe to run repeatedly (it is a no-op once all are present).
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config make
  libsqlite3-dev libpq-dev postgresql libmariadb-dev mariadb-server
  nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev libcpp-httplib-dev
  libcurl4-openssl-dev libssl-dev libpugixml-dev prometheus-cpp-dev
  libgtest-dev libgmock-dev
  python3 python3-boto3 curl
  buildah systemd binutils
  prometheus  # promtool and the server for tests/e2e/test_ops_*.sh
)

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
