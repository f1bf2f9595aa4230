#!/usr/bin/env bash
# Installs the Debian 12 packages Gregor needs to build, test and run, if any are missing, and
# the npm client the KafkaJS compatibility test uses (kafkajs, into .deps/js of this checkout).
# Idempotent: does nothing (not even `apt-get update`) when everything is installed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KAFKAJS_VERSION=2.2.4

PACKAGES=(
  # build
  cmake ninja-build pkg-config ccache g++
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libspdlog-dev libgtest-dev libgmock-dev libbenchmark-dev libasio-dev
  librdkafka-dev libcli11-dev nlohmann-json3-dev
  libzstd-dev liblz4-dev libsnappy-dev zlib1g-dev
  # client and cross-check tests
  python3 kcat python3-confluent-kafka python3-kafka python3-pytest
  python3-snappy python3-lz4 python3-zstandard
  nodejs npm
  # Go's sarama (tests/compat/test_sarama.py builds its client in GOPATH mode)
  golang-go golang-github-shopify-sarama-dev
  # the libFuzzer targets (tests/fuzz/run.sh): Debian's clang 14 and its libFuzzer
  clang libfuzzer-14-dev
  # the network-namespace cluster and its faults (deploy/netns/): iproute2 (ip, tc), nftables,
  # libfaketime (a clock jump on one host), util-linux (mount, fallocate)
  iproute2 nftables faketime util-linux
)

# Installed, or provided by an installed package (NodeSource's nodejs provides, and conflicts
# with, Debian's npm: asking apt for npm there would remove nodejs).
installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" && return 0
  dpkg-query -W -f='${Status}\t${Provides}\n' 2>/dev/null | awk -F'\t' -v want="$1" '
    $1 ~ /install ok installed/ {
      n = split($2, provided, /, */)
      for (i = 1; i <= n; i++) { split(provided[i], name, " "); if (name[1] == want) found = 1 }
    }
    END { exit !found }'
}

# KafkaJS for tests/compat/test_groups.py (NODE_PATH=$ROOT/.deps/js/node_modules), after apt.
install_kafkajs() {
  local dir="$ROOT/.deps/js"
  if [ -f "$dir/node_modules/kafkajs/package.json" ]; then
    echo "[deps] kafkajs present in $dir"
    return 0
  fi
  echo "[deps] npm install kafkajs@$KAFKAJS_VERSION into $dir"
  mkdir -p "$dir"
  npm install --no-save --no-audit --no-fund --prefix "$dir" "kafkajs@$KAFKAJS_VERSION" \
    || { echo "[deps] ERROR: npm install kafkajs@$KAFKAJS_VERSION failed" >&2; exit 1; }
}

missing=()
for p in "${PACKAGES[@]}"; do
  if ! installed "$p"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "[deps] all ${#PACKAGES[@]} packages present"
  install_kafkajs
  exit 0
fi

echo "[deps] installing: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "[deps] ERROR: not root and no sudo; install as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q || { echo "[deps] ERROR: apt-get update failed" >&2; exit 1; }
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" \
  || { echo "[deps] ERROR: apt-get install failed for: ${missing[*]}" >&2; exit 1; }
install_kafkajs
echo "[deps] done"
