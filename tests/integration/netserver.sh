#!/usr/bin/env bash
# Integration test of libretto-netserver (docs/datapath.md) without
# librettod: xenstored under the preload, a server namespace with pf0, a
# peer namespace with wire0 (the outside), and two app namespaces whose
# VIF frontends are tests/integration/netserver_front (a TAP bridged to
# the rings).  The xenstore nodes librettod would write are written here.
#
# usage: netserver.sh <preload.so> <xenstored> <libretto-netserver> <front>
# Root only (namespaces, TAP): otherwise it skips with 77.  Everything it
# made (processes, namespaces, files) is removed on every exit path.
set -u -o pipefail

preload=${1:?}
xenstored=${2:?}
netserver=${3:?}
front=${4:?}

. "$(dirname "$0")/xsd_lib.sh"
xsd_need_root "namespaces, TAP"
xsd_need_tools ip socat ping xenstore-write xenstore-read xenstore-rm
xsd_need_xenstored "$xenstored"
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun"; exit 77; }

tag=lt-nst$$
NS_SRV=$tag-srv NS_PEER=$tag-peer NS_A=$tag-a NS_B=$tag-b
tmp=$(mktemp -d /tmp/libretto-nstest.XXXXXX) || fail "mktemp"

xsd_start "$tmp" "$preload" "$xenstored"
xsd_wait

