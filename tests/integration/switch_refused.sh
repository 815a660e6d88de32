#!/usr/bin/env bash
# Issue 4, must-show 3: switches that must be refused, each with a clear
# error and nothing changed: no VF free, a server-mode app, a direct app,
# an unknown app, a second switch of an app already switching (and a
# deploy meanwhile), a bad --to, fault injection without --test-faults.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/switch_lib.sh"
it_start_daemon --test-faults
dep=$(it_deployment "  - name: web
    mode: server
    command: [socat, 'TCP-LISTEN:80,fork,reuseaddr', 'SYSTEM:echo web']
    ports: [tcp/80]
  - name: cache
    mode: dynamic
    command: [redis-server, --save, '', --appendonly, 'no', --protected-mode, 'no']
  - name: other
    mode: dynamic
    command: [redis-server, --save, '', --appendonly, 'no', --protected-mode, 'no']
  - name: kv
    mode: direct
    command: [memcached, -u, nobody]")
sed -i 's/^  vfs: 4$/  vfs: 2/' "$dep"
it_deploy "$dep"

# refused WHAT EXIT PATTERN -- ARGS...: the switch exits EXIT with an error
# matching PATTERN, and cache's switch state and the VF pool are unchanged.
refused() {
  local what=$1 want=$2 pattern=$3 before after out rc
  shift 4
  before=$(sw_snapshot cache; sw_snapshot other)
  out=$(ctl switch "$@" 2>&1); rc=$?
  after=$(sw_snapshot cache; sw_snapshot other)
  if [ $rc -ne "$want" ] || ! grep -q -- "$pattern" <<<"$out"; then
    it_fail "$what: exit $rc (want $want), output: $out"
  elif [ "$before" != "$after" ]; then
    it_fail "$what: something changed"; diff <(echo "$before") <(echo "$after")
  else
    it_ok "$what: $(tail -n 1 <<<"$out")"
  fi
}

refused "a server-mode app" 2 "bad-argument: web is a server-mode app" -- web --to direct
refused "a direct app" 2 "bad-argument: kv is a direct-mode app" -- kv --to server
refused "an unknown app" 1 "not-found: no app 'nosuch'" -- nosuch --to direct
refused "an unknown deployment" 1 "not-found: no deployment 'nosuch'" -- cache --to direct --deployment nosuch
refused "a bad --to" 2 "say direct or server" -- cache --to sideways

it_check "other takes the last free VF (kv holds the first)" bash -c \
  "$IT_BIN/librettoctl -s $IT_SOCK switch other --to direct >/dev/null"
refused "no VF free" 1 "resource-exhausted: no free VF" -- cache --to direct
it_check "other gives its VF back" bash -c "$IT_BIN/librettoctl -s $IT_SOCK switch other --to server >/dev/null"

# A switch held in flight by a stalled step, and what comes meanwhile. The
# stall is the window for the requests below: 15 s, so that a loaded host's
# slow process starts do not close it before they are made.
ctl switch cache --to direct --fault guest:stall --timeout 15 >"$IT_TMP/slow.out" 2>&1 &
slow=$!
it_check "the first switch is in flight" it_wait_for 15 bash -c \
  "$IT_BIN/librettoctl -s $IT_SOCK status --json $IT_DEP cache | jq -e '.switching != null' >/dev/null"
out=$(ctl switch cache --to direct 2>&1); rc=$?
it_check "a second switch of cache meanwhile is refused as busy ($out)" \
  bash -c "[ $rc -eq 1 ] && grep -q 'busy: cache: switch .* is in flight' <<<'$out'"
out=$(ctl deploy "$dep" 2>&1); rc=$?
it_check "a deploy meanwhile is refused as busy" \
  bash -c "[ $rc -eq 1 ] && grep -q 'busy: deployment .*switch in flight' <<<'$out'"
wait $slow
it_check "the stalled switch rolled back" grep -q "rolled back, still on server" "$IT_TMP/slow.out"
it_check "cache is on the server path, no VF held" bash -c \
  "$IT_BIN/librettoctl -s $IT_SOCK status --json $IT_DEP cache | jq -e '.path == \"server\" and .vf == null and .switching == null' >/dev/null"
it_check "an app already on the path is left alone" bash -c \
  "$IT_BIN/librettoctl -s $IT_SOCK switch cache --to server | grep -q 'already on server, nothing to do'"

# The address pool: two dynamic apps and one address is a clear error
# that starts nothing -- found by the loader, with the app's position.
small=$(it_deployment "  - name: one
    mode: dynamic
    command: [sleep, '1000']
  - name: two
    mode: dynamic
    command: [sleep, '1000']")
sed -i "s/^name: $IT_DEP\$/name: ${IT_DEP}p/; s/10\.\([0-9]*\)\.0\./10.\1.2./g; s/^  pool: .*/  pool: 10.0.0.0-10.0.0.0/" "$small"
sub=$(sed -n 's/^  subnet: \(.*\)\.0\/24$/\1/p' "$small")
sed -i "s/^  pool: .*/  pool: $sub.100-$sub.100/" "$small"
out=$(ctl deploy "$small" 2>&1); rc=$?
it_check "a pool too small is refused (exit $rc): $(tail -n 1 <<<"$out")" \
  bash -c "[ $rc -eq 2 ] && grep -q ':17:11: apps\[1\].mode: app \"two\" is dynamic or direct app number 2, but network.pool has 1 address' <<<'$out'"
it_check "and starts nothing" bash -c "! ip netns list | grep -q '^lt-${IT_DEP}p-'"
it_check "and leaves no deployment" bash -c "! $IT_BIN/librettoctl -s $IT_SOCK status ${IT_DEP}p >/dev/null 2>&1"
it_pass
