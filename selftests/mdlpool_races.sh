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
ktap_set_plan 14
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

# Two frees of one block at the same moment, one by its owner in its
# section, one from another CPU, round after round, while a second buffer
# of the slab stays out; then a scavenge that gives back every slab the
# pool counts as idle.  Exactly one free of each block may be accepted: a
# second accepted one would leave the slab's in-use count one short, and
# the scavenge would free the slab under the other buffer (KASAN reports
# the use after free on the debug kernel).
save_params
set_param min_page_lifetime_ms 0
set_param scavenge_period_ms 600000
ctl_ok create twice 256
expect_warnings_begin
ktap_test_result "two frees of one block at once, owner and remote, 20000 times: one accepted each time, the other buffer's slab kept" \
	ctl_ok racefree twice 20000 cpu=0 peer=1
expect_warnings_end
ktap_print_msg "$(dmesg | grep 'racefree twice' | tail -n 1 | sed 's/^[^]]*] //')"
ktap_test_result "... refused frees counted, nothing out, destroyed" \
	sh -c "[ $(pool_stat twice rejected_frees) -eq 20000 ] && [ $(pool_stat twice in_use) -eq 0 ] &&
	       printf 'destroy twice\n' > $CTL"
restore_params

# PREEMPT_RT: a caller under spin_lock(X) allocates while another task of
# its CPU has bottom halves off and waits for X.  A section that took the
# CPU's softirq lock would close the circle and hang the guest.
if [ "$(cat /sys/kernel/realtime 2>/dev/null)" = 1 ]; then
	ctl_ok create abba 256
	ktap_test_result "PREEMPT_RT: an allocation under spin_lock(X) does not wait for a task holding bottom halves off for spin_lock_bh(X)" \
		ctl_ok rtabba abba
	ctl_ok destroy abba
else
	ktap_test_skip "PREEMPT_RT: an allocation under spin_lock(X) does not wait for a task holding bottom halves off for spin_lock_bh(X)" \
		"not a PREEMPT_RT kernel: a spinlock keeps the other task off the CPU"
fi

if [ -r $KCSAN ]; then
	races=$(($(kcsan_field data_races) - races0))
	watched=$(($(kcsan_field setup_watchpoints) - watch0))
	ktap_print_msg "KCSAN: $watched watchpoints set, $races data races found"
	ktap_test_result "KCSAN watched the protocol and found no data race" \
		sh -c "[ $watched -gt 0 ] && [ $races -eq 0 ]"
else
	ktap_test_skip "KCSAN watched the protocol and found no data race" \
		"this kernel has no KCSAN"
fi

ktap_finished
