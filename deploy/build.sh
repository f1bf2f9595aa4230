#!/usr/bin/env bash
# Configures (once) and builds Gregor with Ninja and ccache.
#   deploy/build.sh            Release build in build/
#   deploy/build.sh --asan     AddressSanitizer + UBSan build in build-asan/
# Prints the build directory on the last line of stdout.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

BUILD_DIR="$ROOT/build"
EXTRA=()
if [ "${1:-}" = "--asan" ]; then
  BUILD_DIR="$ROOT/build-asan"
  EXTRA=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DGREGOR_SANITIZE=ON -DGREGOR_BENCHMARKS=OFF)
fi

export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
mkdir -p "$CCACHE_DIR"

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  echo "[build] configuring $BUILD_DIR" >&2
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja "${EXTRA[@]}" >&2 \
    || { echo "[build] ERROR: cmake configure failed" >&2; exit 1; }
fi
JOBS="${GREGOR_BUILD_JOBS:-$(nproc)}"
echo "[build] building in $BUILD_DIR with $JOBS jobs" >&2
cmake --build "$BUILD_DIR" -j "$JOBS" >&2 || { echo "[build] ERROR: build failed" >&2; exit 1; }
echo "$BUILD_DIR"
