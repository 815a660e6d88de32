#!/usr/bin/env bash
# The dynamic switch, guest side (docs/datapath.md, "The switch, guest
# side"), without librettod: libretto-netserver owning pf0, libretto-agent
# in a dynamic app, and the test doing librettod's part by hand (the
# macvlan VF, switch/{vf,target,seq}, server/apps/<id>/active).
#
# usage: agent_switch.sh <libexec dir: agent, netserver, preload> <xenstored>
#
# Checks: acked at the netserver's start (1 for the dynamic app, 0 for a
# direct app deployed with active=0); the direct app's guest/vf-stats; 20
# round trips server -> direct -> server of the dynamic app, each answered
# in guest/seq + guest/state, with acked following active, while two TCP
# connections opened before the first switch carry data both ways (one
# echoing a marker per step, one streaming lines the whole time, compared
# byte for byte at the end); on the VF the app's inbound traffic arrives
# on vf0 and the netserver's counters for it stop, back on the server they
# grow again; guest/vf-stats follow the VF; refusals (a VF that is not
# there, a VF with another MAC, an unknown target, a direct app asked to
# switch) answer with guest/error and leave guest/state and the
# connections as they were; a repeated request is only answered, and
# clears guest/error.
# Root only (77 otherwise); everything is removed on every exit path.
set -u -o pipefail

libexec=${1:?usage: $0 <libexec dir> <xenstored>}
xenstored=${2:?}
agent=$libexec/libretto-agent
netserver=$libexec/libretto-netserver
preload=$libexec/libretto-xsd-preload.so

. "$(dirname "$0")/xsd_lib.sh"
xsd_need_root "namespaces, TAP, macvlan, AF_PACKET"
xsd_need_built "$agent" "$netserver" "$preload"
xsd_need_xenstored "$xenstored"
xsd_need_tools ip socat xenstore-write xenstore-read xenstore-exists cmp

ROUNDS=${ROUNDS:-20}
p=lt-swtest$$
ns_peer=$p-peer
ns_srv=$p-srv
ns_app=$p-app
ns_dir=$p-dir

tmp=$(mktemp -d /tmp/libretto-swtest.XXXXXX) || fail "mktemp"
xsd_start "$tmp" "$preload" "$xenstored"
xsd_wait

xsd_netns_add -l "$ns_peer" "$ns_srv" "$ns_app" "$ns_dir"
ip -n "$ns_peer" link add pf0 mtu 9000 type veth peer name wire0 mtu 9000 ||
	fail "veth"
ip -n "$ns_peer" link set pf0 netns "$ns_srv"
ip -n "$ns_peer" addr add 10.203.0.1/24 dev wire0
ip -n "$ns_peer" link set wire0 up
ip -n "$ns_srv" link set pf0 address 02:00:0a:cb:00:02 up

be=1
app=5
dir=6
app_mac=02:00:0a:cb:00:64
dir_mac=02:00:0a:cb:00:65
s=/local/domain/$be/libretto
a=/local/domain/$app/libretto
d=/local/domain/$dir/libretto
sa=$s/server/apps/$app
sd=$s/server/apps/$dir
xsw $s/role server $s/net/ip 10.203.0.2 $s/net/prefix 24 \
	$s/net/gateway 10.203.0.1 $s/net/mac 02:00:0a:cb:00:02 \
	$sa/name app $sa/mode dynamic $sa/ip 10.203.0.100 $sa/mac $app_mac \
	$sa/active 1 \
	$sd/name dir $sd/mode direct $sd/ip 10.203.0.101 $sd/mac $dir_mac \
	$sd/active 0
xsw $a/mode dynamic $a/net/ip 10.203.0.100 $a/net/prefix 24 \
	$a/net/gateway 10.203.0.1 $a/net/mac $app_mac $a/net/backend $be
xsw $d/mode direct $d/net/ip 10.203.0.101 $d/net/prefix 24 \
	$d/net/gateway 10.203.0.1 $d/net/mac $dir_mac $d/net/vf vf0

