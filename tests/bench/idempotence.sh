#!/usr/bin/env bash
# Idempotent vs plain producer on the local 3-broker cluster: RF 3, min.insync.replicas=2,
# acks=all, 100 B records.
#  1. librdkafka (gregor perf produce), 1,000,000 records each, alternating plain /
#     --idempotence 3 times (one topic per run), with linger.ms 5 (gregor perf's default) and 20,
#     with the client's CPU time (on 2 cores the client competes with the brokers).
#  2. The broker alone (build/tests/produce_latency: one single-record request in flight, no
#     client library), plain and idempotent batches alternating 3 times: the cost of the
#     sequence check per request.
#  3. The partition-open figures with and without producer snapshots
#     (build/tests/producer_recovery_bench, 1,000 producer ids).
# Uses deploy/local/cluster.sh in a temp GREGOR_CLUSTER_DIR (fixed ports 9990, 9092-9094).
#   tests/bench/idempotence.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
export GREGOR_CLUSTER_DIR="$(mktemp -d /tmp/gregor-idem-XXXXXX)"
trap '"$ROOT/deploy/local/cluster.sh" down >/dev/null; rm -rf "$GREGOR_CLUSTER_DIR"' EXIT
"$ROOT/deploy/local/cluster.sh" up > /dev/null
G="$ROOT/build/tools/gregor"
run=0
for linger in 5 20; do
  for round in 1 2 3; do
    for mode in plain idempotent; do
      run=$((run + 1))
      topic="idem-bench-$run"
      "$G" topic create "$topic" --partitions 1 --replication-factor 3 --config min.insync.replicas=2 > /dev/null
      flag=""
      [ "$mode" = idempotent ] && flag="--idempotence"
      echo "### linger.ms $linger, round $round, $mode: produce 100 B, acks=all"
      /usr/bin/time -f "client CPU: user %U s, sys %S s" "$G" perf produce --topic "$topic" \
        --record-size 100 --num-records 1000000 --throughput -1 --acks all --linger-ms "$linger" \
        $flag 2>&1 | tail -2
    done
  done
done
"$G" topic create lat-plain --partitions 1 --replication-factor 3 --config min.insync.replicas=2 > /dev/null
"$G" topic create lat-idem --partitions 1 --replication-factor 3 --config min.insync.replicas=2 > /dev/null
for round in 1 2 3; do
  echo "### round $round: one request in flight, 2,000/s, plain then idempotent"
  "$ROOT/build/tests/produce_latency" --topic lat-plain --acks 1,all --count 10000 --rate 2000
  "$ROOT/build/tests/produce_latency" --topic lat-idem --acks 1,all --count 10000 --rate 2000 \
    --producer-id $((1000000 + round))
done
echo "### opening a partition of 1,000 producer ids (57.5 MB, then 575 MB of log)"
"$ROOT/build/tests/producer_recovery_bench" --producers 1000 --batches 50
"$ROOT/build/tests/producer_recovery_bench" --producers 1000 --batches 500
