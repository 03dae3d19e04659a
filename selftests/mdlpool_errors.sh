#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Bad frees, calls from hardirq context, destroy with buffers out, and
# malformed control input: each is refused with an errno and leaves the
# pools as they were.
. "$(dirname "$0")/lib.sh"

require_modules
ktap_print_header
ktap_set_plan 23

ctl_ok create bad 200
foreign0=$(summary foreign_frees)

expect_warnings_begin
ktap_test_result "a descriptor from kmalloc is refused" \
	ctl_fails "Invalid argument" badfree bad foreign
ktap_test_result "... and counted as a free no pool owns" \
	sh -c "[ $(summary foreign_frees) -eq $((foreign0 + 1)) ]"
ktap_test_result "a double free is refused" ctl_fails "Invalid argument" badfree bad double
ktap_test_result "a descriptor with a changed offset is refused" \
	ctl_fails "Invalid argument" badfree bad altered
ktap_test_result "a descriptor repointed at other memory is refused" \
	ctl_fails "Invalid argument" badfree bad repointed
ktap_test_result "a pointer into the middle of a block is refused" \
	ctl_fails "Invalid argument" badfree bad misaligned
ktap_test_result "each refusal is counted in the pool's rejected_frees" \
	expect_stat bad rejected_frees 4
ktap_test_result "after the refusals every buffer is accounted for" \
	sh -c "[ $(pool_stat bad in_use) -eq 0 ] && [ $(pool_stat bad allocs) -eq $(pool_stat bad frees) ]"

# mdlpool_free_bulk() of [live, foreign, live, the first live again]
ctl_ok create bulkbad 200
foreign1=$(summary foreign_frees)
ktap_test_result "a bulk free with a foreign and a repeated descriptor in it fails with EINVAL, and frees both live buffers" \
	ctl_fails "Invalid argument" badfree bulkbad bulk
ktap_test_result "... refusing the repeat, and the second frees after it, in rejected_frees; the foreign one globally" \
	sh -c "[ $(pool_stat bulkbad rejected_frees) -eq 3 ] && [ $(summary foreign_frees) -eq $((foreign1 + 1)) ] &&
	       [ $(pool_stat bulkbad in_use) -eq 0 ] && [ $(pool_stat bulkbad allocs) -eq $(pool_stat bulkbad frees) ]"
ctl_ok destroy bulkbad

held0=$(pool_stat bad in_use)
ktap_test_result "calls from a hardirq are refused: alloc, alloc_bh and free of a live buffer" \
	ctl_ok badcontext bad
ktap_test_result "... and leave the pool as it was" \
	sh -c "[ $(pool_stat bad in_use) -eq $held0 ] && [ $(pool_stat bad allocs) -eq $(pool_stat bad frees) ] &&
	       [ $(pool_stat bad rejected_frees) -eq 4 ]"

# On PREEMPT_RT the pool's sections take sleeping locks, so a caller with
# preemption off or a raw spinlock held must be refused; elsewhere bottom
# halves off nest inside preemption off and the same calls are fine.
if uname -v | grep -q PREEMPT_RT; then
	ktap_test_result "PREEMPT_RT: alloc and free with preemption off or a raw spinlock held are refused" \
		ctl_fails "Operation not permitted" badcontext bad atomic
else
	ktap_test_result "alloc and free with preemption off work (not PREEMPT_RT)" \
		ctl_ok badcontext bad atomic
fi
ktap_test_result "... and leave the pool as it was" \
	sh -c "[ $(pool_stat bad in_use) -eq $held0 ] && [ $(pool_stat bad allocs) -eq $(pool_stat bad frees) ] &&
	       [ $(pool_stat bad rejected_frees) -eq 4 ]"

ctl_ok alloc bad 3
ktap_test_result "destroy with buffers out is refused" \
	ctl_fails "Device or resource busy" destroy bad
