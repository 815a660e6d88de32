#!/usr/bin/env bash
# Must-show 3 of issue 2: killing an app's process is reported as an event
# to every subscriber, and in status, within a second.
. "$(dirname "$0")/lib.sh"
it_start_daemon
it_deploy "$(it_deployment)"

# Two independent subscribers on raw connections.
it_subscribe "$IT_TMP/events1"
it_subscribe "$IT_TMP/events2"
it_check "both subscribers are subscribed" it_wait_for "$IT_WAIT_LIMIT" bash -c \
  "grep -q '\"ok\":true' $IT_TMP/events1 && grep -q '\"ok\":true' $IT_TMP/events2"

ns=$(it_status_json "$IT_DEP" | jq -r '.deployments[0].domains[] | select(.name == "cache") | .namespace')
redis=$(ip netns pids "$ns" | while read -r p; do
  [ "$(cat /proc/$p/comm 2>/dev/null)" = redis-server ] && echo "$p"; done | head -n 1)
it_check "redis-server runs in $ns" [ -n "$redis" ]
start=$(date +%s%N)
kill -KILL "$redis"

for i in 1 2; do
  it_check "subscriber $i got domain-exit for cache within 1 s" it_wait_for 1 bash -c \
    "jq -c 'select(.event == \"domain-exit\" and .data.domain == \"cache\")' $IT_TMP/events$i 2>/dev/null | grep -q cache"
done
it_check "status shows cache failed within 1 s" it_wait_for 1 bash -c \
  "$IT_BIN/librettoctl -s $IT_SOCK status $IT_DEP cache --json | jq -e '.state == \"failed\"' >/dev/null"
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
it_log "reported after ${elapsed_ms} ms"
ev=$(jq -c 'select(.event == "domain-exit")' "$IT_TMP/events1" | head -n 1)
echo "    $ev"
it_check "the event says the app was killed" bash -c "echo '$ev' | jq -e '.data.signal == 9 and .data.signal_name == \"SIGKILL\"' >/dev/null"
it_check "the event carries a timestamp" bash -c "echo '$ev' | jq -e '.ts | test(\"Z$\")' >/dev/null"
it_check "the other apps still run" bash -c \
  "$IT_BIN/librettoctl -s $IT_SOCK status $IT_DEP --json | jq -e '[.deployments[0].domains[] | select(.name != \"cache\") | .state] | all(. == \"running\")' >/dev/null"
it_pass
