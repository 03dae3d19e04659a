#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Device-bound pools on a real PCI device of the guest: each slab mapped
# once for the device, every descriptor with its bus address and length,
# the sync helpers moving the bytes through swiotlb's bounce buffers (the
# test command boots every guest with swiotlb=force), mapping failures
# counted as allocation failures, and the stress with remote frees on
# jumbo-sized device-bound buffers.  DMA-API debugging watches it on the
# debug kernels.
. "$(dirname "$0")/lib.sh"

require_modules
dev=""
for d in 0000:00:02.0 $(ls /sys/bus/pci/devices 2>/dev/null); do
	[ -e "/sys/bus/pci/devices/$d" ] && { dev=$d; break; }
done
if [ -z "$dev" ]; then
	ktap_skip_script "device-bound pools" "this guest has no PCI device"
fi
ktap_print_header
ktap_set_plan 21
ktap_print_msg "device $dev ($(cat /sys/bus/pci/devices/$dev/vendor):$(cat /sys/bus/pci/devices/$dev/device))"
bounce=0
grep -qw swiotlb=force /proc/cmdline && bounce=1
save_params
set_param min_page_lifetime_ms 0
cpus=$(online_cpus)

ktap_test_result "an unknown PCI address fails the create: ENODEV" \
	ctl_fails "No such device" create nodev 256 dev=0000:00:1f.7
malformed_refused() {
	ctl_fails "Invalid argument" create bad 256 dev=00:02 &&
		ctl_fails "Invalid argument" create bad 256 dev="$dev" dir=sideways &&
		ctl_fails "Invalid argument" create bad 256 dir=to
}
ktap_test_result "a malformed address or direction, or dir= without dev=, fails: EINVAL" \
	malformed_refused

# mapped_agrees POOL: every slab held is mapped, on every CPU
mapped_agrees() {
	for row in total $(seq 0 $((cpus - 1)) | sed 's/^/cpu=/'); do
		[ "$(pool_stat "$1" dma_mapped_pages "$row")" = \
		  "$(pool_stat "$1" pages_in_use "$row")" ] || return 1
	done
}

# all_mapped POOL N: N slabs held and every one mapped
all_mapped() {
	mapped_agrees "$1" && expect_stat "$1" dma_mapped_pages "$2"
}

# none_left POOL: no slab held, none mapped
none_left() {
	expect_stat "$1" dma_mapped_pages 0 && expect_stat "$1" pages_in_use 0
}

destroyed_clean() {
	none_left "$1" && ctl_ok destroy "$1"
}

# dma_tests POOL SIZE DIR: three results
dma_tests() {
	pool=$1
	ctl_ok create "$pool" "$2" dev="$dev" dir="$3"
	ktap_test_result "$pool: $2 bytes, dir=$3: bus address and length set, and the sync helpers move the data" \
		ctl_ok dmasync "$pool"
	bpp=$(pool_stat "$pool" blocks_per_page pool)
	ctl_ok alloc "$pool" $((2 * bpp + 1)) cpu=0
	ktap_test_result "$pool: each slab held is mapped once: dma_mapped_pages = pages_in_use = 3" \
		all_mapped "$pool" 3
	ctl_ok free "$pool" all
	ctl_ok scavenge "$pool"
	ktap_test_result "$pool: slabs given back are unmapped: dma_mapped_pages = 0" \
		none_left "$pool"
	bounced=$(held "$pool" dma_bounced)
	ctl_ok destroy "$pool"
}

dma_tests rx 1500 from
dma_tests tx 1500 to
dma_tests jumbo 9000 bidi
dma_tests big 16384 bidi
ktap_print_msg "the last mapping bounced: ${bounced:-?} (swiotlb=force on the command line: $bounce)"
if [ $bounce -eq 1 ]; then
	ktap_test_result "with swiotlb=force the buffers bounced, so the data test above moved bytes both ways" \
		sh -c "[ '$bounced' = 1 ]"
else
	ktap_test_skip "with swiotlb=force the buffers bounced" "not booted with swiotlb=force"
