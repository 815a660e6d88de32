#!/usr/bin/env bash
# No guest may monopolise the daemon. A hostile server-mode app writes, in
# its own tree only (/local/domain/<its domid>/libretto/guest/state and
# guest/ports/...), 100,000 values as fast as one xenstore connection goes,
# from inside its own namespace. Meanwhile `status` must keep answering
# (p99 under 50 ms, or 10 times the baseline when more, measured by a prober on the control socket), another
# app's guest/state change and port claim must still be handled at once,
# and the flooder must be throttled (status) and reported (an event). Once
# it stops, its last value is read and its throttling ends.
. "$(dirname "$0")/lib.sh"
for tool in xs_flood status_probe; do
  [ -x "$IT_BIN/$tool" ] || { echo "FAIL: $IT_BIN/$tool is not built"; exit 1; }
done
WRITES=100000
P99_MAX_MS=50
P99_MAX_RATIO=10
VICTIM_MAX_MS=1000
it_start_daemon
it_subscribe "$IT_TMP/events"
apps="  - name: victim
    mode: server
    command: [sleep, '1000']
  - name: hostile
    mode: server
    command: [sleep, '1000']"
it_deploy "$(it_deployment "$apps")"
st=$(it_status_json "$IT_DEP")
id() { it_domid "$1" "$st"; }
v=$(id victim); h=$(id hostile)
xs_sock=$IT_RUN/xenstored/socket
it_log "victim=$v hostile=$h"
it_check "both apps came up" [ -n "$v" ] && [ -n "$h" ]

probe() { "$IT_BIN/status_probe" "$IT_SOCK" "$@"; }
field() { echo "$1" | jq -r ".$2" 2>/dev/null; }
# num_lt A B: both are numbers and A < B.
num_lt() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]] && awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
# What each guest may write: its own guest/ subtree.
as_guest() {
  local app=$1; shift
  ip netns exec "lt-$IT_DEP-$app" env XENSTORED_PATH="$xs_sock" "$@"
}
dstatus() { ctl --json status "$IT_DEP" "$1"; }
events() { jq -c "select(.event == \"$1\" and .data.domain == \"$2\")" "$IT_TMP/events" 2>/dev/null; }
# ms_until SECONDS command...: how long until the command succeeds, in ms
# (polled every 10 ms), or "timeout".
ms_until() {
  local t0=$(date +%s%N) deadline=$(( $(date +%s%N) + $1 * 1000000000 )); shift
  while [ "$(date +%s%N)" -lt $deadline ]; do
    if "$@"; then echo $(( ($(date +%s%N) - t0) / 1000000 )); return 0; fi
    sleep 0.01
  done
  echo timeout; return 1
}

# The baseline: status round trips without the flood.
base=$(probe --duration-ms 2000)
it_log "baseline: $base"
it_check "status answers without the flood" [ "$(field "$base" errors)" = 0 ]

# The attack: guest/state and guest/ports/tcp/* in turn, from the hostile
# app's namespace, its own tree only.
hg=/local/domain/$h/libretto/guest
as_guest hostile "$IT_BIN/xs_flood" $WRITES \
  "$hg/state" booting "$hg/ports/tcp/20001" "" \
  "$hg/state" switching "$hg/ports/tcp/20002" "" \
  >"$IT_TMP/flood.json" 2>"$IT_TMP/flood.err" &
flood_pid=$!
IT_BG_PIDS+=($flood_pid)
"$IT_BIN/status_probe" "$IT_SOCK" >"$IT_TMP/probe.json" &
probe_pid=$!
IT_BG_PIDS+=($probe_pid)

# While it floods: the victim changes state and claims a port.
sleep 1
flooding() { kill -0 $flood_pid 2>/dev/null; }
it_check "the flood is still going after 1 s" flooding
hst=$(dstatus hostile)
it_log "hostile during the flood: $(echo "$hst" | jq -c .watches 2>&1)"
# Throttled once its writes outrun its budget: on a loaded host the flood
# writes slower and that comes later, but while it floods.
it_check "status shows the flooder throttled while it floods" it_wait_for "$IT_WAIT_LIMIT" bash -c \
  "! kill -0 $flood_pid 2>/dev/null || $IT_BIN/librettoctl -s $IT_SOCK --json status $IT_DEP hostile | jq -e '.watches.throttled == true' >/dev/null"
vg=/local/domain/$v/libretto/guest
as_guest victim xenstore-write "$vg/state" switching
written=$(date +%s%3N)
state_ms=$(ms_until 5 bash -c "[ \"\$($IT_BIN/librettoctl -s $IT_SOCK --json status $IT_DEP victim | jq -r .guest_state)\" = switching ]")
# When the daemon handled it: its guest-state event's time.
ev_ts=$(jq -r 'select(.event == "guest-state" and .data.domain == "victim" and .data.guest_state == "switching") | .ts' "$IT_TMP/events" 2>/dev/null | head -n 1)
event_ms=timeout
[ -n "$ev_ts" ] && event_ms=$(( $(date -d "$ev_ts" +%s%3N) - written ))
as_guest victim xenstore-write "$vg/ports/tcp/9090" ""
port_ms=$(ms_until 5 bash -c "[ \"\$(XENSTORED_PATH=$xs_sock xenstore-read /libretto/portmap/$IT_DEP/tcp/9090 2>/dev/null)\" = $v ]")
as_guest victim xenstore-write "$vg/state" ready
it_log "during the flood: the victim's state handled (its event) ${event_ms} ms after its write, seen in status in ${state_ms} ms; its port claimed in ${port_ms} ms"
it_check "the victim's state change is handled within $VICTIM_MAX_MS ms (${event_ms})" \
  bash -c "[ '$event_ms' != timeout ] && [ $event_ms -lt $VICTIM_MAX_MS ]"
