# Shared by the switch tests (sourced after lib.sh): the state a switch
# must leave as it found when it is refused or rolled back.

# sw_domid APP
sw_domid() { ctl status --json "$IT_DEP" "$1" | jq -r .domid; }

# sw_snapshot APP: what a switch changes, one "name = value" per line: the
# VF pool, the agent's and the server's switch nodes (not the sequence
# numbers, which count every request), the app's links, its path in status.
sw_snapshot() {
  local app=$1 id sid node
  id=$(sw_domid "$app"); sid=$(sw_domid server)
  it_xs xenstore-ls "/libretto/pool/$IT_DEP/vf" 2>&1
  for node in switch/target switch/vf guest/state; do
    echo "$node = $(it_xs xenstore-read "/local/domain/$id/libretto/$node" 2>/dev/null)"
  done
  for node in active acked; do
    echo "server/$node = $(it_xs xenstore-read "/local/domain/$sid/libretto/server/apps/$id/$node" 2>/dev/null)"
  done
  echo "links = $(ip -n "lt-$IT_DEP-$app" -o link | awk -F': ' '{print $2}' | sed 's/@.*//' | sort | tr '\n' ' ')"
  ctl status --json "$IT_DEP" "$app" | jq -c '{path, vf, switching}'
}

# sw_rx APP IF: the kernel's count of frames APP received on IF, or none.
sw_rx() {
  ip netns exec "lt-$IT_DEP-$1" cat "/sys/class/net/$2/statistics/rx_packets" 2>/dev/null || echo none
}

# sw_moving APP IF: the count grows while traffic runs (the client sends
# every few ms: the first frame ends the wait; IT_WAIT_LIMIT bounds it).
sw_moving() {
  local a
  a=$(sw_rx "$1" "$2")
  [ "$a" = none ] && { echo "sw_moving: $1 has no $2" >&2; return 1; }
  it_wait_for "$IT_WAIT_LIMIT" sw_grew "$1" "$2" "$a"
}
sw_grew() { local b; b=$(sw_rx "$1" "$2"); [ "$b" != none ] && [ "$b" -gt "$3" ]; }

# sw_still APP IF: the count does not move over 200 ms (or IF is gone).
sw_still() { local a; a=$(sw_rx "$1" "$2"); sleep 0.2; [ "$(sw_rx "$1" "$2")" = "$a" ]; }
