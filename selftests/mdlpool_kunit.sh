#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Loads the KUnit tests of mdlpool's internals and reports each KUnit case
# as one result of this test, read from /sys/kernel/debug/kunit/mdlpool/.
# Skipped, visibly, on kernels without KUnit.
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
# The suite's own cases are the indented result lines of its KTAP.
cases=$(grep -E '^[[:space:]]+(not )?ok [0-9]+ ' $results)
ktap_print_header
ktap_set_plan $(($(echo "$cases" | grep -c .) + 1))
while read -r line; do
	[ -n "$line" ] || continue
	name=$(echo "$line" | sed -E 's/^(not )?ok [0-9]+ //')
	case $line in
	"not ok"*) ktap_test_fail "kunit: $name" ;;
	*"# SKIP"*) ktap_test_skip "kunit: ${name%% # SKIP*}" "${name#*# SKIP}" ;;
	*) ktap_test_pass "kunit: $name" ;;
	esac
done <<CASES
$cases
CASES
sed 's/^/# /' $results
ktap_test_result "the KUnit suite as a whole passes" grep -Eq '^ok [0-9]+ mdlpool' $results
rmmod mdlpool_kunit
ktap_finished
