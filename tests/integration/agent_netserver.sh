#!/usr/bin/env bash
# End to end through the real data path, without librettod: a client in a
# peer namespace, libretto-netserver owning pf0 in a server namespace,
# libretto-agent bridging tap0 of a dynamic app to it (docs/datapath.md).
# The nodes librettod would write are written by hand.
#
# usage: agent_netserver.sh <libexec dir: agent, netserver, preload> <xenstored>
#
# Checks: ping from the peer to the app; a TCP echo; 20 MB each way,
# compared byte for byte (TSO super-frames cross the VIF); the netserver
# stopped and started again: the agent reconnects and a TCP connection
# opened before the restart still works after it.
# Root only (77 otherwise); everything is removed on every exit path.
set -u -o pipefail

libexec=${1:?usage: $0 <libexec dir> <xenstored>}
xenstored=${2:?}
agent=$libexec/libretto-agent
netserver=$libexec/libretto-netserver
preload=$libexec/libretto-xsd-preload.so

. "$(dirname "$0")/xsd_lib.sh"
xsd_need_root "namespaces, TAP, AF_PACKET"
xsd_need_built "$agent" "$netserver" "$preload"
xsd_need_xenstored "$xenstored"
xsd_need_tools ip socat xenstore-write xenstore-read ping cmp

p=lt-agtest$$
ns_peer=$p-peer
ns_srv=$p-srv
ns_app=$p-app

tmp=$(mktemp -d /tmp/libretto-agtest.XXXXXX) || fail "mktemp"
xsd_start "$tmp" "$preload" "$xenstored"
xsd_wait

# The sim's wiring (docs/sim.md): wire0 in the peer, pf0 in the server.
xsd_netns_add -l "$ns_peer" "$ns_srv" "$ns_app"
ip -n "$ns_peer" link add pf0 mtu 9000 type veth peer name wire0 mtu 9000 ||
	fail "veth"
ip -n "$ns_peer" link set pf0 netns "$ns_srv"
ip -n "$ns_peer" addr add 10.202.0.1/24 dev wire0
ip -n "$ns_peer" link set wire0 up
ip -n "$ns_srv" link set pf0 address 02:00:0a:ca:00:02 up

be=1
app=5
s=/local/domain/$be/libretto
a=/local/domain/$app/libretto
xsw $s/role server $s/net/ip 10.202.0.2 $s/net/prefix 24 \
	$s/net/gateway 10.202.0.1 $s/net/mac 02:00:0a:ca:00:02 \
	$s/server/apps/$app/name app $s/server/apps/$app/mode dynamic \
	$s/server/apps/$app/ip 10.202.0.100 \
	$s/server/apps/$app/mac 02:00:0a:ca:00:64 $s/server/apps/$app/active 1
xsw $a/mode dynamic $a/net/ip 10.202.0.100 $a/net/prefix 24 \
	$a/net/gateway 10.202.0.1 $a/net/mac 02:00:0a:ca:00:64 \
	$a/net/backend $be

start_netserver() {
	ip netns exec "$ns_srv" env LIBRETTO_DOMID=$be \
		XENSTORED_PATH="$XENSTORED_PATH" "$netserver" \
		>>"$tmp/netserver.log" 2>&1 &
	ns_pid=$!
	xsd_track "$ns_pid"
}
start_netserver
ip netns exec "$ns_app" env LIBRETTO_DOMID=$app \
	XENSTORED_PATH="$XENSTORED_PATH" "$agent" -- \
	socat TCP-LISTEN:7000,reuseaddr,fork EXEC:cat >"$tmp/agent.log" 2>&1 &
xsd_track "$!"

connected() { [ "$(xsr $a/guest/vif/state)" = 4 ]; }
wait_for "VIF connected" 50 connected
tmo ip netns exec "$ns_peer" ping -c 3 -i 0.2 -W 2 10.202.0.100 \
	>"$tmp/ping.log" 2>&1 || fail "ping peer -> app"
out=$(echo hello | tmo ip netns exec "$ns_peer" socat -t 2 - \
	TCP:10.202.0.100:7000) || fail "TCP echo"
[ "$out" = hello ] || fail "TCP echo returned '$out'"
pass "ping and TCP echo peer -> netserver -> VIF -> app"

# bulk <from ns> <to ns> <to ip> <port> <copy> <what>: $tmp/big sent over
# TCP from one namespace to a listener in the other, which writes it to
# copy; the two must be identical.
bulk() {
	local from=$1 to=$2 ip=$3 port=$4 copy=$5 what=$6 rcv
	tmo ip netns exec "$to" socat -u TCP-LISTEN:"$port",reuseaddr \
		OPEN:"$copy",creat,trunc &
	rcv=$!
	sleep 0.3
	tmo ip netns exec "$from" socat -u OPEN:"$tmp/big" \
		TCP:"$ip":"$port" || fail "bulk send $what"
	wait $rcv || fail "bulk receive $what"
	cmp -s "$tmp/big" "$copy" || fail "20 MB $what differ"
}
head -c 20000000 /dev/urandom >"$tmp/big" || fail "no test data"
bulk "$ns_peer" "$ns_app" 10.202.0.100 7001 "$tmp/in" "peer -> app"
bulk "$ns_app" "$ns_peer" 10.202.0.1 7002 "$tmp/out" "app -> peer"
pass "20 MB each way, byte for byte"

# A connection across a netserver restart (the point of the design: the
# TCP state is in the app, not in the server).
mkfifo "$tmp/cin"
exec 7<>"$tmp/cin"
ip netns exec "$ns_peer" socat -t 30 - TCP:10.202.0.100:7000 \
	<&7 >"$tmp/conn.out" 2>"$tmp/conn.log" &
conn=$!
xsd_track "$conn"
echo before >&7
got_line() { grep -qx "$1" "$tmp/conn.out"; }
wait_for "echo before the restart" 30 got_line before
kill -TERM $ns_pid
wait $ns_pid 2>/dev/null
xsd_forget "$ns_pid"
closed() { [ "$(xsr $s/server/apps/$app/vif-state)" = 6 ]; }
wait_for "netserver said Closed" 30 closed
start_netserver
wait_for "VIF reconnected" 50 connected
echo after >&7
wait_for "echo after the restart (same connection)" 100 got_line after
kill -0 $conn 2>/dev/null || fail "the client's connection ended"
grep -q "reconnecting" "$tmp/agent.log" || fail "agent did not reconnect"
pass "netserver restarted; the agent reconnected; TCP survived"
exec 7>&-

echo "PASS: agent + netserver end to end"
