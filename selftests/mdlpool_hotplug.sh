#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# CPU hotplug: an offline CPU's free pages go back at once, frees into its
# pages from other CPUs are safe and its busy pages come back once free;
# a CPU back online allocates again; a stress survives CPUs cycling.
. "$(dirname "$0")/lib.sh"

require_modules
cpu1=/sys/devices/system/cpu/cpu1/online
if [ "$(online_cpus)" -lt 2 ] || [ ! -w $cpu1 ]; then
	ktap_skip_script "cpu hotplug" "needs a second CPU that can go offline"
fi
ktap_print_header
ktap_set_plan 9
save_params
set_param scavenge_period_ms 200
set_param min_page_lifetime_ms 600000
pages0=$(summary pages_held)

# wait_for SECONDS COMMAND...: poll until the command succeeds
wait_for() {
	tries=$(($1 * 10))
	shift
	while [ $tries -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		tries=$((tries - 1))
	done
	"$@"
}

ctl_ok create hp "$(summary max_buffer_size)"	# one buffer per slab
ctl_ok alloc hp 10 cpu=1
ctl_ok alloc hp 10 cpu=1
ctl_ok free hp 10 cpu=1		# ten idle pages, young: kept while online
ktap_test_result "while CPU 1 is online its idle young pages stay" \
	expect_stat hp pages_in_use 20 cpu=1
echo 0 > $cpu1
ktap_test_result "taking CPU 1 offline returns its idle pages at once" \
	expect_stat hp pages_in_use 10 cpu=1
ktap_test_result "frees from another CPU into the offline CPU's pages succeed" \
	ctl_ok free hp all cpu=0
ktap_test_result "the offline CPU's pages come back once they are free" \
	wait_for 5 expect_stat hp pages_in_use 0 cpu=1
echo 1 > $cpu1
ctl alloc hp 4 cpu=1
rc=$?
ktap_test_result "back online, CPU 1 allocates from new pages" \
	sh -c "[ $rc -eq 0 ] && [ $(pool_stat hp pages_alloc cpu=1) -gt 20 ] &&
	       [ $(pool_stat hp in_use cpu=1) -eq 4 ]"
ctl_ok free hp all cpu=1

# A stress while CPUs 1..N-1 go offline and online in turn.
last=$(($(online_cpus) - 1))
echo "stress hp threads=2 secs=20 remote=50 hold=32 softirq=4" > "$CTL" &
stress_pid=$!
cycles=0
while kill -0 $stress_pid 2>/dev/null; do
	for c in $(seq 1 $last); do
		echo 0 > /sys/devices/system/cpu/cpu$c/online 2>/dev/null &&
			echo 1 > /sys/devices/system/cpu/cpu$c/online &&
			cycles=$((cycles + 1))
	done
done
wait $stress_pid
rc=$?
ktap_print_msg "$cycles offline/online cycles during the stress"
ktap_print_msg "$(grep '^stress hp ' "$CTL")"
ktap_test_result "the stress completes while CPUs cycle ($cycles cycles)" \
	sh -c "[ $rc -eq 0 ] && [ $cycles -gt 0 ]"
ktap_test_result "... with no pattern mismatch and no free error" \
	sh -c "[ $(stress_field hp mismatches) -eq 0 ] && [ $(stress_field hp free_errors) -eq 0 ] &&
	       [ $(stress_field hp ops) -gt 0 ]"
ktap_test_result "... and balanced counters" \
	sh -c "[ $(pool_stat hp allocs) -eq $(pool_stat hp frees) ] && [ $(pool_stat hp in_use) -eq 0 ]"
ctl_ok destroy hp
ktap_test_result "after destroy no page is left" sh -c "[ $(summary pages_held) -eq $pages0 ]"

ktap_finished