# vf_attach <ns> <mac>: what librettod does for a VF in the sim: a macvlan
# on pf0 with the app's MAC, moved into the app's namespace as vf0, down.
vf_attach() {
	ip -n "$ns_srv" link add swvf link pf0 address "$2" mtu 9000 \
		type macvlan mode bridge || fail "macvlan for $1"
	ip -n "$ns_srv" link set swvf netns "$1" || fail "moving the VF to $1"
	ip -n "$1" link set swvf name vf0 || fail "renaming the VF in $1"
}
# vf_detach <ns>: back to the server's namespace, and deleted.
vf_detach() {
	ip -n "$1" link set vf0 netns "$ns_srv" || fail "moving vf0 out of $1"
	ip -n "$ns_srv" link del vf0 || fail "deleting the VF"
}

ip netns exec "$ns_srv" env LIBRETTO_DOMID=$be \
	XENSTORED_PATH="$XENSTORED_PATH" "$netserver" \
	>"$tmp/netserver.log" 2>&1 &
xsd_track "$!"
# LIBRETTO_VF_WAIT_MS: as the Xen image sets it, so that a VF that
# appears late, under a name of its own, is waited for (below).
ip netns exec "$ns_app" env LIBRETTO_DOMID=$app LIBRETTO_VF_WAIT_MS=3000 \
	XENSTORED_PATH="$XENSTORED_PATH" "$agent" -- \
	socat TCP-LISTEN:7000,reuseaddr,fork EXEC:cat >"$tmp/agent.log" 2>&1 &
xsd_track "$!"
vf_attach "$ns_dir" $dir_mac
ip netns exec "$ns_dir" env LIBRETTO_DOMID=$dir \
	XENSTORED_PATH="$XENSTORED_PATH" "$agent" -- \
	socat TCP-LISTEN:7000,reuseaddr,fork EXEC:cat >"$tmp/direct.log" 2>&1 &
xsd_track "$!"

# wait_fast: wait_for polling every 50 ms (the round trips add up).
wait_fast() {
	local what=$1 n=$2
	shift 2
	for _ in $(seq 1 $((n * 2))); do
		"$@" && return 0
		sleep 0.05
	done
	fail "$what (not within $((n / 10)) s)"
}
is() { [ "$(xsr "$1")" = "$2" ]; }
gt() { local v; v=$(xsr "$1") && [ -n "$v" ] && [ "$v" -gt "$2" ]; }
answered() { is $a/guest/seq "$1" && is $a/guest/state "$2"; }

wait_for "VIF connected" 50 is $a/guest/vif/state 4
wait_for "acked=1 for the dynamic app at start" 30 is $sa/acked 1
wait_for "acked=0 for the direct app at start" 30 is $sd/acked 0
wait_for "direct app ready" 50 is $d/guest/state ready
xse $a/guest/seq && fail "guest/seq before any switch"
pass "netserver acked both apps at start"

tmo ip netns exec "$ns_peer" ping -c 2 -i 0.2 -W 2 10.203.0.101 \
	>"$tmp/ping.log" 2>&1 || fail "ping peer -> direct app"
wait_for "the direct app's guest/vf-stats" 30 gt $d/guest/vf-stats/rx_packets 0
for c in rx_bytes tx_packets tx_bytes; do
	xse $d/guest/vf-stats/$c || fail "no guest/vf-stats/$c"
done
xse $d/guest/vif-stats/rx_packets && fail "a direct app published vif-stats"
wait_for "the dynamic app's guest/vif-stats" 30 gt $a/guest/vif-stats/rx_packets 0
pass "a direct app publishes guest/vf-stats"

# Connection A: one marker per step, echoed back.
mkfifo "$tmp/ain"
exec 7<>"$tmp/ain"
ip netns exec "$ns_peer" socat -t 30 - TCP:10.203.0.100:7000 \
	<&7 >"$tmp/a.out" 2>"$tmp/a.log" &
conn_a=$!
xsd_track "$conn_a"
got() { grep -qx "$1" "$tmp/a.out"; }
# echo_check <marker>: through connection A and back.
echo_check() {
	echo "$1" >&7
	wait_fast "echo of '$1' on the connection opened before" 50 got "$1"
}
echo_check hello

