#!/usr/bin/env bash
# A new network server (docs/datapath.md, "A new network server"), without
# librettod: the test plays its part.  The network server domain dies
# (kill -9) and a new one, with a new domid, takes over: its tree written
# as at the first deploy, libretto-netserver started in the same namespace
# (pf0 stays there: the namespace is not the domid), each app's
# net/backend rewritten.  Each agent must follow, and the apps' TCP
# connections must survive.
#
# usage: agent_recovery.sh <libexec dir: agent, netserver, preload> <xenstored>
#
# Apps: a server-mode app (the shared server IP, tcp/7000 in the
# portmap), a dynamic app on its own IP, and a dynamic app switched to its
# VF before the first crash (its idle VIF must follow too, so that the
# switch back at the end works).  Two streams of numbered lines from the
# peer, echoed by the two apps on the server path, run throughout and are
# checked byte for byte, at every round (what came back is a prefix of
# what was sent, and grows again after the reconnect) and at the end.
# ROUNDS (10) times: kill -9 the server, remove its tree, write the new
# one, start the new server, rewrite net/backend, wait until every agent
# reports the reconnect (guest/vif-reconnects).  Varied: net/backend
# rewritten before the new server exists or after it runs; once removed
# for a while first; once the peer's ARP entry for the server IP is
# spoiled, which the new server's gratuitous ARP must repair.
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
xsd_need_tools ip socat xenstore-write xenstore-read xenstore-rm cmp tee

ROUNDS=${ROUNDS:-10}
p=lt-rectest$$
ns_peer=$p-peer
ns_srv=$p-srv
ns_sapp=$p-sapp
ns_dapp=$p-dapp
ns_vapp=$p-vapp

tmp=$(mktemp -d /tmp/libretto-rectest.XXXXXX) || fail "mktemp"
xsd_start "$tmp" "$preload" "$xenstored"
xsd_wait

net=10.204.0
srv_ip=$net.2
srv_mac=02:00:0a:cc:00:02
dapp_ip=$net.100
dapp_mac=02:00:0a:cc:00:64
vapp_ip=$net.101
vapp_mac=02:00:0a:cc:00:65

xsd_netns_add -l "$ns_peer" "$ns_srv" "$ns_sapp" "$ns_dapp" "$ns_vapp"
ip -n "$ns_peer" link add pf0 mtu 9000 type veth peer name wire0 mtu 9000 ||
	fail "veth"
ip -n "$ns_peer" link set pf0 netns "$ns_srv"
ip -n "$ns_peer" addr add $net.1/24 dev wire0
ip -n "$ns_peer" link set wire0 up
ip -n "$ns_srv" link set pf0 address $srv_mac up

# Domids: the first server 1, the apps 20, 21, 22; each new server takes
# the next domid, as Xen gives a new domain.
S=1
sapp=20
dapp=21
vapp=22
apps="$sapp $dapp $vapp"
vapp_active=1

# write_server <domid>: the new server's tree, as librettod writes it at
# deploy: its identity, every app, the portmap.
write_server() {
	local d=/local/domain/$1 s=/local/domain/$1/libretto
	xsw "$d"/name rec-server "$d"/domid "$1" \
		"$s"/role server "$s"/name server "$s"/net/ip $srv_ip \
		"$s"/net/prefix 24 "$s"/net/gateway $net.1 "$s"/net/mac $srv_mac \
		"$s"/server/apps/$sapp/name sapp "$s"/server/apps/$sapp/mode server \
		"$s"/server/apps/$sapp/ip $srv_ip "$s"/server/apps/$sapp/mac $srv_mac \
		"$s"/server/apps/$sapp/ephemeral 32768-34815 \
		"$s"/server/apps/$sapp/active 1 \
		"$s"/server/apps/$dapp/name dapp "$s"/server/apps/$dapp/mode dynamic \
		"$s"/server/apps/$dapp/ip $dapp_ip "$s"/server/apps/$dapp/mac $dapp_mac \
		"$s"/server/apps/$dapp/ephemeral "" "$s"/server/apps/$dapp/active 1 \
		"$s"/server/apps/$vapp/name vapp "$s"/server/apps/$vapp/mode dynamic \
		"$s"/server/apps/$vapp/ip $vapp_ip "$s"/server/apps/$vapp/mac $vapp_mac \
		"$s"/server/apps/$vapp/ephemeral "" \
		"$s"/server/apps/$vapp/active $vapp_active \
		"$s"/server/portmap/tcp/7000 $sapp
}

