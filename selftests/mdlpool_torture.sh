#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Torture: every CPU allocating, holding and freeing at random, in tasks
# and in softirqs, with remote frees and checked patterns, while the tunables change, CPUs go offline and
# online, and page allocations fail at random.  The duration comes from the
# kernel command line, mdlpool.torture_secs=N (default 20).
. "$(dirname "$0")/lib.sh"

require_modules
ktap_print_header
ktap_set_plan 6
secs=$(sed -n 's/.*mdlpool\.torture_secs=\([0-9]*\).*/\1/p' /proc/cmdline)
secs=${secs:-20}
save_params
trap 'echo 0 > $PARAMS/fail_page_percent; restore_params' EXIT
pages0=$(summary pages_held)
injected0=$(summary injected_failures)
last=$(($(online_cpus) - 1))

# pick WORD...: one of the words, at random
pick() {
	shift $(( $(od -An -N2 -tu2 /dev/urandom) % $# ))
	echo "$1"
}

ktap_print_msg "torture for $secs s on $(online_cpus) CPUs"
ctl_ok create torture 700 Tort
# Slabs hold tens of 700-byte buffers: a 60 s torture takes only about 130
# of them, so 2% failing could mean none at all (it did once).
set_param fail_page_percent 10
echo "stress torture threads=2 secs=$secs remote=50 hold=64 softirq=4" > "$CTL" &
stress_pid=$!
cycles=0
changes=0
while kill -0 $stress_pid 2>/dev/null; do
	set_param scavenge_period_ms "$(pick 0 5 50 500 30000)"
	set_param min_page_lifetime_ms "$(pick 0 10 200 20000)"
	set_param used_pages_threshold "$(pick 0 1 4 64 1000)"
	changes=$((changes + 3))
	if [ "$last" -ge 1 ]; then
		c=$(pick $(seq 1 $last))
		echo 0 > /sys/devices/system/cpu/cpu$c/online 2>/dev/null &&
			echo 1 > /sys/devices/system/cpu/cpu$c/online &&
			cycles=$((cycles + 1))
	fi
	sleep 0.2
done
wait $stress_pid
rc=$?
set_param fail_page_percent 0
injected=$(($(summary injected_failures) - injected0))

ktap_print_msg "$(grep '^stress torture ' "$CTL")"
ktap_print_msg "figures: ops=$(stress_field torture ops) softirq_ops=$(stress_field torture softirq_ops) remote_frees=$(stress_field torture remote_frees) hotplug_cycles=$cycles injected_failures=$injected tunable_changes=$changes"
sed 's/^/# /' "$DBG/torture/stats"
ktap_test_result "the torture stress ran to its end" \
	sh -c "[ $rc -eq 0 ] && [ $(stress_field torture ops) -gt 0 ]"
ktap_test_result "zero pattern mismatches and zero free errors" \
	sh -c "[ $(stress_field torture mismatches) -eq 0 ] && [ $(stress_field torture free_errors) -eq 0 ]"
ktap_test_result "faults were injected and CPUs cycled" \
	sh -c "[ $injected -gt 0 ] && { [ $last -eq 0 ] || [ $cycles -gt 0 ]; }"
ktap_test_result "allocs = frees, nothing in use, nothing refused" \
	sh -c "[ $(pool_stat torture allocs) -eq $(pool_stat torture frees) ] && [ $(pool_stat torture in_use) -eq 0 ] &&
	       [ $(pool_stat torture rejected_frees) -eq 0 ]"
ktap_test_result "destroy succeeds" ctl_ok destroy torture
ktap_test_result "pages allocated = pages freed" sh -c "[ $(summary pages_held) -eq $pages0 ]"

ktap_finished