fi

# jumbo_tests SIZE: the stress, remote frees included, on device-bound
# buffers of SIZE bytes; one result
jumbo_tests() {
	pool=st$1
	ctl_ok create "$pool" "$1" dev="$dev"
	ctl_ok stress "$pool" threads=1 ops=3000 remote=50 hold=8
	rc=$?
	ktap_test_result "stress on a device-bound $1-byte pool, half the frees remote: no mismatch, balanced, all mapped" \
		sh -c "[ $rc -eq 0 ] && [ $(stress_field "$pool" mismatches) -eq 0 ] &&
		       [ $(stress_field "$pool" free_errors) -eq 0 ] &&
		       [ $(pool_stat "$pool" remote_frees) -gt 0 ] &&
		       [ $(pool_stat "$pool" in_use) -eq 0 ] &&
		       [ $(pool_stat "$pool" dma_mapped_pages) -eq $(pool_stat "$pool" pages_in_use) ]"
	ctl_ok destroy "$pool"
}

jumbo_tests 9000
jumbo_tests 16384

# Slabs of both layouts in one device-bound pool: the two next costly
# allocations fail, so two slabs come at the fallback order.  Each is mapped
# and unmapped with its own size; DMA-API debugging checks that on the
# debug kernels.
ctl_ok create mixed 9000 dev="$dev"
set_param fail_page_min_order "$(pool_stat mixed slab_order pool)"
echo 2 > "$DBG/fail_next_pages"
ctl_ok stress mixed threads=1 ops=3000 remote=50 hold=16
rc=$?
set_param fail_page_min_order 0
ktap_print_msg "mixed: pages_alloc=$(pool_stat mixed pages_alloc) slab_fallbacks=$(pool_stat mixed slab_fallbacks) dma_mapped_pages=$(pool_stat mixed dma_mapped_pages)"
ktap_test_result "a device-bound pool with slabs of both layouts: no mismatch, balanced, all mapped" \
	sh -c "[ $rc -eq 0 ] && [ $(stress_field mixed mismatches) -eq 0 ] &&
	       [ $(stress_field mixed free_errors) -eq 0 ] &&
	       [ $(pool_stat mixed slab_fallbacks) -eq 2 ] &&
	       [ $(pool_stat mixed pages_alloc) -gt 2 ] &&
	       [ $(pool_stat mixed in_use) -eq 0 ] &&
	       [ $(pool_stat mixed dma_mapped_pages) -eq $(pool_stat mixed pages_in_use) ]"
ctl_ok scavenge mixed
ktap_test_result "... and it is consistent and destroyable" destroyed_clean mixed

# Mapping failures: with every mapping bounced, 16 KiB buffers exhaust
# swiotlb's 64 MiB: ask for the buffers of 64 MiB of slabs and more.  The
# allocation that cannot map its slab fails and the pool stays whole.
if [ $bounce -eq 1 ]; then
	ctl_ok create full 16384 dev="$dev"
	n=$(( (64 * 1024 * 1024 / $(pool_stat full slab_bytes pool) + 16) *
	      $(pool_stat full blocks_per_page pool) ))
	ctl_fails "Cannot allocate memory" alloc full $n cpu=0
	ktap_print_msg "full: dma_map_failures=$(pool_stat full dma_map_failures) alloc_failures=$(pool_stat full alloc_failures)"
	ktap_test_result "a slab that cannot be mapped is an allocation failure, counted" \
		sh -c "[ $(pool_stat full dma_map_failures) -ge 1 ] &&
		       [ $(pool_stat full alloc_failures) -ge 1 ] &&
		       [ $(pool_stat full in_use) -eq 0 ]"
	ctl_ok scavenge full
	ktap_test_result "... and the pool is consistent and destroyable" \
		destroyed_clean full
else
	ktap_test_skip "a slab that cannot be mapped is an allocation failure, counted" \
		"not booted with swiotlb=force"
	ktap_test_skip "... and the pool is consistent and destroyable" \
		"not booted with swiotlb=force"
fi
restore_params
ktap_finished
