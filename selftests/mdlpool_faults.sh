#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Page allocations failing on purpose: allocations fail cleanly with
# ENOMEM, the counters stay balanced and no page leaks.  Through the module's
# own knobs everywhere, and through the kernel's fault injection
# (/sys/kernel/debug/fail_mdlpool) on kernels with CONFIG_FAULT_INJECTION.
. "$(dirname "$0")/lib.sh"

require_modules
ktap_print_header
ktap_set_plan 17
save_params
FA=/sys/kernel/debug/fail_mdlpool
fault_attr_off() {
	[ -d $FA ] || return 0
	echo 0 > $FA/probability
	echo 1 > $FA/interval
	echo -1 > $FA/times
}
trap 'echo 0 > $DBG/fail_next_pages; fault_attr_off; restore_params' EXIT
set_param scavenge_period_ms 600000
set_param min_page_lifetime_ms 0
pages0=$(summary pages_held)
injected0=$(summary injected_failures)

ctl_ok create faulty "$(summary max_buffer_size)"	# one buffer per slab
ctl_ok alloc faulty 2 cpu=0
echo 1 > "$DBG/fail_next_pages"
ktap_test_result "an allocation that needs a page it cannot get fails with ENOMEM" \
	ctl_fails "Cannot allocate memory" alloc faulty 3 cpu=0
ktap_test_result "... counted in alloc_failures and injected_failures" \
	sh -c "[ $(pool_stat faulty alloc_failures cpu=0) -eq 1 ] &&
	       [ $(summary injected_failures) -eq $((injected0 + 1)) ]"
ktap_test_result "... and the failed command changed nothing" \
	sh -c "[ $(held faulty held) -eq 2 ] && [ $(pool_stat faulty in_use) -eq 2 ]"
ktap_test_result "the next allocation succeeds again" ctl_ok alloc faulty 3 cpu=0
ctl_ok free faulty all cpu=0

echo 20 > "$PARAMS/fail_page_percent"
ctl_ok stress faulty ops=5000 remote=50 hold=32
echo 0 > "$PARAMS/fail_page_percent"
ktap_print_msg "$(grep '^stress faulty ' "$CTL")"
ktap_test_result "a stress with 20% of page allocations failing sees failures" \
	sh -c "[ $(stress_field faulty alloc_failures) -gt 0 ]"
ktap_test_result "... with no pattern mismatch and no free error" \
	sh -c "[ $(stress_field faulty mismatches) -eq 0 ] && [ $(stress_field faulty free_errors) -eq 0 ]"
ktap_test_result "... and balanced counters" \
	sh -c "[ $(pool_stat faulty allocs) -eq $(pool_stat faulty frees) ] && [ $(pool_stat faulty in_use) -eq 0 ] &&
	       [ $(pool_stat faulty alloc_failures) -eq $(($(stress_field faulty alloc_failures) + 1)) ]"
ctl_ok destroy faulty

# A 9000-byte pool prefers a costly slab order and falls back to one that
# is not when the page allocator has no costly block; fail_page_min_order
# fails only the preferred allocations.
ctl_ok create jumbo 9000
pref=$(pool_stat jumbo slab_order pool)
fallback=$(pool_stat jumbo fallback_order pool)
fb_blocks=$(pool_stat jumbo fallback_blocks pool)
ktap_print_msg "$(head -1 "$DBG/jumbo/stats")"
ktap_test_result "a 9000-byte pool prefers an order above 3 and falls back to one of at most 3" \
	sh -c "[ $pref -gt 3 ] && [ $fallback -le 3 ] && [ $fb_blocks -ge 1 ]"
set_param fail_page_min_order "$pref"
set_param fail_page_percent 100
ktap_test_result "with every costly allocation failing, allocations succeed from fallback slabs" \
	ctl_ok alloc jumbo $((2 * fb_blocks + 1)) cpu=0
ktap_test_result "... three slabs, all fallbacks, no allocation failure" \
	sh -c "[ $(pool_stat jumbo pages_alloc) -eq 3 ] &&
	       [ $(pool_stat jumbo slab_fallbacks) -eq 3 ] &&
	       [ $(pool_stat jumbo alloc_failures) -eq 0 ]"
ctl_ok free jumbo all cpu=0
set_param fail_page_percent 0
echo 2 > "$DBG/fail_next_pages"		# the next two costly ones only
ctl_ok stress jumbo ops=5000 remote=50 hold=32
set_param fail_page_min_order 0
ktap_print_msg "$(grep '^stress jumbo ' "$CTL")"
ktap_print_msg "jumbo: pages_alloc=$(pool_stat jumbo pages_alloc) slab_fallbacks=$(pool_stat jumbo slab_fallbacks)"
ktap_test_result "a stress after two more costly failures mixes both layouts" \
	sh -c "[ $(pool_stat jumbo slab_fallbacks) -eq 5 ] &&
	       [ $(pool_stat jumbo pages_alloc) -gt 5 ] &&
	       [ $(stress_field jumbo alloc_failures) -eq 0 ]"
ktap_test_result "... with no pattern mismatch, no free error and balanced counters" \
	sh -c "[ $(stress_field jumbo mismatches) -eq 0 ] && [ $(stress_field jumbo free_errors) -eq 0 ] &&
	       [ $(pool_stat jumbo allocs) -eq $(pool_stat jumbo frees) ] && [ $(pool_stat jumbo in_use) -eq 0 ]"
ctl_ok destroy jumbo
ktap_test_result "after destroy no page is left" sh -c "[ $(summary pages_held) -eq $pages0 ]"

# --- the kernel's fault injection: fail_mdlpool ------------------------------
fault_attr_tests() {
	echo 1 > $FA/verbose
	echo 1 > $FA/interval
	echo 100 > $FA/probability
	echo 1 > $FA/times
	injected0=$(summary injected_failures)
	ktap_test_result "fail_mdlpool, times=1: the next slab allocation fails with ENOMEM" \
		ctl_fails "Cannot allocate memory" alloc fa 1 cpu=1
	ktap_test_result "... the one after it succeeds: times is used up" \
		sh -c "printf 'alloc fa 1 cpu=1\n' > $CTL && [ \$(cat $FA/times) -eq 0 ]"
	ktap_test_result "... counted once in injected_failures and alloc_failures" \
		sh -c "[ $(summary injected_failures) -eq $((injected0 + 1)) ] &&
		       [ $(pool_stat fa alloc_failures) -eq 1 ]"
	ctl_ok free fa all
	echo 30 > $FA/probability
	echo -1 > $FA/times
	ctl_ok stress fa ops=4000 remote=50 hold=24
	fault_attr_off
	ktap_print_msg "$(grep '^stress fa ' "$CTL")"
	ktap_test_result "fail_mdlpool at 30%: a stress sees failures, no mismatch, balanced counters" \
		sh -c "[ $(stress_field fa alloc_failures) -gt 0 ] && [ $(stress_field fa mismatches) -eq 0 ] &&
		       [ $(pool_stat fa allocs) -eq $(pool_stat fa frees) ]"
}
ctl_ok create fa 1500
if [ -d $FA ]; then
	fault_attr_tests
else
	why="kernel without CONFIG_FAULT_INJECTION_DEBUG_FS: no fail_mdlpool (the module parameters above stand in)"
	ktap_test_skip "fail_mdlpool, times=1: the next slab allocation fails" "$why"
	ktap_test_skip "... the one after it succeeds" "$why"
	ktap_test_skip "... counted once" "$why"
	ktap_test_skip "fail_mdlpool at 30%: a stress" "$why"
fi
ctl_ok free fa all
ctl_ok destroy fa

ktap_finished
