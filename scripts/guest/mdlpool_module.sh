#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The native example module, then unloading and reloading both modules: a
# check of the modules this tree built, not a kselftest of the kernel, so it
# is kept out of the selftests/ collection. scripts/run-tests hands it to its
# guests (vm-run --add) and runs it through the kernel's kselftest runner
# after that collection, as it leaves the modules reloaded.
. /selftests/mdlpool/lib.sh

moddir=${MDLPOOL_MODDIR:-/lib/modules/mdlpool}
require_modules
if [ ! -f "$moddir/mdlpool.ko" ]; then
	ktap_skip_script "module reload" "no modules in $moddir"
fi
ktap_print_header
ktap_set_plan 12

ktap_test_result "the native example (examples/mdlpool_example.c) loads: 256 buffers allocated, checked, freed" \
	insmod "$moddir/mdlpool_example.ko" count=256
ktap_test_result "... its pool is there while it is loaded, nothing out" \
	sh -c "[ $(pool_stat example allocs) -eq 256 ] && [ $(pool_stat example in_use) -eq 0 ]"
ktap_test_result "... and it unloads, taking its pool with it" \
	sh -c "rmmod mdlpool_example && [ ! -e $DBG/example ]"

# nt_compat.ko may be loaded already (mdlpool_ntcompat.sh unloads it).
pools=$(summary pools)
ktap_test_result "the NT-style example (examples/mdlpool_ntexample.c) loads on nt_compat: a chain of 8 MDLs filled, walked, freed" \
	sh -c "{ grep -q '^nt_compat ' /proc/modules || insmod $moddir/nt_compat.ko; } &&
	       insmod $moddir/mdlpool_ntexample.ko"
ktap_test_result "... and it unloads with nt_compat, leaving no pool" \
	sh -c "rmmod mdlpool_ntexample && rmmod nt_compat &&
	       grep -q '^pools=$pools ' $DBG/summary"

ctl_ok create left 128
ctl_ok alloc left 7 cpu=0
ktap_test_result "the library cannot be unloaded while the test module uses it" \
	sh -c "! rmmod mdlpool 2>/dev/null && [ -d $DBG ]"
ktap_test_result "the test module unloads with buffers out, giving them back first" \
	rmmod mdlpool_test
ktap_test_result "... and then no pool and no page is left" \
	sh -c "grep -q 'pools=0 pages_held=0 ' $DBG/summary"
ktap_test_result "the library unloads and removes its debugfs directory" \
	sh -c "rmmod mdlpool && [ ! -e $DBG ]"
ktap_test_result "both modules load again" \
	sh -c "insmod $moddir/mdlpool.ko && insmod $moddir/mdlpool_test.ko"
ktap_test_result "a reloaded pool allocates and frees on every CPU" \
	sh -c "printf 'create again 256\n' > $CTL &&
	       printf 'stress again ops=2000\n' > $CTL &&
	       grep -q '^stress again .* mismatches=0 ' $CTL"
ktap_test_result "and is destroyed cleanly" \
	sh -c "printf 'destroy again\n' > $CTL && grep -q 'pools=0 pages_held=0 ' $DBG/summary"

ktap_finished
