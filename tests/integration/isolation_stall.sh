#!/usr/bin/env bash
# No consumer can hold the NIC.  The attack: an app stops draining its
# receive ring (its agent is stopped with SIGSTOP, so its ring stays full)
# while the peer keeps sending to it, UDP datagrams of 8000 bytes to a
# port it owns, ~400 a second.  Meanwhile the server IP must answer ping
# (loss <= 1 %) and another app's TCP echo must stay fast (p99 < 20 ms,
# no failure): the network server drops the frames for the full ring and
# never waits for it (docs/datapath.md, "An app that does not drain").  The
# stopped app's drops are counted and it is shown stalled in `librettoctl
# status`; after SIGCONT it is resumed (stalled cleared) and answers again.
# Before that, the same app floods its tx ring from inside its namespace,
# and the others must still be served (no failed round trip, ping loss
# <= 1 %).  Every figure is printed.
. "$(dirname "$0")/lib.sh"
for tool in ping head; do
  command -v $tool >/dev/null || { it_fail "$tool is not installed"; it_pass; }
done
[ -x "$IT_BIN/echo_probe" ] || { it_fail "echo_probe is not built"; it_pass; }
it_start_daemon
it_deploy "$(it_deployment "  - name: victim
    mode: server
    ports: [udp/5000, tcp/7008]
    command: [socat, 'TCP-LISTEN:7008,fork,reuseaddr', 'EXEC:cat']
  - name: echo
    mode: server
    ports: [tcp/7007]
    command: [socat, 'TCP-LISTEN:7007,fork,reuseaddr', 'EXEC:cat']")"
st=$(it_status_json "$IT_DEP")
sip=$(jq -r .deployments[0].network.server_ip <<<"$st")
peer="ip netns exec lt-$IT_DEP-peer"
counter() { ctl --json status "$IT_DEP" victim | jq -r ".counters.$1 // 0"; }
# A round trip over 1 s is a failure, and 10 of them end the run.
probe() { $peer "$IT_BIN/echo_probe" "$sip" "$@" --timeout-ms 1000 --max-errors 10; }
# ping_loss_ok FILE: at most 1 % of the pings sent unanswered.
ping_loss_ok() {
  local sent recv
  sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$1")
  recv=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$1")
  [ -n "$sent" ] && [ -n "$recv" ] && [ $(( (sent - recv) * 100 )) -le "$sent" ]
}

it_check "the echo app answers through the server IP" it_wait_for "$IT_WAIT_LIMIT" bash -c \
  "ip netns exec lt-$IT_DEP-peer $IT_BIN/echo_probe $sip 7007 --count 4 --timeout-ms 500 >/dev/null"
it_check "the victim answers through the server IP" it_wait_for "$IT_WAIT_LIMIT" bash -c \
  "ip netns exec lt-$IT_DEP-peer $IT_BIN/echo_probe $sip 7008 --count 4 --timeout-ms 500 >/dev/null"
it_log "before the attacks: echo $(probe 7007 --count 200 --conns 4 --interval-ms 5)"

# First the other direction: the victim floods its tx ring (8000-byte UDP
# datagrams to the gateway as fast as it can, from inside its namespace)
# while the other app is measured.  The budget per app and round keeps
# the others served: no round trip may fail, nor 1 % of the pings.
gw=$(jq -r .deployments[0].network.gateway <<<"$st")
from0=$(counter from_app_packets)
ip netns exec "lt-$IT_DEP-victim" timeout 8 socat -b 8000 -u OPEN:/dev/zero \
  "UDP-SENDTO:$gw:9" 2>/dev/null &
txflood=$!
IT_BG_PIDS+=($txflood)
sleep 0.5
$peer ping -q -c 200 -i 0.02 -W 1 "$sip" >"$IT_TMP/ping-tx" 2>&1 &
pinger=$!
tx_out=$(probe 7007 --count 400 --conns 4 --interval-ms 5)
tx_rc=$?
wait $pinger
kill $txflood 2>/dev/null
wait $txflood 2>/dev/null
it_log "tx flood: $(( $(counter from_app_packets) - from0 )) frames from the victim"
it_log "tx flood: ping $sip: $(grep -o '[0-9]* received' "$IT_TMP/ping-tx") of 200 ($(tail -n 1 "$IT_TMP/ping-tx"))"
it_log "tx flood: echo $tx_out"
it_check "tx flood: the victim's flood went through the server" \
  [ $(( $(counter from_app_packets) - from0 )) -gt 10000 ]
