#!/usr/bin/env bash
# Issue 5, must-show 1: with live TCP streams to a server-mode app (through
# the shared IP and the portmap) and to a dynamic app (its own IP, through
# the server), kill -9 of the network server ROUNDS times in a row (default
# 50).  librettod brings a new server each time; every stream survives
# (no reset, every reply intact: the client checks each one), each
# recovery is reported with its downtime, and nothing leaks: processes,
# namespaces, xenstore domains, the daemon's descriptors.
. "$(dirname "$0")/lib.sh"
ROUNDS=${RECOVERY_ROUNDS:-50}
it_start_daemon
dep=$(it_deployment "  - name: shared
    mode: server
    ports: [tcp/6380]
    command: [redis-server, --port, '6380', --save, '', --appendonly, 'no', --protected-mode, 'no']
  - name: cache
    mode: dynamic
    command: [redis-server, --save, '', --appendonly, 'no', --protected-mode, 'no']")
# 50 kills within the default window would reach the default limit.
sed -i 's/^  vcpus: 1$/  vcpus: 1\n  restart_limit: 1000/' "$dep"
it_deploy "$dep"
it_subscribe "$IT_TMP/events"
st=$(ctl status --json "$IT_DEP")
sip=$(jq -r .deployments[0].network.server_ip <<<"$st")
cip=$(jq -r '.deployments[0].domains[] | select(.name == "cache") | .ip' <<<"$st")
peer="ip netns exec lt-$IT_DEP-peer"
$peer "$IT_BIN/redis_probe" "$sip" 6380 --interval-ms 2 --progress "$IT_TMP/shared.n" \
  >"$IT_TMP/shared.json" 2>"$IT_TMP/shared.err" &
p1=$!
$peer "$IT_BIN/redis_probe" "$cip" 6379 --interval-ms 2 --progress "$IT_TMP/cache.n" \
  >"$IT_TMP/cache.json" 2>"$IT_TMP/cache.err" &
p2=$!
IT_BG_PIDS+=($p1 $p2)
it_check "both clients connected" it_wait_for "$IT_WAIT_LIMIT" bash -c "grep -q connected $IT_TMP/shared.err && grep -q connected $IT_TMP/cache.err"
fds0=$(ls /proc/$IT_DAEMON_PID/fd | wc -l)
links() { for ns in $(ip netns list | awk '{print $1}' | grep "^lt-$IT_DEP-"); do ip -n "$ns" -o link; done | awk -F': ' '{print $2}' | sort; }
links0=$(links)
shm0=$(ls /dev/shm | wc -l)

count() { local n; n=$(cat "$IT_TMP/$1.n" 2>/dev/null); echo "${n:-0}"; }
moved() { [ "$(count "$1")" -gt "$2" ]; } # moved NAME COUNT: went past COUNT
bad=0
for r in $(seq "$ROUNDS"); do
  pid=$(ctl status --json "$IT_DEP" server | jq .pid)
  n1=$(count shared); n2=$(count cache)
  kill -9 "$pid"
  if ! it_wait_for "$IT_WAIT_LIMIT" bash -c "[ \$(grep -c '\"server-recovered\"' $IT_TMP/events) -ge $r ]"; then
    it_fail "round $r: no server-recovered event"; bad=1; break
  fi
  if ! it_wait_for "$IT_WAIT_LIMIT" moved shared "$n1" || ! it_wait_for "$IT_WAIT_LIMIT" moved cache "$n2"; then
    it_fail "round $r: a stream does not move again"; bad=1; break
  fi
  kill -0 $p1 2>/dev/null && kill -0 $p2 2>/dev/null || { it_fail "round $r: a client failed"; bad=1; break; }
done
[ $bad -eq 0 ] && it_ok "$ROUNDS kills of the network server, both streams moving after each"

ev=$(grep '"server-recovered"' "$IT_TMP/events")
it_check "every recovery complete (every VIF connected to the new server)" \
  bash -c "! grep -q '\"complete\":false' <<<'$ev'"
times=$(sed -n 's/.*"downtime_ms":\([0-9.]*\).*/\1/p' <<<"$ev" | sort -n)
n=$(wc -l <<<"$times")
it_log "downtime (end noticed -> every VIF connected) over $n recoveries: p50 $(sed -n "$(( (n + 1) / 2 ))p" <<<"$times") ms, max $(tail -n 1 <<<"$times") ms"

kill -TERM $p1 $p2; wait $p1; wait $p2
it_log "shared: $(cat "$IT_TMP/shared.json")"
it_log "cache: $(cat "$IT_TMP/cache.json")"
for s in shared cache; do
  it_check "$s: no failed request, no reconnect, the same connection" bash -c \
    "jq -e '.errors == 0 and .reconnects == 0 and .first_local_port == .local_port and .requests > 0' $IT_TMP/$s.json >/dev/null"
done
it_check "status: the server restarted $ROUNDS times, running" bash -c \
  "$IT_BIN/librettoctl -s $IT_SOCK status --json $IT_DEP server | jq -e '.restarts == $ROUNDS and .state == \"running\"' >/dev/null"
it_check "one process tree per domain (no old server left)" bash -c \
  "[ \$(ip netns pids lt-$IT_DEP-server | wc -l) -le 2 ]"
it_check "xenstore holds only the live domains" bash -c "
  want=\$( (echo 0; $IT_BIN/librettoctl -s $IT_SOCK status --json $IT_DEP | jq -r '.deployments[0].domains[].domid') | sort)
  [ \"\$want\" = \"\$(XENSTORED_PATH=$IT_RUN/xenstored/socket xenstore-list /local/domain | sort)\" ]"
# The last server reads what the app wrote for the first one (docs/
# xenstore.md, "Permissions").
sdom=$($IT_BIN/librettoctl -s $IT_SOCK status --json $IT_DEP server | jq -r .domid)
cdom=$($IT_BIN/librettoctl -s $IT_SOCK status --json $IT_DEP cache | jq -r .domid)
it_check "cache's guest/vif is readable by the last server ($sdom)" bash -c \
  "XENSTORED_PATH=$IT_RUN/xenstored/socket xenstore-ls -p /local/domain/$cdom/libretto/guest |
   grep -q '^vif = .*(n$cdom,r$sdom)\$'"
it_check "the daemon's descriptors did not grow ($fds0 -> $(ls /proc/$IT_DAEMON_PID/fd | wc -l))" \
  [ "$(ls /proc/$IT_DAEMON_PID/fd | wc -l)" -le $((fds0 + 2)) ]
it_check "the same links in every namespace" [ "$(links)" = "$links0" ]
it_check "no shared-memory segment left behind" [ "$(ls /dev/shm | wc -l)" -le "$shm0" ]
it_check "namespaces: the deployment's own only" bash -c \
  "[ \$(ip netns list | grep -c '^lt-$IT_DEP-') -eq 4 ]"
it_pass
