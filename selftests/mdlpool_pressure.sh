#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Real memory pressure: a pool holds idle pages that no timer will return,
# then the guest's memory is filled (files on its RAM root filesystem)
# until free memory is below the low watermark and kswapd runs, while CPUs
# go offline and online.  The shrinker must give the idle pages back, tell
# reclaim what it freed, and take no lock that reclaim may not take (the
# lockdep kernel reports it otherwise).  Also checks, where the kernel can
# trace, that a page refill does not dip into the emergency reserves.
. "$(dirname "$0")/lib.sh"

require_modules
ncpus=$(online_cpus)
if [ "$ncpus" -lt 2 ] || [ ! -r /proc/zoneinfo ]; then
	ktap_skip_script "memory pressure" "needs 2 CPUs and /proc/zoneinfo"
fi
ktap_print_header
ktap_set_plan 6
save_params
# Only reclaim may return the pages: no scavenge, no idle reclaim.
set_param scavenge_period_ms 3600000
set_param min_page_lifetime_ms 3600000

TRACE=/sys/kernel/tracing
[ -d $TRACE/events ] || mount -t tracefs nodev $TRACE 2>/dev/null
[ -d $TRACE/events/kmem/mm_page_alloc ] && [ -d $TRACE/events/vmscan ] ||
	TRACE=""

FILL=${TMPDIR:-/tmp}/mdlpool-fill
HOTPLUG_STOP=${TMPDIR:-/tmp}/mdlpool-hotplug.stop
hotplug_pid=""

cleanup() {
	touch "$HOTPLUG_STOP"
	[ -n "$hotplug_pid" ] && wait "$hotplug_pid"
	umount "$FILL" 2>/dev/null
	rm -rf "$FILL" "$HOTPLUG_STOP"
	for f in /sys/devices/system/cpu/cpu*/online; do
		echo 1 > "$f" 2>/dev/null
	done
	if [ -n "$TRACE" ]; then
		echo 0 > $TRACE/tracing_on
		echo 0 > $TRACE/events/kmem/mm_page_alloc/enable
		echo 0 > $TRACE/events/kmem/mm_page_alloc/filter
		echo 0 > $TRACE/events/vmscan/mm_shrink_slab_end/enable
		echo > $TRACE/trace
	fi
	restore_params
}
trap cleanup EXIT

# trace_only EVENT...: start a trace of just these events
trace_only() {
	echo 0 > $TRACE/tracing_on
	echo > $TRACE/trace
	for e in "$@"; do
		echo 1 > "$TRACE/events/$e/enable"
	done
	echo 1 > $TRACE/tracing_on
}

# zone_pages: free pages, min and low watermark of the largest zone of the
# node with the most room above its low watermark, then the least room any
# node's largest zone has above its min watermark.  vm-run's guests have two
# nodes: the writer runs on CPU 0, so node 0 fills first, and then the page
# allocator falls back to node 1 without waking node 0's kswapd.  Only when
# every node is below its low watermark does reclaim (and the shrinker) run,
# so the fill goes on until then.
zone_pages() {
	awk '$1 == "Node" { node = $2 + 0; z = node " " $4 }
	     $1 == "pages" && $2 == "free" { free[z] = $3 }
	     $1 == "min" { min[z] = $2 }
	     $1 == "low" { low[z] = $2 }
	     $1 == "managed" { managed[z] = $2; split(z, nz, " "); zn[z] = nz[1] }
	     END {
		for (z in managed)
			if (managed[z] > best[zn[z]]) { best[zn[z]] = managed[z]; big[zn[z]] = z }
		first = 1
		for (n in big) {
			z = big[n]
			if (first || free[z] - low[z] > room) { room = free[z] - low[z]; b = z }
			if (first || free[z] - min[z] < least) least = free[z] - min[z]
			first = 0
		}
		print free[b], min[b], low[b], least
	     }' /proc/zoneinfo
}

# pool_pages: pages the pool holds on CPUs 0 and 1, which stay online
pool_pages() {
	echo $(($(pool_stat squeeze pages_in_use cpu=0) + $(pool_stat squeeze pages_in_use cpu=1)))
}

ctl_ok create squeeze "$(summary max_buffer_size)"	# one buffer per slab

# --- a refill's priority, as the page allocator saw it ---
if [ -n "$TRACE" ]; then
	echo "order == $(pool_stat squeeze slab_order pool)" > $TRACE/events/kmem/mm_page_alloc/filter
	trace_only kmem/mm_page_alloc
	ctl_ok alloc squeeze 1 cpu=0
	echo 0 > $TRACE/tracing_on
	echo 0 > $TRACE/events/kmem/mm_page_alloc/enable
	pfn=$(held squeeze newest_pfn)
	flags=$(grep " pfn=$pfn " $TRACE/trace | sed -n 's/.*gfp_flags=//p' | head -n 1)
	ktap_print_msg "the pool's new page (pfn $pfn) was allocated with ${flags:-(not found)}"
	# From 6.12 (Debian's backport of the upstream change) GFP_NOWAIT
	# includes __GFP_NOWARN, and the trace prints the two as "GFP_NOWAIT".
	nowarn="*__GFP_NOWARN*"
	kernel_at_least 6 12 && nowarn="$nowarn|GFP_NOWAIT|GFP_NOWAIT|*"
	ktap_test_result "a page refill does not dip into the emergency reserves (no __GFP_HIGH)" \
		sh -c "case '$flags' in $nowarn) ;; *) exit 1 ;; esac
		       case '$flags' in *GFP_ATOMIC*|*__GFP_HIGH*) exit 1 ;; esac"
	ctl_ok free squeeze all cpu=0
