#!/usr/bin/env bash
# Integration test of the sim backend's xenstored: Debian's C xenstored run
# under libretto-xsd-preload.so, with no hypervisor, from a private temporary
# directory, exercised with the stock xenstore-* tools.
#
# usage: xenstored_preload.sh <libretto-xsd-preload.so> <xenstored binary>
#
# Every check prints what it expected and what it got, and the xenstored log
# and trace are shown on failure. xenstored and the watcher are killed and
# the directory removed on every exit path.
set -u -o pipefail

preload=${1:?usage: $0 <libretto-xsd-preload.so> <xenstored>}
xenstored=${2:?usage: $0 <libretto-xsd-preload.so> <xenstored>}

. "$(dirname "$0")/xsd_lib.sh"

# expect_eq <what> <expected> <actual>
expect_eq() {
	[ "$2" = "$3" ] ||
		fail "$1: expected '$2', got '$3'"
}

# Run a xenstore tool that must succeed; its stdout is the result.
xs() {
	local out
	out=$(tmo "$@" 2>"$tmp/tool.err") ||
		fail "'$*' exited $?: $(cat "$tmp/tool.err")"
	printf '%s' "$out"
}

for tool in xenstore-write xenstore-read xenstore-ls xenstore-list \
	xenstore-rm xenstore-exists xenstore-chmod xenstore-watch; do
	command -v "$tool" >/dev/null ||
		fail "$tool not found (apt-get install xenstore-utils)"
done
[ -f "$preload" ] || fail "preload library $preload does not exist"
[ -x "$xenstored" ] || fail "xenstored $xenstored is not executable"

# A sanitizer runtime in the preload would abort the unsanitized xenstored.
if command -v readelf >/dev/null; then
	if readelf -d "$preload" | grep -E 'NEEDED.*lib(a|ub|t|l)san' >&2; then
		fail "$preload is linked against a sanitizer runtime"
	fi
fi

tmp=$(mktemp -d /tmp/libretto-xsd-test.XXXXXX) || fail "mktemp failed"
# -T: request trace, shown on failure.
start_ns=$(date +%s%N)
xsd_start "$tmp" "$preload" "$xenstored" -T "$tmp/trace"
xsd_wait
echo "xenstored pid $xsd_pid ready after $((($(date +%s%N) - start_ns) / 1000000)) ms"
[ -d "$XENSTORED_RUNDIR" ] || fail "xenstored did not create $XENSTORED_RUNDIR"

base=/libretto/test

# write / read, including a value with spaces.
xs xenstore-write "$base/a" 1 >/dev/null
expect_eq "read $base/a" 1 "$(xs xenstore-read "$base/a")"
xs xenstore-write "$base/s" "two words" >/dev/null
expect_eq "read $base/s" "two words" "$(xs xenstore-read "$base/s")"

# Transaction: xenstore-write wraps all its pairs in one transaction
# (XS_TRANSACTION_START ... XS_TRANSACTION_END). Where strace exists, check
# on the wire that it really did, so this test covers transactions.
if command -v strace >/dev/null; then
	tmo strace -f -x -s 16 -e trace=write -o "$tmp/client.strace" \
		xenstore-write "$base/b" 2 "$base/c" 3 2>"$tmp/tool.err" ||
		fail "transactional xenstore-write: $(cat "$tmp/tool.err")"
	# The header's first 32-bit word is the message type: 6 = start, 7 = end.
	grep -q 'write([0-9]*, "\\x06\\x00\\x00\\x00' "$tmp/client.strace" ||
		fail "xenstore-write sent no XS_TRANSACTION_START"
	grep -q 'write([0-9]*, "\\x07\\x00\\x00\\x00' "$tmp/client.strace" ||
		fail "xenstore-write sent no XS_TRANSACTION_END"
else
	xs xenstore-write "$base/b" 2 "$base/c" 3 >/dev/null
