#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Loads the KUnit tests of mdlpool's internals; the suite's KTAP, as KUnit
# keeps it in /sys/kernel/debug/kunit/mdlpool/results, is this test's
# output, so that the kselftest runner nests it like any test's and the host
# counts its cases with KUnit's own parser (kunit.py parse, in
# scripts/ktap-count).  Skipped, visibly, on kernels without KUnit.
. "$(dirname "$0")/lib.sh"

moddir=${MDLPOOL_MODDIR:-/lib/modules/mdlpool}
results=/sys/kernel/debug/kunit/mdlpool/results
require_modules
if [ ! -d /sys/kernel/debug/kunit ] || [ ! -f "$moddir/mdlpool_kunit.ko" ]; then
	ktap_skip_script "mdlpool KUnit suite" "this kernel has no KUnit"
fi

# Two cases warn once on purpose: a refused double free, an overwritten
# free block.
expect_warnings_begin
insmod "$moddir/mdlpool_kunit.ko"
loaded=$?
expect_warnings_end
if [ $loaded -ne 0 ] || [ ! -f $results ]; then
	ktap_print_header
	ktap_set_plan 1
	ktap_test_fail "the KUnit module loads and reports"
	ktap_finished
fi
ktap=$(cat $results)
echo "$ktap"
rmmod mdlpool_kunit
# The suite's own result line: it passed, or was skipped whole.
echo "$ktap" | grep -Eq '^ok [0-9]+ mdlpool( |$)'
