#!/usr/bin/env bash
# Figures of the local 3-broker cluster: RF 3, min.insync.replicas=2, acks=all throughput
# (100 B, 1 KiB), consumer throughput, latency at 2,000 msg/s with linger.ms=0, end to end.
# Uses deploy/local/cluster.sh in a temp GREGOR_CLUSTER_DIR (fixed ports 9990, 9092-9094).
#   tests/bench/perf_replicated.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
export GREGOR_CLUSTER_DIR="$(mktemp -d /tmp/gregor-perf3-XXXXXX)"
trap '"$ROOT/deploy/local/cluster.sh" down >/dev/null; rm -rf "$GREGOR_CLUSTER_DIR"' EXIT
"$ROOT/deploy/local/cluster.sh" up > /dev/null
G="$ROOT/build/tools/gregor"
for t in r100 r1k rlat; do
  "$G" topic create $t --partitions 1 --replication-factor 3 --config min.insync.replicas=2 > /dev/null
done
echo "### produce 100 B, acks=all"; "$G" perf produce --topic r100 --record-size 100 --num-records 1000000 --throughput -1 --acks all 2>&1 | tail -1
echo "### produce 1 KiB, acks=all"; "$G" perf produce --topic r1k --record-size 1024 --num-records 300000 --throughput -1 --acks all 2>&1 | tail -1
echo "### consume 100 B"; "$G" perf consume --topic r100 --num-records 1000000 2>&1 | tail -1
echo "### consume 1 KiB"; "$G" perf consume --topic r1k --num-records 300000 2>&1 | tail -1
echo "### latency at 2000 msg/s, linger.ms=0, 1 KiB (librdkafka defaults)"
"$G" perf produce --topic rlat --record-size 1024 --num-records 20000 --throughput 2000 --linger-ms 0 --acks all 2>&1 | tail -1
echo "### the same with max.in.flight.requests.per.connection=1"
"$G" perf produce --topic rlat --record-size 1024 --num-records 20000 --throughput 2000 --linger-ms 0 --acks all \
  --property max.in.flight.requests.per.connection=1 2>&1 | tail -1
echo "### end to end at 2000 msg/s"
"$G" perf e2e --topic rlat --record-size 100 --num-records 20000 --throughput 2000 --acks all 2>&1 | tail -2