fi
expect_eq "read after transaction" "2 3" \
	"$(xs xenstore-read "$base/b") $(xs xenstore-read "$base/c")"

# list / ls
expect_eq "list $base" "a b c s" \
	"$(xs xenstore-list "$base" | sort | tr '\n' ' ' | sed 's/ $//')"
ls_out=$(xs xenstore-ls "$base")
grep -qx 'a = "1"' <<<"$ls_out" || fail "xenstore-ls $base lacks 'a = \"1\"': $ls_out"
grep -qx 's = "two words"' <<<"$ls_out" ||
	fail "xenstore-ls $base lacks 's = \"two words\"': $ls_out"

# exists, both ways
xs xenstore-exists "$base/a" >/dev/null
tmo xenstore-exists "$base/missing" 2>/dev/null &&
	fail "xenstore-exists $base/missing succeeded"

# rm
xs xenstore-rm "$base/b" >/dev/null
tmo xenstore-exists "$base/b" 2>/dev/null && fail "$base/b still exists after rm"
tmo xenstore-read "$base/b" >/dev/null 2>&1 && fail "$base/b still readable after rm"
expect_eq "list after rm" "a c s" \
	"$(xs xenstore-list "$base" | sort | tr '\n' ' ' | sed 's/ $//')"

# chmod: dom0 owner with read for dom5, then a guest domid as owner. Both
# need the preload to report those domains as existing.
xs xenstore-chmod "$base/a" n0 r5 >/dev/null
perm_a=$(xs xenstore-ls -p "$base" | grep '^a = ')
[[ "$perm_a" == *"(n0,r5)" ]] || fail "chmod n0 r5: got '$perm_a'"
xs xenstore-chmod "$base/c" n7 >/dev/null
perm_c=$(xs xenstore-ls -p "$base" | grep '^c = ')
[[ "$perm_c" == *"(n7)" ]] || fail "chmod n7: got '$perm_c'"

# watch: the first event is the watch firing on registration, so its
# arrival tells us the watch is in place before we write.
wpath=/libretto/watched
timeout 30 xenstore-watch -n 2 "$wpath" >"$tmp/watch.out" 2>&1 &
watch_pid=$!
xsd_track "$watch_pid"
for _ in $(seq 1 100); do
	[ -s "$tmp/watch.out" ] && break
	sleep 0.05
done
[ -s "$tmp/watch.out" ] || fail "xenstore-watch $wpath registered no watch in 5 s"
xs xenstore-write "$wpath/k" v >/dev/null
for _ in $(seq 1 100); do
	kill -0 "$watch_pid" 2>/dev/null || break
	sleep 0.05
done
kill -0 "$watch_pid" 2>/dev/null &&
	fail "no watch event for $wpath/k within 5 s; got: $(cat "$tmp/watch.out")"
wait "$watch_pid" || fail "xenstore-watch exited $?: $(cat "$tmp/watch.out")"
xsd_forget "$watch_pid"
expect_eq "watch events" "$wpath $wpath/k" \
	"$(tr '\n' ' ' <"$tmp/watch.out" | sed 's/ $//')"

xs xenstore-rm "$base" >/dev/null
tmo xenstore-exists "$base" 2>/dev/null && fail "$base still exists after rm"

# Idle: the fake event channel never becomes readable, so xenstored must be
# asleep in poll(). Over 2 s a spinning daemon burns ~200 ticks.
t0=$(xsd_cpu_ticks "$xsd_pid") || fail "xenstored (pid $xsd_pid) is gone"
sleep 2
t1=$(xsd_cpu_ticks "$xsd_pid") || fail "xenstored (pid $xsd_pid) died while idle"
[ $((t1 - t0)) -le 20 ] ||
	fail "xenstored used $((t1 - t0)) CPU ticks in 2 s idle: it is spinning"

kill -0 "$xsd_pid" 2>/dev/null || fail "xenstored died during the test"
echo "PASS: xenstored under $preload"
