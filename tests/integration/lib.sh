# Shared by the integration tests: a private librettod on the sim backend,
# with its own socket, state and run directories, and a deployment name no
# other run uses. Sourced; the test defines what it checks.
#
# Usage in a test:  . lib.sh BIN_DIR   then   it_start_daemon; ...; it_pass

set -uo pipefail

IT_BIN=${1:?usage: test BIN_DIR}
IT_NAME=$(basename "$0" .sh)
IT_TMP=$(mktemp -d "/tmp/libretto-$IT_NAME.XXXXXX")
IT_SOCK=$IT_TMP/librettod.sock
IT_RUN=$IT_TMP/run
IT_STATE=$IT_TMP/state
IT_LOG=$IT_TMP/librettod.log
IT_DAEMON_PID=
# Names must be unique across concurrent runs: netns names are global.
IT_DEP=t$(( $$ % 100000 ))$(printf '%x' $(( RANDOM % 256 )))
IT_FAILS=0
IT_BG_PIDS=()
# Other deployment names a test makes (e.g. ${IT_DEP}b): cleaned up too.
IT_MORE_DEPS=()

if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root to create network namespaces and links"
  exit 77
fi
for tool in jq socat ip xenstore-ls; do
  command -v $tool >/dev/null || { echo "FAIL: $tool is not installed (scripts/test installs it)"; exit 1; }
done

ctl() { "$IT_BIN/librettoctl" -s "$IT_SOCK" "$@"; }

it_log() { printf '%s: %s\n' "$IT_NAME" "$*"; }
it_fail() { printf '%s: FAIL: %s\n' "$IT_NAME" "$*"; IT_FAILS=$((IT_FAILS + 1)); }
it_ok() { printf '%s: ok: %s\n' "$IT_NAME" "$*"; }
# it_check "what" command...: runs the command, ok or fail.
it_check() { local what=$1; shift; if "$@"; then it_ok "$what"; else it_fail "$what"; fi; }

it_cleanup() {
  local ns p
  for p in "${IT_BG_PIDS[@]}"; do kill "$p" 2>/dev/null; done
  if [ -n "$IT_DAEMON_PID" ] && kill -0 "$IT_DAEMON_PID" 2>/dev/null; then
    ctl destroy "$IT_DEP" >/dev/null 2>&1
    kill -TERM "$IT_DAEMON_PID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$IT_DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$IT_DAEMON_PID" 2>/dev/null
  fi
  # Whatever a failed test left: its domains, namespaces and xenstored.
  for ns in $(ip netns list | awk '{print $1}' | grep -E "^lt-($(IFS='|'; echo "$IT_DEP${IT_MORE_DEPS[*]:+|${IT_MORE_DEPS[*]}}"))-"); do
    ip netns pids "$ns" | xargs -r kill -KILL 2>/dev/null
    ip netns delete "$ns" 2>/dev/null
  done
  [ -f "$IT_RUN/xenstored/xenstored.pid" ] && kill "$(cat "$IT_RUN/xenstored/xenstored.pid")" 2>/dev/null
  pkill -f "XENSTORED_PATH=$IT_RUN" 2>/dev/null
  for p in $(pgrep -x xenstored); do
    tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -q "^XENSTORED_PATH=$IT_RUN/" && kill -KILL "$p"
  done
  if [ "$IT_FAILS" -ne 0 ]; then
    echo "--- librettod log ---"; tail -n 60 "$IT_LOG" 2>/dev/null
  fi
  rm -rf "$IT_TMP"
}
trap it_cleanup EXIT

# A wait that outlasts any load a shared CI host puts on the tests: every
# wait below ends on its event; this only bounds one that never comes.
IT_WAIT_LIMIT=${IT_WAIT_LIMIT:-60}

it_start_daemon() {
  "$IT_BIN/librettod" -f -v -s "$IT_SOCK" --backend sim --state-dir "$IT_STATE" \
    --run-dir "$IT_RUN" "$@" >"$IT_LOG" 2>&1 </dev/null &
  IT_DAEMON_PID=$!
  # Up when its control socket answers; a daemon that exits fails at once.
  local deadline=$(( $(date +%s) + IT_WAIT_LIMIT ))
  while [ "$(date +%s)" -lt $deadline ]; do
    ctl version >/dev/null 2>&1 && return 0
    kill -0 "$IT_DAEMON_PID" 2>/dev/null || break
    sleep 0.1
  done
  it_fail "librettod did not come up (its control socket did not answer within $IT_WAIT_LIMIT s, or it exited)"
  cat "$IT_LOG"; exit 1
}

it_xs() { XENSTORED_PATH=$IT_RUN/xenstored/socket "$@"; }

