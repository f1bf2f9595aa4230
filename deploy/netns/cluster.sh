#!/usr/bin/env bash
# A Gregor cluster of separate hosts on one machine: 3 controllers and 3 brokers, each in its own
# Linux network namespace with its own address, plus a client namespace; and the faults hosts
# see (partitions, lossy or slow links, a full disk, paused or killed processes, a clock jump).
# Needs root.
#
#   deploy/netns/cluster.sh up [--broker KEY=VALUE]... [--controller KEY=VALUE]... [--disk-mb N]
#   deploy/netns/cluster.sh down        stop every process, remove every namespace, link, mount
#   deploy/netns/cluster.sh status      hosts, processes, faults in force, cluster health
#   deploy/netns/cluster.sh exec HOST CMD...      run a command on a host (e.g. client)
#
# Hosts: c1 c2 c3 (controllers), b1 b2 b3 (brokers), client. Processes: controller-N, broker-N.
#   partition A [B]          hosts in A (comma-separated) cut off from those in B (default: every
#                            other host, the client included); both ways
#   partition --one-way A B  packets from A to B are dropped; B still reaches A
#   slow HOST [--loss PCT] [--delay MS [--jitter MS]] [--rate KBIT]   a bad link on HOST
#   heal                     remove every partition and bad link
#   kill|stop|start|pause|resume PROCESS    SIGKILL / SIGTERM / start / SIGSTOP / SIGCONT
#   disk-fill BROKER [--free BYTES]    fill the broker's data filesystem (up --disk-mb) but BYTES
#   disk-free BROKER                   delete the filler again
#   clock HOST OFFSET        jump the wall clock of HOST's processes: +3600, -120, 0 (libfaketime)
#   logs [PROCESS]           tail the logs
#
# Addresses: 10.231.NET.0/24 (GREGOR_NETNS_NET, 1-250, default 1): controllers .11-.13 (port
# 9990), brokers .21-.23 (Kafka 9092, replication 19092), client .100; the bridge, in the
# namespace this script runs in, is .1, so this shell reaches every host too. Namespaces are
# named gregorNET-HOST. State, configs, logs and data live in GREGOR_NETNS_DIR (default
# <repo>/.netns-cluster); `down` removes exactly what `up` recorded there.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="${GREGOR_NETNS_DIR:-$ROOT/.netns-cluster}"
BUILD="${GREGOR_BUILD_DIR:-$ROOT/build}"
GREGOR="$BUILD/tools/gregor"
FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1
HOSTS=(c1 c2 c3 b1 b2 b3 client)

# shellcheck source=../lib/processes.sh
source "$ROOT/deploy/lib/processes.sh"

die() { echo "netns/cluster.sh: $*" >&2; exit 1; }
say() { echo "  $*"; }

# ---- naming ------------------------------------------------------------------------------------

net_id() {
  if [ -f "$DIR/net" ]; then cat "$DIR/net"; else echo "${GREGOR_NETNS_NET:-1}"; fi
}
NET="$(net_id)"
[[ "$NET" =~ ^[0-9]+$ ]] && [ "$NET" -ge 1 ] && [ "$NET" -le 250 ] \
  || die "GREGOR_NETNS_NET must be 1-250 (is '$NET')"
PREFIX="10.231.$NET"
BRIDGE="gn${NET}br"

