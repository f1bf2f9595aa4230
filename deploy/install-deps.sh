#!/usr/bin/env bash
# Installs the Debian 12 packages Gregor needs to build, test and run, if any are missing.
# Idempotent: does nothing (not even `apt-get update`) when everything is installed.
set -euo pipefail

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
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "[deps] all ${#PACKAGES[@]} packages present"
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
echo "[deps] done"
