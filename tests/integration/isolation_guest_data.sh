#!/usr/bin/env bash
# Guest data is hostile data: an app writes, only into its own xenstore
# tree, states outside the set, invalid UTF-8, newlines and terminal
# escapes, very long values; the network server writes hostile counter
# names and values into its own. librettod refuses them (docs/xenstore.md,
# "What a guest may write"): status and events stay valid UTF-8 and valid
# JSON and carry none of it, the log shows it only escaped and a bounded
# number of times, the daemon answers throughout, and a legitimate value
# afterwards is taken as before.
. "$(dirname "$0")/lib.sh"
it_start_daemon
apps="  - name: victim
    mode: server
    command: [sleep, '1000']
  - name: evil
    mode: server
    command: [sleep, '1000']
  - name: kv
    mode: direct
    command: [sleep, '1000']"
it_deploy "$(it_deployment "$apps")"
st=$(it_status_json "$IT_DEP")
id() { it_domid "$1" "$st"; }
srv=$(id server); evil=$(id evil); victim=$(id victim); kv=$(id kv)
# Writes as the guest $1 would: only below its own libretto/ directory.
as_guest() {
  local dom=$1 node=$2 value=$3
  it_xs xenstore-write -- "/local/domain/$dom/libretto/$node" "$value"
}
guest_state() {
  ctl --json status "$IT_DEP" "$1" | jq -r .guest_state
}
jqe() { jq -e "$@" >/dev/null; }
# valid_utf8 FILE: iconv checks UTF-8 but for what lies past U+10FFFF.
valid_utf8() {
  iconv -f UTF-8 -t UTF-8 "$1" >/dev/null 2>&1 &&
    ! LC_ALL=C grep -q $'\xf4[\x90-\xbf]\|[\xf5-\xff]' "$1"
}
# valid_utf8_json FILE: every byte valid UTF-8 and every line a JSON value.
valid_utf8_json() {
  valid_utf8 "$1" && jq -e . "$1" >/dev/null 2>&1
}
# Bytes a guest must never get into librettod's output: control
# characters but newline, and anything past ASCII.
raw_guest_bytes() {
  LC_ALL=C grep -c $'[\x01-\x08\x0b-\x1f\x7f\x80-\xff]' ${1:+"$1"}
}

it_check "every domain reached ready ($srv $victim $evil $kv)" \
  [ "$(guest_state evil) $(guest_state victim) $(guest_state kv)" = "ready ready ready" ]
it_subscribe "$IT_TMP/events"
log_before=$(wc -l <"$IT_LOG")
# status_round: ms for version and 10 full status calls.
status_round() {
  local start=$(date +%s%N) i
  ctl version >/dev/null || it_fail "version"
  for i in $(seq 10); do ctl --json status >/dev/null || it_fail "status $i"; done
  echo $(( ($(date +%s%N) - start) / 1000000 ))
}
ms_before=$(status_round)

# --- the attack: evil's own tree -------------------------------------------
long=$(head -c 2000 /dev/zero | tr '\0' 'A')
hostile_states=(
  $'ready\xff\xfe'                       # what broke a Python client
  $'ready\nFORGED-LINE librettod error: pwned'
  $'\x1b[31mready\x1b[0m'
  "readyX" "READY" "" "$long"
  $'r\xc3\xa9ady'                        # valid UTF-8, still no state
)
for round in $(seq 20); do
  for v in "${hostile_states[@]}"; do
    as_guest "$evil" guest/state "$v"
  done
