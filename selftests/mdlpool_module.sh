#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Unloading and reloading both modules.  Runs last: it leaves them loaded.
. "$(dirname "$0")/lib.sh"

moddir=${MDLPOOL_MODDIR:-/lib/modules/mdlpool}
require_modules
if [ ! -f "$moddir/mdlpool.ko" ]; then
	ktap_plan 1
	ktap_skip "module reload" "no modules in $moddir"
	exit $KSFT_SKIP
fi
ktap_plan 7

ctl_ok create left 128
ctl_ok alloc left 7 cpu=0
check "the library cannot be unloaded while the test module uses it" \
	sh -c "! rmmod mdlpool 2>/dev/null && [ -d $DBG ]"
check "the test module unloads with buffers out, giving them back first" \
	rmmod mdlpool_test
check "... and then no pool and no page is left" \
	sh -c "grep -q 'pools=0 pages_held=0 ' $DBG/summary"
check "the library unloads and removes its debugfs directory" \
	sh -c "rmmod mdlpool && [ ! -e $DBG ]"
check "both modules load again" \
	sh -c "insmod $moddir/mdlpool.ko && insmod $moddir/mdlpool_test.ko"
check "a reloaded pool allocates and frees on every CPU" \
	sh -c "printf 'create again 256\n' > $CTL &&
	       printf 'stress again ops=2000\n' > $CTL &&
	       grep -q '^stress again .* mismatches=0 ' $CTL"
check "and is destroyed cleanly" \
	sh -c "printf 'destroy again\n' > $CTL && grep -q 'pools=0 pages_held=0 ' $DBG/summary"

ktap_finish