# write_app <domid> <mode> <ip> <mac> [ephemeral]
write_app() {
	local a=/local/domain/$1/libretto
	xsw "$a"/role app "$a"/mode "$2" "$a"/net/ip "$3" "$a"/net/prefix 24 \
		"$a"/net/gateway $net.1 "$a"/net/mac "$4" "$a"/net/backend $S
	[ -z "${5:-}" ] || xsw "$a"/net/ephemeral "$5"
}

# set_backends <domid>: one write per app, as librettod does (in one
# client here: the test's own latency would count as the agents').
set_backends() {
	local id args=()
	for id in $apps; do
		args+=("/local/domain/$id/libretto/net/backend" "$1")
	done
	xsw "${args[@]}"
}

start_netserver() {
	ip netns exec "$ns_srv" env LIBRETTO_DOMID="$S" \
		XENSTORED_PATH="$XENSTORED_PATH" "$netserver" \
		>>"$tmp/netserver.log" 2>&1 &
	ns_pid=$!
	xsd_track "$ns_pid"
}

# start_agent <domid> <ns> <log>: the app echoes every line on tcp/7000.
start_agent() {
	ip netns exec "$2" env LIBRETTO_DOMID="$1" \
		XENSTORED_PATH="$XENSTORED_PATH" "$agent" -- \
		socat TCP-LISTEN:7000,reuseaddr,fork EXEC:cat >"$tmp/$3.log" 2>&1 &
	xsd_track "$!"
}

write_server $S
write_app $sapp server $srv_ip $srv_mac 32768-34815
write_app $dapp dynamic $dapp_ip $dapp_mac
write_app $vapp dynamic $vapp_ip $vapp_mac
start_netserver
start_agent $sapp "$ns_sapp" sapp
start_agent $dapp "$ns_dapp" dapp
start_agent $vapp "$ns_vapp" vapp

# wait_fast: wait_for polling every 50 ms; wait_quick every 10 ms (for
# what the outage waits on, so that the test's polling adds little).
wait_fast() {
	local what=$1 n=$2
	shift 2
	for _ in $(seq 1 $((n * 2))); do
		"$@" && return 0
		sleep 0.05
	done
	fail "$what (not within $((n / 10)) s)"
}
wait_quick() {
	local what=$1 n=$2
	shift 2
	for _ in $(seq 1 $((n * 10))); do
		"$@" && return 0
		sleep 0.01
	done
	fail "$what (not within $((n / 10)) s)"
}
is() { [ "$(xsr "$1")" = "$2" ]; }

for id in $apps; do
	wait_for "app $id: VIF connected" 50 is "/local/domain/$id/libretto/guest/vif/state" 4
	wait_for "app $id: ready" 50 is "/local/domain/$id/libretto/guest/state" ready
	is "/local/domain/$id/libretto/guest/vif-reconnects" 0 ||
		fail "app $id: guest/vif-reconnects is not 0 at boot"
done
pass "three apps connected to server domain $S"

#### the dynamic app on its VF ##############################################
va=/local/domain/$vapp/libretto
ip -n "$ns_srv" link add recvf link pf0 address $vapp_mac mtu 9000 \
	type macvlan mode bridge || fail "macvlan"
ip -n "$ns_srv" link set recvf netns "$ns_vapp" || fail "moving the VF"
ip -n "$ns_vapp" link set recvf name vf0 || fail "renaming the VF"
xsw $va/switch/vf vf0 $va/switch/target direct $va/switch/seq 1
wait_fast "vapp switched to its VF" 50 is $va/guest/state direct
vapp_active=0
xsw "/local/domain/$S/libretto/server/apps/$vapp/active" 0
wait_fast "vapp: acked=0" 50 is "/local/domain/$S/libretto/server/apps/$vapp/acked" 0

# Connection C to vapp, on its VF now: one marker echoed per check.
mkfifo "$tmp/cin"
exec 7<>"$tmp/cin"
ip netns exec "$ns_peer" socat -t 30 - TCP:$vapp_ip:7000 \
	<&7 >"$tmp/c.out" 2>"$tmp/c.log" &
conn_c=$!
xsd_track "$conn_c"
got() { grep -qx "$1" "$tmp/c.out"; }
echo "on the VF" >&7
wait_fast "echo from vapp on its VF" 50 got "on the VF"
pass "vapp on its VF, its VIF connected and idle"

