#!/usr/bin/env bash
# Integration test of libretto-agent's data path (docs/datapath.md), with
# no librettod: xenstored under the project's preload, the nodes librettod
# would write written by hand, the agent run in namespaces of our own.
#
# usage: agent_datapath.sh <libexec dir: agent, preload> <xenstored> \
#                          <agent_fake_backend>
#
# Checks: dynamic mode (tap0 with IP/MAC/MTU 9000/offloads and the default
# route, guest/vif published, a port claim within 2 s, ping and a jumbo
# ping through a fake backend, reconnect after the backend closes, app
# exit -> agent exits with its status, VIF withdrawn, claim removed);
# server mode (the ephemeral port range); direct mode (a macvlan VF moved
# into the namespace); no net/backend (app runs without networking); a
# broken net/ node (error before the app starts).
# Root only (77 otherwise). Every namespace and process of the test is
# removed on every exit path; nothing touches the host's interfaces.
set -u -o pipefail

libexec=${1:?usage: $0 <libexec dir> <xenstored> <fake backend>}
xenstored=${2:?}
fake=${3:?}
agent=$libexec/libretto-agent
preload=$libexec/libretto-xsd-preload.so

. "$(dirname "$0")/xsd_lib.sh"
xsd_need_root "namespaces, TAP"
xsd_need_built "$agent" "$preload" "$fake"
xsd_need_xenstored "$xenstored" "apt-get install xen-utils-4.17"
xsd_need_tools ip socat xenstore-write xenstore-read xenstore-exists ping

p=lt-agtest$$
ns_dyn=$p-dyn
ns_srv=$p-srv
ns_dir=$p-dir
ns_peer=$p-peer
ns_old=$p-old
ns_bad=$p-bad

tmp=$(mktemp -d /tmp/libretto-agtest.XXXXXX) || fail "mktemp"
xsd_start "$tmp" "$preload" "$xenstored"
xsd_wait

xsd_netns_add "$ns_dyn" "$ns_srv" "$ns_dir" "$ns_peer" "$ns_old" "$ns_bad"

# run_agent <ns> <domid> <log> <app...>: the agent as librettod runs it.
run_agent() {
	local ns=$1 domid=$2 log=$3
	shift 3
	ip netns exec "$ns" env LIBRETTO_DOMID="$domid" \
		XENSTORED_PATH="$XENSTORED_PATH" "$agent" -- "$@" \
		>"$tmp/$log.log" 2>&1 &
	agent_pid=$!
	xsd_track "$agent_pid"
}

state_is() { [ "$(xsr "$1/guest/state")" = "$2" ]; }

#### dynamic mode ##########################################################
be=1
dyn=5
d=/local/domain/$dyn/libretto
xsw $d/mode dynamic $d/net/ip 10.201.0.100 $d/net/prefix 24 \
	$d/net/gateway 10.201.0.1 $d/net/mac 02:00:0a:c9:00:64 \
	$d/net/backend $be
mkfifo "$tmp/stop"
# The app: a TCP service on 7000 until told to stop, then exit 3.
run_agent "$ns_dyn" $dyn dyn sh -c \
	"socat TCP-LISTEN:7000,reuseaddr,fork EXEC:cat & read x <'$tmp/stop'; kill \$!; exit 3"
dyn_pid=$agent_pid
wait_for "dynamic: guest/state ready" 50 state_is $d ready

link=$(ip -n "$ns_dyn" -d link show tap0) || fail "no tap0 in $ns_dyn"
grep -q "mtu 9000" <<<"$link" || fail "tap0 MTU: $link"
grep -q "link/ether 02:00:0a:c9:00:64" <<<"$link" || fail "tap0 MAC: $link"
grep -q "<.*UP.*>" <<<"$link" || fail "tap0 not up: $link"
grep -q "tun type tap" <<<"$link" || fail "tap0 is no TAP: $link"
ip -n "$ns_dyn" -4 addr show tap0 | grep -q "inet 10.201.0.100/24" ||
	fail "tap0 address: $(ip -n "$ns_dyn" -4 addr show tap0)"
route=$(ip -n "$ns_dyn" route show default)
[ "$route" = "default via 10.201.0.1 dev tap0 " ] ||
	[ "$route" = "default via 10.201.0.1 dev tap0" ] ||
	fail "default route: '$route'"
ip -n "$ns_dyn" link show lo | grep -q "<LOOPBACK,UP" || fail "lo not up"
if command -v ethtool >/dev/null; then
	ip netns exec "$ns_dyn" ethtool -k tap0 |
		grep -q "tcp-segmentation-offload: on" ||
		fail "TSO off on tap0: $(ip netns exec "$ns_dyn" ethtool -k tap0)"
