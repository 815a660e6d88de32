#!/usr/bin/env bash
# A hostile app forges its frames (docs/datapath.md, "What an app may
# send"): from inside its own namespace, through its tap0 (which its agent
# bridges to the VIF), a dynamic app `mal` sends frames with another
# app's and a made-up source MAC, with the victim's, the gateway's and
# the server's IP, ARP claiming the gateway's and the victim's IP, and an
# ethertype the design does not carry; a server-mode app `evil` sends from
# ports of the shared IP that `web` owns and ARP replies; a host on the
# wire (where a direct app's VF sends, under Xen) claims the victim's and
# the server's IP by ARP.  Each must be
# dropped and counted under its reason in `librettoctl status --json`,
# nothing of it may reach the peer (the gateway) or the victim, and their
# ARP entries must be untouched; the attackers' own traffic still works.
# Frames are forged with mausezahn (netsniff-ng).
. "$(dirname "$0")/lib.sh"
for tool in mausezahn tcpdump; do
  command -v $tool >/dev/null || { it_fail "$tool is not installed (scripts/test installs it)"; it_pass; }
done
it_start_daemon
apps="  - name: web
    mode: server
    command: [socat, 'TCP-LISTEN:80,fork,reuseaddr', 'SYSTEM:echo web']
    ports: [tcp/80]
  - name: evil
    mode: server
    command: [socat, 'TCP-LISTEN:81,fork,reuseaddr', 'SYSTEM:echo evil']
    ports: [tcp/81]
  - name: mal
    mode: dynamic
    command: [socat, 'TCP-LISTEN:7000,fork,reuseaddr', 'SYSTEM:echo mal']
  - name: victim
    mode: dynamic
    command: [socat, 'TCP-LISTEN:7000,fork,reuseaddr', 'SYSTEM:echo victim']"
it_deploy "$(it_deployment "$apps")"
st=$(it_status_json "$IT_DEP")
field() { echo "$st" | jq -r --arg n "$1" ".deployments[0].domains[] | select(.name == \$n) | .$2"; }
sip=$(echo "$st" | jq -r .deployments[0].network.server_ip)
gw=$(echo "$st" | jq -r .deployments[0].network.gateway)
mal_ip=$(field mal ip); victim_ip=$(field victim ip)
ns() { echo "lt-$IT_DEP-$1"; }
mac_of() { ip -n "$(ns "$1")" -j link show "$2" | jq -r '.[0].address'; }
peer_mac=$(mac_of peer wire0)
mal_mac=$(mac_of mal tap0); victim_mac=$(mac_of victim tap0)
smac=$(mac_of web tap0) # server-mode apps carry the server's MAC
hex() { local IFS=.; set -- $1; printf '0x%02x%02x%02x%02x' "$1" "$2" "$3" "$4"; }
peer="ip netns exec $(ns peer)"
it_log "server $sip $smac, gateway $gw $peer_mac, mal $mal_ip $mal_mac, victim $victim_ip $victim_mac"
[ -n "$mal_mac" ] && [ -n "$victim_mac" ] && [ -n "$smac" ] && [ -n "$peer_mac" ] ||
  { it_fail "addresses of the apps"; it_pass; }
read -r web_eph _ < <(ip netns exec "$(ns web)" cat /proc/sys/net/ipv4/ip_local_port_range)
read -r evil_eph _ < <(ip netns exec "$(ns evil)" cat /proc/sys/net/ipv4/ip_local_port_range)

# get <ns> <host> <port>: one line from a TCP server.
get() { ip netns exec "$1" timeout 5 socat -T 3 - "TCP:$2:$3" </dev/null 2>/dev/null; }
# Every app is reached once: the ARP entries to be attacked exist.
it_check "web answers on $sip:80" it_wait_for "$IT_WAIT_LIMIT" bash -c "[ \"\$($peer timeout 3 socat -T 2 - TCP:$sip:80 </dev/null 2>/dev/null)\" = web ]"
it_check "victim answers on $victim_ip:7000" [ "$(get "$(ns peer)" "$victim_ip" 7000)" = victim ]
it_check "mal answers on $mal_ip:7000" [ "$(get "$(ns peer)" "$mal_ip" 7000)" = mal ]

