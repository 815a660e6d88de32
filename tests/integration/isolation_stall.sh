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
probe() { $peer "$IT_BIN/echo_probe" "$sip" "$@"; }

it_check "the echo app answers through the server IP" it_wait_for 10 bash -c \
  "ip netns exec lt-$IT_DEP-peer $IT_BIN/echo_probe $sip 7007 --count 4 --timeout-ms 500 >/dev/null"
it_check "the victim answers through the server IP" it_wait_for 10 bash -c \
  "ip netns exec lt-$IT_DEP-peer $IT_BIN/echo_probe $sip 7008 --count 4 --timeout-ms 500 >/dev/null"
it_log "before the attack: echo $(probe 7007 --count 200 --conns 4 --interval-ms 5)"

# The victim's agent: the process in its namespace named libretto-agent.
agent=
for p in $(ip netns pids "lt-$IT_DEP-victim"); do
  [ "$(cat /proc/$p/comm 2>/dev/null)" = libretto-agent ] && agent=$p
done
[ -n "$agent" ] || { it_fail "no libretto-agent in lt-$IT_DEP-victim"; it_pass; }
drops0=$(counter rx_ring_full_drops)
kill -STOP "$agent"
it_log "agent $agent of victim stopped"

# The flood: bursts of 20 datagrams of 8000 bytes every 50 ms (each
# socat read of the pipe is one datagram), from the peer to the victim's
# UDP port; its 1 MiB ring is full within a second.
$peer bash -c "while :; do head -c 160000 /dev/zero |
  socat -b 8000 -u - UDP-SENDTO:$sip:5000 2>/dev/null; sleep 0.05; done" &
flood=$!
IT_BG_PIDS+=($flood)

# Measured from the start of the flood: while the victim's ring fills,
# while its backlog is full, and after it is stalled.
$peer ping -q -c 200 -i 0.02 -W 1 "$sip" >"$IT_TMP/ping" 2>&1 &
pinger=$!
echo_out=$(probe 7007 --count 400 --conns 4 --interval-ms 5 --timeout-ms 2000)
echo_rc=$?
wait $pinger
sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$IT_TMP/ping")
recv=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$IT_TMP/ping")
it_log "during the attack: ping $sip: ${recv:-?} of ${sent:-?} answered ($(tail -n 1 "$IT_TMP/ping"))"
it_log "during the attack: echo $echo_out"
it_check "ping to the server IP: loss <= 1 % (${recv:-?}/${sent:-?})" \
  bash -c "[ -n '$sent' ] && [ -n '$recv' ] && [ \$(( ($sent - $recv) * 100 )) -le $sent ]"
it_check "the other app's echo: every round trip answered" [ "$echo_rc" -eq 0 ]
p99=$(jq -r .p99_ms <<<"$echo_out")
it_check "the other app's echo: p99 $p99 ms < 20 ms" \
  bash -c "jq -e '.p99_ms < 20' <<<'$echo_out' >/dev/null"

it_check "the victim is shown stalled (rx_stalled = 1)" \
  it_wait_for 5 bash -c "[ \"\$($IT_BIN/librettoctl -s $IT_SOCK --json status $IT_DEP victim | jq -r '.counters.rx_stalled // 0')\" = 1 ]"
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
  it_wait_for 5 bash -c "[ \"\$($IT_BIN/librettoctl -s $IT_SOCK --json status $IT_DEP victim | jq -r '.counters.rx_stalled // 0')\" = 0 ]"
to0=$(counter to_app_packets)
after=$(probe 7008 --count 20 --conns 2 --interval-ms 5 --timeout-ms 2000)
it_log "after SIGCONT: victim echo $after"
it_check "the victim answers again" bash -c "jq -e '.errors == 0' <<<'$after' >/dev/null"
it_check "frames reach the victim again (to_app_packets grows)" \
  it_wait_for 3 bash -c "[ \$($IT_BIN/librettoctl -s $IT_SOCK --json status $IT_DEP victim | jq -r '.counters.to_app_packets') -gt $to0 ]"
it_log "after the attack: echo $(probe 7007 --count 200 --conns 4 --interval-ms 5)"
it_pass