# Connection B: numbered lines every 10 ms, both ways, for the whole test.
(
	i=0
	while [ ! -e "$tmp/b.stop" ]; do
		i=$((i + 1))
		echo "line $i of the stream that outlives every switch"
		sleep 0.01
	done
) | tee "$tmp/b.sent" |
	ip netns exec "$ns_peer" socat -t 10 - TCP:10.203.0.100:7000 \
		>"$tmp/b.out" 2>"$tmp/b.log" &
conn_b=$!
xsd_track "$conn_b"
b_lines() { [ "$(wc -l <"$tmp/b.out")" -ge "$1" ]; }
wait_fast "the stream started" 50 b_lines 5

ns_to_app() { xsr $sa/stats/to_app_packets; }
vf_rx() { ip netns exec "$ns_app" cat /sys/class/net/vf0/statistics/rx_packets; }

seq=0
to_direct() {
	vf_attach "$ns_app" $app_mac
	seq=$((seq + 1))
	xsw $a/switch/vf vf0 $a/switch/target direct $a/switch/seq $seq
	wait_fast "switch $seq: guest/seq=$seq, state direct" 50 answered $seq direct
	xsw $sa/active 0
	wait_fast "switch $seq: acked=0" 50 is $sa/acked 0
}
to_server() {
	xsw $sa/active 1
	wait_fast "switch $((seq + 1)): acked=1" 50 is $sa/acked 1
	seq=$((seq + 1))
	xsw $a/switch/target server $a/switch/seq $seq
	wait_fast "switch $seq: guest/seq=$seq, state ready" 50 answered $seq ready
	vf_detach "$ns_app"
}

#### the first round trip, looked at closely ##############################
to_direct
ip -n "$ns_app" -4 addr show vf0 | grep -q "inet 10.203.0.100/24" ||
	fail "vf0 lacks the address: $(ip -n "$ns_app" -4 addr show vf0)"
ip -n "$ns_app" -4 addr show tap0 | grep -q inet &&
	fail "tap0 kept the address: $(ip -n "$ns_app" -4 addr show tap0)"
ip -n "$ns_app" link show vf0 | grep -q "mtu 9000" || fail "vf0 MTU"
ip -n "$ns_app" route show default | grep -q "via 10.203.0.1 dev vf0" ||
	fail "default route: $(ip -n "$ns_app" route show default)"
ip -n "$ns_app" link show tap0 | grep -q "<.*UP.*>" || fail "tap0 went down"
is $a/guest/vif/state 4 || fail "the VIF did not stay connected"
echo_check "direct 1"
# The netserver's counters for the app stop (once its last write, at most
# a second after the ack, is out); the VF's grow.
sleep 1.2
n1=$(ns_to_app)
r1=$(vf_rx)
echo_check "direct 1, later"
wait_for "guest/vf-stats after the switch" 30 gt $a/guest/vf-stats/rx_packets 0
v1=$(xsr $a/guest/vf-stats/rx_packets)
echo_check "direct 1, later still"
sleep 1.2
[ "$(ns_to_app)" = "$n1" ] ||
	fail "the netserver still delivers to the app: $n1 -> $(ns_to_app)"
[ "$(vf_rx)" -gt "$r1" ] || fail "vf0's rx counter did not grow"
wait_for "guest/vf-stats/rx_packets grows" 30 gt $a/guest/vf-stats/rx_packets "$v1"
pass "switch 1: on vf0; the netserver no longer forwards; TCP alive"

to_server
ip -n "$ns_app" -4 addr show tap0 | grep -q "inet 10.203.0.100/24" ||
	fail "tap0 lacks the address after the switch back"
ip -n "$ns_app" route show default | grep -q "via 10.203.0.1 dev tap0" ||
	fail "default route: $(ip -n "$ns_app" route show default)"
xse $a/guest/vf-stats && fail "guest/vf-stats left after the VF"
n2=$(ns_to_app)
echo_check "server 1"
wait_for "netserver counters grow again" 30 gt $sa/stats/to_app_packets "$n2"
pass "switch 2: back on tap0 through the netserver; TCP alive"

#### the round trips #######################################################
start=$(date +%s%N)
for i in $(seq 2 "$ROUNDS"); do
	to_direct
	echo_check "direct $i"
	to_server
	echo_check "server $i"
done
ms=$((($(date +%s%N) - start) / 1000000))
pass "$ROUNDS round trips ($((ROUNDS - 1)) in $ms ms), every step answered"

