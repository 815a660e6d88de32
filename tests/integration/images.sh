#!/usr/bin/env bash
# Per-domain images (docs/deployment.md, "Images") on the sim backend,
# which checks and shows them and boots none: a missing kernel is refused
# by validate and deploy with file:line:column and the path, before
# anything starts; an image that cannot be read (a directory where the
# file should be: root reads any file whatever its mode, so chmod 000
# would not fail) is refused the same; status shows each domain's image;
# a redeploy changing one app's ramdisk restarts that app alone.
. "$(dirname "$0")/lib.sh"
images=$IT_TMP/images
mkdir -p "$images"
: >"$images/vmlinux"
: >"$images/guest.cpio.zst"
: >"$images/redis.cpio.zst"
: >"$images/redis2.cpio.zst"
mkdir "$images/dir.cpio.zst"
printf 'images_dir: %s\n' "$images" >"$IT_TMP/librettod.yaml"
it_start_daemon -c "$IT_TMP/librettod.yaml"

# jtrue JSON [jq args] FILTER: the filter holds on JSON. Empty JSON (a
# command that printed nothing) fails: jq -e on no input exits 0.
jtrue() { local j=$1; shift; [ -n "$j" ] && printf '%s\n' "$j" | jq -e --arg d "$images" "$@" >/dev/null; }

# The demo's apps, cache with its own image: $1 the kernel line's value.
with_cache_image() {
  it_deployment "  - name: web
    mode: server
    command: [nginx, -g, 'daemon off;']
    ports: [tcp/80]
  - name: cache
    mode: dynamic
    command: [redis-server, --save, '', --appendonly, 'no', --protected-mode, 'no']
    $1
  - name: kv
    mode: direct
    command: [memcached, -u, nobody]" >/dev/null
  echo "$IT_TMP/$IT_DEP.yaml"
}

# A missing kernel: validate and deploy say where, and start nothing.
file=$(with_cache_image "kernel: missing-vmlinux")
bad=$IT_TMP/missing.yaml
cp "$file" "$bad"
line=$(grep -n 'kernel: missing-vmlinux' "$bad" | cut -d: -f1)
want="missing.yaml:$line:13: apps[1].kernel: $images/missing-vmlinux: No such file or directory"
out=$(cd "$IT_TMP" && ctl validate missing.yaml 2>&1); rc=$?
echo "    $out"
it_check "validate, missing kernel: exit 2" [ $rc -eq 2 ]
it_check "validate names file:line:column and the resolved path" \
  bash -c '[[ "$0" == "$1"* ]]' "$out" "$want"
out=$(cd "$IT_TMP" && ctl --json validate missing.yaml 2>/dev/null)
it_check "validate --json: valid false, the line and column" \
  jtrue "$out" --argjson line "$line" '.valid == false and .error.line == $line and .error.column == 13'
xs_before=$(it_xs xenstore-ls / 2>&1)
out=$(cd "$IT_TMP" && ctl deploy missing.yaml 2>&1); rc=$?
echo "    $out"
it_check "deploy, missing kernel: exit 2 with file:line:column and the path" \
  bash -c '[ "$1" -eq 2 ] && [[ "$0" == "$2"* ]]' "$out" $rc "$want"
it_check "deploy, missing kernel: no namespace of it (other tests' may come and go)" bash -c '! ip netns list | grep -q "^lt-$0-"' "$IT_DEP"
xs_after=$(it_xs xenstore-ls / 2>&1)
it_check "deploy, missing kernel: nothing in xenstore (the tree as before, no key naming it)" \
  bash -c '[ -n "$0" ] && [ "$0" = "$1" ] && ! echo "$1" | grep -q "$2"' "$xs_before" "$xs_after" "$IT_DEP"
it_check "deploy, missing kernel: no deployment" [ "$(it_status_json | jq '.deployments | length')" = 0 ]

# Unreadable: a directory in place of the ramdisk.
file=$(with_cache_image "ramdisk: dir.cpio.zst")
out=$(ctl deploy "$file" 2>&1); rc=$?
echo "    $out"
it_check "deploy, a directory as ramdisk: exit 2, Is a directory, nothing started" \
  bash -c '[ "$1" -eq 2 ] && echo "$0" | grep -q "apps\[1\].ramdisk: $2/dir.cpio.zst: Is a directory" && [ "$(ip netns list | grep -c "^lt-$3-")" = 0 ]' \
  "$out" $rc "$images" "$IT_DEP"

# configs/two-images.yaml: its redis.cpio.zst is in this images_dir.
example=$(dirname "$0")/../../configs/two-images.yaml
out=$(ctl validate "$example" 2>&1); rc=$?
echo "    $out"
it_check "validate configs/two-images.yaml: exit 0" [ $rc -eq 0 ]
out=$(LIBRETTO_SOCKET=$IT_TMP/nothing.sock "$IT_BIN/librettoctl" validate "$example" 2>&1); rc=$?
echo "    $out"
it_check "validate without a daemon, images named: exit 3, not checked" \
  bash -c '[ "$1" -eq 3 ] && echo "$0" | grep -q "only librettod can check"' "$out" $rc

