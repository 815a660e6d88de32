# shellcheck shell=bash
# Shared by the tests that run Debian's xenstored under the project's
# preload library without librettod (xenstored_preload.sh, netserver.sh,
# agent_datapath.sh, agent_netserver.sh). Sourced, after `set -u -o
# pipefail`. (lib.sh is the other helper: a whole librettod on the sim.)
#
#   . "$(dirname "$0")/xsd_lib.sh"
#   xsd_need_root WHY; xsd_need_built FILE...; xsd_need_tools TOOL...
#   tmp=$(mktemp -d ...) || fail mktemp
#   xsd_start "$tmp" PRELOAD_SO XENSTORED_BIN [xenstored args]; xsd_wait
#   xsd_netns_add [-l] NS...; some_cmd & xsd_track $!
#
# On every exit path (EXIT, and INT/TERM through exit) the tracked
# processes get SIGTERM, every process in the namespaces made here is
# killed and the namespaces deleted, xenstored is stopped and $tmp removed.
#
# Globals: tmp (the test's directory, set by the test), xsd_pid, xsd_pids
# (tracked background processes), xsd_netns (namespaces made here).

tmp=""
xsd_pid=""
xsd_pids=()
xsd_netns=()

# --- skipping (77) when the test cannot run here ----------------------

# xsd_need_root [why]
xsd_need_root() {
	[ "$(id -u)" = 0 ] && return 0
	echo "SKIP: needs root${1:+ ($1)}"
	exit 77
}

# xsd_need_built FILE...: the project's own binaries.
xsd_need_built() {
	local f
	for f in "$@"; do
		[ -e "$f" ] || {
			echo "SKIP: $f not built"
			exit 77
		}
	done
}

# xsd_need_xenstored BIN [hint]
xsd_need_xenstored() {
	[ -x "$1" ] && return 0
	echo "SKIP: no $1${2:+ ($2)}"
	exit 77
}

# xsd_need_tools TOOL...
xsd_need_tools() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null || {
			echo "SKIP: $t not found"
			exit 77
		}
	done
}

# --- results ----------------------------------------------------------

# fail MSG: ends the test (status 1), showing the tail of every log in $tmp
# (*.log, and xenstored's trace if there is one).
fail() {
	local f
	echo "FAIL: $*" >&2
	if [ -n "$tmp" ]; then
		for f in "$tmp"/*.log "$tmp/trace"; do
			[ -s "$f" ] || continue
			echo "--- $f:" >&2
			tail -n 30 "$f" >&2
		done
	fi
	exit 1
}

pass() { echo "ok: $*"; }

# --- xenstore clients -------------------------------------------------

# A client must never hang the test: if xenstored stops answering, each
# tool gives up after 10 s instead of waiting for ctest's timeout, which
# would kill the script without running its cleanup.
tmo() { timeout 10 "$@"; }
xsr() { tmo xenstore-read "$1" 2>/dev/null; }
xsw() { tmo xenstore-write "$@" >/dev/null || fail "xenstore-write $*"; }
xse() { tmo xenstore-exists "$1" 2>/dev/null; }

# wait_for <what> <tenths of s> <command...>: fails the test on timeout.
wait_for() {
	local what=$1 n=$2
	shift 2
	for _ in $(seq 1 "$n"); do
		"$@" && return 0
		sleep 0.1
	done
	fail "$what (not within $((n / 10)) s)"
}

# --- processes and namespaces -----------------------------------------

# xsd_track PID: killed (SIGTERM) when the test ends.
xsd_track() { xsd_pids+=("$@"); }

# xsd_forget PID: a tracked process the test has waited for itself.
xsd_forget() {
	local p keep=()
	for p in "${xsd_pids[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	xsd_pids=("${keep[@]}")
}

# wait_exit <pid> <what> [tenths of s]: waits (10 s by default) for a
# background process to end, fails the test if it does not; its status in
# $wstatus.
wait_exit() {
	local pid=$1 what=$2 n=${3:-100}
	for _ in $(seq 1 "$n"); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && fail "$what did not exit within $((n / 10)) s"
	wait "$pid"
	# shellcheck disable=SC2034 # the caller reads it
	wstatus=$?
	xsd_forget "$pid"
}

# xsd_netns_add [-l] NS...: makes the namespaces (deleted at the end);
# -l brings their lo up.
xsd_netns_add() {
	local lo="" ns
	if [ "${1:-}" = -l ]; then
		lo=1
		shift
	fi
	for ns in "$@"; do
		ip netns add "$ns" || fail "ip netns add $ns"
		xsd_netns+=("$ns")
		[ -z "$lo" ] || ip -n "$ns" link set lo up
	done
}

# xsd_cpu_ticks PID: user + system CPU ticks of a process.
xsd_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# --- xenstored --------------------------------------------------------

# xsd_start RUNDIR PRELOAD_SO XENSTORED_BIN [xenstored args...]: starts
# xenstored under the preload, its socket RUNDIR/socket, its run directory
# RUNDIR/run (left for xenstored to create: it must not need anything
# prepared, nor fall back to /var/run/xenstored), its output in
# RUNDIR/xenstored.log. XENSTORED_PATH and XENSTORED_RUNDIR are exported:
# clients (libxenstore) honour the same variable as the server.
# -N: stay in the foreground (we own the pid; -D would crash 4.17). Its
# stdin is closed on purpose: the daemon must not stop when the launcher's
# stdin goes away.
xsd_start() {
	local dir=$1 preload=$2 bin=$3
	shift 3
	export XENSTORED_PATH="$dir/socket"
	export XENSTORED_RUNDIR="$dir/run"
	LD_PRELOAD="$preload" "$bin" -N "$@" <&- >"$dir/xenstored.log" 2>&1 &
	xsd_pid=$!
}

# xsd_wait: until xenstored answers requests (10 s at most; a daemon that
# exits during start-up fails at once). The socket is bound before the
# daemon opens the (faked) hypervisor interfaces, so its mere presence
# proves little.
xsd_wait() {
	for _ in $(seq 1 200); do
		kill -0 "$xsd_pid" 2>/dev/null || {
			wait "$xsd_pid"
			fail "xenstored exited with status $? during start-up"
		}
		if [ -S "$XENSTORED_PATH" ] &&
			tmo xenstore-exists /tool/xenstored 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	fail "xenstored not answering on $XENSTORED_PATH after 10 s"
}

xsd_stop() {
	[ -n "$xsd_pid" ] || return 0
	kill "$xsd_pid" 2>/dev/null
	wait "$xsd_pid" 2>/dev/null
	xsd_pid=""
}

# --- cleanup ----------------------------------------------------------

xsd_cleanup() {
	local rc=$? pid ns
	trap - EXIT INT TERM
	for pid in "${xsd_pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for ns in "${xsd_netns[@]}"; do
		[ -e "/run/netns/$ns" ] || continue
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
		ip netns delete "$ns" 2>/dev/null
	done
	for pid in "${xsd_pids[@]}"; do
		wait "$pid" 2>/dev/null
	done
	xsd_stop
	[ -n "$tmp" ] && rm -rf -- "$tmp"
	exit "$rc"
}
trap xsd_cleanup EXIT
# A signal must still run the cleanup, through exit.
trap 'exit 130' INT
trap 'exit 143' TERM