#### refusals and repeats #################################################
seq=$((seq + 1))
xsw $a/switch/vf vf9 $a/switch/target direct $a/switch/seq $seq
wait_fast "a missing VF answered" 50 is $a/guest/seq $seq
is $a/guest/state ready || fail "state after a refused switch: $(xsr $a/guest/state)"
err=$(xsr $a/guest/error) || fail "no guest/error for a missing VF"
grep -q vf9 <<<"$err" || fail "guest/error does not name the VF: $err"
ip -n "$ns_app" route show default | grep -q "dev tap0" || fail "route moved"
echo_check "after the missing VF"

# A VF that appears after the request, named by its driver (a PCI
# hot-plug under Xen: igbvf calls it ethN): found by the app's MAC,
# renamed to switch/vf, used.
seq=$((seq + 1))
xsw $a/switch/vf vf0 $a/switch/target direct $a/switch/seq $seq
sleep 1
is $a/guest/seq $((seq - 1)) || fail "answered before the VF appeared"
ip -n "$ns_srv" link add swvf link pf0 address $app_mac mtu 9000 \
	type macvlan mode bridge || fail "macvlan for the late VF"
ip -n "$ns_srv" link set swvf netns "$ns_app" name eth7 ||
	fail "moving the late VF in as eth7"
wait_fast "the late VF answered" 50 answered $seq direct
ip -n "$ns_app" -4 addr show vf0 | grep -q "inet 10.203.0.100/24" ||
	fail "the late VF is not vf0 with the address: $(ip -n "$ns_app" -4 addr)"
echo_check "on the late VF"
seq=$((seq + 1))
xsw $a/switch/target server $a/switch/seq $seq
wait_fast "back from the late VF" 50 answered $seq ready
vf_detach "$ns_app"
pass "a VF that appears late under another name is found by its MAC"

# A VF with another MAC: the peers know the app by its own.
vf_attach "$ns_app" 02:00:0a:cb:00:99
seq=$((seq + 1))
xsw $a/switch/vf vf0 $a/switch/target direct $a/switch/seq $seq
wait_fast "a VF with the wrong MAC answered" 50 is $a/guest/seq $seq
is $a/guest/state ready || fail "state after a wrong MAC: $(xsr $a/guest/state)"
grep -q "02:00:0a:cb:00:99" <<<"$(xsr $a/guest/error)" ||
	fail "guest/error: $(xsr $a/guest/error)"
ip -n "$ns_app" -4 addr show vf0 | grep -q inet && fail "vf0 got an address"
vf_detach "$ns_app"
echo_check "after the wrong MAC"

seq=$((seq + 1))
xsw $a/switch/target sideways $a/switch/seq $seq
wait_fast "an unknown target answered" 50 is $a/guest/seq $seq
is $a/guest/state ready || fail "state after an unknown target"
grep -q sideways <<<"$(xsr $a/guest/error)" || fail "guest/error: $(xsr $a/guest/error)"

seq=$((seq + 1))
xsw $a/switch/target server $a/switch/seq $seq
wait_fast "a repeated target answered" 50 answered $seq ready
xse $a/guest/error && fail "guest/error left after a successful answer"

xsw $d/switch/vf vf0 $d/switch/target server $d/switch/seq 1
wait_fast "the direct app answered" 50 is $d/guest/seq 1
is $d/guest/state ready || fail "direct app's state: $(xsr $d/guest/state)"
xse $d/guest/error || fail "a direct app switched without a word"
echo_check "after the refusals"
pass "refusals answered with guest/error, nothing moved; a repeat only answered"

#### the stream ############################################################
touch "$tmp/b.stop"
wait_exit "$conn_b" "the streaming connection" 150
[ "$wstatus" = 0 ] || fail "the streaming connection failed ($wstatus)"
kill -0 "$conn_a" 2>/dev/null || fail "connection A ended"
cmp -s "$tmp/b.sent" "$tmp/b.out" ||
	fail "the stream differs: sent $(wc -l <"$tmp/b.sent"), got $(wc -l <"$tmp/b.out")"
pass "a stream of $(wc -l <"$tmp/b.sent") lines crossed every switch intact"
exec 7>&-

echo "PASS: the switch, guest side"
