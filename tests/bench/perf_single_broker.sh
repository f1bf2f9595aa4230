#!/usr/bin/env bash
# Figures of a single broker (RF 1): producer throughput (100 B and 1 KiB, librdkafka's default
# batching), consumer throughput, and produce latency at 2,000 msg/s with linger.ms=0.
# Starts its own controller and broker on ports 7990/7092/7192 in a temp dir; stops them by PID.
#   tests/bench/perf_single_broker.sh [build-dir]
set -euo pipefail
B="${1:-$(cd "$(dirname "$0")/../.." && pwd)/build}"
D="$(mktemp -d /tmp/gregor-perf1-XXXXXX)"
"$B/controller/gregor-controller" --override node.id=1 --override controller.quorum.voters=1@127.0.0.1:7990 \
  --override metadata.log.dir="$D/ctl" > "$D/ctl.log" 2>&1 & C=$!
"$B/broker/gregor-broker" --override node.id=1 --override controller.quorum.voters=1@127.0.0.1:7990 \
  --override log.dirs="$D/b1" --override listeners=PLAINTEXT://127.0.0.1:7092 \
  --override replication.listener=127.0.0.1:7192 > "$D/b1.log" 2>&1 & BR=$!
trap 'kill $BR 2>/dev/null; wait $BR 2>/dev/null; kill $C 2>/dev/null; wait $C 2>/dev/null; rm -rf "$D"' EXIT
G="$B/tools/gregor"; BS=(--bootstrap-server 127.0.0.1:7092)
for t in p100 p1k lat; do
  for i in $(seq 1 50); do "$G" topic create $t --partitions 1 --replication-factor 1 "${BS[@]}" >/dev/null 2>&1 && break; sleep 0.2; done
done
echo "### produce 100 B";  "$G" perf produce --topic p100 --record-size 100 --num-records 2000000 --throughput -1 "${BS[@]}" 2>&1 | tail -1
echo "### produce 1 KiB";  "$G" perf produce --topic p1k --record-size 1024 --num-records 500000 --throughput -1 "${BS[@]}" 2>&1 | tail -1
echo "### consume 100 B";  "$G" perf consume --topic p100 --num-records 2000000 "${BS[@]}" 2>&1 | tail -1
echo "### consume 1 KiB";  "$G" perf consume --topic p1k --num-records 500000 "${BS[@]}" 2>&1 | tail -1
echo "### latency at 2000 msg/s, linger.ms=0, 1 KiB"
"$G" perf produce --topic lat --record-size 1024 --num-records 20000 --throughput 2000 --linger-ms 0 "${BS[@]}" 2>&1 | tail -1