# wait_xs <path> <value> [tries of 0.1 s]
wait_xs() {
	for _ in $(seq 1 "${3:-100}"); do
		[ "$(xsr "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	fail "$1: expected '$2', got '$(xsr "$1")'"
}

SRV=1 A=2 B=3
GW=10.231.0.1 SIP=10.231.0.2 BIP=10.231.0.100
SMAC=02:4c:54:00:00:02 BMAC=02:4c:54:00:00:64
S=/local/domain/$SRV/libretto

# --- the network -----------------------------------------------------
xsd_netns_add -l $NS_SRV $NS_PEER $NS_A $NS_B
ip link add "$tag-p" type veth peer name "$tag-w" || fail "veth"
ip link set "$tag-p" netns $NS_SRV
ip link set "$tag-w" netns $NS_PEER
ip -n $NS_SRV link set "$tag-p" name pf0
ip -n $NS_PEER link set "$tag-w" name wire0
ip -n $NS_SRV link set pf0 address $SMAC mtu 9000 up
ip -n $NS_PEER link set wire0 mtu 9000 up
ip -n $NS_PEER addr add $GW/24 dev wire0

# --- what librettod would write --------------------------------------
xsw $S/role server $S/net/ip $SIP $S/net/prefix 24 $S/net/gateway $GW \
	$S/net/mac $SMAC
app_nodes() { # <domid> <mode> <ip> <mac> [ephemeral]
	xsw $S/server/apps/$1/name app$1 $S/server/apps/$1/mode $2 \
		$S/server/apps/$1/ip $3 $S/server/apps/$1/mac $4 \
		$S/server/apps/$1/active 1
	[ -n "${5:-}" ] && xsw $S/server/apps/$1/ephemeral "$5"
	xsw /local/domain/$1/libretto/net/backend $SRV
}
app_nodes $A server $SIP $SMAC 32768-34815
xsw $S/server/portmap/tcp/8080 $A $S/server/portmap/tcp/5001 $A

ip netns exec $NS_SRV env LIBRETTO_DOMID=$SRV "$netserver" \
	>"$tmp/netserver.log" 2>&1 &
ns_pid=$!
xsd_track "$ns_pid"
wait_xs $S/server/state running
pass "netserver running"

# start_front <domid> <ns> <mac> <ip> [inject]: the app's VIF and stack
start_front() {
	ip netns exec "$2" env LIBRETTO_DOMID=$1 "$front" $SRV tap0 ${5:+$5 $3} \
		>"$tmp/front$1.log" 2>&1 &
	local pid=$!
	for _ in $(seq 1 50); do
		ip -n "$2" link show tap0 >/dev/null 2>&1 && break
		sleep 0.1
	done
	ip -n "$2" link set tap0 address "$3" mtu 9000 up ||
		fail "tap0 in $2"
	ip -n "$2" addr add "$4"/24 dev tap0
	ip -n "$2" route add default via $GW
	wait_xs $S/server/apps/$1/vif-state 4
	echo "$pid"
}
ip netns exec $NS_A sysctl -qw net.ipv4.ip_local_port_range="32768 34815"
fa_pid=$(start_front $A $NS_A $SMAC $SIP) || exit 1
xsd_track "$fa_pid"
pass "server-mode app $A connected (vif-state 4)"

# --- 1. the server's own ARP + ICMP ---------------------------------
ip netns exec $NS_PEER ping -c 3 -i 0.2 -W 2 $SIP >"$tmp/ping1.log" 2>&1 ||
	fail "ping $SIP from the peer"
pass "ping $SIP (the netserver's ICMP: $(tail -n 1 "$tmp/ping1.log"))"

# tcp_reply <server ns> <listen address> <reply> <client ns> <address>: a
# socat server answering reply, and one client connection to it; what the
# client got is in $got.
tcp_reply() {
	ip netns exec "$1" socat "$2" SYSTEM:"echo $3" \
		>"$tmp/socat-$3.log" 2>&1 &
	xsd_track "$!"
	sleep 0.3
	got=$(ip netns exec "$4" timeout 10 socat -T 5 - "$5" </dev/null)
}

# --- 2. inbound TCP through the portmap ------------------------------
tcp_reply $NS_A TCP-LISTEN:8080,reuseaddr,fork hello-from-app \
	$NS_PEER TCP:$SIP:8080
[ "$got" = hello-from-app ] || fail "TCP $SIP:8080 answered '$got'"
pass "TCP $SIP:8080 reaches the server-mode app through the portmap"

# --- 3. outbound TCP from the server-mode app (ephemeral dispatch) ---
tcp_reply $NS_PEER TCP-LISTEN:7000,reuseaddr hello-from-peer \
	$NS_A TCP:$GW:7000
[ "$got" = hello-from-peer ] || fail "TCP from the app to $GW:7000: '$got'"
pass "outbound TCP of the server-mode app (replies via its ephemeral range)"

# --- 4. a dedicated-IP app, with malformed frames on its tx ring ------
ip netns exec $NS_PEER tcpdump -i wire0 -U -w "$tmp/cap.pcap" \
	arp and arp[24:2] = 0xc000 and arp[26:1] = 2 >"$tmp/tcpdump.log" 2>&1 &
cap_pid=$!
xsd_track "$cap_pid"
sleep 1
app_nodes $B dynamic $BIP $BMAC
fb_pid=$(start_front $B $NS_B $BMAC $BIP inject) || exit 1
xsd_track "$fb_pid"
pass "dynamic app $B connected"
ip netns exec $NS_PEER ping -c 3 -i 0.2 -W 2 $BIP >"$tmp/ping2.log" 2>&1 ||
	fail "ping $BIP (dedicated-IP app) from the peer"
pass "ping $BIP answered by the dedicated-IP app ($(tail -n 1 "$tmp/ping2.log"))"
wait_xs $S/server/apps/$B/stats/malformed 5 30
pass "5 malformed frames counted in server/apps/$B/stats/malformed"
sleep 0.5
kill "$cap_pid"
wait "$cap_pid" 2>/dev/null
xsd_forget "$cap_pid"
if command -v tcpdump >/dev/null; then
	n=$(tcpdump -r "$tmp/cap.pcap" -x 2>/dev/null | grep -c '^[0-9]')
	[ "$n" = 1 ] || fail "wire0 saw $n ARP probes for 192.0.2.0/24, want 1 (the good marker)"
	# the target address: .71 ('G') for the good one, .66 ('B') for bad
	tcpdump -nn -r "$tmp/cap.pcap" 2>/dev/null | grep -q 'who-has 192.0.2.71' ||
		fail "the marker on wire0 is not the good one"
	pass "on wire0: the good marker only, none of the malformed frames"
fi

# --- 5. counters ------------------------------------------------------
sleep 1.2
for leaf in to_app_packets from_app_packets to_app_bytes from_app_bytes; do
	v=$(xsr $S/server/apps/$A/stats/$leaf)
	[ "${v:-0}" -gt 0 ] || fail "server/apps/$A/stats/$leaf = '$v'"
done
for leaf in rx_packets tx_packets; do
	v=$(xsr $S/server/stats/$leaf)
	[ "${v:-0}" -gt 0 ] || fail "server/stats/$leaf = '$v'"
done
pass "counters: app $A $(xsr $S/server/apps/$A/stats/to_app_packets) in / $(xsr $S/server/apps/$A/stats/from_app_packets) out; PF rx $(xsr $S/server/stats/rx_packets) tx $(xsr $S/server/stats/tx_packets)"

# --- 6. apps come and go ---------------------------------------------
kill "$fb_pid"
wait "$fb_pid" 2>/dev/null
xsd_forget "$fb_pid"
timeout 10 xenstore-rm $S/server/apps/$B
ip netns exec $NS_PEER ping -c 2 -i 0.2 -W 1 $BIP >/dev/null 2>&1 &&
	fail "$BIP still answers after its app left"
ip netns exec $NS_PEER ping -c 2 -i 0.2 -W 2 $SIP >/dev/null 2>&1 ||
	fail "ping $SIP after app $B left"
ip -n $NS_B link del tap0 2>/dev/null
app_nodes $B dynamic $BIP $BMAC
fb_pid=$(start_front $B $NS_B $BMAC $BIP) || exit 1
xsd_track "$fb_pid"
ip netns exec $NS_PEER ping -c 2 -i 0.2 -W 2 $BIP >/dev/null 2>&1 ||
	fail "ping $BIP after app $B came back"
pass "app $B left and came back; the server kept serving"

# --- 7. throughput (informative) ---------------------------------------
ip netns exec $NS_A socat -u TCP-LISTEN:5001,reuseaddr - >/dev/null 2>&1 &
xsd_track "$!"
sleep 0.3
c0=$(xsd_cpu_ticks $ns_pid) f0=$(xsd_cpu_ticks $fa_pid)
t0=$(date +%s%N)
if head -c 500000000 /dev/zero |
	ip netns exec $NS_PEER timeout 60 socat -u - TCP:$SIP:5001; then
	t1=$(date +%s%N)
	echo "throughput peer -> server-mode app: 500 MB in $(((t1 - t0) / 1000000)) ms" \
		"= $((500 * 8 * 1000 / ((t1 - t0) / 1000000))) Mbit/s;" \
		"app $A drops $(sleep 1.1; xsr $S/server/apps/$A/stats/drops);" \
		"CPU ticks: netserver $(($(xsd_cpu_ticks $ns_pid) - c0)), frontend $(($(xsd_cpu_ticks $fa_pid) - f0))"
fi

# --- 8. idle: asleep in poll(), not spinning --------------------------
sleep 1.5 # let the last stats write pass
t0=$(xsd_cpu_ticks $ns_pid)
sleep 2
t1=$(xsd_cpu_ticks $ns_pid)
[ $((t1 - t0)) -le 10 ] || fail "netserver used $((t1 - t0)) ticks in 2 s idle"
pass "idle netserver: $((t1 - t0)) CPU ticks in 2 s"

# --- 9. clean stop ---------------------------------------------------
kill -TERM "$ns_pid"
wait_exit "$ns_pid" "netserver (SIGTERM)" 50
[ "$wstatus" = 0 ] || fail "netserver exited $wstatus on SIGTERM"
[ "$(xsr $S/server/apps/$A/vif-state)" = 6 ] || fail "vif-state of $A not 6 after stop"
pass "SIGTERM: exit 0, vif-state 6"
echo "PASS: netserver"
