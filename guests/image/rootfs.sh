# shellcheck shell=bash
# Building blocks for the initramfs images of real Xen: the guest image
# (guests/image/build) and dom0's (tests/xen/mkdom0). Sourced, not run.
#
# Everything an image holds comes from Debian packages: the kernel, its
# modules and busybox from the content cache that tests/xen/fetch fills
# (apt-get download + dpkg-deb -x, never installed on the host), the rest
# from the host's own installed packages, copied with the libraries ldd
# names for them.

# The content cache. Its layout is fixed here, filled by tests/xen/fetch.
LIBRETTO_XEN_CACHE=${LIBRETTO_XEN_CACHE:-/var/cache/libretto-xen}
XEN_CACHE_HYPERVISOR=$LIBRETTO_XEN_CACHE/xen-4.17-amd64 # multiboot ELF
XEN_CACHE_VMLINUX=$LIBRETTO_XEN_CACHE/vmlinux           # plain ELF kernel
XEN_CACHE_LINUX=$LIBRETTO_XEN_CACHE/linux # extracted linux-image package
XEN_CACHE_BUSYBOX=$LIBRETTO_XEN_CACHE/busybox # static
XEN_CACHE_KVER_FILE=$LIBRETTO_XEN_CACHE/kernel-version

rootfs_die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# rootfs_require_cache: the content tests/xen/fetch provides is all there.
rootfs_require_cache() {
  local f
  for f in "$XEN_CACHE_HYPERVISOR" "$XEN_CACHE_VMLINUX" "$XEN_CACHE_BUSYBOX" "$XEN_CACHE_KVER_FILE"; do
    [ -s "$f" ] || rootfs_die "$f is missing: run tests/xen/fetch first (cache: $LIBRETTO_XEN_CACHE)"
  done
  XEN_CACHE_KVER=$(cat "$XEN_CACHE_KVER_FILE")
  [ -s "$XEN_CACHE_LINUX/lib/modules/$XEN_CACHE_KVER/modules.dep" ] ||
    rootfs_die "no modules.dep for $XEN_CACHE_KVER in $XEN_CACHE_LINUX: run tests/xen/fetch again"
}

# rootfs_skeleton DIR: an empty merged-/usr tree (/lib is /usr/lib...).
rootfs_skeleton() {
  local dir=$1
  rm -rf "$dir"
  mkdir -p "$dir"/{usr/bin,usr/sbin,usr/lib,usr/lib64,etc,proc,sys,dev,tmp,run,root,var/log,var/lib,var/tmp}
  ln -s usr/bin "$dir/bin"
  ln -s usr/sbin "$dir/sbin"
  ln -s usr/lib "$dir/lib"
  ln -s usr/lib64 "$dir/lib64"
  ln -s ../run "$dir/var/run"
  ln -s ../run/lock "$dir/var/lock"
  chmod 1777 "$dir/tmp" "$dir/var/tmp"
}

# rootfs_init DIR: the skeleton with busybox, its applets and the users.
rootfs_init() {
  local dir=$1 applet
  rootfs_skeleton "$dir"
  cp "$XEN_CACHE_BUSYBOX" "$dir/usr/bin/busybox"
  # --list-full names the applets with their directories (bin/sh, sbin/ip...).
  while read -r applet; do
    [ -e "$dir/$applet" ] || ln -s /usr/bin/busybox "$dir/$applet"
  done < <("$XEN_CACHE_BUSYBOX" --list-full)
  # /bin/sh is Debian's dash, not busybox's: Debian builds busybox-static
  # to prefer its own applets, so that in its shell `ip` would be busybox's
  # ip (no `vf`) even with iproute2's first on PATH.
  rootfs_add_file "$dir" /usr/bin/dash
  rootfs_shadow_applet "$dir" sh
  ln -s dash "$dir/usr/bin/sh"
  # The users the apps switch to (nginx: www-data, memcached -u nobody).
  cat >"$dir/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin
redis:x:100:101:redis:/var/lib/redis:/usr/sbin/nologin
memcache:x:101:102:memcache:/nonexistent:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
  cat >"$dir/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
www-data:x:33:
redis:x:101:
memcache:x:102:
nogroup:x:65534:
EOF
  printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\n' >"$dir/etc/nsswitch.conf"
  printf '127.0.0.1 localhost\n::1 localhost\n' >"$dir/etc/hosts"
}

# rootfs_shadow_applet DIR NAME: a real program NAME is in the image, so
# busybox's applet of that name (in any bin directory) must not win on PATH.
rootfs_shadow_applet() {
  local dir=$1 name=$2 d
  for d in usr/bin usr/sbin; do
    if [ -L "$dir/$d/$name" ] && [ "$(readlink "$dir/$d/$name")" = /usr/bin/busybox ]; then
      rm -f "$dir/$d/$name"
    fi
  done
}

# rootfs_add_file DIR PATH [DEST]: a host file (dereferenced) at DEST
# (default: the same path) in the image. Programs shadow busybox applets.
rootfs_add_file() {
  local dir=$1 src=$2 dest=${3:-$2}
  [ -e "$src" ] || rootfs_die "$src does not exist on this host"
  rootfs_shadow_applet "$dir" "$(basename "$dest")"
  mkdir -p "$dir/$(dirname "$dest")"
  cp -L --remove-destination "$src" "$dir/$dest"
}

