#!/usr/bin/env bash
# The portmap arbiter: a server-mode app's claim on a port another holds is
# refused (event + status), the holder keeps it; claims follow the guest's
# guest/ports, and the network server's mirror follows the portmap. The
# data-path nodes of docs/datapath.md are written for each app.
. "$(dirname "$0")/lib.sh"
it_start_daemon
apps="  - name: alpha
    mode: server
    command: [sleep, '1000']
    ports: [tcp/80]
  - name: beta
    mode: server
    command: [sleep, '1000']
  - name: dyn
    mode: dynamic
    command: [sleep, '1000']
  - name: kv
    mode: direct
    command: [sleep, '1000']"
it_deploy "$(it_deployment "$apps")"
st=$(it_status_json "$IT_DEP")
id() { it_domid "$1" "$st"; }
srv=$(id server); a=$(id alpha); b=$(id beta); dyn=$(id dyn); kv=$(id kv)
g() { it_xs xenstore-read "/local/domain/$1/libretto/$2" 2>/dev/null; }

it_check "apps on the server path know their backend" \
  [ "$(g "$a" net/backend) $(g "$dyn" net/backend)" = "$srv $srv" ]
it_check "a direct app has no backend but its VF" \
  bash -c "! XENSTORED_PATH=$IT_RUN/xenstored/socket xenstore-exists /local/domain/$kv/libretto/net/backend && [ \"\$(XENSTORED_PATH=$IT_RUN/xenstored/socket xenstore-read /local/domain/$kv/libretto/net/vf)\" = vf0 ]"
it_check "the VF is in kv's namespace with kv's MAC" bash -c \
  "ip -n lt-$IT_DEP-kv link show vf0 | grep -q \"\$(XENSTORED_PATH=$IT_RUN/xenstored/socket xenstore-read /local/domain/$kv/libretto/net/mac)\""
ea=$(g "$a" net/ephemeral); eb=$(g "$b" net/ephemeral)
it_check "server-mode apps get disjoint ephemeral ranges ($ea, $eb)" \
  bash -c "[ -n '$ea' ] && [ -n '$eb' ] && [ '$ea' != '$eb' ]"
it_check "server-mode apps share the server's MAC" [ "$(g "$a" net/mac)" = "$(g "$srv" net/mac)" ]
it_check "the server knows each app" \
  [ "$(g "$srv" server/apps/$dyn/ip) $(g "$srv" server/apps/$dyn/active) $(g "$srv" server/apps/$kv/active)" = "$(g "$dyn" net/ip) 1 0" ]
it_check "declared tcp/80 is alpha's, mirrored for the server" \
  [ "$(it_xs xenstore-read /libretto/portmap/$IT_DEP/tcp/80) $(g "$srv" server/portmap/tcp/80)" = "$a $a" ]

it_subscribe "$IT_TMP/events"
# What the agents write when they find listening sockets.
it_xs xenstore-write "/local/domain/$a/libretto/guest/ports/tcp/8080" ""
it_check "alpha's claim on tcp/8080 is granted" it_wait_for 2 bash -c \
  "[ \"\$(XENSTORED_PATH=$IT_RUN/xenstored/socket xenstore-read /libretto/portmap/$IT_DEP/tcp/8080 2>/dev/null)\" = $a ]"
it_xs xenstore-write "/local/domain/$b/libretto/guest/ports/tcp/8080" "" "/local/domain/$b/libretto/guest/ports/udp/5353" ""
it_check "beta's claim on tcp/8080 is refused with an event" it_wait_for 2 bash -c \
  "jq -e 'select(.event == \"port-conflict\" and .data.domain == \"beta\" and .data.port == \"tcp/8080\" and .data.owner == \"alpha\")' $IT_TMP/events >/dev/null"
it_check "beta's udp/5353 is granted" it_wait_for 2 bash -c \
  "[ \"\$(XENSTORED_PATH=$IT_RUN/xenstored/socket xenstore-read /libretto/portmap/$IT_DEP/udp/5353 2>/dev/null)\" = $b ]"
it_check "tcp/8080 still routes to alpha" [ "$(it_xs xenstore-read /libretto/portmap/$IT_DEP/tcp/8080) $(g "$srv" server/portmap/tcp/8080)" = "$a $a" ]
bst=$(ctl --json status "$IT_DEP" beta)
echo "    $bst" | cut -c1-300
it_check "status shows beta's refused claim" \
  bash -c "echo '$bst' | jq -e '.port_conflicts == [{\"port\":\"tcp/8080\",\"owner\":\"alpha\",\"owner_domid\":$a,\"reason\":\"held\",\"error\":\"held by another domain\"}] and .ports == [\"udp/5353\"]' >/dev/null"
it_xs xenstore-rm "/local/domain/$a/libretto/guest/ports/tcp/8080"
it_check "a claim withdrawn is released" it_wait_for 2 bash -c \
  "! XENSTORED_PATH=$IT_RUN/xenstored/socket xenstore-exists /libretto/portmap/$IT_DEP/tcp/8080 && ! XENSTORED_PATH=$IT_RUN/xenstored/socket xenstore-exists /local/domain/$srv/libretto/server/portmap/tcp/8080"
it_xs xenstore-rm "/local/domain/$a/libretto/guest/ports"
it_check "declared ports stay when the guest lists nothing" \
  [ "$(it_xs xenstore-read /libretto/portmap/$IT_DEP/tcp/80)" = "$a" ]
# What the network server publishes shows in status (docs/datapath.md).
# (Keys of the test's own, which a running network server leaves alone.)
it_xs xenstore-write "/local/domain/$srv/libretto/server/apps/$dyn/stats/test_marker" 5 \
  "/local/domain/$srv/libretto/server/stats/test_marker" 7
it_check "status shows the app's and the PF's counters" \
  [ "$(ctl --json status "$IT_DEP" dyn | jq -c .counters.test_marker) $(ctl --json status "$IT_DEP" server | jq -c .counters.test_marker)" = "5 7" ]
ctl destroy "$IT_DEP" >/dev/null
it_check "destroy releases every port" bash -c \
  "[ -z \"\$(XENSTORED_PATH=$IT_RUN/xenstored/socket xenstore-ls /libretto/portmap 2>/dev/null)\" ]"
it_pass
