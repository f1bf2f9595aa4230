#!/usr/bin/env bash
# Consumer fetches with and without incremental fetch sessions (KIP-227), 100 partitions on one
# broker (issue 13): the local cluster (deploy/local/cluster.sh, in a temp GREGOR_CLUSTER_DIR;
# fixed ports 9990, 9092-9094), a topic of 100 RF-1 partitions all on broker 1, 1,000,000 records
# of 100 B spread over them; then tests/bench/fetch_session_bench.cc reads them all with Fetch v11
# (catch-up) and polls 2,000 times once at the end (idle), once without a session and once with.
#   tests/bench/fetch_sessions.sh [records]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
RECORDS="${1:-1000000}"
export GREGOR_CLUSTER_DIR="$(mktemp -d /tmp/gregor-fetch-sessions-XXXXXX)"
trap '"$ROOT/deploy/local/cluster.sh" down >/dev/null; rm -rf "$GREGOR_CLUSTER_DIR"' EXIT
"$ROOT/deploy/local/cluster.sh" up > /dev/null
B="$ROOT/build/tests/fetch_session_bench"
"$B" --broker 127.0.0.1:9092 --broker-id 1 --topic fs --partitions 100 --create
"$ROOT/build/tools/gregor" perf produce --topic fs --key-count 100000 --record-size 100 \
  --num-records "$RECORDS" --acks 1 | tail -1
for mode in full session full session; do
  "$B" --broker 127.0.0.1:9092 --topic fs --partitions 100 --mode $mode
done
