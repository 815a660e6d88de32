#!/usr/bin/env bash
# librettoctl against a real daemon: validate offline, dry run, status of
# one domain, --watch following events, exit codes.
. "$(dirname "$0")/lib.sh"

# validate needs no daemon and gives the daemon's positions.
out=$("$IT_BIN/librettoctl" validate "$(dirname "$0")/../../configs/demo.yaml" 2>&1); rc=$?
it_check "validate demo.yaml: exit 0, says valid" bash -c "[ $rc -eq 0 ] && echo \"\$0\" | grep -q valid" "$out"
bad=$(dirname "$0")/../corpus/bad/$(ls "$(dirname "$0")/../corpus/bad" | grep '\.yaml$' | head -n 1)
want=$(cat "${bad%.yaml}.err")
out=$(cd "$(dirname "$bad")" && "$IT_BIN/librettoctl" validate "$(basename "$bad")" 2>&1); rc=$?
it_check "validate a bad file: exit 2 and the corpus's error" bash -c "[ $rc -eq 2 ] && [ \"\$0\" = \"\$1\" ]" "$out" "$want"
out=$("$IT_BIN/librettoctl" frobnicate 2>&1); rc=$?
it_check "unknown command: exit 2" [ $rc -eq 2 ]

it_start_daemon
file=$(it_deployment)
out=$(ctl deploy --dry-run "$file" 2>&1); rc=$?
echo "$out" | sed 's/^/    /'
it_check "dry run: exit 0, plans 4 starts" bash -c "[ $rc -eq 0 ] && [ \$(echo \"\$0\" | grep -c 'start') -ge 4 ]" "$out"
it_check "dry run starts nothing" bash -c "! ip netns list | grep -q '^lt-$IT_DEP-'"
it_deploy "$file"

ctl --json status "$IT_DEP" --watch >"$IT_TMP/watch" 2>&1 &
IT_BG_PIDS+=($!)
it_check "watch prints the status" it_wait_for "$IT_WAIT_LIMIT" bash -c "[ -s $IT_TMP/watch ]"
ns=$(it_status_json "$IT_DEP" | jq -r '.deployments[0].domains[] | select(.name == "kv") | .namespace')
ip netns pids "$ns" | xargs -r kill -KILL
it_check "watch shows kv failed" it_wait_for "$IT_WAIT_LIMIT" bash -c \
  "tail -n 1 $IT_TMP/watch | jq -e '.deployments[0].domains[] | select(.name == \"kv\") | .state == \"failed\"' >/dev/null"

one=$(ctl --json status "$IT_DEP" web)
it_check "status of one domain" [ "$(echo "$one" | jq -r '.name + " " + .state')" = "web running" ]
ctl status "$IT_DEP" nosuch >/dev/null 2>&1; rc=$?
it_check "unknown domain: exit 1" [ $rc -eq 1 ]
ctl destroy nosuch >/dev/null 2>&1; rc=$?
it_check "destroy unknown deployment: exit 1" [ $rc -eq 1 ]
v=$(ctl --json version)
it_check "version names the daemon's backend" bash -c "echo '$v' | jq -e '.. | .backend? // empty | select(. == \"sim\")' >/dev/null"
it_pass
