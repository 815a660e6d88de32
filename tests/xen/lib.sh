# shellcheck shell=bash
# Shared by the scripts of tests/xen. Sourced, not run.

XEN_TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LIBRETTO_TOP=$(cd "$XEN_TEST_DIR/../.." && pwd)
# shellcheck source=../../guests/image/rootfs.sh
. "$LIBRETTO_TOP/guests/image/rootfs.sh"

# The lines dom0's /init prints on the serial console; tests/xen/boot
# watches for them. Kept in one place: dom0-init gets them from its
# environment file, written by mkdom0.
export XEN_MARK_DOM0_UP="LIBRETTO-XEN-DOM0-UP"
export XEN_MARK_RESULT="LIBRETTO-XEN-RESULT"

xen_say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
xen_die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# xen_now_ms: a monotonic-enough clock for the timings printed.
xen_now_ms() { date +%s%3N; }
# xen_secs SINCE_MS: seconds elapsed, one decimal.
xen_secs() {
  local d=$(($(xen_now_ms) - $1))
  printf '%d.%d' $((d / 1000)) $((d % 1000 / 100))
}
