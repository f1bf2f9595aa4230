# Processes a deploy script started, by the PIDs it recorded in $DIR/pids/NAME.pid (sourced by
# deploy/local/cluster.sh and deploy/netns/cluster.sh). Only recorded PIDs are ever signalled.

pid_of() { [ -f "$DIR/pids/$1.pid" ] && cat "$DIR/pids/$1.pid" || true; }

# Running, and really the process we started (not a reused PID).
running() {
  local pid; pid="$(pid_of "$1")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q gregor "/proc/$pid/cmdline" 2>/dev/null
}

# Signals NAME (TERM or KILL) and waits up to 40 s for it to exit, then KILLs it.
stop_process() {  # name signal
  local name="$1" sig="$2" pid
  pid="$(pid_of "$name")"
  if ! running "$name"; then rm -f "$DIR/pids/$name.pid"; return; fi
  # A paused (SIGSTOP) process would keep a SIGTERM pending until the deadline.
  [ "$sig" = KILL ] || kill -CONT "$pid" 2>/dev/null || true
  kill "-$sig" "$pid"
  local deadline=$((SECONDS + 40))
  while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
  rm -f "$DIR/pids/$name.pid"
  echo "  stopped $name (pid $pid, SIG$sig)"
}
