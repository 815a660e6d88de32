#!/usr/bin/env bash
# Issue 4, must-show 1: a dynamic redis goes server -> direct -> server
# ROUNDS times (default 100) under a long-lived client connection and a
# looping redis-benchmark.  No connection is reset, no request fails, the
# client's socket is the same at the end, and after every switch the app's
# inbound traffic is on the new path: on the VF (the VF's counters grow,
# the server's stop) after a switch to direct, and on the server again
# after the way back.
. "$(dirname "$0")/lib.sh"
ROUNDS=${SWITCH_ROUNDS:-100}
for tool in redis-benchmark; do
  command -v $tool >/dev/null || { it_fail "$tool is not installed (scripts/test installs it)"; it_pass; }
done
it_start_daemon
it_deploy "$(it_deployment "  - name: cache
    mode: dynamic
    command: [redis-server, --save, '', --appendonly, 'no', --protected-mode, 'no']")"
ip=$(it_status_json "$IT_DEP" cache | jq -r .ip)
peer="ip netns exec lt-$IT_DEP-peer"

$peer "$IT_BIN/redis_probe" "$ip" 6379 >"$IT_TMP/probe.json" 2>"$IT_TMP/probe.err" &
probe=$!
IT_BG_PIDS+=($probe)
$peer redis-benchmark -h "$ip" -l -c 4 -d 128 -t set,get -q >"$IT_TMP/bench.out" 2>&1 &
bench=$!
IT_BG_PIDS+=($bench)
it_check "the long-lived client connected" it_wait_for "$IT_WAIT_LIMIT" grep -q connected "$IT_TMP/probe.err"

# The kernel's count of frames cache received on IF (tap0: from the
# server, vf0: on its VF), live; "none" when IF is not there.
kcount() {
  ip netns exec "lt-$IT_DEP-cache" cat "/sys/class/net/$1/statistics/rx_packets" 2>/dev/null || echo none
}
# moving IF: the count grows while traffic runs (within 2 s).
moving() {
  local a b
  a=$(kcount "$1")
  for _ in $(seq 40); do
    sleep 0.05; b=$(kcount "$1"); [ "$b" != none ] && [ "$b" -gt "$a" ] && return 0
  done
  return 1
}
# still IF: the count does not move over 200 ms.
still() { local a; a=$(kcount "$1"); sleep 0.2; [ "$(kcount "$1")" = "$a" ]; }
# The counters status shows are published once a second: compare them
# over 1.2 s, a second after the switch. published FIELD.
published() { ctl status --json "$IT_DEP" cache | jq -r "$1 // 0"; }
status_counters_show() {
  local on=$1 off=$2 a1 b1
  sleep 1.2; a1=$(published "$on"); b1=$(published "$off")
  sleep 1.2
  [ "$(published "$on")" -gt "$a1" ] && [ "$(published "$off")" = "$b1" ]
}

bad=0
for round in $(seq "$ROUNDS"); do
  if ! ctl switch cache --to direct >"$IT_TMP/sw.out" 2>&1; then
    it_fail "round $round: switch to direct"; cat "$IT_TMP/sw.out"; bad=1; break
  fi
  if ! moving vf0 || ! still tap0; then
    it_fail "round $round: after the switch to direct, inbound traffic is not on the VF"
    bad=1; break
  fi
  if { [ "$round" -eq 1 ] || [ "$round" -eq "$ROUNDS" ]; } &&
     ! status_counters_show .vf_counters.rx_packets .counters.to_app_packets; then
    it_fail "round $round: status: VF counters do not grow or server counters do not stop"
    ctl status "$IT_DEP"; bad=1; break
  fi
  if ! ctl switch cache --to server >"$IT_TMP/sw.out" 2>&1; then
    it_fail "round $round: switch to server"; cat "$IT_TMP/sw.out"; bad=1; break
  fi
  if ! moving tap0 || [ "$(kcount vf0)" != none ]; then
    it_fail "round $round: after the switch back, inbound traffic is not on the server path"
    bad=1; break
  fi
  if { [ "$round" -eq 1 ] || [ "$round" -eq "$ROUNDS" ]; } &&
     ! status_counters_show .counters.to_app_packets .vf_counters.rx_packets; then
    it_fail "round $round: status: server counters do not grow after the switch back"
    ctl status "$IT_DEP"; bad=1; break
  fi
done
[ $bad -eq 0 ] && it_ok "$ROUNDS round trips, traffic on the new path after each switch"

it_check "redis-benchmark -l ran through every switch" kill -0 $bench
kill $bench 2>/dev/null; wait $bench 2>/dev/null
it_check "redis-benchmark saw no error" bash -c "! grep -qi 'error\|reset\|refused' $IT_TMP/bench.out"
kill -TERM $probe; wait $probe; rc=$?
p=$(cat "$IT_TMP/probe.json")
it_log "probe: $p"
it_check "the long-lived connection saw no error (exit $rc)" [ $rc -eq 0 ]
it_check "no request failed, no reconnect" jq -e >/dev/null '.errors == 0 and .reconnects == 0 and .requests > 0' <<<"$p"
it_check "the client's socket is the same at the end" jq -e >/dev/null '.first_local_port == .local_port' <<<"$p"
it_check "cache ends on the server path with no VF" bash -c \
  "ctl() { \"$IT_BIN/librettoctl\" -s \"$IT_SOCK\" \"\$@\"; }; ctl status --json $IT_DEP cache | jq -e '.path == \"server\" and .vf == null' >/dev/null"
it_check "every VF is back in the pool" bash -c \
  "XENSTORED_PATH=$IT_RUN/xenstored/socket xenstore-ls /libretto/pool/$IT_DEP/vf | grep -v '= \"\"' | grep -q . && exit 1 || exit 0"
it_check "cache has no vf0 any more" bash -c "! ip -n lt-$IT_DEP-cache -o link | grep -q ' vf0[:@]'"
# A released VF stays parked, down, where it was (docs/switch.md).
it_check "a parked VF is down" bash -c "! ip -n lt-$IT_DEP-cache -o link | grep ' ltvf' | grep -q '[<,]UP[,>]'"
it_pass
