#!/usr/bin/env bash
# The portmap is owned, not grabbed. A hostile server-mode app writes, in
# its own tree only (/local/domain/<its domid>/libretto/guest/ports/...),
# claims on ports that are not its to take: one inside the victim's
# ephemeral range (the victim's replies would go to it), the victim's
# declared port, one of an ephemeral range no app has yet, more claims
# than the cap, and names that are not ports. Each is refused and
# reported (event and status), nothing of it reaches the portmap or the
# server's mirror, the victim's connections from that very port still
# work, and the daemon stays healthy. Then, as defence in depth, the
# server's mirror is made to say what a fooled daemon would have written:
# the network server still sends the victim's replies to the victim.
. "$(dirname "$0")/lib.sh"
it_start_daemon
it_subscribe "$IT_TMP/events"
# The hostile app listens on the victim's declared port too: its own agent
# claims it, as a real one would.
apps="  - name: victim
    mode: server
    command: [socat, 'TCP-LISTEN:80,fork,reuseaddr', 'SYSTEM:echo victim']
    ports: [tcp/80]
  - name: hostile
    mode: server
    command: [socat, 'TCP-LISTEN:80,fork,reuseaddr', 'SYSTEM:echo hostile']"
it_deploy "$(it_deployment "$apps")"
st=$(it_status_json "$IT_DEP")
id() { it_domid "$1" "$st"; }
srv=$(id server); v=$(id victim); h=$(id hostile)
sip=$(echo "$st" | jq -r .deployments[0].network.server_ip)
gw=$(echo "$st" | jq -r .deployments[0].network.gateway)
xs_sock=$IT_RUN/xenstored/socket
g() { it_xs xenstore-read "/local/domain/$1/libretto/$2" 2>/dev/null; }
# What the hostile guest may write: its own guest/ports, nothing else.
guest_write() { local p args=(); for p in "$@"; do args+=("/local/domain/$h/libretto/guest/ports/$p" ""); done; it_xs xenstore-write "${args[@]}"; }
guest_rm() { local p; for p in "$@"; do it_xs xenstore-rm "/local/domain/$h/libretto/guest/ports/$p"; done; }
exists() { it_xs xenstore-exists "$1" 2>/dev/null; }
hstatus() { ctl --json status "$IT_DEP" hostile; }
# The events so far (a line being written is skipped, not an error).
events() { jq -cR "fromjson? | select(.event == \"$1\" and .data.domain == \"hostile\")$2" "$IT_TMP/events"; }
has_event() { [ -n "$(events "$@")" ]; }
no_event() { [ -z "$(events "$@")" ]; }
peer="ip netns exec lt-$IT_DEP-peer"

