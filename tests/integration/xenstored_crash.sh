#!/usr/bin/env bash
# Issue 5: a crash of the sim's xenstored is reported clearly (an event, a
# log line, status), the daemon does not spin or exit, keeps answering,
# and refuses what would need xenstore with the reason.
. "$(dirname "$0")/lib.sh"
it_start_daemon
it_deploy "$(it_deployment "  - name: cache
    mode: dynamic
    command: [redis-server, --save, '', --appendonly, 'no', --protected-mode, 'no']")"
it_subscribe "$IT_TMP/events"
xsd=$(ctl status --json | jq .backend.xenstored_pid)
kill -9 "$xsd"
it_check "a backend-failed event names xenstored's end" it_wait_for "$IT_WAIT_LIMIT" \
  grep -q '"backend-failed".*xenstored (pid '"$xsd"') killed by signal 9' "$IT_TMP/events"
it_check "the log says so" grep -q "backend sim failed: xenstored" "$IT_LOG"
it_check "status shows the failure" bash -c \
  "$IT_BIN/librettoctl -s $IT_SOCK status --json | jq -e '.backend.failed | test(\"killed by signal 9\")' >/dev/null"
ticks() { awk '{print $14 + $15}' "/proc/$IT_DAEMON_PID/stat"; }
t0=$(ticks); sleep 2; t1=$(ticks)
it_check "the daemon does not spin ($((t1 - t0)) ticks of CPU in 2 s)" [ $((t1 - t0)) -lt 20 ]
it_check "the daemon is alive and answers" bash -c "$IT_BIN/librettoctl -s $IT_SOCK version >/dev/null"
out=$(ctl switch cache --to direct 2>&1); rc=$?
it_check "a switch is refused with the reason (exit $rc)" bash -c \
  "[ $rc -eq 1 ] && grep -q 'backend-error: the sim backend failed: xenstored' <<<'$out'"
out=$(ctl destroy "$IT_DEP" 2>&1); rc=$?
it_check "so is a destroy" bash -c "[ $rc -eq 1 ] && grep -q 'nothing can change until librettod is restarted' <<<'$out'"
it_pass
