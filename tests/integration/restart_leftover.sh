#!/usr/bin/env bash
# SIGTERM stops the daemon and leaves the domains running (on_shutdown:
# keep). A new daemon adopts xenstored, warns about the domains it does not
# manage, and refuses to deploy over them without touching them.
. "$(dirname "$0")/lib.sh"
it_start_daemon
file=$(it_deployment)
it_deploy "$file"
pids=$(for ns in $(ip netns list | awk '{print $1}' | grep "^lt-$IT_DEP-"); do ip netns pids "$ns"; done | sort)

kill -TERM "$IT_DAEMON_PID"
it_check "daemon exits on SIGTERM" it_wait_for 5 bash -c "! kill -0 $IT_DAEMON_PID 2>/dev/null"
wait "$IT_DAEMON_PID"; rc=$?
it_check "with status 0" [ $rc -eq 0 ]
alive=$(for p in $pids; do kill -0 "$p" 2>/dev/null && echo "$p"; done | sort)
it_check "domains keep running" [ "$alive" = "$pids" ]

it_start_daemon
it_check "xenstored adopted" grep -q "adopted the running xenstored" "$IT_LOG"
it_check "leftover domains reported" grep -q "domains of an earlier librettod" "$IT_LOG"
out=$(ctl deploy "$file" 2>&1); rc=$?
echo "$out" | tail -n 2 | sed 's/^/    /'
it_check "deploying over them is refused (exit 1)" [ $rc -eq 1 ]
it_check "the error names the namespace" bash -c "echo \"\$0\" | grep -q 'lt-$IT_DEP-peer already exists'" "$out"
alive=$(for p in $pids; do kill -0 "$p" 2>/dev/null && echo "$p"; done | sort)
it_check "the leftover domains are untouched" [ "$alive" = "$pids" ]
it_check "their peer namespace is untouched" bash -c "ip netns list | grep -q '^lt-$IT_DEP-peer'"
it_pass
