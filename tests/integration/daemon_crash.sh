#!/usr/bin/env bash
# Issue 5, must-show 2: kill -9 of librettod while idle, during a switch
# held at each of its steps (both ways), and during a deploy; then a
# restart.  Each time status shows the same deployments and paths (a
# switch caught in flight ends completed when its guest step was
# acknowledged, rolled back otherwise), nothing is duplicated or leaked
# (namespaces, processes, xenstore domains, VF claims), and the apps stay
# reachable: a client keeps one connection to the dynamic app throughout.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/switch_lib.sh"
it_start_daemon --test-faults
file=$(it_deployment)
it_deploy "$file"
ip=$(ctl status --json "$IT_DEP" cache | jq -r .ip)
ip netns exec "lt-$IT_DEP-peer" "$IT_BIN/redis_probe" "$ip" 6379 --interval-ms 5 \
  >"$IT_TMP/probe.json" 2>"$IT_TMP/probe.err" &
probe=$!
IT_BG_PIDS+=($probe)
it_check "the client connected" it_wait_for "$IT_WAIT_LIMIT" grep -q connected "$IT_TMP/probe.err"

view() { ctl status --json | jq -c '[.deployments[] | {name, domains: [.domains[] | {name, domid, path, vf, pid}]}]'; }
crash() {
  kill -9 "$IT_DAEMON_PID"; wait "$IT_DAEMON_PID" 2>/dev/null
  it_start_daemon --test-faults
}
# Nothing more than status lists: a namespace per created domain and the
# peer's, processes only in running domains, a xenstore directory per
# domid, VF claims only by apps on their VF.
no_leaks() {
  local js ns want have
  js=$(ctl status --json "$IT_DEP")
  want=$( (echo "lt-$IT_DEP-peer"; jq -r '.deployments[0].domains[] | select(.domid != null) | .namespace' <<<"$js") | sort)
  have=$(ip netns list | awk '{print $1}' | grep "^lt-$IT_DEP-" | sort)
  [ "$want" = "$have" ] || { echo "namespaces: want $want, have $have"; return 1; }
  want=$( (echo 0; jq -r '.deployments[0].domains[] | select(.domid != null) | .domid' <<<"$js") | sort)
  have=$(it_xs xenstore-list /local/domain | sort)
  [ "$want" = "$have" ] || { echo "xenstore domains: want $want, have $have"; return 1; }
  want=$(jq -r '.deployments[0].domains[] | select(.vf != null) | .name' <<<"$js" | sort)
  have=$(it_xs xenstore-ls "/libretto/pool/$IT_DEP/vf" | sed -n 's/.*= "\(.\+\)"/\1/p' | sort)
  [ "$want" = "$have" ] || { echo "VF claims: want $want, have $have"; return 1; }
  for ns in $(ip netns list | awk '{print $1}' | grep "^lt-$IT_DEP-" | grep -v peer); do
    [ "$(ip netns pids "$ns" | wc -l)" -gt 0 ] || { echo "$ns: no process"; return 1; }
  done
}

before=$(view)
crash
it_check "idle: the same deployments, domains and paths after the restart" [ "$before" = "$(view)" ]
it_check "idle: nothing leaked" no_leaks

# crash_in_switch TO STEP WANT: a switch stalled at STEP when the daemon
# dies; after the restart cache ends on WANT.
crash_in_switch() {
  local to=$1 step=$2 want=$3 path
  ctl switch cache --to "$to" --fault "$step:stall" --timeout 30 >/dev/null 2>&1 &
  local sw=$!
  it_wait_for "$IT_WAIT_LIMIT" bash -c "$IT_BIN/librettoctl -s $IT_SOCK status --json $IT_DEP cache | jq -e '.switching != null' >/dev/null"
  sleep 0.3 # the stalled step has done its work
  crash
  wait $sw 2>/dev/null
  it_wait_for "$IT_WAIT_LIMIT" bash -c "$IT_BIN/librettoctl -s $IT_SOCK status --json $IT_DEP cache | jq -e '.switching == null' >/dev/null"
  path=$(ctl status --json "$IT_DEP" cache | jq -r .path)
  if [ "$path" != "$want" ]; then
    it_fail "switch to $to killed at $step: cache is on $path, want $want"; return
  fi
  if ! out=$(no_leaks); then it_fail "switch to $to killed at $step: $out"; return; fi
  if [ "$want" = direct ]; then on=vf0 off=tap0; else on=tap0 off=vf0; fi
  if ! sw_moving cache "$on"; then it_fail "switch to $to killed at $step: no traffic on $on"; return; fi
  it_ok "switch to $to killed at $step: on $want after the restart, nothing leaked, traffic on $on"
}
crash_in_switch direct check server
crash_in_switch direct prepare server
crash_in_switch direct attach server
crash_in_switch direct guest direct
crash_in_switch direct server direct
crash_in_switch server server direct
crash_in_switch server guest server
it_check "back to direct" bash -c "$IT_BIN/librettoctl -s $IT_SOCK switch cache --to direct >/dev/null"
crash_in_switch server detach server
it_check "back to direct" bash -c "$IT_BIN/librettoctl -s $IT_SOCK switch cache --to direct >/dev/null"
crash_in_switch server release server

# During a deploy: a second deployment, killed once its first domain is
# made.  After the restart what was half-made is gone; the file deploys.
second=$(it_deployment "  - name: extra
    mode: dynamic
    command: [redis-server, --save, '', --appendonly, 'no', --protected-mode, 'no']")
IT_MORE_DEPS+=("${IT_DEP}b")
sed -i "s/^name: $IT_DEP\$/name: ${IT_DEP}b/; s/10\.\([0-9]*\)\.0\./10.\1.1./g" "$second"
it_subscribe "$IT_TMP/deploy-events"
ctl deploy "$second" >/dev/null 2>&1 &
it_wait_for "$IT_WAIT_LIMIT" grep -q '"step":"create","domain":"server"' "$IT_TMP/deploy-events"
crash
it_check "the deploy caught half-way: no namespace of it without a domain" it_wait_for "$IT_WAIT_LIMIT" bash -c "
  js=\$($IT_BIN/librettoctl -s $IT_SOCK status --json)
  want=\$( (jq -r '.deployments[] | select(.name == \"${IT_DEP}b\") | .domains[] | select(.domid != null) | .namespace' <<<\"\$js\"; \
           jq -e '.deployments[] | select(.name == \"${IT_DEP}b\")' <<<\"\$js\" >/dev/null && echo lt-${IT_DEP}b-peer) | sort)
  have=\$(ip netns list | awk '{print \$1}' | grep '^lt-${IT_DEP}b-' | sort)
  [ \"\$want\" = \"\$have\" ]"
it_check "and the file deploys after the restart" bash -c "$IT_BIN/librettoctl -s $IT_SOCK deploy $second >/dev/null"
it_check "the first deployment is as it was" [ "$(ctl status --json "$IT_DEP" | jq -c '[.deployments[0].domains[] | .name]')" = '["server","web","cache","kv"]' ]
ctl destroy "${IT_DEP}b" >/dev/null 2>&1

kill -TERM $probe; wait $probe
it_log "probe: $(cat "$IT_TMP/probe.json")"
it_check "the client's connection lived through every crash" bash -c \
  "jq -e '.errors == 0 and .reconnects == 0 and .first_local_port == .local_port' $IT_TMP/probe.json >/dev/null"
it_pass
