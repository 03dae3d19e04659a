#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The trace events under events/mdlpool/: each fires where it should, with
# the pool, CPU, context and reason it should carry.
. "$(dirname "$0")/lib.sh"

require_modules
TRACE=/sys/kernel/tracing
[ -d $TRACE/events ] || mount -t tracefs nodev $TRACE 2>/dev/null
if [ ! -d $TRACE/events/mdlpool ]; then
	ktap_skip_script "trace events" "no tracefs, or no events/mdlpool in it"
fi
ktap_print_header
ktap_set_plan 10

save_params
cleanup() {
	echo 0 > $TRACE/tracing_on
	echo 0 > $TRACE/events/mdlpool/enable
	echo > $TRACE/trace
	echo 0 > "$DBG/fail_next_pages"
	printf 'destroy tr\n' > "$CTL" 2>/dev/null
	printf 'destroy trj\n' > "$CTL" 2>/dev/null
	printf 'destroy tri\n' > "$CTL" 2>/dev/null
	restore_params
}
trap cleanup EXIT

# has PATTERN: a line of the trace so far matches the extended regex.
has() {
	grep -Eq "$1" $TRACE/trace
}

events=$(ls -d $TRACE/events/mdlpool/*/ | wc -l)
ktap_test_result "events/mdlpool/ has the five events ($events there)" \
	sh -c "for e in slab_alloc slab_release scavenge free_refused alloc_fail; do
		[ -d $TRACE/events/mdlpool/mdlpool_\$e ] || exit 1; done"

set_param scavenge_period_ms 600000
set_param min_page_lifetime_ms 600000
echo 0 > $TRACE/tracing_on
echo > $TRACE/trace
echo 1 > $TRACE/events/mdlpool/enable
echo 1 > $TRACE/tracing_on

ctl_ok create tr 1500
order=$(pool_stat tr slab_order pool)
blocks=$(pool_stat tr blocks_per_page pool)
ctl_ok alloc tr $((blocks + 1)) cpu=1
ktap_test_result "two slabs for one more buffer than a slab holds: two slab_alloc events" \
	sh -c "[ $(grep -c 'mdlpool_slab_alloc: pool=tr cpu=1 ctx=task order='$order' blocks='$blocks' reason=preferred' $TRACE/trace) -eq 2 ]"

ctl_ok create trj 9000
pref=$(pool_stat trj slab_order pool)
set_param fail_page_min_order "$pref"
echo 1 > "$DBG/fail_next_pages"
ctl_ok alloc trj 1 cpu=0
set_param fail_page_min_order 0
ktap_test_result "a costly slab that fails gives a slab_alloc event with reason fallback" \
	has "mdlpool_slab_alloc: pool=trj cpu=0 ctx=task order=$(pool_stat trj fallback_order pool) .* reason=fallback"

echo 2 > "$DBG/fail_next_pages"
ctl_fails "Cannot allocate memory" alloc trj 1 cpu=2
ktap_test_result "an allocation with no page to be had gives alloc_fail" \
	has "mdlpool_alloc_fail: pool=trj cpu=2 ctx=task wanted=1 got=0"

expect_warnings_begin
ctl_fails "Invalid argument" badfree tr foreign
ctl_fails "Invalid argument" badfree tr double
ctl_fails "Invalid argument" badfree tr repointed
expect_warnings_end
ktap_test_result "refused frees give free_refused with their reasons" \
	sh -c "grep -Eq 'mdlpool_free_refused: pool=\\(no pool\\) sg=.* why=foreign' $TRACE/trace &&
	       grep -Eq 'mdlpool_free_refused: pool=tr sg=.* why=twice' $TRACE/trace &&
	       grep -Eq 'mdlpool_free_refused: pool=tr sg=.* why=altered' $TRACE/trace"

ctl_ok free tr all cpu=1
set_param min_page_lifetime_ms 0
ctl_ok scavenge tr
ktap_test_result "a scavenge call gives scavenge kind=call and releases both idle slabs" \
	sh -c "has() { grep -Eq \"\$1\" $TRACE/trace; }
	       has 'mdlpool_scavenge: pool=tr cpu=1 ctx=task kind=call recovered=[0-9]+ released=2' &&
	       [ \$(grep -c 'mdlpool_slab_release: pool=tr cpu=1 ctx=task order=$order reason=call' $TRACE/trace) -eq 2 ]"

ctl_ok free trj all cpu=0
ctl_ok destroy trj
ktap_test_result "destroy gives back the last slab with reason destroy" \
	has "mdlpool_slab_release: pool=trj cpu=0 ctx=task order=[0-9]+ reason=destroy"

set_param min_page_lifetime_ms 600000
ctl_ok alloc tr 1 cpu=2
ctl_ok free tr all cpu=2
echo 2 > /proc/sys/vm/drop_caches
ktap_test_result "the shrinker gives a young idle slab back with reason shrink" \
	has "mdlpool_slab_release: pool=tr cpu=2 ctx=task order=$order reason=shrink"

echo 0 > $TRACE/events/mdlpool/enable
echo > $TRACE/trace
ctl_ok alloc tr 1 cpu=0
ctl_ok free tr all cpu=0
ktap_test_result "with the events off nothing is recorded" \
	sh -c "! grep -q mdlpool_ $TRACE/trace"
ctl_ok destroy tr

# The idle timer runs while pools exist; the first pool arms it with the
# lifetime of that moment.
echo 1 > $TRACE/events/mdlpool/enable
set_param min_page_lifetime_ms 100
ctl_ok create tri 1500
ctl_ok alloc tri 1 cpu=3
ctl_ok free tri all cpu=3
sleep 1
ktap_test_result "the idle work gives a slab back with reason idle" \
	sh -c "grep -Eq 'mdlpool_slab_release: pool=tri cpu=3 ctx=task order=$order reason=idle' $TRACE/trace &&
	       grep -Eq 'mdlpool_scavenge: pool=tri cpu=3 ctx=task kind=idle recovered=[0-9]+ released=1' $TRACE/trace"
ctl_ok destroy tri

ktap_finished