vr=$(g "$v" net/ephemeral); hr=$(g "$h" net/ephemeral)
vlo=${vr%-*}; vhi=${vr#*-}; hlo=${hr%-*}
port=$((vlo + 185))
it_log "victim=$v ($vr) hostile=$h ($hr) server=$srv; the attack claims tcp/$port"
it_check "the ranges are known and disjoint" \
  bash -c "[ -n '$vr' ] && [ -n '$hr' ] && [ '$vr' != '$hr' ] && [ $port -le $vhi ]"

# A listener in the peer namespace, for the victim's outgoing connections.
$peer socat TCP-LISTEN:9999,fork,reuseaddr SYSTEM:'echo from-peer' &
IT_BG_PIDS+=($!)
$peer socat TCP-LISTEN:9998,fork,reuseaddr SYSTEM:'echo from-peer' &
IT_BG_PIDS+=($!)
# victim_connect PEER_PORT: from the victim's namespace, from local port
# $port; prints the reply and how long it took.
victim_connect() {
  local t0 out
  t0=$(date +%s%N)
  out=$(ip netns exec "lt-$IT_DEP-victim" timeout 5 socat - "TCP:$gw:$1,sourceport=$port,reuseaddr" </dev/null 2>&1)
  echo "$out $(( ($(date +%s%N) - t0) / 1000000 ))ms"
}

# --- 1. A claim inside the victim's ephemeral range ---
# The hostile app listens there, so that its agent claims it as well, and
# writes the claim itself.
ip netns exec "lt-$IT_DEP-hostile" socat TCP-LISTEN:$port,fork,reuseaddr SYSTEM:'echo hostile' &
IT_BG_PIDS+=($!)
guest_write "tcp/$port"
it_check "an event names the claimant, the owner and the port" it_wait_for "$IT_WAIT_LIMIT" \
  has_event port-conflict " | select(.data.port == \"tcp/$port\" and .data.owner == \"victim\" and .data.owner_domid == $v and .data.reason == \"ephemeral\")"
it_check "status shows the refusal and why" bash -c \
  "$IT_BIN/librettoctl -s $IT_SOCK --json status $IT_DEP hostile | jq -e '.port_conflicts | any(.port == \"tcp/$port\" and .owner == \"victim\" and .owner_domid == $v and .reason == \"ephemeral\")' >/dev/null"
sleep 1 # the agent's scan of the hostile listener has had its chance too
it_check "the portmap node is not written" bash -c "! XENSTORED_PATH=$xs_sock xenstore-exists /libretto/portmap/$IT_DEP/tcp/$port"
it_check "the server's mirror is not written" bash -c "! XENSTORED_PATH=$xs_sock xenstore-exists /local/domain/$srv/libretto/server/portmap/tcp/$port"
out=$(victim_connect 9999)
it_log "victim from local port $port to the peer: $out"
it_check "the victim connects out from local port $port" bash -c "[[ '$out' == from-peer* ]]"

# --- 2. The victim's declared port ---
it_check "the hostile agent's claim on declared tcp/80 is refused" it_wait_for "$IT_WAIT_LIMIT" \
  has_event port-conflict ' | select(.data.port == "tcp/80" and .data.owner == "victim" and .data.reason == "declared")'
guest_write tcp/80
it_check "status shows tcp/80 refused as the victim's declared port" bash -c \
  "$IT_BIN/librettoctl -s $IT_SOCK --json status $IT_DEP hostile | jq -e '.port_conflicts | any(.port == \"tcp/80\" and .owner == \"victim\" and .reason == \"declared\")' >/dev/null"
it_check "tcp/80 stays the victim's in both trees" \
  [ "$(it_xs xenstore-read /libretto/portmap/$IT_DEP/tcp/80) $(g "$srv" server/portmap/tcp/80)" = "$v $v" ]
it_check "the peer reaches the victim on $sip:80" \
  [ "$($peer timeout 5 socat - "TCP:$sip:80" </dev/null)" = victim ]

# --- 3. Its own range, and a range nobody has yet ---
own=$((hlo + 5)); free=$((32768 + 9 * 2048 + 1))
guest_write "udp/$own" "tcp/$free"
it_check "a claim in its own range is granted (it routes there anyway), unwritten" it_wait_for "$IT_WAIT_LIMIT" bash -c \
  "$IT_BIN/librettoctl -s $IT_SOCK --json status $IT_DEP hostile | jq -e '(.ports | index(\"udp/$own\")) != null' >/dev/null && ! XENSTORED_PATH=$xs_sock xenstore-exists /libretto/portmap/$IT_DEP/udp/$own"
it_check "a claim in an unassigned range is refused, no owner named" it_wait_for "$IT_WAIT_LIMIT" bash -c \
  "$IT_BIN/librettoctl -s $IT_SOCK --json status $IT_DEP hostile | jq -e '.port_conflicts | any(.port == \"tcp/$free\" and .owner == null and .reason == \"ephemeral\")' >/dev/null && ! XENSTORED_PATH=$xs_sock xenstore-exists /libretto/portmap/$IT_DEP/tcp/$free"
it_check "no event for the claim in its own range" \
  no_event port-conflict " | select(.data.port == \"udp/$own\")"

# --- 4. Names that are not ports ---
# A name of 3000 digits is longer than xenstored lets any guest write
# (a path of 2048 characters at most); the longest it takes is written.
it_check "xenstored refuses a 3000-character name itself" bash -c \
  "! XENSTORED_PATH=$xs_sock xenstore-write /local/domain/$h/libretto/guest/ports/tcp/$(printf '1%.0s' $(seq 3000)) '' 2>/dev/null"
long=$(printf '1%.0s' $(seq 2000))
bad=(tcp/0 tcp/65536 tcp/080 udp/-1 sctp/1 tcp/99999999999999999999 "tcp/$long")
wrote=0
for b in "${bad[@]}"; do guest_write "$b" && wrote=$((wrote + 1)); done
it_check "the guest could write all ${#bad[@]} malformed names" [ "$wrote" = ${#bad[@]} ]
it_check "each is refused and counted" it_wait_for "$IT_WAIT_LIMIT" bash -c \
  "$IT_BIN/librettoctl -s $IT_SOCK --json status $IT_DEP hostile | jq -e '.port_claims.malformed == ${#bad[@]}' >/dev/null"
guest_write tcp/00
it_check "the count follows the list" it_wait_for "$IT_WAIT_LIMIT" bash -c \
  "$IT_BIN/librettoctl -s $IT_SOCK --json status $IT_DEP hostile | jq -e '.port_claims.malformed == $(( ${#bad[@]} + 1 ))' >/dev/null"
it_check "one port-refused event for them all, reported once" \
  [ "$(events port-refused ' | select(.data.reason == "malformed")' | wc -l)" = 1 ]
it_check "tcp/080 did not become tcp/80, nor tcp/0 anything" bash -c \
  "[ \"\$(XENSTORED_PATH=$xs_sock xenstore-read /libretto/portmap/$IT_DEP/tcp/80)\" = $v ] && ! XENSTORED_PATH=$xs_sock xenstore-exists /libretto/portmap/$IT_DEP/tcp/0"
it_check "the raw names are in no log line nor reply" bash -c \
  "! grep -q 1111111111111111 $IT_LOG && ! grep -q 1111111111111111 $IT_TMP/events && ! $IT_BIN/librettoctl -s $IT_SOCK --json status $IT_DEP | grep -q 1111111111111111"
it_check "the daemon stays healthy" bash -c "kill -0 $IT_DAEMON_PID && $IT_BIN/librettoctl -s $IT_SOCK version >/dev/null"
guest_rm "${bad[@]}" tcp/00 sctp
it_check "the count drops when they go" it_wait_for "$IT_WAIT_LIMIT" bash -c \
  "$IT_BIN/librettoctl -s $IT_SOCK --json status $IT_DEP hostile | jq -e '.port_claims.malformed == 0' >/dev/null"

# --- 5. The cap on run-time claims ---
cs=$(hstatus)
cap=$(echo "$cs" | jq .port_claims.cap); have=$(echo "$cs" | jq .port_claims.run_time)
need=$((cap - have + 1)); first=10001; last=$((first + need - 1))
it_log "cap $cap, $have run-time claims already: $need more, tcp/$first-$last"
claims=(); for p in $(seq $first $last); do claims+=("tcp/$p"); done
guest_write "${claims[@]}"
it_check "claim $((cap + 1)) is refused for the cap" it_wait_for "$IT_WAIT_LIMIT" bash -c \
  "$IT_BIN/librettoctl -s $IT_SOCK --json status $IT_DEP hostile | jq -e '.port_claims.run_time == $cap and .port_claims.over_cap == 1' >/dev/null"
it_check "the ones under the cap are granted" \
  [ "$(it_xs xenstore-read /libretto/portmap/$IT_DEP/tcp/$first) $(g "$srv" server/portmap/tcp/$((last - 1)))" = "$h $h" ]
it_check "the one over the cap is written nowhere" bash -c \
  "! XENSTORED_PATH=$xs_sock xenstore-exists /libretto/portmap/$IT_DEP/tcp/$last && ! XENSTORED_PATH=$xs_sock xenstore-exists /local/domain/$srv/libretto/server/portmap/tcp/$last"
for p in 1 2 3; do guest_write "tcp/$((last + p))"; done
it_check "more claims over the cap are counted" it_wait_for "$IT_WAIT_LIMIT" bash -c \
  "$IT_BIN/librettoctl -s $IT_SOCK --json status $IT_DEP hostile | jq -e '.port_claims.over_cap == 4' >/dev/null"
it_check "the cap is reported once, not per write" \
  [ "$(events port-refused ' | select(.data.reason == "cap" and .data.cap == '"$cap"')' | wc -l)" = 1 ]
guest_rm "${claims[@]}" "tcp/$((last + 1))" "tcp/$((last + 2))" "tcp/$((last + 3))"
it_check "claims withdrawn are released" it_wait_for "$IT_WAIT_LIMIT" bash -c \
  "! XENSTORED_PATH=$xs_sock xenstore-exists /libretto/portmap/$IT_DEP/tcp/$first && $IT_BIN/librettoctl -s $IT_SOCK --json status $IT_DEP hostile | jq -e '.port_claims.over_cap == 0' >/dev/null"

# --- 6. Defence in depth: the mirror says what a fooled daemon would ---
# One transaction: tcp/80 and tcp/$port for the hostile app. tcp/80
# reaching the hostile app shows the server has read it, and so the entry
# for $port with it.
it_xs xenstore-write "/local/domain/$srv/libretto/server/portmap/tcp/80" "$h" \
  "/local/domain/$srv/libretto/server/portmap/tcp/$port" "$h"
it_check "the network server follows its mirror (tcp/80 now reaches hostile)" it_wait_for "$IT_WAIT_LIMIT" bash -c \
  "[ \"\$($peer timeout 2 socat - TCP:$sip:80 </dev/null)\" = hostile ]"
out=$(victim_connect 9998)
it_log "victim from local port $port with the mirror naming hostile: $out"
it_check "the victim's replies on $port still reach the victim" bash -c "[[ '$out' == from-peer* ]]"
it_xs xenstore-write "/local/domain/$srv/libretto/server/portmap/tcp/80" "$v"
it_xs xenstore-rm "/local/domain/$srv/libretto/server/portmap/tcp/$port"
it_check "tcp/80 is the victim's again" it_wait_for "$IT_WAIT_LIMIT" bash -c \
  "[ \"\$($peer timeout 2 socat - TCP:$sip:80 </dev/null)\" = victim ]"

# --- 7. The loader refuses a declared port in an ephemeral range ---
bad_dep=$(it_deployment "  - name: web
    mode: server
    command: [sleep, '1000']
    ports: [tcp/40000]")
out=$(ctl validate "$bad_dep" 2>&1)
it_check "validate refuses a file declaring tcp/40000" bash -c \
  "echo \"\$0\" | grep -q 'tcp/40000 is an ephemeral port'" "$out"
out=$(ctl deploy "$bad_dep" 2>&1)
it_check "and so does deploy" bash -c \
  "echo \"\$0\" | grep -q 'tcp/40000 is an ephemeral port'" "$out"
it_check "the deployment in force is untouched" \
  [ "$(ctl --json status "$IT_DEP" victim | jq -r .state)" = running ]
# --- 8. A port squatted before a deployment file declares it ---
# The hostile app claims tcp/8443 while no app declares it: granted. The
# operator then deploys an app that declares it: the declaration wins, the
# deploy succeeds, and the squatter's claim is refused and reported.
guest_write tcp/8443
it_check "an undeclared tcp/8443 is granted to hostile" it_wait_for "$IT_WAIT_LIMIT" bash -c \
  "[ \"\$(XENSTORED_PATH=$xs_sock xenstore-read /libretto/portmap/$IT_DEP/tcp/8443 2>/dev/null)\" = $h ]"
late="  - name: late
    mode: server
    command: [socat, 'TCP-LISTEN:8443,fork,reuseaddr', 'SYSTEM:echo late']
    ports: [tcp/8443]"
out=$(ctl deploy "$(it_deployment "$apps" "$late")" 2>&1)
it_check "a deploy that declares the squatted port succeeds" \
  [ "$(ctl --json status "$IT_DEP" late | jq -r .state)" = running ]
[ "$(ctl --json status "$IT_DEP" late | jq -r .state)" = running ] || echo "$out" | sed 's/^/    /'
l=$(it_domid late)
it_check "tcp/8443 is the declaring app's in both trees" \
  [ "$(it_xs xenstore-read /libretto/portmap/$IT_DEP/tcp/8443) $(g "$srv" server/portmap/tcp/8443)" = "$l $l" ]
it_check "the squatter's claim is refused as declared, naming late" it_wait_for "$IT_WAIT_LIMIT" bash -c \
  "jq -cR 'fromjson? | select(.event == \"port-conflict\" and .data.domain == \"hostile\" and .data.port == \"tcp/8443\" and .data.reason == \"declared\" and .data.owner == \"late\")' $IT_TMP/events | grep -q ."
it_check "the peer reaches late on $sip:8443" it_wait_for "$IT_WAIT_LIMIT" bash -c \
  "[ \"\$($peer timeout 2 socat - TCP:$sip:8443 </dev/null)\" = late ]"
# --- 9. Refusals in a loop do not flood the log and the subscribers ---
# Forty claims in the victim's range at once: every one refused and shown
# in status, at most PORTS_CONFLICT_REPORTS (16) of them reported.
many=()
for i in $(seq 200 239); do many+=("tcp/$((vlo + i))"); done
guest_write "${many[@]}"
it_check "status shows the forty refused claims" it_wait_for "$IT_WAIT_LIMIT" bash -c \
  "[ \"\$($IT_BIN/librettoctl -s $IT_SOCK --json status $IT_DEP hostile | jq '[.port_conflicts[] | select(.reason == \"ephemeral\" and .owner == \"victim\")] | length')\" -ge 40 ]"
sleep 0.5
reported=$(jq -cR "fromjson? | select(.event == \"port-conflict\" and .data.domain == \"hostile\" and (.data.port | ltrimstr(\"tcp/\") | tonumber) >= $((vlo + 200)) and (.data.port | ltrimstr(\"tcp/\") | tonumber) <= $((vlo + 239)))" "$IT_TMP/events" | wc -l)
it_log "port-conflict events for the forty: $reported"
it_check "at most 16 of them reported ($reported)" bash -c "[ $reported -ge 1 ] && [ $reported -le 16 ]"
it_check "the log has no more lines of them than events" bash -c \
  "[ \"\$(grep -c 'hostile claims tcp/' '$IT_LOG')\" -le \"\$(jq -cR 'fromjson? | select(.event == \"port-conflict\" and .data.domain == \"hostile\")' '$IT_TMP/events' | wc -l)\" ]"
guest_rm "${many[@]}"
it_pass