fi

[ "$(xsr $d/guest/vif/state)" = 3 ] ||
	fail "guest/vif/state: '$(xsr $d/guest/vif/state)', expected 3"
[ "$(xsr $d/guest/vif/ring-pages)" = 514 ] || fail "ring-pages"
[ "$(xsr $d/guest/vif/platform)" = posix ] || fail "platform"
[ -n "$(xsr $d/guest/vif/ring-ref)" ] || fail "no ring-ref"
[ -n "$(xsr $d/guest/vif/event-channel)" ] || fail "no event-channel"
wait_for "guest/ports/tcp/7000" 20 xse $d/guest/ports/tcp/7000
pass "dynamic: tap0, route, VIF published, port claimed"

# A backend: connect, then the gateway answers through the rings.
bs=/local/domain/$be/libretto/server/apps/$dyn/vif-state
"$fake" $dyn $be 10.201.0.1 >"$tmp/fake1.log" 2>&1 &
fake_pid=$!
xsd_track "$fake_pid"
vif_connected() { [ "$(xsr $d/guest/vif/state)" = 4 ]; }
wait_for "agent connected (guest/vif/state 4)" 50 vif_connected
tmo ip netns exec "$ns_dyn" ping -c 3 -i 0.2 -W 2 10.201.0.1 \
	>"$tmp/ping1.log" 2>&1 || fail "ping through the VIF failed"
tmo ip netns exec "$ns_dyn" ping -c 2 -i 0.2 -W 2 -M do -s 8972 10.201.0.1 \
	>"$tmp/ping2.log" 2>&1 || fail "jumbo ping (9000 bytes) failed"
pass "dynamic: ping and a 9000-byte ping through tap0 and the rings"

# The backend closes (a netserver going away): the agent re-publishes a
# fresh VIF, and a new backend gets through again.
old_ref=$(xsr $d/guest/vif/ring-ref)
kill -TERM $fake_pid
wait_exit $fake_pid "fake backend"
[ "$(xsr $bs)" = 6 ] || fail "fake backend did not say Closed"
new_published() {
	[ "$(xsr $d/guest/vif/state)" = 3 ] &&
		[ "$(xsr $d/guest/vif/ring-ref)" != "$old_ref" ]
}
wait_for "agent re-published after Closed" 30 new_published
"$fake" $dyn $be 10.201.0.1 >"$tmp/fake2.log" 2>&1 &
fake_pid=$!
xsd_track "$fake_pid"
wait_for "agent reconnected" 50 vif_connected
tmo ip netns exec "$ns_dyn" ping -c 2 -i 0.2 -W 2 10.201.0.1 \
	>"$tmp/ping3.log" 2>&1 || fail "ping after reconnect failed"
pass "dynamic: reconnect after the backend closed"

# The backend is killed (no Closed written) and a new one maps the live,
# still published share and formats rx afresh: the agent notices the
# reset ring, re-publishes, and traffic flows again.
old_ref=$(xsr $d/guest/vif/ring-ref)
kill -KILL $fake_pid
wait_exit $fake_pid "fake backend"
"$fake" $dyn $be 10.201.0.1 >"$tmp/fake3.log" 2>&1 &
fake_pid=$!
xsd_track "$fake_pid"
tmo ip netns exec "$ns_dyn" ping -c 10 -i 0.2 -W 2 10.201.0.1 \
	>"$tmp/ping4.log" 2>&1 || fail "ping after a backend restart failed"
[ "$(xsr $d/guest/vif/ring-ref)" != "$old_ref" ] ||
	fail "the agent kept a VIF whose rx the new backend reset"
grep -q "rx ring broken" "$tmp/dyn.log" || fail "no log of the reset ring"
pass "dynamic: a killed and restarted backend (rx reset) is survived"

# App exit: the agent ends with the app's status, withdraws the VIF and
# the port claim.
echo stop >"$tmp/stop"
wait_exit $dyn_pid "agent (dynamic)"
[ "$wstatus" = 3 ] || fail "agent exit status $wstatus, expected 3"
[ "$(xsr $d/guest/vif/state)" = 6 ] || fail "guest/vif/state not Closed"
xse $d/guest/vif/ring-ref && fail "ring-ref still published"
xse $d/guest/ports/tcp/7000 && fail "port claim 7000 left behind"
state_is $d error || fail "guest/state after exit 3: $(xsr $d/guest/state)"
ip -n "$ns_dyn" link show tap0 >/dev/null 2>&1 && fail "tap0 left behind"
kill -TERM $fake_pid 2>/dev/null
wait_exit $fake_pid "fake backend"
pass "dynamic: app exit 3 -> agent exit 3, VIF withdrawn, claim removed"