#### the streams ############################################################
# stream <name> <ip>: numbered lines every 10 ms to <ip>:7000, echoed
# back; sent in $tmp/<name>.sent, received in $tmp/<name>.out.
stream() {
	(
		i=0
		while [ ! -e "$tmp/stop" ]; do
			i=$((i + 1))
			echo "$1 line $i of a stream across new network servers"
			sleep 0.01
		done
	) | tee "$tmp/$1.sent" |
		ip netns exec "$ns_peer" socat -t 10 - TCP:"$2":7000 \
			>"$tmp/$1.out" 2>"$tmp/$1.log" &
}
stream shared $srv_ip
st_shared=$!
xsd_track "$st_shared"
stream own $dapp_ip
st_own=$!
xsd_track "$st_own"
lines() { wc -l <"$tmp/$1.out"; }
grown() { [ "$(lines "$1")" -ge "$2" ]; }
wait_fast "the stream through the shared IP started" 50 grown shared 5
wait_fast "the stream to the dynamic app's IP started" 50 grown own 5

# intact <name>: what came back is exactly the start of what was sent.
intact() {
	local n
	n=$(stat -c %s "$tmp/$1.out")
	cmp -s -n "$n" "$tmp/$1.sent" "$tmp/$1.out" ||
		fail "stream $1 corrupted: $(cmp -n "$n" "$tmp/$1.sent" "$tmp/$1.out")"
}

#### the rounds #############################################################
reconnects_are() {
	local id
	for id in $apps; do
		is "/local/domain/$id/libretto/guest/vif-reconnects" "$1" || return 1
	done
}
peer_arp_ok() {
	ip -n "$ns_peer" neigh show $srv_ip dev wire0 | grep -q "lladdr $srv_mac"
}
declare -A times
total_start=$(date +%s%N)
for r in $(seq 1 "$ROUNDS"); do
	old=$S
	S=$((S + 1))
	n_shared=$(lines shared)
	n_own=$(lines own)
	t0=$(date +%s%N)
	kill -KILL "$ns_pid"
	wait "$ns_pid" 2>/dev/null
	xsd_forget "$ns_pid"
	# librettod, once the old domain is destroyed.
	tmo xenstore-rm /local/domain/$old || fail "xenstore-rm /local/domain/$old"
	how="net/backend after the server runs"
	if [ "$r" = 5 ]; then
		# No backend for a while: the agents drop to none and wait.
		for id in $apps; do
			tmo xenstore-rm "/local/domain/$id/libretto/net/backend" ||
				fail "xenstore-rm net/backend"
		done
		sleep 0.3
		how="net/backend removed for 0.3 s, rewritten after"
	fi
	if [ "$r" = 3 ]; then
		# A peer that lost the server: its entry points elsewhere.
		ip -n "$ns_peer" neigh replace $srv_ip lladdr 02:00:0a:cc:00:99 \
			dev wire0 nud stale || fail "spoiling the peer's ARP entry"
		how="$how, the peer's ARP entry spoiled"
	fi
	if [ $((r % 2)) = 0 ]; then
		set_backends $S
		how="net/backend before the server exists"
	fi
	write_server $S
	start_netserver
	wait_quick "round $r: server $S running" 50 \
		is "/local/domain/$S/libretto/server/state" running
	[ $((r % 2)) = 0 ] || set_backends $S
	wait_fast "round $r: every agent reconnected to server $S" 50 \
		reconnects_are "$r"
	t1=$(date +%s%N)
	for id in $apps; do
		is "/local/domain/$id/libretto/guest/vif/state" 4 ||
			fail "round $r: app $id not Connected"
		ms=$(xsr "/local/domain/$id/libretto/guest/vif-reconnect-ms") ||
			fail "round $r: app $id: no guest/vif-reconnect-ms"
		times[$id]="${times[$id]:-} $ms"
	done
	if [ "$r" = 3 ]; then
		wait_fast "round 3: the gratuitous ARP repaired the peer's entry" \
			20 peer_arp_ok
	fi
	# Alive: the streams move again, and what came back is intact.
	wait_for "round $r: the stream through the shared IP moves again" 50 \
		grown shared $((n_shared + 10))
	wait_for "round $r: the stream to the dynamic app moves again" 50 \
		grown own $((n_own + 10))
	intact shared
	intact own
	t2=$(date +%s%N)
	echo "round $r ($how): server $old -> $S; reconnected in" \
		"$(((t1 - t0) / 1000000)) ms after the kill, streams moving" \
		"$(((t2 - t0) / 1000000)) ms after it"
