#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The lock-free protocol at its busiest: every free handed to another CPU, in
# tasks and in softirqs, while a reader takes statistics snapshots without
# stopping anyone.  One pool with many blocks per page exercises the remote
# free llist and the counters; one with two blocks per page keeps pages
# moving between the usable and used lists, so remote frees land on used
# pages (missed moves, the orphan queue) while CPUs go offline and online.
# On a KCSAN kernel the data race detector watches all of it: its count of
# races must not move, and it must have set watchpoints meanwhile.  A torture
# samples too little of this path for KCSAN under TCG; this focused load is
# what makes a race in it show up within seconds.
. "$(dirname "$0")/lib.sh"

require_modules
cpus=$(online_cpus)
if [ "$cpus" -lt 2 ]; then
	ktap_skip_script "races" "needs two CPUs"
fi
ktap_print_header
ktap_set_plan_from_script
SECS=8
KCSAN=/sys/kernel/debug/kcsan
last=$((cpus - 1))
STOP=${TMPDIR:-/tmp}/mdlpool-races.stop

kcsan_field() {
	sed -n "s/^$1: //p" $KCSAN
}

# Snapshots at a pace that leaves the CPUs to the stress.
readers() {
	while [ ! -e "$STOP" ]; do
		cat "$DBG/$1/stats" "$DBG/summary" > /dev/null
		sleep 0.05
	done
}

hotplug() {
	while [ ! -e "$STOP" ]; do
		for c in $(seq 1 $last); do
			echo 0 > /sys/devices/system/cpu/cpu$c/online 2>/dev/null
			echo 1 > /sys/devices/system/cpu/cpu$c/online 2>/dev/null
		done
		sleep 0.5
	done
}

# race_tests POOL SIZE HOLD SOFTIRQ HOTPLUG: three results
race_tests() {
	pool=$1
	ctl_ok create "$pool" "$2"
	rm -f "$STOP"
	readers "$pool" &
	pids=$!
	if [ "$5" = hotplug ]; then
		hotplug &
		pids="$pids $!"
	fi
	ctl_ok stress "$pool" threads=2 secs=$SECS remote=100 hold="$3" softirq="$4"
	rc=$?
	touch "$STOP"
	wait $pids
	ktap_print_msg "$(grep "^stress $pool " "$CTL")"
	missed=$(pool_stat "$pool" missed_moves)
	ktap_print_msg "$pool: remote_frees=$(pool_stat "$pool" remote_frees) missed_moves=$missed"
	ktap_test_result "$pool: $2-byte buffers, every free remote: no mismatch, no refused free" \
		sh -c "[ $rc -eq 0 ] && [ $(stress_field "$pool" mismatches) -eq 0 ] &&
		       [ $(stress_field "$pool" free_errors) -eq 0 ] &&
		       { [ $4 -eq 0 ] || [ $(stress_field "$pool" softirq_ops) -gt 0 ]; } &&
		       [ $(pool_stat "$pool" remote_frees) -gt 0 ]"
	ktap_test_result "$pool: counters balance under concurrent snapshots" \
		sh -c "[ $(pool_stat "$pool" allocs) -eq $(pool_stat "$pool" frees) ] &&
		       [ $(pool_stat "$pool" in_use) -eq 0 ] &&
		       [ $(pool_stat "$pool" rejected_frees) -eq 0 ]"
	ktap_test_result "$pool: destroyed with every page back" ctl_ok destroy "$pool"
}

if [ -r $KCSAN ]; then
	races0=$(kcsan_field data_races)
	watch0=$(kcsan_field setup_watchpoints)
fi
race_tests counters 256 1 0 no
race_tests softirqs 256 4 4 no
race_tests lists 2000 4 0 hotplug
ktap_test_result "remote frees landed on used pages (missed moves) while CPUs cycled" \
	sh -c "[ $missed -gt 0 ]"

if [ -r $KCSAN ]; then
	races=$(($(kcsan_field data_races) - races0))
	watched=$(($(kcsan_field setup_watchpoints) - watch0))
	ktap_print_msg "KCSAN: $watched watchpoints set, $races data races found"
	ktap_test_result "KCSAN watched the protocol and found no data race" \
		sh -c "[ $watched -gt 0 ] && [ $races -eq 0 ]"
else
	# ktap: alternative
	ktap_test_skip "KCSAN watched the protocol and found no data race" \
		"this kernel has no KCSAN"
fi

ktap_finished