# lladdr <ns> <ip>: the MAC of ip in ns's ARP table (empty if none).
lladdr() { ip -n "$1" -j neigh show "$2" | jq -r '.[0].lladdr // empty'; }
it_check "the peer has the victim at $victim_mac" [ "$(lladdr "$(ns peer)" "$victim_ip")" = "$victim_mac" ]
it_check "the peer has the server IP at $smac" [ "$(lladdr "$(ns peer)" "$sip")" = "$smac" ]
it_check "the victim has the gateway at $peer_mac" [ "$(lladdr "$(ns victim)" "$gw")" = "$peer_mac" ]
# web (server mode) asked for the gateway itself: the reply reached it.
it_check "web has the gateway at $peer_mac (the reply went to the app that asked)" \
  [ "$(lladdr "$(ns web)" "$gw")" = "$peer_mac" ]

# counter <app> <name>: the server's counter for app (0 if not written).
counter() {
  ctl --json status "$IT_DEP" "$1" 2>/dev/null | jq -r --arg c "$2" '.counters[$c] // 0'
}
declare -A before
for app in mal evil web victim server; do
  for c in spoof_mac spoof_ip spoof_port spoof_arp bad_ethertype; do
    before[$app.$c]=$(counter $app $c)
  done
done

# Captures at the gateway (the peer) and at the victim, of the attack.
cap() { # <ns> <if> <file>
  ip netns exec "$1" tcpdump -i "$2" -U -n -w "$3" 2>"$3.log" &
  IT_BG_PIDS+=($!)
  CAPS+=($!)
}
CAPS=()
cap "$(ns peer)" wire0 "$IT_TMP/peer.pcap"
cap "$(ns victim)" tap0 "$IT_TMP/victim.pcap"
it_wait_for "$IT_WAIT_LIMIT" bash -c "grep -q listening $IT_TMP/peer.pcap.log && grep -q listening $IT_TMP/victim.pcap.log" ||
  it_fail "tcpdump did not start"
# An ARP entry is overridden by a reply only a second (locktime) after its
# last update: wait, so that a poisoning that got through would show.
sleep 1.2

mz() { # <app> <mausezahn args...>
  local app=$1; shift
  ip netns exec "$(ns "$app")" mausezahn tap0 -q "$@" >/dev/null 2>&1 ||
    it_fail "mausezahn in $app: $*"
}
bc=ff:ff:ff:ff:ff:ff
# mal (dynamic): forged source MACs (2)
mz mal -c 1 -a "$victim_mac" -b "$peer_mac" -A "$mal_ip" -B "$gw" -t udp "sp=5999,dp=5999"
mz mal -c 1 -a 02:de:ad:be:ef:01 -b "$peer_mac" -A "$mal_ip" -B "$gw" -t udp "sp=5999,dp=5999"
# forged source IPs: the victim's, the gateway's (to the victim), the
# server's (3)
mz mal -c 1 -a "$mal_mac" -b "$peer_mac" -A "$victim_ip" -B "$gw" -t udp "sp=5999,dp=5999"
mz mal -c 1 -a "$mal_mac" -b "$victim_mac" -A "$gw" -B "$victim_ip" -t udp "sp=5999,dp=5999"
mz mal -c 1 -a "$mal_mac" -b "$peer_mac" -A "$sip" -B "$gw" -t tcp "sp=80,dp=5999,flags=syn"
# ARP poisoning (4): the gateway's IP announced (reply and request) to
# all, the victim's IP told to the gateway, the gateway's told to the
# victim
mz mal -c 1 -a "$mal_mac" -b $bc -t arp "reply, smac=$mal_mac, sip=$gw, tmac=$bc, tip=$gw"
mz mal -c 1 -a "$mal_mac" -b $bc -t arp "request, smac=$mal_mac, sip=$gw, tmac=00:00:00:00:00:00, tip=$gw"
mz mal -c 1 -a "$mal_mac" -b "$peer_mac" -t arp "reply, smac=$mal_mac, sip=$victim_ip, tmac=$peer_mac, tip=$gw"
mz mal -c 1 -a "$mal_mac" -b "$victim_mac" -t arp "reply, smac=$mal_mac, sip=$gw, tmac=$victim_mac, tip=$victim_ip"
# an ethertype the design does not carry (20)
mz mal -c 20 -a "$mal_mac" -b "$peer_mac" "88:b5:de:ad:be:ef"
# evil (server mode): web's declared port and web's ephemeral range (2)
mz evil -c 1 -a "$smac" -b "$peer_mac" -A "$sip" -B "$gw" -t tcp "sp=80,dp=5999,flags=syn"
mz evil -c 1 -a "$smac" -b "$peer_mac" -A "$sip" -B "$gw" -t udp "sp=$web_eph,dp=5999"
# ARP replies: for the shared IP (the server's to give), and the
# gateway's IP at the server's MAC (2)
mz evil -c 1 -a "$smac" -b "$peer_mac" -t arp "reply, smac=$smac, sip=$sip, tmac=$peer_mac, tip=192.0.2.99"
mz evil -c 1 -a "$smac" -b $bc -t arp "reply, smac=$smac, sip=$gw, tmac=$bc, tip=$gw"
# From the wire (where a direct app's VF sends, under Xen): a host that
# claims the victim's IP and the server's (2; the server's counter)
$peer mausezahn wire0 -q -c 1 -a 02:66:66:66:66:66 -b $bc \
  -t arp "reply, smac=02:66:66:66:66:66, sip=$victim_ip, tmac=$bc, tip=$victim_ip" >/dev/null 2>&1
