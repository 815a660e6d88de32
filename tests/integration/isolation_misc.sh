#!/usr/bin/env bash
# Smaller isolation defects of librettod, each run as the attack it stops:
#
# - the state folder: an existing one left 0755, and a symbolic link
#   planted at state.json.tmp to make the daemon write through it into
#   someone's file (before the start and while it runs);
# - restarts: an app that crashes as soon as it starts is restarted with
#   growing waits (measured here from the events' arrival), not back to
#   back as fast as the backend goes;
# - the pool's VF ids: /libretto is dom0's alone, so what this guards
#   against is a corrupted or hand-edited store: VF ids 99999, -1, abc and
#   07 naming an app, read back by a restarted daemon, must neither crash
#   it (99999 indexed an array of 64) nor give the app a VF (abc was VF 0);
#   the entries are removed and a switch still works;
# - a decoy: while the daemon is down an app's namespace is gone and
#   someone else's namespace of the same name appears, with a process in
#   it (and one more merely named like the domain); a restarted daemon
#   must not adopt it, and neither a redeploy nor a destroy may kill its
#   process or remove its namespace.
. "$(dirname "$0")/lib.sh"

# --- the state folder, prepared before the start --------------------------
mkdir -p "$IT_STATE" && chmod 0755 "$IT_STATE"
printf 'not the daemon'"'"'s\n' >"$IT_TMP/victim" && chmod 0644 "$IT_TMP/victim"
victim_sum=$(sha256sum <"$IT_TMP/victim")
ln -s "$IT_TMP/victim" "$IT_STATE/state.json.tmp"
it_start_daemon

