#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# A pool's reserve (mdlpool_params.reserve): with every page allocation
# failing, the reserved number of allocations still succeed, spread over
# CPUs; slabs given back refill the reserve first; destroy frees it.
. "$(dirname "$0")/lib.sh"

require_modules
ktap_print_header
ktap_set_plan 11

save_params
cleanup() {
	set_param fail_page_percent 0
	drop_pools rs nr rst
	restore_params
}
trap cleanup EXIT
set_param scavenge_period_ms 600000
set_param min_page_lifetime_ms 600000
pages0=$(summary pages_held)
reserve0=$(summary reserve_slabs)

ktap_test_result "a reserve above 2^20 buffers is refused" \
	ctl_fails "Invalid argument" create rs 1500 reserve=2000000

ctl_ok create rs 1500 reserve=64
target=$(pool_stat rs reserve_target pool)
ktap_print_msg "reserve of 64 buffers of 1500 bytes: $target slabs of $(pool_stat rs fallback_blocks pool) blocks"
# Each share that allocates may need a slab of its own: two shares per
# possible CPU (one on PREEMPT_RT), b blocks per reserve slab.
b=$(pool_stat rs fallback_blocks pool)
possible=$(awk -F- '{ print ($2 == "" ? 1 : $2 - $1 + 1) }' /sys/devices/system/cpu/possible)
shares=$((possible * 2))
[ "$(cat /sys/kernel/realtime 2>/dev/null)" = 1 ] && shares=$possible
m=$((shares < 64 ? shares : 64))
ktap_test_result "the target covers 64 allocations spread the worst way over $shares shares: (64 + m(b - 1)) / b" \
	sh -c "[ $target -eq $(((64 + m * (b - 1)) / b)) ]"
ktap_test_result "creation fills the reserve: reserve_slabs = reserve_target > 0, in the summary too" \
	sh -c "[ $target -gt 0 ] && [ $(pool_stat rs reserve_slabs pool) -eq $target ] &&
	       [ $(summary reserve_slabs) -eq $((reserve0 + target)) ]"

set_param fail_page_percent 100
ctl_ok create nr 1500
ktap_test_result "with every page allocation failing, a pool without a reserve cannot allocate" \
	ctl_fails "Cannot allocate memory" alloc nr 1 cpu=0
# (it stays empty: destroyed at the end)

ktap_test_result "... but the reserve pool gives one buffer on each of CPUs 1 to 3" \
	sh -c "printf 'alloc rs 1 cpu=1\n' > $CTL && printf 'alloc rs 1 cpu=2\n' > $CTL &&
	       printf 'alloc rs 1 cpu=3\n' > $CTL"
ktap_test_result "... and the other 61 of its 64 on CPU 0" ctl_ok alloc rs 61 cpu=0
taken=$(pool_stat rs reserve_taken)
ktap_print_msg "reserve_taken=$taken reserve_slabs=$(pool_stat rs reserve_slabs pool) alloc_failures=$(pool_stat rs alloc_failures)"
ktap_test_result "... every slab from the reserve, no allocation failed" \
	sh -c "[ $taken -eq $(pool_stat rs pages_alloc) ] && [ $(pool_stat rs alloc_failures) -eq 0 ] &&
	       [ $(pool_stat rs reserve_slabs pool) -eq $((target - taken)) ] && [ $(held rs held) -eq 64 ]"

set_param fail_page_percent 0
ctl_ok free rs all
# The shrinker, as reclaim runs it: every free slab goes back, however
# young, and here all of them go to the reserve, none to the page allocator.
shrunk0=$(summary shrinker_freed)
echo 2 > /proc/sys/vm/drop_caches
ktap_print_msg "after drop_caches: reserve_slabs=$(pool_stat rs reserve_slabs pool) pages_in_use=$(pool_stat rs pages_in_use) shrinker_freed $shrunk0 -> $(summary shrinker_freed)"
ktap_test_result "slabs the shrinker gives back refill the reserve first, to its target" \
	sh -c "[ $(pool_stat rs reserve_slabs pool) -eq $target ] && [ $(pool_stat rs pages_in_use) -eq 0 ]"
ktap_test_result "... and the shrinker does not report the slabs the reserve kept as freed" \
	sh -c "[ -n '$shrunk0' ] && [ $(summary shrinker_freed) -eq $shrunk0 ]"

# A stress on the reserve alone: all memory it touches comes from there.
set_param fail_page_percent 100
ctl_ok create rst 1500 reserve=400
ctl_ok stress rst ops=4000 remote=50 hold=16
set_param fail_page_percent 0
ktap_print_msg "$(grep '^stress rst ' "$CTL")"
ktap_print_msg "rst: reserve_taken=$(pool_stat rst reserve_taken) pages_alloc=$(pool_stat rst pages_alloc) alloc_failures=$(pool_stat rst alloc_failures)"
# The reserve promises 400 allocations at once, not a whole stress: once
# its slabs are spread over the CPUs, a CPU whose slabs are all out fails.
ktap_test_result "a stress with every page allocation failing runs on the reserve's slabs alone, over 400 allocations, no mismatch, balanced" \
	sh -c "[ $(stress_field rst mismatches) -eq 0 ] && [ $(stress_field rst free_errors) -eq 0 ] &&
	       [ $(pool_stat rst reserve_taken) -eq $(pool_stat rst pages_alloc) ] &&
	       [ $(pool_stat rst allocs) -gt 400 ] &&
	       [ $(pool_stat rst allocs) -eq $(pool_stat rst frees) ]"

ctl_ok destroy rst
ctl_ok destroy nr
ctl_ok destroy rs
ktap_test_result "destroy frees the reserves: no page and no reserve slab left" \
	sh -c "[ $(summary pages_held) -eq $pages0 ] && [ $(summary reserve_slabs) -eq $reserve0 ]"

ktap_finished
