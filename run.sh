#!/usr/bin/env bash
# Installs what is missing, builds, and starts a local Gregor cluster.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

echo "== [1/2] dependencies"
"$ROOT/deploy/install-deps.sh" || { echo "run.sh: FAILED at step 1 (dependencies)" >&2; exit 1; }
echo "== [2/2] build"
BUILD_DIR="$("$ROOT/deploy/build.sh" | tail -n 1)" \
  || { echo "run.sh: FAILED at step 2 (build)" >&2; exit 1; }

cat <<MSG

Built into $BUILD_DIR.

The cluster processes (gregor-controller, gregor-broker) do not exist yet: this checkout has
the storage engine and the 'gregor' tool. What works today:

  $BUILD_DIR/tools/gregor log dump PATH [--records]   # inspect a partition directory or .log file
  ./test.sh                                           # run every test

MSG