# it_deployment [apps-yaml [extra-apps-yaml]]: writes a deployment file for
# $IT_DEP on a subnet of its own and prints its path. An empty or missing
# apps-yaml means the demo's apps; extra-apps-yaml, if given, is appended to
# the apps (e.g. it_deployment "" "$more" adds apps to the demo's).
it_deployment() {
  local file=$IT_TMP/$IT_DEP.yaml net=$(( $$ % 200 + 20 )) apps=${1:-}
  local extra=${2:-}
  if [ -z "$apps" ]; then
    apps="  - name: web
    mode: server
    command: [nginx, -g, 'daemon off;']
    ports: [tcp/80]
  - name: cache
    mode: dynamic
    command: [redis-server, --save, '', --appendonly, 'no', --protected-mode, 'no']
  - name: kv
    mode: direct
    command: [memcached, -u, nobody]"
  fi
  [ -n "$extra" ] && apps="$apps
$extra"
  cat >"$file" <<YAML
name: $IT_DEP
network:
  nic: pf0
  subnet: 10.$net.0.0/24
  gateway: 10.$net.0.1
  server_ip: 10.$net.0.2
  pool: 10.$net.0.100-10.$net.0.199
  vfs: 4
server:
  memory: 256M
  vcpus: 1
apps:
$apps
YAML
  echo "$file"
}

# it_deploy FILE: deploys, and ends the test when that fails (nothing else
# can be checked then).
it_deploy() {
  local out
  if ! out=$(ctl deploy "$1" 2>&1); then
    it_fail "deploy $1"; echo "$out"; exit 1
  fi
  printf '%s\n' "$out" | sed 's/^/    /'
}

# it_wait_for SECONDS command...: polls every 50 ms until the command
# succeeds; after SECONDS, says what it waited for and fails. Give it
# IT_WAIT_LIMIT for a wait on an event, and a smaller bound only where the
# bound is itself what the test checks.
it_wait_for() {
  local limit=$1 deadline=$(( $(date +%s%N) + $1 * 1000000000 )); shift
  while [ "$(date +%s%N)" -lt $deadline ]; do
    "$@" && return 0
    sleep 0.05
  done
  "$@" && return 0
  printf '%s: gave up after %s s waiting for: %s\n' "$IT_NAME" "$limit" "$*" >&2
  return 1
}

# One JSON-lines session with the daemon: it_request LINE... prints the
# replies (greeting dropped) after sending the lines, one reply a line; it
# waits for each up to IT_WAIT_LIMIT, and ends early when the daemon
# closes the connection.
it_request() {
  local n=$# i line rc=0
  coproc IT_REQ { socat - "UNIX-CONNECT:$IT_SOCK" 2>/dev/null; }
  local in=${IT_REQ[0]} out=${IT_REQ[1]} pid=$IT_REQ_PID
  printf '%s\n' "$@" >&"$out"
  if read -r -t "$IT_WAIT_LIMIT" line <&"$in"; then # the greeting
    for (( i = 1; i <= n; i++ )); do
      read -r -t "$IT_WAIT_LIMIT" line <&"$in" || rc=$?
      if [ "$rc" -gt 128 ]; then
        printf '%s: no reply to request %d of %d within %s s\n' \
          "$IT_NAME" "$i" "$n" "$IT_WAIT_LIMIT" >&2
      fi
      [ "$rc" -eq 0 ] || break
      printf '%s\n' "$line"
    done
  fi
  exec {out}>&- {in}<&-
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  return 0
}

# it_subscribe FILE [--timestamps]: a raw subscriber whose every line goes
# to FILE, until the test ends; with --timestamps, each line has its arrival
# time (ms since the epoch) and a space in front. Nothing of it holds the
# test's output open. Returns once the daemon has answered the subscribe:
# every event after that is in FILE.
it_subscribe() {
  local sleeper
  sleep 300 >/dev/null 2>&1 &
  sleeper=$!
  IT_BG_PIDS+=("$sleeper")
  if [ "${2:-}" = --timestamps ]; then
    it_subscription "$sleeper" |
      while IFS= read -r line; do printf '%s %s\n' "$(date +%s%3N)" "$line"; done >"$1" &
  else
    it_subscription "$sleeper" >"$1" &
  fi
  IT_BG_PIDS+=($!)
  it_wait_for "$IT_WAIT_LIMIT" grep -q '"ok":true' "$1" ||
    { it_fail "the subscription to the daemon's events was not answered"; exit 1; }
}

# it_subscription PID: the daemon's lines after a subscribe, while PID lives.
it_subscription() {
  { echo '{"id":1,"cmd":"subscribe"}'
    while kill -0 "$1" 2>/dev/null; do sleep 0.2; done; } 2>/dev/null |
    socat -t 1 - "UNIX-CONNECT:$IT_SOCK" 2>/dev/null
}

it_status_json() { ctl status --json "$@"; }

# it_domid NAME [STATUS_JSON]: the domid of $IT_DEP's domain NAME, from the
# status given (one read for many names) or from a new one.
it_domid() {
  local st=${2:-$(it_status_json "$IT_DEP")}
  jq -r --arg n "$1" '.deployments[0].domains[] | select(.name == $n) | .domid' <<<"$st"
}

it_pass() {
  if [ "$IT_FAILS" -ne 0 ]; then
    it_log "$IT_FAILS check(s) failed"
    exit 1
  fi
  it_log "all checks passed"
  exit 0
}