dep=$(it_deployment "" "  - name: crasher
    mode: dynamic
    command: [sh, -c, 'sleep 1; exit 3']
    restart: on-failure
    restart_limit: 8
    restart_window: 3600")

it_subscribe "$IT_TMP/events" --timestamps
it_deploy "$dep"

it_check "the existing state folder is made 0700" [ "$(stat -c %a "$IT_STATE")" = 700 ]
it_check "the state file is a file of the daemon's, 0600" bash -c \
  "[ ! -L '$IT_STATE/state.json' ] && [ \"\$(stat -c %a '$IT_STATE/state.json')\" = 600 ] && jq -e .libretto_state '$IT_STATE/state.json' >/dev/null"
it_check "the link planted at the temp path was not written through" \
  [ "$(sha256sum <"$IT_TMP/victim")" = "$victim_sum" ]
it_check "and it is gone" bash -c "[ ! -L '$IT_STATE/state.json.tmp' ]"
# Planted again while the daemon runs: every write below goes past it.
ln -sf "$IT_TMP/victim" "$IT_STATE/state.json.tmp"

# --- restarts back off ------------------------------------------------------
it_check "crasher restarted 8 times, then given up on" it_wait_for "$IT_WAIT_LIMIT" \
  grep -q '"domain-gave-up".*"domain":"crasher"' "$IT_TMP/events"
# For each restart: the gap from the crasher's end to its restart as this
# client saw them, the wait the daemon reports, its downtime.
gaps=$(awk '
  /"event":"domain-exit"/ && /"domain":"crasher"/ { exit_at = $1 }
  /"event":"domain-restarted"/ && /"domain":"crasher"/ {
    b = "none"
    if (match($0, /"backoff_ms":[0-9]+/)) b = substr($0, RSTART + 13, RLENGTH - 13)
    print $1 - exit_at, b
  }' "$IT_TMP/events")
it_log "crasher: gap from its end to its restart (ms, as seen here), and the daemon's wait:"
printf '%s\n' "$gaps" | awk '{ printf "    restart %d: gap %5d ms, backoff_ms %s\n", NR, $1, $2 }'
it_check "8 restarts seen" [ "$(printf '%s\n' "$gaps" | grep -c .)" = 8 ]
it_check "the waits: none for the first, then 50 ms doubling" \
  [ "$(printf '%s\n' "$gaps" | awk '{print $2}' | tr '\n' ' ')" = "0 50 100 200 400 800 1600 3200 " ]
it_check "each gap is at least its wait" bash -c \
  "awk '\$1 < \$2 { bad = 1 } END { exit bad }' <<<'$gaps'"
first=$(printf '%s\n' "$gaps" | sed -n 1p | awk '{print $1}')
last=$(printf '%s\n' "$gaps" | sed -n 8p | awk '{print $1}')
it_check "the first restart stays quick ($first ms < 2000)" [ "${first:-99999}" -lt 2000 ]
it_check "the gaps grow: the 8th ($last ms) is 2 s longer than the 1st" \
  [ "${last:-0}" -ge $(( ${first:-99999} + 2000 )) ]

# --- the pool's VF ids, read back after a crash -------------------------------
restart_daemon() {
  kill -9 "$IT_DAEMON_PID"; wait "$IT_DAEMON_PID" 2>/dev/null
  it_start_daemon
}
cache_ok() {
  ctl status --json "$IT_DEP" cache | jq -e '.state == "running" and .path == "server" and .vf == null' >/dev/null
}
pool="/libretto/pool/$IT_DEP/vf"
it_check "cache runs on the server path" cache_ok
it_xs xenstore-write "$pool/99999" cache
restart_daemon
# The adoption has read the pool once the bad entry is gone.
it_wait_for "$IT_WAIT_LIMIT" bash -c "! XENSTORED_PATH=$IT_RUN/xenstored/socket xenstore-exists $pool/99999"
it_check "VF 99999 naming cache: the daemon is still up" kill -0 "$IT_DAEMON_PID"
it_check "cache still runs on the server path, no VF" cache_ok
it_check "the entry is removed" bash -c "! XENSTORED_PATH=$IT_RUN/xenstored/socket xenstore-exists $pool/99999"
for id in -1 abc 07; do it_xs xenstore-write "$pool/$id" cache; done
restart_daemon
it_wait_for "$IT_WAIT_LIMIT" bash -c \
  "[ \"\$(XENSTORED_PATH=$IT_RUN/xenstored/socket xenstore-list $pool | sort | tr '\n' ' ')\" = '0 1 2 3 ' ]"
it_check "VF -1, abc, 07 naming cache: the daemon is still up" kill -0 "$IT_DAEMON_PID"
it_check "cache holds no VF (abc is not VF 0)" cache_ok
it_check "no VF is claimed for cache in the pool" bash -c \
  "! XENSTORED_PATH=$IT_RUN/xenstored/socket xenstore-ls $pool | grep -q '= \"cache\"'"
it_check "the entries are removed" bash -c \
  "[ \"\$(XENSTORED_PATH=$IT_RUN/xenstored/socket xenstore-list $pool | sort | tr '\n' ' ')\" = '0 1 2 3 ' ]"
it_check "a switch to direct still works" bash -c "$IT_BIN/librettoctl -s $IT_SOCK switch cache --to direct >/dev/null"
vf=$(ctl status --json "$IT_DEP" cache | jq -r .vf)
it_check "cache holds one of the 4 VFs ($vf), named in the pool" bash -c \
  "[ '$vf' -ge 0 ] && [ '$vf' -lt 4 ] && [ \"\$(XENSTORED_PATH=$IT_RUN/xenstored/socket xenstore-read $pool/$vf)\" = cache ]"
it_check "and back to the server" bash -c "$IT_BIN/librettoctl -s $IT_SOCK switch cache --to server >/dev/null"

# --- a decoy carrying a domain's names ------------------------------------------
kill -9 "$IT_DAEMON_PID"; wait "$IT_DAEMON_PID" 2>/dev/null
kvns=lt-$IT_DEP-kv
ip netns pids "$kvns" | xargs -r kill -KILL
it_wait_for "$IT_WAIT_LIMIT" bash -c "[ -z \"\$(ip netns pids $kvns)\" ]"
ip netns delete "$kvns"
ip netns add "$kvns"
ip netns exec "$kvns" bash -c "exec -a $kvns sleep 600" >/dev/null 2>&1 &
decoy=$!
bash -c "exec -a $kvns sleep 600" >/dev/null 2>&1 &
named=$!
IT_BG_PIDS+=("$decoy" "$named")
decoy_ino=$(stat -L -c %i "/run/netns/$kvns")
decoy_ok() {
  kill -0 $decoy 2>/dev/null && kill -0 $named 2>/dev/null &&
    [ "$(stat -L -c %i "/proc/$decoy/ns/net")" = "$decoy_ino" ] &&
    [ "$(stat -L -c %i "/run/netns/$kvns")" = "$decoy_ino" ]
}
it_start_daemon
# The adoption is over once it said why it left kv alone.
it_wait_for "$IT_WAIT_LIMIT" grep -q "domain $kvns: the namespace of that name is not the one this daemon made" "$IT_LOG"
it_check "the decoy's namespace is not adopted as kv" bash -c \
  "$IT_BIN/librettoctl -s $IT_SOCK status --json $IT_DEP kv | jq -e '.state != \"running\" and .pid == null' >/dev/null"
it_check "the daemon says why" grep -q "domain $kvns: the namespace of that name is not the one this daemon made" "$IT_LOG"
it_check "the decoy survives the restart" decoy_ok
out=$(ctl deploy "$dep" 2>&1)
printf '%s\n' "$out" | sed 's/^/    /'
it_check "a redeploy refuses to take the decoy's namespace for kv" grep -q "$kvns already exists" <<<"$out"
it_check "the decoy survives the redeploy" decoy_ok
ctl destroy "$IT_DEP" >/dev/null 2>&1
it_wait_for "$IT_WAIT_LIMIT" bash -c "! $IT_BIN/librettoctl -s $IT_SOCK status --json $IT_DEP >/dev/null 2>&1"
it_check "the deployment is destroyed" bash -c "! ip netns list | grep -q '^lt-$IT_DEP-server'"
it_check "the decoy and its namespace survive the destroy" decoy_ok
kill $decoy $named 2>/dev/null
ip netns delete "$kvns" 2>/dev/null

it_check "the links planted at the temp path were never written through" \
  [ "$(sha256sum <"$IT_TMP/victim")" = "$victim_sum" ]
it_pass
