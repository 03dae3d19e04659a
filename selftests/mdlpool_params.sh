#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# mdlpool_create_params(): per-pool checks (debug_checks only the default),
# refills that wait where the caller can and only there, the NUMA node of
# every slab, and the refusal of what it cannot do.
. "$(dirname "$0")/lib.sh"

require_modules
ktap_print_header
ktap_set_plan 16

save_params
saved_checks=$(cat "$PARAMS/debug_checks")
cleanup() {
	echo 0 > "$DBG/fail_next_pages"
	echo "$saved_checks" > "$PARAMS/debug_checks"
	drop_pools pc pn pd pdd wk nw sk n1 nl
	restore_params
}
trap cleanup EXIT
set_param scavenge_period_ms 600000
set_param min_page_lifetime_ms 600000

# pool_line POOL KEY: KEY= from the pool line of POOL's stats
pool_line() {
	pool_stat "$1" "$2" pool
}

# --- the check flags --------------------------------------------------------
set_param debug_checks 0
ctl_ok create pc 256 checks=1
ctl_ok create pn 256 checks=0
ctl_ok create pd 256 gfp=nowait
set_param debug_checks 1
ctl_ok create pdd 256 gfp=nowait
set_param debug_checks 0
ktap_test_result "checks=1 and checks=0 hold whatever debug_checks says; without them it decides" \
	sh -c "[ $(pool_line pc checks) -eq 1 ] && [ $(pool_line pn checks) -eq 0 ] &&
	       [ $(pool_line pd checks) -eq 0 ] && [ $(pool_line pdd checks) -eq 1 ]"
ctl_ok destroy pdd
expect_warnings_begin
ctl_ok corrupt pc overrun
expect_warnings_end
ktap_test_result "a pool created with checks=1 guards its buffers: an overrun is caught" \
	expect_stat pc overruns 1
ktap_test_result "a pool created with checks=0 has nothing to check: corrupting it is refused" \
	ctl_fails "Invalid argument" corrupt pn overrun

# --- refused creations ------------------------------------------------------
# refused OPTION...: each create with one OPTION fails, and leaves no pool
refused() {
	for opt in "$@"; do
		ctl_fails "Invalid argument" create bad 256 "$opt" || return 1
	done
	[ ! -e "$DBG/bad" ]
}
ktap_test_result "a node with no memory, or no node at all, is refused (node=63, node=-2)" \
	refused node=63 node=-2
ktap_test_result "an unknown gfp or checks value is refused" \
	refused gfp=highmem checks=maybe

# --- refills that wait ------------------------------------------------------
ctl_ok create wk 1500 gfp=kernel
ctl_ok create nw 1500 gfp=nowait
ktap_test_result "the pool line says which pools may wait" \
	sh -c "[ $(pool_line wk waits) -eq 1 ] && [ $(pool_line nw waits) -eq 0 ]"
echo 1 > "$DBG/fail_next_pages"
ktap_test_result "a pool that may not wait fails when the page allocator has nothing at once" \
	ctl_fails "Cannot allocate memory" alloc nw 1 cpu=0
echo 1 > "$DBG/fail_next_pages"
ktap_test_result "a GFP_KERNEL pool waits for a slab instead, from process context" \
	ctl_ok alloc wk 1 cpu=0
ktap_test_result "... counted in waited_slabs, with no failure" \
	sh -c "[ $(pool_stat wk waited_slabs) -eq 1 ] && [ $(pool_stat wk alloc_failures) -eq 0 ]"
echo 1 > "$DBG/fail_next_pages"
ktap_test_result "a bulk of 25 waits for its first slab and takes the second without waiting" \
	ctl_ok alloc wk 25 cpu=1 bulk=1
ktap_test_result "... so two waited slabs in all, three slabs" \
	sh -c "[ $(pool_stat wk waited_slabs) -eq 2 ] && [ $(pool_stat wk pages_alloc) -eq 3 ]"
ctl_ok free wk all
# A caller under a spinlock must not wait: on PREEMPT_RT the lock leaves
# preemption on, but the caller is inside an RCU read-side section.  CPU 2
# has no slab of this pool yet, and the one it tries for fails.
waited=$(pool_stat wk waited_slabs)
echo 1 > "$DBG/fail_next_pages"
ktap_test_result "under a spinlock (a sleeping one on PREEMPT_RT) a GFP_KERNEL pool does not wait: the allocation fails" \
	ctl_fails "Cannot allocate memory" alloc wk 1 cpu=2 locked=1
ktap_print_msg "waited_slabs $waited -> $(pool_stat wk waited_slabs)"
ktap_test_result "... and waited_slabs did not move" \
	sh -c "[ $(pool_stat wk waited_slabs) -eq $waited ]"
echo 0 > "$DBG/fail_next_pages"
ctl_ok free wk all

# Softirq callers of a GFP_KERNEL pool must never sleep: a stress where a
# third of page allocations fail, with softirq steps beside the threads.
# A sleep in softirq context is a kernel BUG that fails the run.  Each
# thread holds up to 2048 buffers, so that it takes tens of slabs and some
# of its page allocations fail for sure: with 32 it took a few, and once
# none of them failed (6.1-debug, stop 29's first run: waited_slabs=0).
set_param fail_page_percent 30
ctl_ok create sk 1500 gfp=kernel
ctl_ok stress sk threads=2 secs=2 softirq=8 hold=2048
set_param fail_page_percent 0
ktap_print_msg "$(grep '^stress sk ' "$CTL")"
ktap_print_msg "sk: waited_slabs=$(pool_stat sk waited_slabs) alloc_failures=$(pool_stat sk alloc_failures)"
ktap_test_result "under 30% failing page allocations, threads wait for slabs, softirqs fail instead, nothing is lost" \
	sh -c "[ $(pool_stat sk waited_slabs) -gt 0 ] && [ $(stress_field sk mismatches) -eq 0 ] &&
	       [ $(stress_field sk free_errors) -eq 0 ] &&
	       [ $(pool_stat sk allocs) -eq $(pool_stat sk frees) ]"
ctl_ok destroy sk

# --- NUMA nodes -------------------------------------------------------------
nodes=$(ls -d /sys/devices/system/node/node[0-9]* 2>/dev/null | wc -l)
cpu_node() {
	basename "$(ls -d /sys/devices/system/cpu/cpu$1/node[0-9]* 2>/dev/null)" | sed 's/node//'
}
if [ "$nodes" -ge 2 ]; then
	last=$(($(online_cpus) - 1))
	ctl_ok create n1 1500 node=1
	ctl_ok create nl 1500 node=any
	ctl_ok alloc n1 4 cpu=0
	ctl_ok alloc n1 4 cpu=$last
	ktap_test_result "node=1: slabs come from node 1 on every CPU" \
		sh -c "[ $(held n1 held_nodes) = 1 ]"
	ctl_ok alloc nl 4 cpu=0
	n_first=$(held nl held_nodes)
	ctl_ok free nl all
	ctl_ok alloc nl 4 cpu=$last
	n_last=$(held nl held_nodes)
	ktap_print_msg "node=any: cpu 0 (node $(cpu_node 0)) got node $n_first, cpu $last (node $(cpu_node $last)) got node $n_last"
	ktap_test_result "node=any: each CPU's slabs come from its own node" \
		sh -c "[ '$n_first' = '$(cpu_node 0)' ] && [ '$n_last' = '$(cpu_node $last)' ]"
else
	ktap_test_skip "node=1: slabs come from node 1 on every CPU" "one NUMA node"
	ktap_test_skip "node=any: each CPU's slabs come from its own node" "one NUMA node"
fi

ktap_finished
