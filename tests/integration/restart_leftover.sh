#!/usr/bin/env bash
# SIGTERM stops the daemon and leaves the domains running (on_shutdown:
# keep). A new daemon adopts xenstored and, from the state file, the
# deployment and its domains: same domids, same processes; the same file
# deployed again changes nothing; destroy removes everything.  Without the
# state file the new daemon warns about the domains it does not manage and
# refuses to deploy over them without touching them.  A state file it
# cannot trust stops it from starting, and is left as it is.
. "$(dirname "$0")/lib.sh"
it_start_daemon
file=$(it_deployment)
it_deploy "$file"
pids=$(for ns in $(ip netns list | awk '{print $1}' | grep "^lt-$IT_DEP-"); do ip netns pids "$ns"; done | sort)
view() { ctl status --json "$IT_DEP" | jq -c '[.deployments[0].domains[] | {name, domid, state, path, ip, pid}]'; }
before=$(view)

stop_daemon() {
  kill -TERM "$IT_DAEMON_PID"
  it_check "daemon exits on SIGTERM" it_wait_for "$IT_WAIT_LIMIT" bash -c "! kill -0 $IT_DAEMON_PID 2>/dev/null"
  wait "$IT_DAEMON_PID"; rc=$?
  it_check "with status 0" [ $rc -eq 0 ]
}
stop_daemon
alive=$(for p in $pids; do kill -0 "$p" 2>/dev/null && echo "$p"; done | sort)
it_check "domains keep running" [ "$alive" = "$pids" ]
it_check "the state file was written" bash -c "jq -e '.libretto_state == 1' $IT_STATE/state.json >/dev/null"

it_start_daemon
it_check "xenstored adopted" grep -q "adopted the running xenstored" "$IT_LOG"
it_check "the deployment adopted" grep -q "adopted deployment $IT_DEP" "$IT_LOG"
after=$(view)
it_check "status shows the same domains, domids, processes and paths" [ "$before" = "$after" ]
out=$(ctl deploy "$file" 2>&1)
it_check "the same file again: no changes" grep -q "no changes" <<<"$out"
it_check "an adopted app's end is noticed" bash -c "
  kill -9 \$($IT_BIN/librettoctl -s $IT_SOCK status --json $IT_DEP kv | jq .pid)
  for _ in \$(seq 40); do
    $IT_BIN/librettoctl -s $IT_SOCK status --json $IT_DEP kv | jq -e '.state == \"failed\"' >/dev/null && exit 0
    sleep 0.05
  done; exit 1"
stop_daemon

# Without a state file: the domains are not this daemon's.
mv "$IT_STATE/state.json" "$IT_TMP/state.json"
it_start_daemon
it_check "leftover domains reported" grep -q "domains of an earlier librettod" "$IT_LOG"
out=$(ctl deploy "$file" 2>&1); rc=$?
echo "$out" | tail -n 2 | sed 's/^/    /'
it_check "deploying over them is refused (exit 1)" [ $rc -eq 1 ]
it_check "the error names the namespace" bash -c "echo \"\$0\" | grep -q 'lt-$IT_DEP-peer already exists'" "$out"
it_check "their peer namespace is untouched" bash -c "ip netns list | grep -q '^lt-$IT_DEP-peer'"
stop_daemon

# A state file that cannot be trusted: refused, kept, nothing touched.
echo '{"libretto_state": 99}' >"$IT_STATE/state.json"
"$IT_BIN/librettod" -f -s "$IT_SOCK" --state-dir "$IT_STATE" --run-dir "$IT_RUN" >"$IT_TMP/bad.log" 2>&1 </dev/null
rc=$?
it_check "an unknown state version stops the daemon (exit $rc)" [ $rc -ne 0 ]
it_check "with a clear error" grep -q "not a libretto state file of version 1" "$IT_TMP/bad.log"
it_check "the state file is left as it was" grep -q '"libretto_state": 99' "$IT_STATE/state.json"
echo 'not json' >"$IT_STATE/state.json"
"$IT_BIN/librettod" -f -s "$IT_SOCK" --state-dir "$IT_STATE" --run-dir "$IT_RUN" >"$IT_TMP/bad.log" 2>&1 </dev/null
it_check "a corrupt state file stops the daemon with a clear error" grep -q "not JSON" "$IT_TMP/bad.log"
it_check "the peer namespace is still untouched" bash -c "ip netns list | grep -q '^lt-$IT_DEP-peer'"

# The good state file back: adopted again, and destroy cleans up.
mv "$IT_TMP/state.json" "$IT_STATE/state.json"
it_start_daemon
it_check "destroy after adoption" bash -c "$IT_BIN/librettoctl -s $IT_SOCK destroy $IT_DEP >/dev/null"
it_check "no namespace is left" bash -c "! ip netns list | grep -q '^lt-$IT_DEP-'"
it_pass
