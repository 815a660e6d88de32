#!/usr/bin/env bash
# Issue 5, must-show 3: an app that fails with restart: on-failure is
# started again, keeping its address and ports, until restart_limit
# restarts within restart_window; then it is given up on: reported, failed
# in status, its address and ports released.  An app that exits 0 under
# on-failure, and one under the default policy (never), stay down.  A
# redeploy of the same file starts the given-up apps again.
. "$(dirname "$0")/lib.sh"
it_start_daemon
dep=$(it_deployment "  - name: flakysrv
    mode: server
    ports: [tcp/7000]
    command: [sh, -c, 'sleep 1; exit 3']
    restart: on-failure
    restart_limit: 3
    restart_window: 60
  - name: flakydyn
    mode: dynamic
    command: [sh, -c, 'sleep 1; exit 3']
    restart: on-failure
    restart_limit: 3
  - name: quitter
    mode: dynamic
    command: [sh, -c, 'sleep 1; exit 0']
    restart: on-failure
  - name: never
    mode: dynamic
    command: [sh, -c, 'sleep 1; exit 1']")
it_subscribe "$IT_TMP/events"
it_deploy "$dep"
ip=$(ctl status --json "$IT_DEP" flakydyn | jq -r .ip)
xs_pool_entry() { it_xs xenstore-read "/libretto/pool/$IT_DEP/ip/${ip//./_}" 2>/dev/null; }
xs_port_owner() { it_xs xenstore-read "/libretto/portmap/$IT_DEP/tcp/7000" 2>/dev/null; }

# While it restarts: after each restart the address and the port are the
# app's, under its new domid.
kept=1
for n in 1 2 3; do
  if ! it_wait_for "$IT_WAIT_LIMIT" bash -c "[ \$(grep -c '\"domain-restarted\".*\"domain\":\"flakysrv\"' $IT_TMP/events) -ge $n ]"; then
    it_fail "flakysrv restart $n not reported"; kept=0; break
  fi
  srv=$(ctl status --json "$IT_DEP" flakysrv | jq -r .domid)
  owner=$(xs_port_owner)
  # Between the end and the restart the port may be momentarily free;
  # once restarted it must be the new domain's.
  [ "$owner" = "$srv" ] || [ -z "$owner" ] || { it_fail "restart $n: tcp/7000 owned by $owner, not $srv"; kept=0; }
  [ "$(ctl status --json "$IT_DEP" flakydyn | jq -r .ip)" = "$ip" ] || { it_fail "restart $n: flakydyn's address changed"; kept=0; }
  # Read once: two reads can straddle the restart (empty, then the app).
  entry=$(xs_pool_entry)
  [ "$entry" = flakydyn ] || [ -z "$entry" ] || { it_fail "restart $n: pool entry is '$entry'"; kept=0; }
done
[ $kept -eq 1 ] && it_ok "3 restarts each, address and port kept"

it_check "flakysrv given up on after 3 restarts within 60 s" it_wait_for "$IT_WAIT_LIMIT" \
  grep -q '"domain-gave-up".*"domain":"flakysrv".*"limit":3' "$IT_TMP/events"
it_check "flakydyn given up on too" it_wait_for "$IT_WAIT_LIMIT" grep -q '"domain-gave-up".*"domain":"flakydyn"' "$IT_TMP/events"
it_check "flakysrv: failed, gave_up, 3 restarts in status" it_wait_for "$IT_WAIT_LIMIT" bash -c \
  "$IT_BIN/librettoctl -s $IT_SOCK status --json $IT_DEP flakysrv | jq -e '.state == \"failed\" and .gave_up and .restarts == 3' >/dev/null"
it_check "its port is released" it_wait_for "$IT_WAIT_LIMIT" bash -c "! XENSTORED_PATH=$IT_RUN/xenstored/socket xenstore-exists /libretto/portmap/$IT_DEP/tcp/7000"
it_check "flakydyn's address is released" it_wait_for "$IT_WAIT_LIMIT" bash -c \
  "! XENSTORED_PATH=$IT_RUN/xenstored/socket xenstore-exists /libretto/pool/$IT_DEP/ip/${ip//./_}"
it_check "no namespace is left of the given-up apps" bash -c \
  "! ip netns list | grep -q 'lt-$IT_DEP-flaky'"
it_check "quitter (exit 0, on-failure) stays exited, not restarted" bash -c \
  "$IT_BIN/librettoctl -s $IT_SOCK status --json $IT_DEP quitter | jq -e '.state == \"exited\" and .restarts == 0' >/dev/null"
it_check "never (the default policy) stays failed, not restarted" bash -c \
  "$IT_BIN/librettoctl -s $IT_SOCK status --json $IT_DEP never | jq -e '.state == \"failed\" and .restarts == 0' >/dev/null"
it_check "no restart event for quitter or never" bash -c \
  "! grep -q '\"domain-restarted\".*\"domain\":\"\\(quitter\\|never\\)\"' $IT_TMP/events"

# A redeploy of the file with one policy changed: the given-up apps start
# again, the changed policy is an update that restarts nothing.
srv=$(ctl status --json "$IT_DEP" server | jq .pid)
sed -i '/name: never$/,/command:/ s/^    mode: dynamic$/    mode: dynamic\n    restart: always/' "$dep"
out=$(ctl deploy "$dep" 2>&1)
it_check "a redeploy starts the given-up apps again" bash -c \
  "grep -q 'restart *flakysrv' <<<'$out' && grep -q 'restart *flakydyn' <<<'$out'"
it_check "the changed policy is an update" grep -q "update *never" <<<"$out"
it_check "and restarts nothing else" [ "$(ctl status --json "$IT_DEP" server | jq .pid)" = "$srv" ]
it_check "flakydyn has its address again" bash -c \
  "$IT_BIN/librettoctl -s $IT_SOCK status --json $IT_DEP flakydyn | jq -e '.ip == \"$ip\" and .gave_up == false' >/dev/null"
it_pass
