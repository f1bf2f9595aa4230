#!/usr/bin/env bash
# Produce latency on a compacted topic with and without the log cleaner at work (issue 12).
# The local 3-broker cluster (deploy/local/cluster.sh, in a temp GREGOR_CLUSTER_DIR; fixed ports
# 9990, 9092-9094), two compacted RF-3 topics with 1 MiB segments: on `busy` the cleaner runs
# whenever 1 % of the log is dirty, on `idle` never (min.cleanable.dirty.ratio=1). For each, a
# background producer writes 100 B records over 10,000 keys at 50,000 records/s for 30 s while a
# second one measures acks=all latency at 2,000 records/s with linger.ms=0.
#   tests/bench/compaction_latency.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
export GREGOR_CLUSTER_DIR="$(mktemp -d /tmp/gregor-compaction-XXXXXX)"
trap '"$ROOT/deploy/local/cluster.sh" down >/dev/null; rm -rf "$GREGOR_CLUSTER_DIR"' EXIT
"$ROOT/deploy/local/cluster.sh" up > /dev/null
G="$ROOT/build/tools/gregor"
"$G" topic create busy --partitions 1 --replication-factor 3 --config cleanup.policy=compact \
  --config segment.bytes=1048576 --config min.cleanable.dirty.ratio=0.01 > /dev/null
"$G" topic create idle --partitions 1 --replication-factor 3 --config cleanup.policy=compact \
  --config segment.bytes=1048576 --config min.cleanable.dirty.ratio=1 > /dev/null
for t in idle busy; do
  "$G" perf produce --topic $t --key-count 10000 --record-size 100 --duration-s 32 \
    --throughput 50000 --acks all > "$GREGOR_CLUSTER_DIR/load-$t.txt" 2>&1 & LOAD=$!
  sleep 1
  echo "### $t: latency at 2000 msg/s, 100 B, acks=all, linger.ms=0, under a 50,000 msg/s keyed load"
  "$G" perf produce --topic $t --key-count 10000 --record-size 100 --num-records 60000 \
    --throughput 2000 --linger-ms 0 --acks all 2>&1 | tail -1
  wait $LOAD
  echo "    load: $(tail -1 "$GREGOR_CLUSTER_DIR/load-$t.txt")"
  echo "    cleans on the leader: $(grep -h "cleaned log $t-0" "$GREGOR_CLUSTER_DIR"/logs/broker-*.log | wc -l) (all brokers)"
done
"$G" topic describe busy
"$G" topic describe idle