it_check "the victim's state change shows in status within $VICTIM_MAX_MS ms (${state_ms})" \
  bash -c "[ '$state_ms' != timeout ] && [ $state_ms -lt $VICTIM_MAX_MS ]"
it_check "the victim's port claim is handled within $VICTIM_MAX_MS ms (${port_ms})" \
  bash -c "[ '$port_ms' != timeout ] && [ $port_ms -lt $VICTIM_MAX_MS ]"

wait $flood_pid
flood_rc=$?
kill -TERM $probe_pid 2>/dev/null
wait $probe_pid
flood=$(cat "$IT_TMP/flood.json")
during=$(cat "$IT_TMP/probe.json")
it_log "flood: $flood $(head -c 200 "$IT_TMP/flood.err")"
it_log "status during the flood: $during"
it_check "the guest wrote $WRITES values in its own tree" \
  [ "$flood_rc $(field "$flood" writes) $(field "$flood" errors)" = "0 $WRITES 0" ]
it_check "the flood lasted long enough to measure (over 1 s)" \
  num_lt 1 "$(field "$flood" seconds)"
# Enough requests, none failed, and their p99 under the bound.
# The bound is relative to the baseline of the same run, so that a machine
# busy with other work does not fail it: P99_MAX_MS, or P99_MAX_RATIO
# times the baseline's p99 when that is more. Without the fairness, status
# got no answer for 10 s.
p99_bound=$(awk -v b="$(field "$base" p99_ms)" -v m=$P99_MAX_MS -v r=$P99_MAX_RATIO \
  'BEGIN {x = b * r; printf "%.0f", (x > m ? x : m)}')
p99_ok() {
  [ "$(field "$during" errors)" = 0 ] && [ "$(field "$during" count)" -ge 20 ] &&
    num_lt "$(field "$during" p99_ms)" "$p99_bound"
}
it_check "status kept answering during the flood" \
  bash -c "[ '$(field "$during" errors)' = 0 ] && [ '$(field "$during" count)' -ge 20 ]"
it_check "status p99 during the flood under $p99_bound ms ($(field "$during" p99_ms) ms, baseline $(field "$base" p99_ms) ms)" \
  p99_ok

it_check "the flooder is reported (domain-throttled)" \
  it_wait_for "$IT_WAIT_LIMIT" bash -c "[ -n \"\$(jq -c 'select(.event == \"domain-throttled\" and .data.domain == \"hostile\")' $IT_TMP/events)\" ]"
events domain-throttled hostile | head -n 2 | sed 's/^/    /'
it_check "the flooder's reports are rate-limited (one event)" \
  [ "$(events domain-throttled hostile | wc -l)" = 1 ]
it_check "the victim is not throttled" bash -c \
  "[ -z \"\$(jq -c 'select(.event == \"domain-throttled\" and .data.domain == \"victim\")' $IT_TMP/events)\" ] && $IT_BIN/librettoctl -s $IT_SOCK --json status $IT_DEP victim | jq -e '.watches.throttles == 0' >/dev/null"
it_check "the flood's burst was coalesced (far fewer handlings than writes)" \
  bash -c "$IT_BIN/librettoctl -s $IT_SOCK --json status $IT_DEP hostile | jq -e '.watches.handled < 2000 and .watches.throttles >= 1' >/dev/null"

# Its last word is read once it stops, and its throttling ends.
as_guest hostile xenstore-write "$hg/state" ready
it_check "the flooder's last state is read after the flood" it_wait_for "$IT_WAIT_LIMIT" bash -c \
  "[ \"\$($IT_BIN/librettoctl -s $IT_SOCK --json status $IT_DEP hostile | jq -r .guest_state)\" = ready ]"
it_check "the flooder's throttling ends once it is quiet" it_wait_for "$IT_WAIT_LIMIT" bash -c \
  "$IT_BIN/librettoctl -s $IT_SOCK --json status $IT_DEP hostile | jq -e '.watches.throttled == false' >/dev/null"
it_log "hostile after the flood: $(dstatus hostile | jq -c .watches)"
after=$(probe --duration-ms 1000)
it_log "status after the flood: $after"
it_check "status answers after the flood" [ "$(field "$after" errors)" = 0 ]
it_log "figures: writes/s $(field "$flood" per_s); status p99 baseline $(field "$base" p99_ms) ms, during the flood $(field "$during" p99_ms) ms (max $(field "$during" max_ms) ms, $(field "$during" count) requests)"
it_pass