ns_of() { echo "gregor$NET-$1"; }
veth_of() { echo "gn${NET}$1"; }
addr_of() {
  case "$1" in
    c[1-3]) echo "$PREFIX.$((10 + ${1#c}))" ;;
    b[1-3]) echo "$PREFIX.$((20 + ${1#b}))" ;;
    client) echo "$PREFIX.100" ;;
    *) die "no host '$1' (hosts: ${HOSTS[*]})" ;;
  esac
}
check_host() { addr_of "$1" > /dev/null; }
# HOST list "b1,b2" -> "b1 b2", each checked.
hosts_in() {
  local h out=()
  for h in ${1//,/ }; do check_host "$h"; out+=("$h"); done
  [ ${#out[@]} -gt 0 ] || die "no hosts in '$1'"
  echo "${out[@]}"
}
# controller-N / broker-N / cN / bN / N (a broker) -> process name.
process_name() {
  case "$1" in
    controller-[1-3]) echo "$1" ;;
    c[1-3]) echo "controller-${1#c}" ;;
    broker-[1-3]) echo "$1" ;;
    b[1-3]) echo "broker-${1#b}" ;;
    [1-3]) echo "broker-$1" ;;
    *) die "'$1' is not a process (controller-1..3, broker-1..3, or c1..3, b1..3)" ;;
  esac
}
host_of() {  # process name -> host
  case "$1" in controller-*) echo "c${1#controller-}" ;; broker-*) echo "b${1#broker-}" ;; esac
}
voters() { echo "1@$PREFIX.11:9990,2@$PREFIX.12:9990,3@$PREFIX.13:9990"; }
controller_addresses() { echo "$PREFIX.11:9990,$PREFIX.12:9990,$PREFIX.13:9990"; }
bootstrap() { echo "$PREFIX.21:9092,$PREFIX.22:9092,$PREFIX.23:9092"; }

in_ns() { local host="$1"; shift; ip netns exec "$(ns_of "$host")" "$@"; }

# Everything `up` creates is recorded here, one "kind name" per line, so `down` removes exactly it.
record() { echo "$*" >> "$DIR/created"; }

need_root() { [ "$(id -u)" = 0 ] || die "needs root (network namespaces, nftables, mounts)"; }
is_up() { [ -f "$DIR/created" ]; }
need_up() { is_up || die "no netns cluster in $DIR: run 'up' first"; }

# ---- configs -----------------------------------------------------------------------------------

# Sets KEY=VALUE in a properties file: replaces the line that sets it (or the commented-out
# template line), else appends it.
set_key() {
  local file="$1" key="$2" value="$3" esc
  esc="$(printf '%s' "$key" | sed 's/\./\\./g')"
  if grep -qE "^#?$esc=" "$file"; then
    local tmp; tmp="$(mktemp)"
    awk -v k="$key" -v v="$value" '
      !done && (index($0, k "=") == 1 || index($0, "#" k "=") == 1) { print k "=" v; done = 1; next }
      { print }' "$file" > "$tmp"
    cat "$tmp" > "$file"; rm -f "$tmp"
  else
    echo "$key=$value" >> "$file"
  fi
}

write_configs() {  # broker overrides file, controller overrides file
  local id host file kv
  for id in 1 2 3; do
    host="c$id"; file="$DIR/etc/$host/controller.properties"
    mkdir -p "$DIR/etc/$host" "$DIR/data/$host"
    cp "$ROOT/deploy/config/controller.properties" "$file"
    set_key "$file" node.id "$id"
    set_key "$file" controller.quorum.voters "$(voters)"
    set_key "$file" metadata.log.dir "$DIR/data/$host/metadata"
    while IFS= read -r kv; do [ -n "$kv" ] && set_key "$file" "${kv%%=*}" "${kv#*=}"; done < "$2"
  done
  for id in 1 2 3; do
    host="b$id"; file="$DIR/etc/$host/broker.properties"
    mkdir -p "$DIR/etc/$host"
    cp "$ROOT/deploy/config/broker.properties" "$file"
    set_key "$file" node.id "$id"
    set_key "$file" listeners "PLAINTEXT://$(addr_of "$host"):9092"
    set_key "$file" replication.listener "$(addr_of "$host"):19092"
    set_key "$file" log.dirs "$DIR/data/$host/log"
    set_key "$file" controller.quorum.voters "$(voters)"
    # A cluster of three hosts kept for durability: RF 3, acks=all needs 2 in sync.
    set_key "$file" default.replication.factor 3
    set_key "$file" min.insync.replicas 2
    set_key "$file" num.partitions 3
    while IFS= read -r kv; do [ -n "$kv" ] && set_key "$file" "${kv%%=*}" "${kv#*=}"; done < "$1"
  done
}

# ---- processes ---------------------------------------------------------------------------------

