#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Special-pool checks (debug_checks): an overrun into the redzone behind a
# buffer and a write to a freed buffer are both caught, reported and counted.
. "$(dirname "$0")/lib.sh"

require_modules
ktap_print_header
ktap_set_plan 13
saved_checks=$(cat "$PARAMS/debug_checks")
trap 'echo "$saved_checks" > "$PARAMS/debug_checks"' EXIT

set_param debug_checks 0
ctl_ok create plain 100
ktap_test_result "corrupting an unchecked pool is refused" \
	ctl_fails "Invalid argument" corrupt plain overrun
ctl_ok destroy plain

set_param debug_checks 1
ctl_ok create guarded 100
ktap_test_result "a pool created with debug_checks says so" \
	sh -c "[ $(pool_stat guarded checks pool) -eq 1 ]"
ctl_ok alloc guarded 50
ctl_ok free guarded all
ktap_test_result "clean use of a checked pool reports nothing" \
	sh -c "[ $(pool_stat guarded overruns) -eq 0 ] && [ $(pool_stat guarded poison_errors) -eq 0 ] &&
	       [ $(held guarded pattern_errors) -eq 0 ]"

expect_warnings_begin
ktap_test_result "a one-byte overrun is freed normally" ctl_ok corrupt guarded overrun
ktap_test_result "... and caught at free: overruns=1" expect_stat guarded overruns 1
ctl_ok corrupt guarded uaf
ktap_test_result "a write after free is caught at the next allocation: poison_errors=1" \
	expect_stat guarded poison_errors 1
expect_warnings_end
ktap_test_result "the report names the pool, the CPU and the block" \
	sh -c "dmesg | grep -q 'guarded: cpu [0-9]* slab .* block [0-9]*: written past the end' &&
	       dmesg | grep -q 'guarded: cpu [0-9]* slab .* block [0-9]*: buffer written to while free'"
ctl_ok alloc guarded 20
ctl_ok free guarded all
ktap_test_result "the pool stays consistent: nothing out, no new report on clean use" \
	sh -c "[ $(pool_stat guarded in_use) -eq 0 ] && [ $(pool_stat guarded overruns) -eq 1 ] &&
	       [ $(pool_stat guarded poison_errors) -eq 1 ] && [ $(held guarded pattern_errors) -eq 0 ]"
ctl_ok destroy guarded

set_param debug_checks 0
max=$(summary max_buffer_size)
set_param debug_checks 1
ktap_test_result "with debug_checks the largest size leaves room for the redzone" \
	ctl_fails "Invalid argument" create toobig "$max"
set_param debug_checks 0

# Any pool: a caller that writes just before its buffer after freeing it
# reaches no block header, which lie apart from the buffers: the block is
# handed out again as usual and nothing counts as corrupt.  (A free block
# whose header is overwritten is left out: KUnit tests that.)
ctl_ok create under 200
ktap_test_result "an underrun of a free buffer reaches no block header: the block comes back" \
	ctl_ok corrupt under underrun
ktap_test_result "... and nothing is counted corrupt: corrupt_free_blocks=0" \
	expect_stat under corrupt_free_blocks 0
ctl_ok alloc under 40 cpu=0
ctl_ok free under all
ktap_test_result "the pool stays consistent: nothing out, no pattern errors, destroyable" \
	sh -c "[ $(pool_stat under in_use) -eq 0 ] && [ $(held under pattern_errors) -eq 0 ]" &&
	ctl_ok destroy under

# debug_checks changing while a pool of the largest size is created: the
# size check and the layout must agree, or the pool has no room for a block.
stop=${TMPDIR:-/tmp}/mdlpool-flip.stop
rm -f "$stop"
(
	while [ ! -e "$stop" ]; do
		echo 1 > "$PARAMS/debug_checks"
		echo 0 > "$PARAMS/debug_checks"
	done
) &
flipper=$!
made=0
empty=0
i=0
while [ $i -lt 300 ]; do
	if ctl create flip "$max"; then
		made=$((made + 1))
		[ "$(pool_stat flip blocks_per_page pool)" -ge 1 ] || empty=$((empty + 1))
		ctl_ok destroy flip
	fi
	i=$((i + 1))
done
touch "$stop"
wait $flipper
rm -f "$stop"
ktap_print_msg "$made of 300 creates succeeded while debug_checks flipped; $empty had no room for a block"
ktap_test_result "a pool created while debug_checks flips always has room for a block" \
	sh -c "[ $empty -eq 0 ] && [ $made -gt 0 ]"
set_param debug_checks 0

ktap_finished
