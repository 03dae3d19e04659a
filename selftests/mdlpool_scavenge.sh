#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Frees from other CPUs, missed page moves and both kinds of scavenge.
. "$(dirname "$0")/lib.sh"

require_modules
if [ "$(online_cpus)" -lt 2 ]; then
	ktap_skip_script "remote frees" "needs two CPUs"
fi
ktap_print_header
ktap_set_plan 13
save_params
set_param scavenge_period_ms 600000
set_param min_page_lifetime_ms 600000
set_param used_pages_threshold 1000

# Seven full slabs, all out, all freed by CPU 1.  The first six
# are on the used list; the seventh, still first on the page list, would
# move there at the next allocation.
ctl_ok create remote 1500
ctl_ok alloc remote 1 cpu=0	# the first allocation's scavenge is done
ctl_ok free remote 1 cpu=0
scav0=$(pool_stat remote scavenges cpu=0)
bpp=$(pool_stat remote blocks_per_page pool)
ctl_ok alloc remote $((7 * bpp)) cpu=0
ktap_test_result "six full pages sit on the used list" \
	expect_stat remote used_list_pages 6 cpu=0
ctl_ok free remote all cpu=1
ktap_test_result "frees on another CPU are counted as remote frees" \
	expect_stat remote remote_frees $((7 * bpp)) cpu=0
ktap_test_result "a remote free cannot move the page and records a missed move" \
	sh -c "[ $(pool_stat remote missed_moves cpu=0) -ge 6 ] && [ $(pool_stat remote used_list_pages cpu=0) -eq 6 ]"

ctl_ok alloc remote 1 cpu=0
ktap_test_result "below the used-page threshold the owner does not scavenge" \
	sh -c "[ $(pool_stat remote scavenges cpu=0) -eq $scav0 ] && [ $(pool_stat remote used_list_pages cpu=0) -eq 6 ]"
ctl_ok free remote all cpu=0

set_param used_pages_threshold 4
ctl_ok alloc remote 1 cpu=0
ktap_test_result "past the threshold after a missed move, the next allocation scavenges" \
	expect_stat remote scavenges $((scav0 + 1)) cpu=0
ktap_test_result "the scavenge returns the orphaned pages to the page list" \
	expect_stat remote used_list_pages 0 cpu=0
ctl_ok free remote all cpu=0
ktap_test_result "all buffers are back" expect_stat remote in_use 0
ctl_ok destroy remote
set_param used_pages_threshold 1000

# Timed scavenge: pages must have been free for the minimum lifetime.
set_param scavenge_period_ms 0
set_param min_page_lifetime_ms 3000
ctl_ok create timed "$(summary max_buffer_size)"	# one buffer per slab
ctl_ok alloc timed 4 cpu=0
ctl_ok free timed all cpu=0
ctl_ok scavenge timed
ktap_test_result "a scavenge keeps pages freed less than the minimum lifetime ago" \
	expect_stat timed pages_in_use 4 cpu=0
sleep 4
ctl_ok scavenge timed
ktap_test_result "a scavenge returns pages free for longer than the minimum lifetime" \
	sh -c "[ $(pool_stat timed pages_in_use cpu=0) -eq 0 ] && [ $(pool_stat timed pages_freed cpu=0) -eq 4 ]"
ctl_ok alloc timed 1 cpu=0
ktap_test_result "the pool takes a new page after giving all back" \
	expect_stat timed pages_alloc 5 cpu=0
ctl_ok free timed all
ctl_ok destroy timed

# Orphans below the threshold: an allocation that finds no usable page
# takes them back instead of growing the pool (NT would add a page).
set_param scavenge_period_ms 600000
set_param min_page_lifetime_ms 600000
ctl_ok create adopt 1500
ctl_ok alloc adopt 1 cpu=0	# the first allocation's scavenge is done
ctl_ok free adopt 1 cpu=0
bpp=$(pool_stat adopt blocks_per_page pool)
ctl_ok alloc adopt $((7 * bpp)) cpu=0
ctl_ok free adopt all cpu=1
pages0=$(pool_stat adopt pages_alloc cpu=0)
scav0=$(pool_stat adopt scavenges cpu=0)
ktap_print_msg "after the remote frees: $pages0 pages, $(pool_stat adopt used_list_pages cpu=0) on the used list"
ctl_ok alloc adopt $((bpp + 1)) cpu=0
ktap_test_result "with only orphaned pages left, an allocation adopts them instead of taking a page" \
	sh -c "[ $(pool_stat adopt pages_alloc cpu=0) -eq $pages0 ] && [ $(pool_stat adopt scavenges cpu=0) -eq $scav0 ]"
ktap_test_result "... and the orphans left the used list" \
	sh -c "[ $(pool_stat adopt used_list_pages cpu=0) -le 1 ]"
ctl_ok free adopt all cpu=0
ctl_ok destroy adopt

# A scavenge from softirq context (or with bottom halves off) reaches the
# pages that context allocates: the softirq share, or on PREEMPT_RT the
# task share, which every caller uses there.  The lifetime drops to 0 only
# for that scavenge: the idle reclaim would give the pages back first.
ctl_ok create bhscav 1500
ctl_ok alloc bhscav 40 cpu=1 bh=1
ctl_ok free bhscav all cpu=1 bh=1
held=$(pool_stat bhscav pages_in_use cpu=1)
set_param min_page_lifetime_ms 0
ctl_ok scavenge bhscav bh=1
set_param min_page_lifetime_ms 600000
ktap_print_msg "pages held on CPU 1: $held before, $(pool_stat bhscav pages_in_use cpu=1) after a scavenge with bottom halves off"
ktap_test_result "a scavenge with bottom halves off gives back the free pages of softirq callers" \
	sh -c "[ $held -gt 0 ] && [ $(pool_stat bhscav pages_in_use cpu=1) -eq 0 ]"
ctl_ok destroy bhscav

ktap_finished