# Starts a process in its host's namespace as its systemd unit would (ExecStart of
# deploy/systemd/*.service), with libfaketime preloaded so `clock` can move its wall clock.
start_process() {
  local name="$1" host binary config
  host="$(host_of "$name")"
  if running "$name"; then say "$name already running (pid $(pid_of "$name"))"; return; fi
  case "$name" in
    controller-*) binary="$BUILD/controller/gregor-controller"; config="$DIR/etc/$host/controller.properties" ;;
    broker-*) binary="$BUILD/broker/gregor-broker"; config="$DIR/etc/$host/broker.properties" ;;
  esac
  [ -x "$binary" ] || die "$binary is missing: build first (deploy/build.sh)"
  local env=()
  if [ -f "$FAKETIME_LIB" ]; then
    # Only the wall clock moves (a clock step, as NTP makes); monotonic time is left alone.
    env=(LD_PRELOAD="$FAKETIME_LIB" FAKETIME_TIMESTAMP_FILE="$DIR/clock/$host"
         FAKETIME_CACHE_DURATION=1 FAKETIME_DONT_FAKE_MONOTONIC=1)
  fi
  echo "===== $(date '+%F %T') starting $binary --config $config" >> "$DIR/logs/$name.log"
  # `ip netns exec` and `env` exec in place, so $! is the process's own PID.
  nohup ip netns exec "$(ns_of "$host")" env "${env[@]}" "$binary" --config "$config" \
    >> "$DIR/logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$DIR/pids/$name.pid"
  say "started $name on $host ($(addr_of "$host"), pid $!)"
}

all_processes() { echo controller-1 controller-2 controller-3 broker-1 broker-2 broker-3; }

wait_healthy() {
  local deadline=$((SECONDS + ${1:-90}))
  while [ $SECONDS -lt $deadline ]; do
    if "$GREGOR" cluster health --controller "$(controller_addresses)" > "$DIR/health.txt" 2>&1 &&
       [ "$(grep -c ' alive ' <("$GREGOR" cluster describe --controller "$(controller_addresses)" 2>/dev/null))" -ge 3 ]; then
      return 0
    fi
    sleep 0.5
  done
  cat "$DIR/health.txt" >&2 || true
  return 1
}

# ---- network -----------------------------------------------------------------------------------

create_network() {
  local taken; taken="$(ip netns list | awk '{print $1}' | grep -E "^gregor$NET-" || true)"
  [ -z "$taken" ] || die "namespaces of net $NET exist already ($(echo $taken)): another netns cluster? \
run 'down' with its GREGOR_NETNS_DIR, or choose GREGOR_NETNS_NET"
  ! ip link show "$BRIDGE" > /dev/null 2>&1 || die "link $BRIDGE exists already (another cluster on net $NET?)"
  ip link add "$BRIDGE" type bridge; record link "$BRIDGE"
  ip addr add "$PREFIX.1/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  local host ns veth
  for host in "${HOSTS[@]}"; do
    ns="$(ns_of "$host")"; veth="$(veth_of "$host")"
    ip netns add "$ns"; record netns "$ns"
    ip link add "$veth" type veth peer name eth0 netns "$ns"; record link "$veth"
    ip link set "$veth" master "$BRIDGE" up
    in_ns "$host" ip addr add "$(addr_of "$host")/24" dev eth0
    in_ns "$host" ip link set eth0 up
    in_ns "$host" ip link set lo up
    # The table faults add their rules to; `heal` empties its chains.
    in_ns "$host" nft -f - <<NFT
table inet gregor {
  chain input { type filter hook input priority 0; policy accept; }
  chain output { type filter hook output priority 0; policy accept; }
}
NFT
    echo "+0" > "$DIR/clock/$host"
  done
}

fault() { echo "$(date '+%T') $*" >> "$DIR/faults"; }

# Packets from host A are dropped on arrival at host B.
drop_from() { in_ns "$2" nft add rule inet gregor input ip saddr "$(addr_of "$1")" drop; }

