#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test through CTest.
#   ./test.sh           Release build, all tests
#   ./test.sh --asan    the same under AddressSanitizer + UBSan (build-asan/)
#   ./test.sh -R regex  extra arguments go to ctest
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

MODE=()
EXCLUDE=()
if [ "${1:-}" = "--asan" ]; then
  MODE=(--asan)
  # The README quick start runs ./run.sh, which builds and uses the Release build.
  EXCLUDE=(-E readme_quickstart)
  shift
fi

echo "== [1/3] dependencies"
"$ROOT/deploy/install-deps.sh" || { echo "test.sh: FAILED at step 1 (dependencies)" >&2; exit 1; }
echo "== [2/3] build"
BUILD_DIR="$("$ROOT/deploy/build.sh" "${MODE[@]}" | tail -n 1)" \
  || { echo "test.sh: FAILED at step 2 (build)" >&2; exit 1; }
echo "== [3/3] tests ($BUILD_DIR)"
cd "$BUILD_DIR"
# Every test runs once: a test that fails is a bug to find, in the product or the test.
if ! ctest --output-on-failure --timeout 900 -j "$(nproc)" "${EXCLUDE[@]}" "$@"; then
  echo "test.sh: FAILED at step 3 (tests): see the output above" >&2
  exit 1
fi
