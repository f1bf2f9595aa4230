#!/usr/bin/env bash
# A long random fault schedule against the netns cluster (deploy/netns/cluster.sh): 3 controllers
# and 3 brokers in network namespaces, the nemesis workload (idempotent acks=all producers and
# an acks=1 one, consumers reading everything), random faults of every kind held 10 s each with
# 4 s between them, then healing and the checker's verdict per topic with the longest time
# without an acknowledgement per fault. Needs root.
#   tests/bench/nemesis.sh [MINUTES (default 30)] [SEED (default: random, printed)]
# Replay a run: tests/nemesis/nemesis.py --kinds <the printed kinds> --seed <the printed seed>
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
MINUTES="${1:-30}"
SEED_ARGS=()
[ -z "${2:-}" ] || SEED_ARGS=(--seed "$2")
exec /usr/bin/python3 "$ROOT/tests/nemesis/nemesis.py" --random "$MINUTES" "${SEED_ARGS[@]}" \
  --build-dir "${GREGOR_BUILD_DIR:-$ROOT/build}"