else
	ktap_test_skip "a page refill does not dip into the emergency reserves" \
		"this kernel has no kmem trace events"
fi

# --- idle pages on the two CPUs that stay online ---
per_cpu=1500
for cpu in 0 1; do
	ctl_ok alloc squeeze $per_cpu cpu=$cpu
	ctl_ok free squeeze all cpu=$cpu
done
held0=$(pool_pages)
ktap_print_msg "the pool holds $held0 idle pages on CPUs 0 and 1"
ktap_test_result "the pool holds its idle pages: no timer returns them" \
	sh -c "[ $held0 -ge $((2 * per_cpu * 9 / 10)) ]"

# The event is switched on before CPUs start cycling: switching one patches
# kernel text on every CPU (see scripts/vm-run).
[ -n "$TRACE" ] && trace_only vmscan/mm_shrink_slab_end

# --- CPUs 2 and up go offline and online while reclaim runs ---
rm -f "$HOTPLUG_STOP"
(
	while [ ! -e "$HOTPLUG_STOP" ]; do
		for f in /sys/devices/system/cpu/cpu[2-9]/online; do
			[ -w "$f" ] || continue
			echo 0 > "$f" 2>/dev/null
			echo 1 > "$f" 2>/dev/null
		done
		sleep 1
	done
) &
hotplug_pid=$!

# --- fill memory until kswapd runs, staying clear of the min watermark ---
# ramfs: no size limit (a tmpfs root stops at half the memory) and its
# pages cannot be reclaimed, so only the kernel's caches and the pool can
# give memory back.
mkdir -p "$FILL"
mount -t ramfs mdlpool-fill "$FILL"
target=$((held0 / 10))
n=0
waited=0
lowest=""
while [ "$(pool_pages)" -gt "$target" ]; do
	set -- $(zone_pages)
	free=$1 min=$2 low=$3 room=$4
	[ -z "$lowest" ] || [ "$room" -lt "$lowest" ] && lowest=$room
	if [ "$free" -gt "$low" ]; then
		# Half the way down to the low watermark, in KiB.
		kib=$(((free - low) * 2))
	elif [ "$free" -gt $((min + 128)) ]; then
		kib=256
	else
		kib=0
	fi
	if [ "$kib" -ge 64 ]; then
		if ! taskset -c 0 dd if=/dev/zero of="$FILL/$n" bs=64k count=$((kib / 64)) 2>/dev/null; then
			ktap_print_msg "writing $FILL/$n failed"
			break
		fi
		n=$((n + 1))
		continue
	fi
	# Below the low watermark: kswapd is awake; give it time.
	waited=$((waited + 1))
	[ $waited -gt 60 ] && break
	sleep 1
done
after=$(pool_pages)
[ -n "$TRACE" ] && echo 0 > $TRACE/tracing_on
ktap_print_msg "after $n writes: pool pages $held0 -> $after; the zones came down to $lowest pages above their min watermark"
touch "$HOTPLUG_STOP"
wait "$hotplug_pid"
hotplug_pid=""
umount "$FILL"
rm -rf "$FILL"

ktap_test_result "under real memory pressure the idle pages come back (at most $target left)" \
	sh -c "[ $after -le $target ]"
ktap_test_result "... while free memory stayed above the min watermark" \
	sh -c "[ $lowest -gt 0 ]"

if [ -n "$TRACE" ]; then
	calls=$(grep -c 'mdlpool_shrink_scan' $TRACE/trace)
	freed=$(grep 'mdlpool_shrink_scan' $TRACE/trace |
		sed -n 's/.*last shrinker return val \([0-9-]*\).*/\1/p' |
		awk '$1 > 0 { n += $1 } END { print n + 0 }')
	ktap_print_msg "reclaim called the shrinker $calls times; it reported $freed pages freed"
	ktap_test_result "the shrinker tells reclaim what it freed" sh -c "[ $freed -gt 0 ]"
else
	ktap_test_skip "the shrinker tells reclaim what it freed" \
		"this kernel has no vmscan trace events"
fi

for f in /sys/devices/system/cpu/cpu*/online; do
	echo 1 > "$f" 2>/dev/null
done
ctl_ok alloc squeeze 100 cpu=1
ctl_ok free squeeze all
consistent() {
	[ "$(pool_stat squeeze in_use)" -eq 0 ] && [ "$(held squeeze pattern_errors)" -eq 0 ] &&
		ctl_ok destroy squeeze
}
ktap_test_result "the pool is consistent afterwards: nothing out, and it can be destroyed" consistent
ktap_finished