cmd_partition() {
  local one_way=0
  if [ "${1:-}" = "--one-way" ]; then one_way=1; shift; fi
  [ -n "${1:-}" ] || die "usage: partition [--one-way] HOSTS [HOSTS]"
  local a b x y
  a="$(hosts_in "$1")"
  if [ -n "${2:-}" ]; then
    b="$(hosts_in "$2")"
  else
    [ $one_way = 0 ] || die "--one-way needs two host lists"
    b="$(for x in "${HOSTS[@]}"; do [[ " $a " == *" $x "* ]] || echo "$x"; done)"
  fi
  for x in $a; do for y in $b; do
    [ "$x" != "$y" ] || die "$x is on both sides"
    drop_from "$x" "$y"
    [ $one_way = 1 ] || drop_from "$y" "$x"
  done; done
  if [ $one_way = 1 ]; then fault "partition one-way: $(echo $a) -> $(echo $b) dropped"
  else fault "partition: $(echo $a) | $(echo $b)"; fi
  say "partitioned $(echo $a) $([ $one_way = 1 ] && echo '->' || echo '|') $(echo $b)"
}

has_netem() {
  local probe; probe="$(ns_of client)"
  if ip netns exec "$probe" tc qdisc add dev lo root netem delay 1ms 2>/dev/null; then
    ip netns exec "$probe" tc qdisc del dev lo root; return 0
  fi
  return 1
}

cmd_slow() {
  local host="${1:-}"; [ -n "$host" ] || die "usage: slow HOST [--loss PCT] [--delay MS [--jitter MS]] [--rate KBIT]"
  check_host "$host"; shift
  local loss="" delay="" jitter="" rate=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --loss) loss="$2"; shift 2 ;;
      --delay) delay="$2"; shift 2 ;;
      --jitter) jitter="$2"; shift 2 ;;
      --rate) rate="$2"; shift 2 ;;
      *) die "slow: unknown option '$1'" ;;
    esac
  done
  [ -n "$loss$delay$rate" ] || die "slow: give --loss, --delay or --rate"
  if [ -n "$delay" ] && ! has_netem; then
    die "this kernel has no netem queueing discipline (sch_netem): --delay and --jitter are \
unavailable here; --loss (nftables) and --rate (tbf) work"
  fi
  if [ -n "$loss" ]; then
    [[ "$loss" =~ ^[0-9]+(\.[0-9])?$ ]] && awk "BEGIN{exit !($loss <= 100)}" \
      || die "--loss is a percentage (0-100, one decimal)"
    local per_mille; per_mille="$(awk "BEGIN{printf \"%d\", $loss * 10}")"
    # Each packet to or from the host is dropped with this probability, both ways.
    in_ns "$host" nft add rule inet gregor output numgen random mod 1000 "<" "$per_mille" drop
    in_ns "$host" nft add rule inet gregor input numgen random mod 1000 "<" "$per_mille" drop
  fi
  if [ -n "$delay" ]; then
    local spec=(delay "${delay}ms"); [ -z "$jitter" ] || spec+=("${jitter}ms" distribution normal)
    [ -z "$rate" ] || spec+=(rate "${rate}kbit")
    in_ns "$host" tc qdisc replace dev eth0 root netem "${spec[@]}"
  elif [ -n "$rate" ]; then
    in_ns "$host" tc qdisc replace dev eth0 root tbf rate "${rate}kbit" burst 16kbit latency 2s
  fi
  fault "slow $host:${loss:+ loss $loss%}${delay:+ delay ${delay}ms}${jitter:+ jitter ${jitter}ms}${rate:+ rate ${rate}kbit}"
  say "slowed $host:${loss:+ loss $loss%}${delay:+ delay ${delay}ms}${jitter:+ jitter ${jitter}ms}${rate:+ rate ${rate}kbit}"
}

cmd_heal() {
  local host
  for host in "${HOSTS[@]}"; do
    in_ns "$host" nft flush chain inet gregor input
    in_ns "$host" nft flush chain inet gregor output
    in_ns "$host" tc qdisc del dev eth0 root 2>/dev/null || true
  done
  fault "heal"
  say "healed: no partitions, no bad links"
}

# ---- disks and clocks --------------------------------------------------------------------------

broker_host() {
  local name; name="$(process_name "${1:-}")"
  [[ "$name" == broker-* ]] || die "'$1' is not a broker"
  host_of "$name"
}

