#!/usr/bin/env bash
# Installs what is missing, builds, and starts a local Gregor cluster (1 controller, 3 brokers)
# in the background. Run it again and it reports the running cluster instead.
#   ./run.sh          start (or report) the local cluster
#   ./run.sh --ha     the same with 3 controllers
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

echo "== [1/3] dependencies"
"$ROOT/deploy/install-deps.sh" || { echo "run.sh: FAILED at step 1 (dependencies)" >&2; exit 1; }
echo "== [2/3] build"
BUILD_DIR="$("$ROOT/deploy/build.sh" | tail -n 1)" \
  || { echo "run.sh: FAILED at step 2 (build)" >&2; exit 1; }
export GREGOR_BUILD_DIR="$BUILD_DIR"

echo "== [3/3] local cluster"
if "$ROOT/deploy/local/cluster.sh" status 2>/dev/null | grep -q "broker-1  running"; then
  echo "A local cluster is already running:"
  "$ROOT/deploy/local/cluster.sh" status
else
  "$ROOT/deploy/local/cluster.sh" up "$@" || { echo "run.sh: FAILED at step 3 (starting the cluster)" >&2; exit 1; }
fi

cat <<MSG

The cluster is up: Kafka bootstrap 127.0.0.1:9092,127.0.0.1:9093,127.0.0.1:9094, controller 127.0.0.1:9990.
Try:
  export PATH="$BUILD_DIR/tools:\$PATH"
  gregor topic create orders --partitions 3 --replication-factor 3 --config min.insync.replicas=2
  seq 1 10 | gregor produce orders
  gregor consume orders --from-beginning --max-messages 10
  gregor topic describe orders
  gregor cluster watch                     # in a second terminal
  deploy/local/cluster.sh kill \$(gregor topic leader orders)   # kill -9 a leader, watch the failover
  deploy/local/cluster.sh start            # bring it back; it rejoins the ISR
  kcat -b 127.0.0.1:9092 -L                # any Kafka client works
Stop it with: deploy/local/cluster.sh down     (data stays in $ROOT/.cluster)
MSG
