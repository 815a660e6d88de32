#!/usr/bin/env bash
# Must-show 4 of issue 2: a request line that is not JSON, one over 1 MiB,
# an unknown command and an unknown argument key each get an error reply
# with its class; the daemon stays up and serves the next client.
. "$(dirname "$0")/lib.sh"
it_start_daemon

reply_class() { jq -r 'select(.id != null or .ok == false) | .error.class // "ok"' | head -n 1; }

r=$(it_request 'this is not json' | head -n 1)
echo "    $r"
it_check "not JSON: parse-error" [ "$(echo "$r" | jq -r .error.class)" = parse-error ]

big=$IT_TMP/big.json
{ printf '{"id":5,"cmd":"status","args":{"deployment":"'; head -c $((1024 * 1024 + 10)) /dev/zero | tr '\0' a; printf '"}}\n'; echo '{"id":6,"cmd":"version"}'; } >"$big"
r=$({ cat "$big"; sleep 1; } | socat -t 3 - "UNIX-CONNECT:$IT_SOCK" | tail -n +2)
echo "$r" | sed 's/^/    /' | cut -c1-200
it_check "over 1 MiB: too-large" [ "$(echo "$r" | head -n 1 | jq -r .error.class)" = too-large ]
it_check "the same connection then serves the next request" \
  [ "$(echo "$r" | sed -n 2p | jq -r '"\(.id) \(.ok)"')" = "6 true" ]

r=$(it_request '{"id":"x1","cmd":"frobnicate"}')
echo "    $r"
it_check "unknown command: unknown-command, id echoed" \
  [ "$(echo "$r" | jq -r '"\(.id) \(.error.class)"')" = "x1 unknown-command" ]

r=$(it_request '{"id":8,"cmd":"status","args":{"deploymnet":"demo"}}')
echo "    $r"
it_check "unknown argument key: bad-argument naming the field" \
  [ "$(echo "$r" | jq -r '"\(.error.class) \(.error.data.field)"')" = "bad-argument args.deploymnet" ]

r=$(it_request '{"id":9,"cmd":"destroy","args":{"deployment":"nope"}}')
it_check "unknown deployment: not-found" [ "$(echo "$r" | jq -r .error.class)" = not-found ]

r=$(it_request '{"id":10,"cmd":"deploy","args":{"content":"name: [","file":"x.yaml"}}')
echo "    $r"
it_check "bad YAML: invalid-deployment with file:line:column" \
  bash -c "echo '$r' | jq -e '.error.class == \"invalid-deployment\" and (.error.message | startswith(\"x.yaml:\")) and .error.data.line >= 1' >/dev/null"

it_check "daemon still running" kill -0 "$IT_DAEMON_PID"
r=$(it_request '{"id":11,"cmd":"version"}')
it_check "a new client is served" [ "$(echo "$r" | jq -r '"\(.id) \(.ok) \(.result.backend)"')" = "11 true sim" ]
greet=$({ sleep 0.3; } | socat -t 1 - "UNIX-CONNECT:$IT_SOCK" | head -n 1)
it_check "greeting names version and backend" \
  bash -c "echo '$greet' | jq -e '.libretto.backend == \"sim\" and (.libretto.version | length > 0)' >/dev/null"
it_pass
