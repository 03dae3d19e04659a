#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Idle memory: with no pool activity at all, free pages go back within
# twice the minimum lifetime; under memory pressure (the shrinker, as
# driven by drop_caches) they go back at once, however young.
. "$(dirname "$0")/lib.sh"

require_modules
ktap_print_header
ktap_set_plan 5
save_params
set_param scavenge_period_ms 600000
set_param min_page_lifetime_ms 2000

# now_ms: milliseconds since boot
now_ms() {
	awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
}

# idle_ms POOL CPU LIMIT_MS: how long until the CPU's pages are all gone
idle_ms() {
	t0=$(now_ms)
	while [ "$(pool_stat "$1" pages_in_use "cpu=$2")" -ne 0 ]; do
		[ $(($(now_ms) - t0)) -gt "$3" ] && break
		sleep 0.1
	done
	echo $(($(now_ms) - t0))
}

ctl_ok create idle "$(summary max_buffer_size)"	# one buffer per slab
ctl_ok alloc idle 8 cpu=0
ctl_ok free idle all cpu=0
ktap_test_result "freed pages are kept at first (younger than the lifetime)" \
	expect_stat idle pages_in_use 8 cpu=0
took=$(idle_ms idle 0 10000)
ktap_print_msg "an idle pool gave its pages back after $took ms (lifetime 2000 ms)"
ktap_test_result "with no activity, the pages go back within twice the lifetime" \
	sh -c "[ $(pool_stat idle pages_in_use cpu=0) -eq 0 ] && [ $took -le 4000 ]"
ktap_test_result "... counted as pages freed" expect_stat idle pages_freed 8 cpu=0

set_param min_page_lifetime_ms 600000
ctl_ok alloc idle 8 cpu=1
ctl_ok free idle all cpu=1
echo 2 > /proc/sys/vm/drop_caches
took=$(idle_ms idle 1 3000)
ktap_print_msg "under memory pressure the pages went back after $took ms (lifetime 600 s)"
ktap_test_result "under memory pressure, young free pages go back at once" \
	sh -c "[ $(pool_stat idle pages_in_use cpu=1) -eq 0 ] && [ $took -le 2000 ]"
ctl_ok alloc idle 3 cpu=1
echo 2 > /proc/sys/vm/drop_caches
sleep 1
ktap_test_result "... but never pages with buffers out" \
	sh -c "[ $(pool_stat idle pages_in_use cpu=1) -eq 3 ] && [ $(held idle pattern_errors) -eq 0 ]"
ctl_ok free idle all
ctl_ok destroy idle

ktap_finished