cmd_disk_fill() {
  local host; host="$(broker_host "${1:-}")"; shift
  local free=0
  if [ "${1:-}" = "--free" ]; then free="$2"; shift 2; fi
  [[ "$free" =~ ^[0-9]+$ ]] || die "--free is a number of bytes"
  local mnt="$DIR/data/$host" avail
  rm -f "$mnt/filler"
  avail="$(df -B1 --output=avail "$mnt" | tail -n 1 | tr -d ' ')"
  if [ "$avail" -gt "$free" ]; then
    fallocate -l $((avail - free)) "$mnt/filler" 2>/dev/null ||
      dd if=/dev/zero of="$mnt/filler" bs=1M count=$(((avail - free) / 1048576)) status=none 2>/dev/null || true
  fi
  fault "disk-fill $host (left $(df -B1 --output=avail "$mnt" | tail -n 1 | tr -d ' ') bytes)"
  say "filled the disk of $host: $(df -h --output=size,used,avail "$mnt" | tail -n 1)"
}

cmd_disk_free() {
  local host; host="$(broker_host "${1:-}")"
  rm -f "$DIR/data/$host/filler"
  fault "disk-free $host"
  say "freed the disk of $host: $(df -h --output=size,used,avail "$DIR/data/$host" | tail -n 1)"
}

cmd_clock() {
  local host="${1:-}" offset="${2:-}"
  [ -n "$host" ] && [ -n "$offset" ] || die "usage: clock HOST +SECONDS|-SECONDS|0"
  check_host "$host"
  [[ "$offset" =~ ^[+-]?[0-9]+$ ]] || die "the offset is whole seconds: +3600, -120, 0"
  [ -f "$FAKETIME_LIB" ] || die "libfaketime is not installed ($FAKETIME_LIB): apt-get install faketime"
  case "$offset" in +*|-*) ;; *) offset="+$offset" ;; esac
  echo "$offset" > "$DIR/clock/$host"
  fault "clock $host $offset s"
  say "the wall clock of $host's processes is now real time $offset s (within 1 s)"
}

# ---- commands ----------------------------------------------------------------------------------

cmd_up() {
  need_root
  local broker_kv controller_kv disk_mb=1024
  broker_kv="$(mktemp)"; controller_kv="$(mktemp)"
  while [ $# -gt 0 ]; do
    case "$1" in
      --broker) echo "$2" >> "$broker_kv"; shift 2 ;;
      --controller) echo "$2" >> "$controller_kv"; shift 2 ;;
      --disk-mb) disk_mb="$2"; shift 2 ;;
      *) die "up: unknown option '$1'" ;;
    esac
  done
  is_up && die "a netns cluster is up in $DIR already (net $NET): 'down' first"
  mkdir -p "$DIR/logs" "$DIR/pids" "$DIR/clock" "$DIR/data"
  echo "$NET" > "$DIR/net"
  : > "$DIR/created"; : > "$DIR/faults"
  echo "Creating hosts on $PREFIX.0/24 (namespaces gregor$NET-*)"
  create_network
  local id
  for id in 1 2 3; do
    # Each broker's data on a filesystem of its own, so `disk-fill` fills one broker's disk.
    mkdir -p "$DIR/data/b$id"
    mount -t tmpfs -o "size=${disk_mb}m" "gregor$NET-b$id" "$DIR/data/b$id"; record mount "$DIR/data/b$id"
  done
  write_configs "$broker_kv" "$controller_kv"
  rm -f "$broker_kv" "$controller_kv"
  for name in $(all_processes); do start_process "$name"; done
  echo "Waiting for the cluster to be healthy..."
  wait_healthy 90 || die "the cluster did not become healthy within 90 s; see $DIR/logs"
  cmd_status
  cat <<EOF

Use it (from this shell, or on the client host: deploy/netns/cluster.sh exec client CMD...):
  $GREGOR topic create orders --bootstrap-server $(bootstrap) --partitions 3 --replication-factor 3
  kcat -b $(bootstrap) -L
Faults: partition b1 c1,c2,c3 | slow b2 --loss 10 | disk-fill b3 | pause broker-1 | clock b2 +3600
        then heal / disk-free / resume / clock b2 0.   Stop everything: deploy/netns/cluster.sh down
