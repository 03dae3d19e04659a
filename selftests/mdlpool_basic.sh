#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Allocation paths: lazy block building, the used list, peaks, byte count
# reset and the accepted buffer sizes.
. "$(dirname "$0")/lib.sh"

require_modules
ktap_print_header
ktap_set_plan 24
save_params
# Keep timed scavenges out of the way: these tests count pages exactly.
set_param scavenge_period_ms 600000
set_param min_page_lifetime_ms 600000

ctl_ok create lazy 100
ctl_ok alloc lazy 1 cpu=0
ktap_test_result "lazy build: the first allocation builds one block" \
	expect_stat lazy blocks_built 1 cpu=0
ctl_ok alloc lazy 4 cpu=0
ktap_test_result "lazy build: each allocation builds one more block" \
	expect_stat lazy blocks_built 5 cpu=0
ctl_ok free lazy 3 cpu=0
ctl_ok alloc lazy 3 cpu=0
ktap_test_result "freed blocks are reused before new ones are built" \
	expect_stat lazy blocks_built 5 cpu=0
ctl_ok free lazy all
ctl_ok destroy lazy

ctl_ok create used 1500
bpp=$(pool_stat used blocks_per_page pool)
ctl_ok alloc used $((bpp + 1)) cpu=0
ktap_test_result "an allocation that finds the page full moves it to the used list" \
	sh -c "[ $(pool_stat used used_list_pages cpu=0) -eq 1 ] && [ $(pool_stat used pages_alloc cpu=0) -eq 2 ]"
ctl_ok free used 2 cpu=0
ktap_test_result "the owner's free moves the page back to the page list" \
	expect_stat used used_list_pages 0 cpu=0
ctl_ok alloc used $((bpp + 1)) cpu=0
ktap_test_result "the owner refills its pages from their free lists, not a new page" \
	sh -c "[ $(pool_stat used pages_alloc cpu=0) -eq 2 ] && [ $(pool_stat used used_list_pages cpu=0) -eq 1 ]"
ctl_ok alloc used 1 cpu=0
ktap_test_result "with only full pages left, allocation takes a new page" \
	sh -c "[ $(pool_stat used pages_alloc cpu=0) -eq 3 ] && [ $(pool_stat used used_list_pages cpu=0) -eq 2 ]"
ctl_ok free used all cpu=0
ctl_ok destroy used

ctl_ok create peak 64
ctl_ok alloc peak 10 cpu=1
ctl_ok free peak 10 cpu=1
ctl_ok alloc peak 3 cpu=1
ktap_test_result "peak_in_use keeps the high-water mark" \
	expect_stat peak peak_in_use 10 cpu=1
ktap_test_result "in_use counts what is out now" \
	expect_stat peak in_use 3 cpu=1
ktap_test_result "mdlpool_get_stats() gives a driver the total line, key for key" \
	stats_match_getstats peak
# The largest size: one block per slab, so each allocation takes a slab.
ctl_ok create peakpg "$(summary max_buffer_size)"
ctl_ok alloc peakpg 5 cpu=1
ctl_ok free peakpg 5 cpu=1
ktap_test_result "peak_pages keeps the most pages held" \
	sh -c "[ $(pool_stat peakpg peak_pages cpu=1) -eq 5 ] && [ $(pool_stat peakpg blocks_per_page pool) -eq 1 ]"
ctl_ok free peak all
ctl_ok destroy peak
ctl_ok destroy peakpg

ctl_ok create bytes 512
ctl_ok alloc bytes 1 cpu=0 len=10
ktap_test_result "a caller may shorten the byte count" \
	sh -c "[ $(held bytes held_full_length) -eq 0 ]"
ctl_ok free bytes 1 cpu=0
ctl_ok alloc bytes 1 cpu=0
ktap_test_result "the next allocation of the same block resets the byte count" \
	sh -c "[ $(held bytes held_full_length) -eq 1 ] && [ $(pool_stat bytes blocks_built cpu=0) -eq 1 ]"
ctl_ok free bytes all
ctl_ok destroy bytes

max=$(summary max_buffer_size)
ktap_test_result "a 1-byte pool is accepted" ctl_ok create tiny 1
ktap_test_result "the largest buffer size is accepted, one block per slab of the largest fallback order" \
	sh -c "printf 'create huge $max\n' > $CTL && grep -q 'blocks_per_page=1 ' $DBG/huge/stats"
ktap_test_result "one byte more than the largest is refused" \
	ctl_fails "Invalid argument" create huge2 $((max + 1))
ktap_test_result "size 0 is refused" ctl_fails "Invalid argument" create zero 0
ctl_ok alloc tiny 100
ctl_ok alloc huge 3
ktap_test_result "buffers of both extreme sizes keep their patterns" \
	sh -c "[ $(held tiny pattern_errors) -eq 0 ] && ! grep -q 'pattern_errors=[1-9]' $CTL"
ctl_ok free tiny all
ctl_ok free huge all
ctl_ok destroy tiny
ctl_ok destroy huge

ctl_ok create tagged 64 Ab1
ktap_test_result "the tag is kept, padded like an NT tag" \
	sh -c "[ '$(pool_stat tagged tag pool)' = 'Ab1.' ]"
ctl_ok destroy tagged

# mdlpool_alloc_bulk() and mdlpool_free_bulk(): one section for many
ctl_ok create bulk 1500
bpp=$(pool_stat bulk blocks_per_page pool)
n=$((3 * bpp + 1))
half=$((n / 2))
ktap_test_result "mdlpool_alloc_bulk hands out $n buffers over 4 slabs in one call" \
	ctl_ok alloc bulk $n cpu=0 bulk=1
ktap_test_result "... counted as $n allocations on that CPU" \
	sh -c "[ $(pool_stat bulk allocs cpu=0) -eq $n ] && [ $(pool_stat bulk pages_in_use) -eq 4 ]"
ktap_test_result "mdlpool_free_bulk gives $half back from another CPU" \
	ctl_ok free bulk $half cpu=1 bulk=1
ktap_test_result "... and the rest on the owner" ctl_ok free bulk all cpu=0 bulk=1
ktap_test_result "... every buffer back, the first $half as remote frees, the patterns kept" \
	sh -c "[ $(pool_stat bulk in_use) -eq 0 ] && [ $(pool_stat bulk remote_frees) -eq $half ] &&
	       [ $(held bulk pattern_errors) -eq 0 ]"
ctl_ok destroy bulk

ktap_finished