#### server mode ###########################################################
srv=6
s=/local/domain/$srv/libretto
xsw $s/mode server $s/net/ip 10.201.0.2 $s/net/prefix 24 \
	$s/net/gateway 10.201.0.1 $s/net/mac 02:00:0a:c9:00:02 \
	$s/net/backend $be $s/net/ephemeral 34816-36863
run_agent "$ns_srv" $srv srv sleep 600
srv_pid=$agent_pid
wait_for "server: guest/state ready" 50 state_is $s ready
range=$(ip netns exec "$ns_srv" cat /proc/sys/net/ipv4/ip_local_port_range)
[ "$(echo $range)" = "34816 36863" ] || fail "port range: '$range'"
ip -n "$ns_srv" link show tap0 | grep -q "02:00:0a:c9:00:02" ||
	fail "server mode MAC"
# SIGTERM is forwarded; the agent dies of it as the app did.
kill -TERM $srv_pid
wait_exit $srv_pid "agent (server)"
[ "$wstatus" = 143 ] || fail "agent after SIGTERM: status $wstatus"
pass "server: ephemeral range, shared MAC, SIGTERM forwarded"

#### direct mode ###########################################################
dir=7
r=/local/domain/$dir/libretto
# As the sim makes a VF: a macvlan on the PF, with the app's MAC, moved
# into the app's namespace.
ip -n "$ns_peer" link add pf0 mtu 9000 type veth peer name wire0 mtu 9000 ||
	fail "veth pf0"
ip -n "$ns_peer" link add vf0 link pf0 address 02:00:0a:c9:00:65 \
	type macvlan mode bridge || fail "macvlan vf0"
ip -n "$ns_peer" link set vf0 netns "$ns_dir" || fail "moving vf0"
xsw $r/mode direct $r/net/ip 10.201.0.101 $r/net/prefix 24 \
	$r/net/gateway 10.201.0.1 $r/net/mac 02:00:0a:c9:00:65 $r/net/vf vf0
run_agent "$ns_dir" $dir dir sleep 600
dir_pid=$agent_pid
wait_for "direct: guest/state ready" 50 state_is $r ready
link=$(ip -n "$ns_dir" link show vf0)
grep -q "mtu 9000" <<<"$link" || fail "vf0 MTU: $link"
grep -q "<.*UP.*>" <<<"$link" || fail "vf0 not up: $link"
grep -q "02:00:0a:c9:00:65" <<<"$link" || fail "vf0 MAC changed: $link"
ip -n "$ns_dir" -4 addr show vf0 | grep -q "inet 10.201.0.101/24" ||
	fail "vf0 address"
ip -n "$ns_dir" route show default | grep -q "via 10.201.0.1 dev vf0" ||
	fail "direct default route: $(ip -n "$ns_dir" route show default)"
xse $r/guest/vif/state && fail "direct mode published a VIF"
ip -n "$ns_dir" link show tap0 >/dev/null 2>&1 && fail "direct mode made tap0"
kill -TERM $dir_pid
wait_exit $dir_pid "agent (direct)"
pass "direct: vf0 configured, no VIF"

#### an older daemon: no net/backend ######################################
old=8
o=/local/domain/$old/libretto
xsw $o/mode dynamic $o/net/ip 10.201.0.102 $o/net/prefix 24 \
	$o/net/gateway 10.201.0.1 $o/net/mac 02:00:0a:c9:00:66
run_agent "$ns_old" $old old sh -c "exit 0"
old_pid=$agent_pid
wait_exit $old_pid "agent (no backend)"
[ "$wstatus" = 0 ] || fail "app without networking: status $wstatus"
state_is $o ready || fail "no-backend guest/state: $(xsr $o/guest/state)"
grep -q "without networking" "$tmp/old.log" || fail "no log line about it"
pass "no net/backend: the app runs without networking"

#### a broken node: error before the app starts ###########################
bad=9
b=/local/domain/$bad/libretto
xsw $b/mode dynamic $b/net/ip 10.201.0.300 $b/net/prefix 24 \
	$b/net/gateway 10.201.0.1 $b/net/mac 02:00:0a:c9:00:67 $b/net/backend $be
run_agent "$ns_bad" $bad bad touch "$tmp/bad-app-ran"
bad_pid=$agent_pid
wait_exit $bad_pid "agent (bad node)"
[ "$wstatus" != 0 ] || fail "agent with a broken net/ip exited 0"
state_is $b error || fail "broken net/ip: guest/state $(xsr $b/guest/state)"
[ -e "$tmp/bad-app-ran" ] && fail "the app ran despite the setup failure"
pass "broken net/ip: error, app not started"

echo "PASS: agent data path"