done
as_guest "$evil" guest/error $'boom\nFORGED-LINE librettod error: pwned\x1b[2J\xff'
as_guest "$evil" guest/state error
as_guest "$evil" guest/state $'error\xff'
as_guest "$evil" guest/error "$long"
as_guest "$evil" guest/state ready
as_guest "$evil" guest/state $'\xff'
# kv's VF counters: values off the grammar, and more names than allowed.
as_guest "$kv" guest/vf-stats/rx_packets $'12\n34'
as_guest "$kv" guest/vf-stats/tx_packets "-5"
as_guest "$kv" guest/vf-stats/tx_bytes "99999999999999999999"
as_guest "$kv" guest/vf-stats/rx_bytes $'\xff\xff'
for i in $(seq 40); do as_guest "$kv" "guest/vf-stats/x$i" "$i"; done
# The network server's counters: names xenstored lets through but the
# grammar does not, and hostile values.
as_guest "$srv" server/stats/RX_Evil 1
as_guest "$srv" server/stats/a@b 2
as_guest "$srv" "server/stats/$(head -c 200 /dev/zero | tr '\0' n)" 3
as_guest "$srv" server/stats/test_marker 7
as_guest "$srv" server/stats/bad_value $'7\x1b[2J'
as_guest "$srv" "server/apps/$victim/stats/evil_value" $'\xc3\x28'
as_guest "$srv" "server/apps/$victim/stats/test_marker" 5
# The attack is read once the last writes show (a throttled writer's
# watches are handled late, not lost).
it_wait_for "$IT_WAIT_LIMIT" bash -c "$IT_BIN/librettoctl -s $IT_SOCK --json status $IT_DEP server | jq -e '.counters.test_marker == 7' >/dev/null &&
  $IT_BIN/librettoctl -s $IT_SOCK --json status $IT_DEP victim | jq -e '.counters.test_marker == 5' >/dev/null &&
  $IT_BIN/librettoctl -s $IT_SOCK --json status $IT_DEP evil | jq -e '.guest_input_refused > 0' >/dev/null"

# --- the victim and the clients are unharmed ---------------------------------
it_check "the daemon answers" ctl version
ms=$(status_round)
it_log "version and 10 full status calls: $ms_before ms before the attack, $ms ms after"
it_check "status answers promptly after the attack ($ms ms for 11 calls)" [ "$ms" -lt 10000 ]
ctl --json status >"$IT_TMP/status.json"
ctl status >"$IT_TMP/status.txt"
ctl --json status "$IT_DEP" evil >"$IT_TMP/evil.json"
it_check "status --json is valid UTF-8 and JSON" valid_utf8_json "$IT_TMP/status.json"
it_check "status of the hostile domain is valid UTF-8 and JSON" valid_utf8_json "$IT_TMP/evil.json"
it_check "the human status is valid UTF-8" valid_utf8 "$IT_TMP/status.txt"
it_check "no status carries a raw guest byte" \
  [ "$(cat "$IT_TMP/status.json" "$IT_TMP/evil.json" "$IT_TMP/status.txt" | raw_guest_bytes)" = 0 ]
it_check "the hostile guest_state is refused: the last valid one stands" \
  [ "$(jq -r .guest_state "$IT_TMP/evil.json")" = ready ]
it_check "every guest_state in status is a state of the set" \
  jqe '[.deployments[].domains[].guest_state] | all(. == null or IN("booting","ready","switching","direct","error"))' \
  "$IT_TMP/status.json"
# Refused reads: the watches may coalesce the writes, so fewer than written.
n_evil=$(jq .guest_input_refused "$IT_TMP/evil.json")
it_check "the refusals are counted against evil ($n_evil)" test "$n_evil" -gt 0
it_check "the victim has nothing refused and is still ready" \
  [ "$(ctl --json status "$IT_DEP" victim | jq -c '[.guest_input_refused, .guest_state]')" = '[0,"ready"]' ]
sstat=$(ctl --json status "$IT_DEP" server)
vstat=$(ctl --json status "$IT_DEP" victim)
kstat=$(ctl --json status "$IT_DEP" kv)
it_check "the server's legitimate counter shows, its hostile names and values do not" \
  bash -c "echo '$sstat' | jq -e '.counters.test_marker == 7 and (.counters | has(\"bad_value\") or has(\"RX_Evil\") or has(\"a@b\") | not) and (.counters | keys | all(test(\"^[a-z0-9_-]{1,32}\$\")))' >/dev/null"
it_check "the victim's counters from the server: the hostile value left out" \
  bash -c "echo '$vstat' | jq -e '.counters.test_marker == 5 and (.counters | has(\"evil_value\") | not)' >/dev/null"
it_check "kv's VF counters: hostile values left out, at most 32 entries" \
  bash -c "echo '$kstat' | jq -e '(.vf_counters // {}) as \$c | (\$c | length) <= 32 and ([\"rx_packets\",\"tx_packets\",\"tx_bytes\",\"rx_bytes\"] | all(. as \$k | \$c[\$k] == null or (\$c[\$k] | type) == \"number\")) and (\$c | to_entries | all(.value >= 0))' >/dev/null"
