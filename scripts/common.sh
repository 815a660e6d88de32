# Shared by scripts/demo and scripts/test: install what is missing, build.
# Sourced, not run.

LIBRETTO_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian 12 packages the build, the sim backend and the tests need.
LIBRETTO_PACKAGES=(
  build-essential cmake pkg-config clang libclang-rt-14-dev
  libxen-dev xen-utils-4.17 xenstore-utils
  libevent-dev libjson-c-dev libyaml-dev
  iproute2 iputils-ping tcpdump ethtool procps psmisc jq curl socat
  netsniff-ng
  nginx-light redis-server redis-tools memcached
)

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

ensure_root() {
  [ "$(id -u)" -eq 0 ] || die "run me as root: the sim backend creates network namespaces and links (try: sudo $0)"
}

ensure_packages() {
  local missing=() p
  for p in "${LIBRETTO_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
      missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    say "all ${#LIBRETTO_PACKAGES[@]} Debian packages present"
    return
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Package scripts must not start nginx/redis/memcached on the host: the
  # project runs its own copies inside namespaces.
  local policy=/usr/sbin/policy-rc.d had_policy=0
  [ -e $policy ] && had_policy=1
  [ $had_policy -eq 1 ] || printf '#!/bin/sh\nexit 101\n' > $policy
  chmod +x $policy
  apt-get update -q || die "apt-get update failed"
  # xen-utils' recommends would pull in the hypervisor and grub hooks.
  apt-get install -y -q --no-install-recommends "${missing[@]}" ||
    { [ $had_policy -eq 1 ] || rm -f $policy; die "apt-get install failed"; }
  [ $had_policy -eq 1 ] || rm -f $policy
}

# build DIR [cmake options...]
build() {
  local dir=$1; shift
  say "building in $dir $*"
  cmake -S "$LIBRETTO_TOP" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null ||
    die "cmake configure failed in $dir"
  cmake --build "$dir" -j"$(nproc)" || die "build failed in $dir"
}
