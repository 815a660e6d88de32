#!/usr/bin/env bash
# Issue 3, must-show 1 and 2, through librettod: from the peer namespace,
# nginx answers on the server IP through the network server, redis answers
# PONG on its own IP through the server, memcached answers on its VF, the
# server IP answers ping; a server-mode app connects out to the peer; a
# second server-mode app listening on a port the first holds is refused and
# the traffic still reaches the first.
. "$(dirname "$0")/lib.sh"
for tool in curl redis-cli ping; do
  command -v $tool >/dev/null || { it_fail "$tool is not installed (scripts/test installs it)"; it_pass; }
done
it_start_daemon
# The demo's apps (web, cache, kv) and a rival for web's port.
rival="  - name: rival
    mode: server
    command: [socat, 'TCP-LISTEN:80,fork,reuseaddr', 'SYSTEM:echo rival']"
it_deploy "$(it_deployment "" "$rival")"
st=$(it_status_json "$IT_DEP")
field() { echo "$st" | jq -r --arg n "$1" ".deployments[0].domains[] | select(.name == \$n) | .$2"; }
sip=$(echo "$st" | jq -r .deployments[0].network.server_ip)
gw=$(echo "$st" | jq -r .deployments[0].network.gateway)
cache_ip=$(field cache ip); kv_ip=$(field kv ip)
peer="ip netns exec lt-$IT_DEP-peer"

it_check "ping $sip (the network server answers)" $peer ping -c 2 -W 2 "$sip"
it_check "rival's claim on tcp/80 is refused in status" it_wait_for "$IT_WAIT_LIMIT" bash -c \
  "$IT_BIN/librettoctl -s $IT_SOCK --json status $IT_DEP rival | jq -e '.port_conflicts[0].port == \"tcp/80\"' >/dev/null"
page=$($peer timeout 5 curl -s "http://$sip/")
it_check "curl http://$sip/ is served by nginx, not by rival" bash -c "echo \"\$0\" | grep -qi nginx" "$page"
it_check "redis-cli -h $cache_ip ping answers PONG" [ "$($peer timeout 5 redis-cli -h "$cache_ip" ping)" = PONG ]
ver=$(printf 'version\r\nquit\r\n' | $peer timeout 5 socat - "TCP:$kv_ip:11211")
it_check "memcached answers on its VF ($ver)" bash -c "echo \"\$0\" | grep -q '^VERSION'" "$ver"
it_check "kv's traffic is on its VF" bash -c \
  "[ \$(ip netns exec lt-$IT_DEP-kv cat /sys/class/net/vf0/statistics/rx_packets) -gt 0 ]"

# Outgoing from a server-mode app to a listener in the peer namespace.
$peer timeout 10 socat TCP-LISTEN:9999,reuseaddr SYSTEM:'echo from-peer' &
IT_BG_PIDS+=($!)
it_check "the peer's listener on tcp/9999 is up" it_wait_for "$IT_WAIT_LIMIT" bash -c \
  "ip netns exec lt-$IT_DEP-peer ss -Hltn 'sport = :9999' | grep -q ."
out=$(ip netns exec "lt-$IT_DEP-web" timeout 5 socat - "TCP:$gw:9999" </dev/null)
it_check "web connects out to the peer" [ "$out" = from-peer ]

# Counters: the server forwarded cache's traffic, and nothing of kv's.
it_check "the server counted frames to cache" it_wait_for "$IT_WAIT_LIMIT" bash -c \
  "$IT_BIN/librettoctl -s $IT_SOCK --json status $IT_DEP cache | jq -e '.counters.to_app_packets > 0' >/dev/null"
it_check "the server counted no frame to kv" bash -c \
  "$IT_BIN/librettoctl -s $IT_SOCK --json status $IT_DEP kv | jq -e '(.counters.to_app_packets // 0) == 0' >/dev/null"
it_pass