done
total_ms=$((($(date +%s%N) - total_start) / 1000000))
[ "$ROUNDS" -lt 5 ] || grep -q "no backend (was domain" "$tmp/dapp.log" ||
	fail "the agent did not report going without a backend"
pass "$ROUNDS new servers in $total_ms ms; every agent followed each"

# summary <name> <times...>: min, median, max.
summary() {
	local name=$1
	shift
	sort -n <<<"$(printf '%s\n' "$@")" | awk -v n="$name" '
		{ v[NR] = $1 }
		END { printf "  %s: min %d, median %d, max %d ms (%d reconnects)\n",
			n, v[1], v[int((NR + 1) / 2)], v[NR], NR }'
}
echo "reconnect times reported by the agents (guest/vif-reconnect-ms):"
# shellcheck disable=SC2086 # word splitting wanted: one value per round
summary "server-mode app" ${times[$sapp]}
# shellcheck disable=SC2086
summary "dynamic app" ${times[$dapp]}
# shellcheck disable=SC2086
summary "dynamic app on its VF (idle VIF)" ${times[$vapp]}
for id in $apps; do
	echo "  app $id: all: ${times[$id]} ms;" \
		"frames dropped without a backend:" \
		"$(xsr "/local/domain/$id/libretto/guest/vif-outage-drops")"
done
# The agents' own share: from net/backend naming the new server to
# Connected, in the rounds where the server already ran by then (in the
# others it includes the server's start).
echo "of which the handshake, net/backend written after the server ran:"
for log in sapp dapp vapp; do
	# shellcheck disable=SC2046 # one value per reconnect
	summary "$log" $(grep -o "reconnect [0-9]*[13579] to .*(\([0-9.]*\) ms after" \
		"$tmp/$log.log" | sed 's/.*(\([0-9]*\).*/\1/')
done

#### vapp back to the server path, through the last new server ##############
sv=/local/domain/$S/libretto/server/apps/$vapp
echo "still on the VF" >&7
wait_fast "echo from vapp on its VF after the rounds" 50 got "still on the VF"
vapp_active=1
xsw $sv/active 1
wait_fast "vapp: acked=1 by server $S" 50 is $sv/acked 1
xsw $va/switch/target server $va/switch/seq 2
wait_fast "vapp switched back to the server path" 50 is $va/guest/state ready
ip -n "$ns_vapp" link set vf0 netns "$ns_srv" || fail "moving vf0 out"
ip -n "$ns_srv" link del vf0 || fail "deleting the VF"
echo "back on the server" >&7
wait_fast "echo from vapp through server $S" 100 got "back on the server"
gt() { local v; v=$(xsr "$1") && [ -n "$v" ] && [ "$v" -gt "$2" ]; }
wait_for "server $S forwards to vapp" 30 gt $sv/stats/to_app_packets 0
kill -0 "$conn_c" 2>/dev/null || fail "connection C ended"
exec 7>&-
pass "vapp's VIF followed every server: back on it, connection C alive"

#### the streams, whole #####################################################
touch "$tmp/stop"
wait_exit "$st_shared" "the stream through the shared IP" 150
[ "$wstatus" = 0 ] || fail "the stream through the shared IP failed ($wstatus)"
wait_exit "$st_own" "the stream to the dynamic app" 150
[ "$wstatus" = 0 ] || fail "the stream to the dynamic app failed ($wstatus)"
for st in shared own; do
	cmp -s "$tmp/$st.sent" "$tmp/$st.out" ||
		fail "stream $st differs: sent $(wc -l <"$tmp/$st.sent") lines, got $(lines $st)"
done
pass "streams of $(wc -l <"$tmp/shared.sent") and $(wc -l <"$tmp/own.sent") lines crossed $ROUNDS new servers intact"

# The last server stops cleanly, and says so to every app.
kill -TERM "$ns_pid"
wait_exit "$ns_pid" "the last netserver"
[ "$wstatus" = 0 ] || fail "the last netserver exited with status $wstatus"
for id in $sapp $dapp; do
	is "/local/domain/$S/libretto/server/apps/$id/vif-state" 6 ||
		fail "server $S did not close app $id's VIF"
done

echo "PASS: apps follow a new network server"
