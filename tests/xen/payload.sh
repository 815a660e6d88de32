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
# check WHAT COMMAND...: PASS or FAIL WHAT by the command's status.
check() {
	what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
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