$peer mausezahn wire0 -q -c 1 -a 02:66:66:66:66:66 -b $bc \
  -t arp "request, smac=02:66:66:66:66:66, sip=$sip, tmac=00:00:00:00:00:00, tip=$sip" >/dev/null 2>&1

# What the attackers may send, through the same tools: their own
# addresses (mal: any port; evil: its own ephemeral port), a broadcast
# ARP request of mal's for an address nobody has.
mz mal -c 2 -a "$mal_mac" -b "$peer_mac" -A "$mal_ip" -B "$gw" -t udp "sp=5998,dp=5998"
mz evil -c 2 -a "$smac" -b "$peer_mac" -A "$sip" -B "$gw" -t udp "sp=$evil_eph,dp=5998"
mz mal -c 1 -a "$mal_mac" -b $bc -t arp "request, smac=$mal_mac, sip=$mal_ip, tmac=00:00:00:00:00:00, tip=192.0.2.98"

# delta <app> <counter>: how much it grew since before the attack.
delta() { echo $(( $(counter "$1" "$2") - ${before[$1.$2]} )); }
want() { # <app> <counter> <n>: exactly n more (counters are flushed once a second)
  it_wait_for "$IT_WAIT_LIMIT" bash -c "[ \$(( \$($IT_BIN/librettoctl -s $IT_SOCK --json status $IT_DEP $1 | jq -r '.counters.$2 // 0') - ${before[$1.$2]} )) -ge $3 ]"
  local got; got=$(delta "$1" "$2")
  it_check "$1: $2 +$3 (got +$got)" [ "$got" -eq "$3" ]
}
want mal spoof_mac 2
want mal spoof_ip 3
want mal spoof_arp 4
want evil spoof_port 2
want evil spoof_arp 2
want server spoof_arp 2
it_check "mal: bad_ethertype +20 or more (got +$(delta mal bad_ethertype))" \
  [ "$(delta mal bad_ethertype)" -ge 20 ]
for app in web victim; do
  sum=0
  for c in spoof_mac spoof_ip spoof_port spoof_arp; do sum=$(( sum + $(delta $app $c) )); done
  it_check "$app (not attacking): no spoof drops (got $sum)" [ "$sum" -eq 0 ]
done
sleep 0.5
for p in "${CAPS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done