it_check "the server's refusals are counted against the server" \
  bash -c "echo '$sstat' | jq -e '.guest_input_refused > 0' >/dev/null"

sleep 0.5
cp "$IT_TMP/events" "$IT_TMP/events.snap"
it_check "every event line is valid UTF-8 and JSON" valid_utf8_json "$IT_TMP/events.snap"
it_check "no event carries a raw guest byte" [ "$(raw_guest_bytes "$IT_TMP/events.snap")" = 0 ]
# has_event FILTER: some event of the snapshot matches FILTER.
has_event() {
  jq -e -s "map(select($1)) | length > 0" "$IT_TMP/events.snap" >/dev/null
}
n_refused=$(jq -s 'map(select(.event == "guest-input-refused")) | length' "$IT_TMP/events.snap")
it_log "guest-input-refused events: $n_refused"
it_check "evil's refused state is reported as an event naming the node" \
  has_event '.event == "guest-input-refused" and .data.domain == "evil" and .data.node == "guest/state"'
it_check "the server's refused counter names are reported" \
  has_event '.event == "guest-input-refused" and .data.domain == "server" and .data.node == "server/stats"'
# Per domain and reason at most once a minute: 3 domains x 10 reasons.
it_check "refusal events are rate-limited ($n_refused for hundreds of writes)" \
  test "$n_refused" -ge 3 -a "$n_refused" -le 30
it_check "no guest-state event for a refused state" \
  jqe -s '[.[] | select(.event == "guest-state") | .data.guest_state] | all(IN("booting","ready","switching","direct","error"))' \
  "$IT_TMP/events.snap"

tail -n +"$((log_before + 1))" "$IT_LOG" >"$IT_TMP/log.attack"
n_lines=$(grep -c "refused" "$IT_TMP/log.attack")
it_log "log lines about refused values: $n_lines"
grep "refused" "$IT_TMP/log.attack" | head -n 5 | cut -c1-200 | sed 's/^/    /'
it_check "the log has no raw control character or non-ASCII byte" \
  [ "$(raw_guest_bytes "$IT_TMP/log.attack")" = 0 ]
it_check "no forged log line" bash -c "! grep -q '^FORGED-LINE' '$IT_TMP/log.attack'"
it_check "the log shows refused values escaped" \
  grep -q 'ready\\xff\\xfe' "$IT_TMP/log.attack"
it_check "the log is rate-limited ($n_lines lines about refusals)" \
  test "$n_lines" -ge 3 -a "$n_lines" -le 30
# Status calls re-read the counters; more refusals, no more lines.
for i in $(seq 10); do ctl --json status >/dev/null; done
tail -n +"$((log_before + 1))" "$IT_LOG" >"$IT_TMP/log.attack"
it_check "repeated status calls add no log line" \
  [ "$(grep -c refused "$IT_TMP/log.attack")" = "$n_lines" ]

# --- a legitimate value afterwards is taken ----------------------------------
as_guest "$evil" guest/state switching
it_check "a legitimate state afterwards is taken" it_wait_for "$IT_WAIT_LIMIT" bash -c \
  "[ \"\$('$IT_BIN/librettoctl' -s '$IT_SOCK' --json status '$IT_DEP' evil | jq -r .guest_state)\" = switching ]"
as_guest "$evil" guest/state ready
it_check "and reported as a guest-state event" it_wait_for "$IT_WAIT_LIMIT" bash -c \
  "jq -e -s '[.[] | select(.event == \"guest-state\" and .data.domain == \"evil\") | .data.guest_state] | .[-2:] == [\"switching\", \"ready\"]' '$IT_TMP/events' >/dev/null"
# A new app deployed after the attack boots as usual: its agent's ready is
# taken (the boot waits for guest/state = ready).
it_deploy "$(it_deployment "$apps
  - name: late
    mode: server
    command: [sleep, '1000']")"
it_check "an app deployed after the attack reaches ready" [ "$(guest_state late)" = ready ]
it_check "the victim and evil are still running" \
  [ "$(ctl --json status "$IT_DEP" victim | jq -r .state) $(ctl --json status "$IT_DEP" evil | jq -r .state)" = "running running" ]
it_pass