EOF
}

cmd_down() {
  [ -f "$DIR/created" ] || { echo "No netns cluster in $DIR."; return; }
  need_root
  local name kind what
  for name in broker-1 broker-2 broker-3 controller-1 controller-2 controller-3; do
    stop_process "$name" TERM
  done
  # In reverse order of creation.
  tac "$DIR/created" | while read -r kind what; do
    case "$kind" in
      mount) umount "$what" 2>/dev/null || umount -l "$what" 2>/dev/null || true ;;
      netns) ip netns del "$what" 2>/dev/null || true ;;
      link) ip link del "$what" 2>/dev/null || true ;;
    esac
  done
  rm -f "$DIR/created" "$DIR/net"
  say "removed every namespace, link and mount of net $NET (logs and configs stay in $DIR)"
}

cmd_status() {
  need_up
  echo "Hosts (net $NET, $PREFIX.0/24):"
  local host name pid
  for host in "${HOSTS[@]}"; do
    name=""; case "$host" in c[1-3]) name="controller-${host#c}" ;; b[1-3]) name="broker-${host#b}" ;; esac
    if [ -z "$name" ]; then printf '  %-7s %-14s (clients)\n' "$host" "$(addr_of "$host")"; continue; fi
    if running "$name"; then
      pid="$(pid_of "$name")"
      if grep -q '^State:.*stopped' "/proc/$pid/status" 2>/dev/null; then
        printf '  %-7s %-14s %-13s paused   pid %s\n' "$host" "$(addr_of "$host")" "$name" "$pid"
      else printf '  %-7s %-14s %-13s running  pid %s\n' "$host" "$(addr_of "$host")" "$name" "$pid"; fi
    else printf '  %-7s %-14s %-13s stopped\n' "$host" "$(addr_of "$host")" "$name"; fi
  done
  echo "Faults in force (since the last heal):"
  awk '/ heal$/ { n = 0; delete l; next } { l[n++] = $0 } END { if (!n) print "  none"; for (i = 0; i < n; i++) print "  " l[i] }' "$DIR/faults"
  echo "Bootstrap servers: $(bootstrap)   Controllers: $(controller_addresses)"
  "$GREGOR" cluster health --controller "$(controller_addresses)" --timeout-ms 3000 2>/dev/null | tail -n 1 || echo "  (no controller answers)"
}

cmd_signal() {  # kill|stop|pause|resume|start PROCESS
  local what="$1" name; need_up
  [ -n "${2:-}" ] || die "usage: $what PROCESS"
  name="$(process_name "$2")"
  case "$what" in
    start) start_process "$name"; return ;;
  esac
  running "$name" || die "$name is not running"
  case "$what" in
    kill) stop_process "$name" KILL ;;
    stop) stop_process "$name" TERM ;;
    pause) kill -STOP "$(pid_of "$name")"; fault "pause $name"; say "paused $name (SIGSTOP)" ;;
    resume) kill -CONT "$(pid_of "$name")"; fault "resume $name"; say "resumed $name" ;;
  esac
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  exec) need_up; [ -n "${2:-}" ] && [ -n "${3:-}" ] || die "usage: exec HOST CMD..."
        check_host "$2"; host="$2"; shift 2; in_ns "$host" "$@" ;;
  partition) need_up; shift; cmd_partition "$@" ;;
  slow) need_up; shift; cmd_slow "$@" ;;
  heal) need_up; cmd_heal ;;
  kill|stop|start|pause|resume) cmd_signal "$1" "${2:-}" ;;
  disk-fill) need_up; shift; cmd_disk_fill "$@" ;;
  disk-free) need_up; shift; cmd_disk_free "$@" ;;
  clock) need_up; shift; cmd_clock "$@" ;;
  logs) need_up; if [ -n "${2:-}" ]; then tail -n 100 -f "$DIR/logs/$(process_name "$2").log"
        else tail -n 20 -f "$DIR"/logs/*.log; fi ;;
  addresses) echo "bootstrap=$(bootstrap) controllers=$(controller_addresses) prefix=$PREFIX" ;;
  *) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