it_check "tx flood: ping to the server IP loses <= 1 %" ping_loss_ok "$IT_TMP/ping-tx"
it_check "tx flood: the other app's echo answers every round trip" [ "$tx_rc" -eq 0 ]

# The victim's agent: the process in its namespace named libretto-agent.
agent=
for p in $(ip netns pids "lt-$IT_DEP-victim"); do
  [ "$(cat /proc/$p/comm 2>/dev/null)" = libretto-agent ] && agent=$p
done
[ -n "$agent" ] || { it_fail "no libretto-agent in lt-$IT_DEP-victim"; it_pass; }
drops0=$(counter rx_ring_full_drops)
kill -STOP "$agent"
it_log "agent $agent of victim stopped"

# The flood: bursts of 20 datagrams of up to 8000 bytes every 50 ms (each
# socat read of the pipe is one datagram), from the peer to the victim's
# UDP port; its 1 MiB ring is full within a second.  Two long-lived
# processes, bash builtins only in the loop (read -t as the sleep), so
# that the flood itself costs the loaded machine little CPU.
flood_src() {
  local chunk zz i
  chunk=$(printf '%8000s' '')
  exec {zz}<> <(:)
  while :; do
    for ((i = 0; i < 20; i++)); do printf '%s' "$chunk" || return; done
    read -r -t 0.05 -u "$zz"
  done
}
flood_src | $peer socat -b 8000 -u - "UDP-SENDTO:$sip:5000" 2>/dev/null &
flood=$!
IT_BG_PIDS+=($flood)

# Measured from the start of the flood: while the victim's ring fills,
# while its backlog is full, and after it is stalled.
$peer ping -q -c 200 -i 0.02 -W 1 "$sip" >"$IT_TMP/ping" 2>&1 &
pinger=$!
echo_out=$(probe 7007 --count 400 --conns 4 --interval-ms 5)
echo_rc=$?
wait $pinger
it_log "during the attack: ping $sip: $(grep -o '[0-9]* received' "$IT_TMP/ping") of 200 ($(tail -n 1 "$IT_TMP/ping"))"
it_log "during the attack: echo $echo_out"
it_check "ping to the server IP: loss <= 1 %" ping_loss_ok "$IT_TMP/ping"
it_check "the other app's echo: every round trip answered" [ "$echo_rc" -eq 0 ]
p99=$(jq -r .p99_ms <<<"$echo_out")
it_check "the other app's echo: p99 $p99 ms < 20 ms" \
  bash -c "jq -e '.p99_ms < 20' <<<'$echo_out' >/dev/null"

it_check "the victim is shown stalled (rx_stalled = 1)" \
  it_wait_for "$IT_WAIT_LIMIT" bash -c "[ \"\$($IT_BIN/librettoctl -s $IT_SOCK --json status $IT_DEP victim | jq -r '.counters.rx_stalled // 0')\" = 1 ]"
drops=$(counter rx_ring_full_drops)
it_log "victim: rx_ring_full_drops $drops0 -> $drops, drops $(counter drops), rx_stalls $(counter rx_stalls)"
it_check "the victim's dropped frames are counted" [ "$drops" -gt "$drops0" ]
it_check "status --json shows the victim stalled" bash -c \
  "ctl() { $IT_BIN/librettoctl -s $IT_SOCK \"\$@\"; }; ctl status --json $IT_DEP | jq -e '.deployments[0].domains[] | select(.name == \"victim\") | .counters.rx_stalled == 1' >/dev/null"

# The end of the attack: the agent drains its ring, the server resumes it.
kill $flood 2>/dev/null
wait $flood 2>/dev/null
kill -CONT "$agent"
it_log "agent $agent of victim continued"
it_check "the victim is resumed (rx_stalled = 0)" \
  it_wait_for "$IT_WAIT_LIMIT" bash -c "[ \"\$($IT_BIN/librettoctl -s $IT_SOCK --json status $IT_DEP victim | jq -r '.counters.rx_stalled // 0')\" = 0 ]"
to0=$(counter to_app_packets)
after=$(probe 7008 --count 20 --conns 2 --interval-ms 5)
it_log "after SIGCONT: victim echo $after"
it_check "the victim answers again" bash -c "jq -e '.errors == 0' <<<'$after' >/dev/null"
it_check "frames reach the victim again (to_app_packets grows)" \
  it_wait_for "$IT_WAIT_LIMIT" bash -c "[ \$($IT_BIN/librettoctl -s $IT_SOCK --json status $IT_DEP victim | jq -r '.counters.to_app_packets') -gt $to0 ]"
it_log "after the attacks: echo $(probe 7007 --count 200 --conns 4 --interval-ms 5)"
it_pass