# rootfs_add_program DIR NAME: a program found on the host's PATH, at the
# path where the host has it.
rootfs_add_program() {
  local dir=$1 name=$2 path
  path=$(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH command -v "$name") ||
    rootfs_die "$name is not on this host's PATH (is its Debian package installed? tests/xen/fetch installs the defaults)"
  rootfs_add_file "$dir" "$path"
}

# rootfs_add_tree DIR PATH...: host directories or files copied as they are
# (symbolic links kept), for configuration and data an app reads.
rootfs_add_tree() {
  local dir=$1 p
  shift
  for p in "$@"; do
    [ -e "$p" ] || rootfs_die "$p does not exist on this host"
    # tar rather than cp --parents, which fails on some parents (coreutils 9.1).
    tar -C / -cf - "${p#/}" | tar -C "$dir" -xf - || rootfs_die "cannot copy $p into the image"
  done
}

# rootfs_is_elf FILE
rootfs_is_elf() {
  [ -f "$1" ] && [ "$(od -An -tx1 -N4 "$1" 2>/dev/null)" = " 7f 45 4c 46" ]
}

# rootfs_resolve_libs DIR: every shared library the image's dynamic ELF
# files need (ldd gives the closure), plus libgcc_s, which glibc loads with
# dlopen when a thread is cancelled or exits, so ldd never names it.
rootfs_resolve_libs() {
  local dir=$1 f out lib libs=()
  while IFS= read -r -d '' f; do
    rootfs_is_elf "$f" || continue
    # Static files and kernels: "not a dynamic executable", nothing to add.
    out=$(ldd "$f" 2>/dev/null) || continue
    if grep -q 'not found' <<<"$out"; then
      rootfs_die "$f needs a library this host does not have: $(grep 'not found' <<<"$out" | tr -s ' \t' ' ')"
    fi
    # "libx.so.1 => /lib/.../libx.so.1 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
    while read -r lib; do
      libs+=("$lib")
    done < <(awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' <<<"$out")
  done < <(find "$dir" -path "$dir/usr/lib/modules" -prune -o -type f -print0)
  lib=$(/sbin/ldconfig -p | awk '$1 == "libgcc_s.so.1" && /x86-64/ {print $NF; exit}')
  [ -n "$lib" ] || rootfs_die "libgcc_s.so.1 not found on this host (package libgcc-s1)"
  libs+=("$lib")
  while read -r lib; do
    [ -e "$dir/$lib" ] && continue
    mkdir -p "$dir/$(dirname "$lib")" && cp -L "$lib" "$dir/$lib" ||
      rootfs_die "cannot copy $lib into the image"
  done < <(printf '%s\n' "${libs[@]}" | sort -u)
}

# rootfs_add_modules DIR MODULE...: the kernel modules (names as modprobe
# takes them) with their dependencies from modules.dep, and
# /etc/modules.load: their paths in an order insmod can follow (each
# module after what it depends on). The kernel may have a module built
# in; modules.builtin says so and it is skipped.
rootfs_add_modules() {
  local dir=$1 kroot mod rel dep
  shift
  kroot=$XEN_CACHE_LINUX/lib/modules/$XEN_CACHE_KVER
  declare -A seen=()
  local order=()
  # visit REL: depth first, dependencies first; REL as modules.dep writes it.
  visit() {
    local rel=$1 d
    [ -z "${seen[$rel]:-}" ] || return 0
    seen[$rel]=1
    for d in $(awk -F': *' -v m="$rel" '$1 == m {print $2}' "$kroot/modules.dep"); do
      visit "$d"
    done
    order+=("$rel")
  }
  for mod in "$@"; do
    rel=$(awk -F: -v m="$mod" '{n = $1; sub(/.*\//, "", n); sub(/\.ko(\..*)?$/, "", n); gsub(/-/, "_", n);
      w = m; gsub(/-/, "_", w); if (n == w) {print $1; exit}}' "$kroot/modules.dep")
    if [ -z "$rel" ]; then
      if grep -qE "/${mod//-/[-_]}\.ko$" "$kroot/modules.builtin"; then
        continue
      fi
      rootfs_die "kernel $XEN_CACHE_KVER has no module $mod"
    fi
    visit "$rel"
  done
  mkdir -p "$dir/lib/modules/$XEN_CACHE_KVER"
  : >"$dir/etc/modules.load"
  for dep in "${order[@]}"; do
    mkdir -p "$dir/lib/modules/$XEN_CACHE_KVER/$(dirname "$dep")"
    cp "$kroot/$dep" "$dir/lib/modules/$XEN_CACHE_KVER/$dep"
    echo "/lib/modules/$XEN_CACHE_KVER/$dep" >>"$dir/etc/modules.load"
  done
  unset -f visit
}

# rootfs_pack DIR OUT: DIR as a newc cpio owned by root, compressed as
# OUT's name says: .zst (zstd) or .gz (gzip).
rootfs_pack() {
  local dir=$1 out=$2 compress
  case $out in
  *.zst) compress=(zstd -q -10 -T2) ;;
  *.gz) compress=(gzip -1) ;;
  *) rootfs_die "rootfs_pack: $out: name it .zst or .gz" ;;
  esac
  (cd "$dir" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
    "${compress[@]}" >"$out.tmp" || { rm -f "$out.tmp"; rootfs_die "cannot pack $dir into $out"; }
  mv "$out.tmp" "$out"
}