# A deployment with its own images: validate asks the daemon, status shows.
file=$(with_cache_image "ramdisk: redis.cpio.zst")
out=$(ctl validate "$file" 2>&1); rc=$?
echo "    $out"
it_check "validate, images present: exit 0, checked in images_dir" \
  bash -c '[ "$1" -eq 0 ] && echo "$0" | grep -q "valid (3 apps, images found by librettod in $2)"' "$out" $rc "$images"
it_deploy "$file"
st=$(it_status_json "$IT_DEP")
it_check "status: cache boots its own ramdisk, resolved, and the default kernel" \
  jtrue "$st" '.deployments[0].domains[] | select(.name == "cache") | .ramdisk == ($d + "/redis.cpio.zst") and .kernel == "/var/lib/libretto/images/vmlinux" and .image_default == ["kernel", "cmdline"]'
it_check "status: web boots the defaults" \
  jtrue "$st" '.deployments[0].domains[] | select(.name == "web") | .image_default == ["kernel", "ramdisk", "cmdline"]'
it_check "status: the deployment's images_dir" \
  jtrue "$st" '.deployments[0].images_dir == $d'
table=$(ctl status "$IT_DEP")
echo "$table" | sed 's/^/    /'
it_check "status table: IMAGE column, cache's ramdisk relative to images_dir" \
  bash -c 'echo "$0" | grep -q "IMAGE" && echo "$0" | grep -E "^ +cache " | grep -q "ramdisk redis.cpio.zst"' "$table"

# Redeploy with another ramdisk for cache: cache alone restarts.
before=$(it_status_json "$IT_DEP" | jq -c '[.deployments[0].domains[] | {name, domid, pid}]')
sed -i 's/ramdisk: redis.cpio.zst/ramdisk: redis2.cpio.zst/' "$file"
r=$(ctl --json deploy "$file" | head -n 1)
echo "    $r"
it_check "changed ramdisk: restart cache, keep the rest" \
  jtrue "$r" '[.result.changes[] | select(.action != "keep")] == [{"domain":"cache","action":"restart"}]'
it_wait_for 20 bash -c "$IT_BIN/librettoctl -s $IT_SOCK status $IT_DEP --json | jq -e '.deployments[0].op == null' >/dev/null"
after=$(it_status_json "$IT_DEP")
it_check "cache runs its new ramdisk" \
  jtrue "$after" '.deployments[0].domains[] | select(.name == "cache") | .state == "running" and .ramdisk == ($d + "/redis2.cpio.zst")'
it_check "server, web and kv kept their domid and pid" \
  [ "$(echo "$after" | jq -c '[.deployments[0].domains[] | select(.name != "cache") | {name, domid, pid}]')" = \
    "$(echo "$before" | jq -c 'map(select(.name != "cache"))')" ]
it_check "cache has a new domid" \
  [ "$(echo "$after" | jq '.deployments[0].domains[] | select(.name == "cache") | .domid')" != \
    "$(echo "$before" | jq '.[] | select(.name == "cache") | .domid')" ]

# A restarted daemon adopts the deployment with the paths it was deployed
# with (the state file keeps its images_dir): status shows them, and the
# same file redeployed changes nothing.
restart_daemon() {
  kill -TERM "$IT_DAEMON_PID"
  it_wait_for 10 bash -c "! kill -0 $IT_DAEMON_PID 2>/dev/null" || it_fail "librettod did not stop"
  printf 'images_dir: %s\n' "$1" >"$IT_TMP/librettod.yaml"
  it_start_daemon -c "$IT_TMP/librettod.yaml"
  it_wait_for 20 bash -c "$IT_BIN/librettoctl -s $IT_SOCK status $IT_DEP --json | jq -e '[.deployments[0].domains[].state] | all(. == \"running\")' >/dev/null" ||
    it_fail "the adopted domains are not all running"
}
restart_daemon "$images"
adopted=$(it_status_json "$IT_DEP")
ids() { jq -c '[.deployments[0].domains[] | {name, domid, pid}] | sort_by(.name)'; }
it_check "after a restart: cache's ramdisk as deployed" \
  jtrue "$adopted" '.deployments[0].domains[] | select(.name == "cache") | .ramdisk == ($d + "/redis2.cpio.zst")'
it_check "after a restart: every domain adopted as it ran" \
  [ "$(echo "$adopted" | ids)" = "$(echo "$after" | ids)" ]
r=$(ctl --json deploy "$file" | head -n 1)
it_check "after a restart, the same file: no change" \
  jtrue "$r" '.result.changed == false'

# Paths are compared as resolved: a daemon restarted with another
# images_dir still shows what runs, and the same file now names another
# ramdisk, so cache alone restarts.
mkdir -p "$IT_TMP/elsewhere"
cp "$images/redis2.cpio.zst" "$IT_TMP/elsewhere/"
restart_daemon "$IT_TMP/elsewhere"
adopted=$(it_status_json "$IT_DEP")
it_check "another images_dir after a restart: status still shows the deployed path" \
  jtrue "$adopted" '.deployments[0].images_dir == $d and (.deployments[0].domains[] | select(.name == "cache") | .ramdisk == ($d + "/redis2.cpio.zst"))'
r=$(ctl --json deploy "$file" | head -n 1)
echo "    $r"
it_check "the same file against the new images_dir: cache restarts alone" \
  jtrue "$r" '[.result.changes[] | select(.action != "keep")] == [{"domain":"cache","action":"restart"}]'
it_pass