ktap_test_result "the refused pool is intact and still has its buffers" \
	sh -c "[ $(pool_stat bad in_use) -eq 3 ] && [ $(held bad pattern_errors) -eq 0 ]"
expect_warnings_end
ctl_ok free bad all
ktap_test_result "once its buffers are back the pool can be destroyed" ctl_ok destroy bad
ktap_test_result "the destroyed pool's debugfs directory is gone" \
	sh -c "[ ! -e $DBG/bad ]"

# Malformed commands: none may change anything.
ctl_ok create keep 64
ctl_ok alloc keep 5 cpu=0
before=$(snapshot keep)
long=$(printf '%0300d' 0)
bad_input_ok=0
while IFS='|' read -r err cmd; do
	ctl_fails "$err" "$cmd" || bad_input_ok=1
done <<'CMDS'
Invalid argument|
Invalid argument|bogus
Invalid argument|create
Invalid argument|create x
Invalid argument|create x abc
Invalid argument|create x 0
Invalid argument|create x 99999
Invalid argument|create x -1
Invalid argument|create a/b 64
Invalid argument|create .. 64
Invalid argument|create x 64 TOOLONG
Invalid argument|create x 64 a b
Invalid argument|create abcdefghijklmnopqrstuvwxyz0123456 64
File exists|create keep 64
Invalid argument|destroy
No such file or directory|destroy nosuch
Invalid argument|destroy keep extra
No such file or directory|alloc nosuch 1
Invalid argument|alloc keep
Invalid argument|alloc keep 0
Invalid argument|alloc keep -1
Invalid argument|alloc keep 99999999999999999999
Invalid argument|alloc keep 2000000
Invalid argument|alloc keep 1 cpu=9999
Invalid argument|alloc keep 1 cpu=x
Invalid argument|alloc keep 1 cpu=0 cpu=1
Invalid argument|alloc keep 1 bogus=1
Invalid argument|alloc keep 1 len=0
Invalid argument|alloc keep 1 len=65
Invalid argument|free keep
Invalid argument|free keep 0
Invalid argument|free keep 6
Invalid argument|free keep some
No such file or directory|free nosuch all
Invalid argument|free keep 1 cpu=9999
Invalid argument|scavenge
No such file or directory|scavenge nosuch
Invalid argument|badfree keep
Invalid argument|badfree keep weird
No such file or directory|badfree nosuch double
Invalid argument|badcontext
Invalid argument|badcontext keep extra
Invalid argument|badcontext keep hardirq extra
No such file or directory|badcontext nosuch
Invalid argument|stress keep softirq=65
No such file or directory|stress nosuch
Invalid argument|stress keep remote=101
Invalid argument|stress keep threads=0
Invalid argument|stress keep threads=9
Invalid argument|stress keep ops=0
Invalid argument|stress keep hold=0
Invalid argument|stress keep ops=1 ops=2
Invalid argument|stress keep nothing
Invalid argument|a b c d e f g h i
CMDS
ktap_test_result "53 malformed or impossible commands fail with the right errno" \
	[ $bad_input_ok -eq 0 ]
ktap_test_result "a command longer than the limit is refused" \
	ctl_fails "Invalid argument" "create $long 64"
ktap_test_result "a command with a NUL byte is refused" \
	sh -c "! printf 'create nul\0x 64\n' > $CTL 2>/dev/null"
ktap_test_result "a negative or oversized fail_next_pages is refused and leaves it at 0" \
	sh -c "! echo -1 > $DBG/fail_next_pages 2>/dev/null &&
	       ! echo 4294967295 > $DBG/fail_next_pages 2>/dev/null &&
	       [ \$(cat $DBG/fail_next_pages) -eq 0 ]"
after=$(snapshot keep)
ktap_test_result "after all that, pools, buffers and counters are unchanged" \
	[ "$before" = "$after" ]
ctl_ok free keep all
ctl_ok destroy keep

ktap_finished
