#!/usr/bin/env bash
# A xen share's reference cut into ring-ref0, ring-ref1, ... and joined
# again (guests/platform/platform_xs.c), against Debian's xenstored under
# the project's preload: starts xenstored, runs the C checks in
# tests/unit/test_platform_xs_pieces.c as domain 5 with the xen platform's
# texts (no hypervisor needed: no share is made).
#
# usage: platform_xs_pieces.sh <libretto-xsd-preload.so> <xenstored> <test>
set -u -o pipefail

preload=${1:?usage: $0 <libretto-xsd-preload.so> <xenstored> <test>}
xenstored=${2:?usage: $0 <libretto-xsd-preload.so> <xenstored> <test>}
prog=${3:?usage: $0 <libretto-xsd-preload.so> <xenstored> <test>}

. "$(dirname "$0")/xsd_lib.sh"

xsd_need_built "$preload" "$prog"
xsd_need_xenstored "$xenstored" "apt-get install xen-utils-4.17"
xsd_need_tools xenstore-exists

tmp=$(mktemp -d /tmp/libretto-plat-pieces.XXXXXX) || fail mktemp
xsd_start "$tmp" "$preload" "$xenstored"
xsd_wait

LIBRETTO_PLATFORM=xen LIBRETTO_DOMID=5 timeout 30 "$prog" ||
	fail "test_platform_xs_pieces exited $?"
pass "ring-ref pieces"
