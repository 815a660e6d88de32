# shellcheck shell=sh
# Shared by the dom0 payloads of tests/xen (selftest/run, deploy/run, ...):
# sourced by dash in dom0. One PASS/FAIL line per check; a payload exits
# with its number of failures.

CONSOLES=/var/log/xen/console
fails=0

pass() { echo "PASS $*"; }
fail() {
	echo "FAIL $*"
	fails=$((fails + 1))
}
# check WHAT COMMAND...: PASS or FAIL WHAT by the command's status,
# which it returns.
check() {
	what=$1
	shift
	if "$@"; then
		pass "$what"
	else
		fail "$what"
		return 1
	fi
}
uptime_s() { cut -d' ' -f1 /proc/uptime; }
since() { awk -v a="$1" -v b="$(uptime_s)" 'BEGIN {printf "%.1f", b - a}'; }

# state NAME: the State column of `xl list NAME` (r, b, p, s, c, d with
# dashes), empty when there is no such domain.
state() { xl list "$1" 2>/dev/null | awk 'NR == 2 {print $5}'; }

# wait_for SECONDS COMMAND...: polls the command every half second.
# (sh has no local variables: the counter's name is its own.)
wait_for() {
	_wait_for_n=$(($1 * 2))
	shift
	while [ $_wait_for_n -gt 0 ]; do
		"$@" && return 0
		sleep 0.5
		_wait_for_n=$((_wait_for_n - 1))
	done
	return 1
}

console_has() { grep -q "$2" "$CONSOLES/guest-$1.log" 2>/dev/null; }
node_is() { [ "$(xenstore-read "$1" 2>/dev/null)" = "$2" ]; }
no_node() { ! xenstore-exists "$1" 2>/dev/null; }
is_gone() { ! xl domid "$1" >/dev/null 2>&1; }
only_dom0() { [ "$(xl list | awk 'NR > 1 {print $1}')" = Domain-0 ]; }

# The daemon parts (deploy, recovery, adopt) talk to librettod on $SOCK
# about the deployment $DEP, both set by the part before these are called.
ctl() { librettoctl -s $SOCK "$@"; }
# json_true FILE FILTER: jq -e, but false for an empty file too (jq -e
# says yes to no input at all).
json_true() { [ -s "$1" ] && jq -e "$2" "$1" >/dev/null; }
status_json() { ctl status --json $DEP; }
# field_of NAME FIELD: a field of the deployment's domain NAME in status.
field_of() {
	status_json | jq -r --arg n "$1" --arg f "$2" \
		'.deployments[0].domains[] | select(.name == $n) | .[$f]'
}
domid_of() { field_of "$1" domid; }
# netdev_by_mac MAC: the netdev QEMU gave that MAC.
netdev_by_mac() {
	for n in /sys/class/net/*; do
		[ "$(cat "$n/address")" = "$1" ] && basename "$n" && return 0
	done
	return 1
}

# status_sampling_start LABEL: asks librettod for its status every 50 ms
# in the background (status_probe on $SOCK, one request at a time), until
# status_sampling_report LABEL.  LABEL says what runs meanwhile; any
# number of labels may sample at once.
_status_key() { printf '%s' "$1" | tr -c 'A-Za-z0-9' '_'; }
status_sampling_start() {
	_ss_key=$(_status_key "$1")
	status_probe "$SOCK" --interval-ms 50 >"/tmp/status-$_ss_key.json" 2>&1 &
	echo $! >"/tmp/status-$_ss_key.pid"
}
# status_sampling_report LABEL: stops the sampler of LABEL (SIGTERM: a
# request in flight is still answered and counted) and checks that every
# request was answered, none slower than the bounds: the daemon's loop is
# never held (docs/xen.md, "On the loop").  The figures are printed in
# every case.  The bounds allow for a machine loaded by TCG guests: with
# the libxl thread, a deploy under a host load of 16-22 on 2 cores gave
# p99 1.0-1.6 s, max 2.8-4.8 s, every request answered; with libxl on the
# loop, a request went unanswered for 10 s.
STATUS_P99_MAX_MS=2000
STATUS_MAX_MS=5000
status_sampling_report() {
	_ss_key=$(_status_key "$1")
	_ss_pid=$(cat "/tmp/status-$_ss_key.pid" 2>/dev/null)
	if [ -z "$_ss_pid" ]; then
		fail "status answered during $1: no sampler was started"
		return
	fi
	kill -TERM "$_ss_pid" 2>/dev/null
	wait "$_ss_pid" 2>/dev/null
	rm -f "/tmp/status-$_ss_key.pid"
	_ss_json=$(tail -n 1 "/tmp/status-$_ss_key.json")
	_ss_line=$(printf '%s' "$_ss_json" | jq -r '"\(.count) samples, \(.errors) errors, p99 \(.p99_ms // "-") ms, max \(.max_ms // "-") ms"' 2>/dev/null)
	if printf '%s' "$_ss_json" | jq -e --argjson p99 $STATUS_P99_MAX_MS \
		--argjson max $STATUS_MAX_MS \
		'.count > 0 and .errors == 0 and .p99_ms < $p99 and .max_ms < $max' \
		>/dev/null 2>&1; then
		pass "status answered during $1: $_ss_line"
	else
		fail "status answered during $1: ${_ss_line:-no figures} (bounds: p99 < $STATUS_P99_MAX_MS ms, max < $STATUS_MAX_MS ms, no error) $(printf '%s' "$_ss_json" | jq -r '.last_error // empty' 2>/dev/null)"
	fi
}
