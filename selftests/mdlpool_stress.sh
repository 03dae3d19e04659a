#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Every online CPU allocating and freeing at once, half the frees handed to
# another CPU, every buffer's pattern checked before it is freed; then the
# same with softirqs on every CPU using the pool under the tasks.
. "$(dirname "$0")/lib.sh"

require_modules
cpus=$(online_cpus)
if [ "$cpus" -lt 2 ]; then
	ktap_skip_script "stress" "needs two CPUs"
fi
ktap_print_header
ktap_set_plan 23
ktap_print_msg "$cpus CPUs online"
pages0=$(summary pages_held)

# stress_tests POOL SIZE OPTIONS: four results
stress_tests() {
	pool=$1
	ops=$3
	ctl_ok create "$pool" "$2"
	ktap_test_result "$pool: stress with remote=50 completes" \
		ctl_ok stress "$pool" threads=1 ops="$ops" remote=50 hold="$4"
	ktap_print_msg "$(grep "^stress $pool " "$CTL")"
	ktap_test_result "$pool: every operation ran, half the frees crossed CPUs, no pattern mismatch" \
		sh -c "[ $(stress_field "$pool" ops) -eq $((ops * cpus)) ] &&
		       [ $(stress_field "$pool" remote_frees) -gt $((ops * cpus / 10)) ] &&
		       [ $(stress_field "$pool" mismatches) -eq 0 ] &&
		       [ $(stress_field "$pool" free_errors) -eq 0 ] &&
		       [ $(stress_field "$pool" alloc_failures) -eq 0 ]"
	ktap_test_result "$pool: the pool counted exactly the workers' allocations and frees" \
		sh -c "[ $(pool_stat "$pool" allocs) -eq $(stress_field "$pool" allocs) ] &&
		       [ $(pool_stat "$pool" frees) -eq $(stress_field "$pool" frees) ] &&
		       [ $(pool_stat "$pool" remote_frees) -eq $(stress_field "$pool" remote_frees) ]"
	ktap_test_result "$pool: counters balance: allocs = frees, nothing in use, nothing refused" \
		sh -c "[ $(pool_stat "$pool" allocs) -eq $(pool_stat "$pool" frees) ] &&
		       [ $(pool_stat "$pool" in_use) -eq 0 ] &&
		       [ $(pool_stat "$pool" rejected_frees) -eq 0 ]"
	sed 's/^/# /' "$DBG/$pool/stats"
	ctl_ok destroy "$pool"
}

stress_tests small 64 20000 16
stress_tests large 2048 10000 64
# Jumbo frames and the largest slabs: buffers crossing pages of a slab.
stress_tests jumbo 9000 4000 16
stress_tests huge 16384 3000 8
ktap_test_result "after destroy every page is back: pages_alloc = pages_freed" \
	sh -c "[ $(summary pages_held) -eq $pages0 ]"
ktap_test_result "no pool is left behind" sh -c "[ $(summary pools) -eq 0 ]"
ctl_ok create churn 1500
ctl_ok stress churn ops=5000 remote=100 hold=1
rc=$?
ktap_test_result "every free remote with one buffer held still balances" \
	sh -c "[ $rc -eq 0 ] && [ $(stress_field churn mismatches) -eq 0 ] &&
	       [ $(pool_stat churn remote_frees) -gt 0 ] && [ $(pool_stat churn in_use) -eq 0 ]"
ctl_ok stress churn ops=5000 remote=0 hold=8
rc=$?
ktap_test_result "an all-local stress makes no remote free and balances" \
	sh -c "[ $rc -eq 0 ] && [ $(stress_field churn remote_frees) -eq 0 ] &&
	       [ $(stress_field churn mismatches) -eq 0 ] && [ $(pool_stat churn in_use) -eq 0 ]"
ctl_ok destroy churn

# A timer on each worker's CPU allocates (mdlpool_alloc and _bh) and frees
# in softirq context every jiffy, and frees what other CPUs handed over,
# while the worker task on that CPU uses the same share of the pool.
ctl_ok create soft 256
ctl_ok stress soft threads=2 secs=3 remote=50 hold=16 softirq=8
rc=$?
ktap_print_msg "$(grep '^stress soft ' "$CTL")"
# 3 s of ticks at HZ >= 100 on every CPU: thousands of softirq steps.
ktap_test_result "softirq: a 3 s stress with softirq=8 completes, with over 1000 softirq steps" \
	sh -c "[ $rc -eq 0 ] && [ $(stress_field soft softirq_ops) -gt 1000 ] &&
	       [ $(stress_field soft ops) -gt 0 ]"
ktap_test_result "softirq: no pattern mismatch, no refused free, no failed allocation" \
	sh -c "[ $(stress_field soft mismatches) -eq 0 ] &&
	       [ $(stress_field soft free_errors) -eq 0 ] &&
	       [ $(stress_field soft alloc_failures) -eq 0 ]"
# The pool's remote frees also count frees on the owner's CPU in the other
# context (task or softirq), which the stress cannot tell apart.
ktap_test_result "softirq: the pool counted exactly the tasks' and softirqs' allocations and frees, and they balance" \
	sh -c "[ $(pool_stat soft allocs) -eq $(stress_field soft allocs) ] &&
	       [ $(pool_stat soft frees) -eq $(stress_field soft frees) ] &&
	       [ $(pool_stat soft remote_frees) -ge $(stress_field soft remote_frees) ] &&
	       [ $(pool_stat soft allocs) -eq $(pool_stat soft frees) ] && [ $(pool_stat soft in_use) -eq 0 ]"
ctl_ok destroy soft

ktap_finished