# count <pcap> <filter>: frames of the capture that match.
count() { tcpdump -nn -r "$1" "$2" 2>/dev/null | grep -c .; }
P=$IT_TMP/peer.pcap V=$IT_TMP/victim.pcap
it_check "the gateway got mal's and evil's own UDP ($(count $P 'udp port 5998') frames)" \
  [ "$(count $P 'udp port 5998')" -ge 4 ]
it_check "the victim heard mal's own ARP request" \
  [ "$(count $V "arp and ether src $mal_mac and arp[14:4] = $(hex "$mal_ip")")" -ge 1 ]
it_check "nothing forged of port 5999 reached the gateway" [ "$(count $P 'port 5999')" -eq 0 ]
it_check "nothing forged of port 5999 reached the victim" [ "$(count $V 'port 5999')" -eq 0 ]
it_check "no ethertype 0x88b5 reached the gateway" [ "$(count $P 'ether proto 0x88b5')" -eq 0 ]
it_check "no ARP of mal's but for its own IP reached the gateway" \
  [ "$(count $P "arp and ether src $mal_mac and not arp[14:4] = $(hex "$mal_ip")")" -eq 0 ]
it_check "no ARP of mal's but for its own IP reached the victim" \
  [ "$(count $V "arp and ether src $mal_mac and not arp[14:4] = $(hex "$mal_ip")")" -eq 0 ]
it_check "no ARP claiming the gateway's IP from the server's MAC reached anyone" \
  [ "$(count $P "arp and ether src $smac and arp[14:4] = $(hex "$gw")")$(count $V "arp and ether src $smac and arp[14:4] = $(hex "$gw")")" = 00 ]
it_check "the wire's claim of the victim's IP did not reach the victim" \
  [ "$(count $V 'arp and ether src 02:66:66:66:66:66')" -eq 0 ]
it_check "evil's ARP reply reached nobody" \
  [ "$(count $P "arp and arp[24:4] = $(hex 192.0.2.99)")" -eq 0 ]

# The ARP entries are as they were.
it_check "the gateway still has the victim at $victim_mac" [ "$(lladdr "$(ns peer)" "$victim_ip")" = "$victim_mac" ]
it_check "the gateway still has the server IP at $smac" [ "$(lladdr "$(ns peer)" "$sip")" = "$smac" ]
it_check "the victim still has the gateway at $peer_mac" [ "$(lladdr "$(ns victim)" "$gw")" = "$peer_mac" ]
it_check "web still has the gateway at $peer_mac" [ "$(lladdr "$(ns web)" "$gw")" = "$peer_mac" ]

# Legitimate traffic, the attackers' included, still works.
it_check "victim still answers" [ "$(get "$(ns peer)" "$victim_ip" 7000)" = victim ]
it_check "web still answers" [ "$(get "$(ns peer)" "$sip" 80)" = web ]
it_check "mal still answers" [ "$(get "$(ns peer)" "$mal_ip" 7000)" = mal ]
$peer timeout 10 socat TCP-LISTEN:9999,reuseaddr SYSTEM:'echo from-peer' &
IT_BG_PIDS+=($!)
sleep 0.3
it_check "evil still connects out to the gateway" [ "$(get "$(ns evil)" "$gw" 9999)" = from-peer ]
# A datagram larger than the app's MTU (9000) leaves in fragments: only
# the first has the port, and the rest must follow it out whole.
head -c 20000 /dev/urandom >"$IT_TMP/big.udp"
$peer timeout 5 socat -u -b 65536 UDP-RECV:9997 OPEN:"$IT_TMP/big.got",creat &
IT_BG_PIDS+=($!)
sleep 0.3
ip netns exec "$(ns evil)" socat -u -b 65536 OPEN:"$IT_TMP/big.udp" "UDP-SENDTO:$gw:9997,sourceport=$evil_eph"
it_check "evil's 20000-byte UDP datagram reaches the gateway whole, in fragments" it_wait_for "$IT_WAIT_LIMIT" \
  cmp -s "$IT_TMP/big.udp" "$IT_TMP/big.got"
it_pass
