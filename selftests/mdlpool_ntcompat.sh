#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nt_compat: loads nt_compat.ko and the NT-style example client
# (examples/mdlpool_ntclient.c), and checks each NT name it uses against the
# Linux behaviour it maps to:
# types, IRQL, processors, the pool, MDL accessors and chains, MDLs over the
# driver's own memory, user buffers locked with MmProbeAndLockPages, and the
# documented refusals.  The client reports what it saw; this script judges.
# At the end both modules unload and must leave no pool, page or pin behind.
. "$(dirname "$0")/lib.sh"

moddir=${MDLPOOL_MODDIR:-/lib/modules/mdlpool}
ko=$moddir/mdlpool_ntclient.ko
ntko=$moddir/nt_compat.ko
NTDIR=/sys/kernel/debug/mdlpool_ntclient
NTCTL=$NTDIR/control
NTBUF=$NTDIR/userbuf
TMP=${TMPDIR:-/tmp}

if [ ! -r "$DBG/summary" ] || [ ! -f "$ko" ] || [ ! -f "$ntko" ]; then
	ktap_skip_script "nt_compat" "mdlpool is not loaded or nt_compat.ko/mdlpool_ntclient.ko is not built"
fi
ktap_print_header
ktap_set_plan 125
save_params
# The byte-count tests want the freed block back: no scavenge in between.
set_param scavenge_period_ms 600000
set_param min_page_lifetime_ms 600000
pools0=$(summary pools)
pages0=$(summary pages_held)

# pins: user pages pinned (FOLL_PIN) and not yet unpinned, machine-wide.
# stat_refresh folds the per-CPU counter deltas first, so the sum is exact.
pins() {
	echo 1 > /proc/sys/vm/stat_refresh 2> /dev/null
	awk '$1 == "nr_foll_pin_acquired" { a = $2 }
	     $1 == "nr_foll_pin_released" { r = $2 }
	     END { if (a != "" && r != "") print a - r }' /proc/vmstat
}
pins0=$(pins)

# A spinlock_t keeps preemption on under PREEMPT_RT: KeGetCurrentIrql()
# sees it only on the other kernels.
if uname -v | grep -q PREEMPT_RT; then
	spin_irql=0
else
	spin_irql=2
fi

# nt_vmaps: nt_compat.ko's vmap() areas; nt_big_areas: its allocations of
# 4 MiB or more (kvmalloc() records the caller, nt_compat's function).
nt_vmaps() {
	grep '\[nt_compat\]' /proc/vmallocinfo | grep -c ' vmap'
}
nt_big_areas() {
	awk '$2 >= 4194304 && /\[nt_compat\]/' /proc/vmallocinfo | wc -l
}

# nt COMMAND...: one write to the client's control file.  $nt_out is the
# report it left ("CMD: key=value ... status=0x..."), $nt_err the error.
nt() {
	nt_err=$( { echo "$*" > "$NTCTL"; } 2>&1 )
	nt_rc=$?
	nt_out=$(cat "$NTCTL")
	return $nt_rc
}

# v KEY: a value of the last report
v() {
	echo "$nt_out" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1
}

# is KEY VALUE...: each KEY of the last report has its VALUE
is() {
	while [ $# -ge 2 ]; do
		got=$(v "$1")
		if [ "$got" != "$2" ]; then
			ktap_print_msg "$1=$got, expected $2 in: $nt_out"
			return 1
		fi
		shift 2
	done
	return 0
}

# at_least KEY N: the last report's KEY is N or more
at_least() {
	got=$(v "$1")
	[ -n "$got" ] && [ "$got" -ge "$2" ] && return 0
	ktap_print_msg "$1=$got, expected at least $2 in: $nt_out"
	return 1
}

# fails_with ERRTEXT STATUS: the last command failed with both
fails_with() {
	if [ $nt_rc -eq 0 ]; then
		ktap_print_msg "succeeded, expected $1: $nt_out"
		return 1
	fi
	case "$nt_err" in
	*"$1"*) ;;
	*) ktap_print_msg "failed with '$nt_err', expected $1"; return 1 ;;
	esac
	is status "$2"
}

ok_status() {
	[ $nt_rc -eq 0 ] && is status 0x00000000
}

ktap_test_result "nt_compat.ko loads (after mdlpool.ko)" insmod "$ntko"
ktap_test_result "the NT-style client loads" insmod "$ko"

# --- types ---------------------------------------------------------------
nt types
ktap_test_result "types: NT sizes (LLP64): UCHAR 1, USHORT 2, ULONG 4, LONGLONG 8, KIRQL/BOOLEAN 1, NTSTATUS 4, LARGE_INTEGER 8" \
	is uchar 1 ushort 2 ulong 4 longlong 8 kirql 1 boolean 1 ntstatus 4 \
	   large_integer 8
ktap_test_result "types: LARGE_INTEGER LowPart and HighPart are the halves of QuadPart" \
	is large_parts 1 large_negative 1
ktap_test_result "types: STATUS_ codes have NT's values; NT_SUCCESS, TRUE, FALSE" \
	is success_ok 1 violation_fails 1 violation 0xc0000005 \
	   resources 0xc000009a true 1 false 0
ktap_test_result "types: RtlCompareMemory returns the equal prefix; RtlEqualMemory compares" \
	is compare 4 equal 1
ptr=$(v pvoid)
ktap_test_result "types: ULONG_PTR, SIZE_T and HANDLE are pointer-sized ($ptr)" \
	is ulong_ptr "$ptr" size_t "$ptr" handle "$ptr"

# --- the small names ------------------------------------------------------
nt names
ktap_test_result "names: UNREFERENCED_PARAMETER, PAGED_CODE and NT_ASSERT at PASSIVE_LEVEL; UINT8/PUINT8 are one byte" \
	is status 0x00000000 unreferenced 1 uint8 1 puint8 1
ktap_test_result "names: PtrToUlong keeps a pointer's low 32 bits, ULongToPtr widens with zeros" \
	is ptr_to_ulong $((0x23456789)) ulong_to_ptr 1
ktap_test_result "names: BYTES_TO_PAGES and ROUND_TO_PAGES at 0, 1, a page and a page plus one" \
	is bytes_to_pages 1 round_to_pages 1
ktap_test_result "names: in a unit that asks for it (NT_COMPAT_NT_PAGE_ALIGN), PAGE_ALIGN rounds an address down to its page, as NT_PAGE_ALIGN; MIN and MAX compare mixed types" \
	is page_align 1 min_max 1
ktap_test_result "names: RtlSecureZeroMemory zeroes and returns the buffer; the NonTemporal fill and copy" \
	is secure_zero 1 nontemporal 1
ktap_test_result "names: ExAllocatePool2 (NON_PAGED, UNINITIALIZED, PAGED, CACHE_ALIGNED), ExAllocatePool3, ExAllocatePoolZero/Uninitialized, ExAllocatePool each give a block" \
	is pool_calls 7 cache_aligned 1
if [ "$(v init_on_alloc)" = 1 ]; then
	# ktap: alternative
	ktap_test_skip "names: ExAllocatePool2 (unless UNINITIALIZED), ExAllocatePool3 and ExAllocatePoolZero zero a block just written and freed" \
		"init_on_alloc zeroes every allocation on this kernel"
else
	ktap_test_result "names: ExAllocatePool2 (unless UNINITIALIZED), ExAllocatePool3 and ExAllocatePoolZero zero a block just written and freed" \
		is pool_zeroed 4
fi
ktap_test_result "names: ExAllocatePool2/3 refuse no or two pool types, executable, session, raise-on-failure, unknown flags, extended parameters: 7 of 7; at DISPATCH_LEVEL non-paged only" \
	is pool_refused 7 pool2_dispatch 1 pool2_paged_dispatch_refused 1
ktap_test_result "names: NdisAllocateMdl, NdisQueryMdl(+MdlMappingNoExecute), NdisQueryMdlOffset, NdisQueryBuffer(Safe/Offset), NdisGetNextBuffer, MmGetSystemAddressForMdl, MmMapLockedPages: 8 of 8; PHYSICAL_ADDRESS.QuadPart" \
	is ndis_calls 8 physical_quad 1

# --- IRQL ----------------------------------------------------------------
nt irql
ktap_test_result "IRQL: KeGetCurrentIrql is PASSIVE_LEVEL in process context" \
	sh -c "[ $nt_rc -eq 0 ] && [ '$(v passive)' = 0 ]"
ktap_test_result "IRQL: KeRaiseIrqlToDpcLevel returns PASSIVE_LEVEL and raises to DISPATCH_LEVEL" \
	is raise_old 0 raised 2
ktap_test_result "IRQL: KeRaiseIrql(DISPATCH_LEVEL) there returns DISPATCH_LEVEL; KeLowerIrql to it stays" \
	is nested_old 2 after_nested 2
ktap_test_result "IRQL: KeRaiseIrqlToDpcLevel returns the previous level: PASSIVE_LEVEL, then DISPATCH_LEVEL when raised again" \
	is raise_old 0 again_old 2
ktap_test_result "IRQL: at DISPATCH_LEVEL the CPU stays put over 2000 MdpAllocateAtDpcLevel calls" \
	is cpu_stable 1 dpc_allocs 1
ktap_test_result "IRQL: KeLowerIrql(old) returns to PASSIVE_LEVEL" is lowered 0
ktap_test_result "IRQL: MdpCreatePool above PASSIVE_LEVEL is refused with NULL" \
	is create_refused 1

# NT code called by Linux code that holds a spinlock.
nt lockedirql
ktap_print_msg "$nt_out"
ktap_test_result "IRQL under a Linux spinlock: KeGetCurrentIrql says $spin_irql, and KeRaiseIrqlToDpcLevel and KeRaiseIrql return that as the old level" \
	is before $spin_irql raise_old $spin_irql raiseirql_old $spin_irql raised 2 \
	   nested_old 2
ktap_test_result "IRQL under a Linux spinlock: the raise turns bottom halves off (MdpAllocateAtDpcLevel works), a nested raise and lower keep them off, KeLowerIrql(old) turns them on again" \
	is bh_on_before 1 bh_off_raised 1 bh_kept_nested 1 at_dpc_allocated 1 \
	   bh_restored 1 lowered $spin_irql after 0

nt dpc
ktap_test_result "DPC (softirq): KeGetCurrentIrql is DISPATCH_LEVEL; a raise returns DISPATCH_LEVEL and lowering keeps it" \
	sh -c "[ $nt_rc -eq 0 ] && [ '$(v irql) $(v raise_old) $(v after_lower)' = '2 2 2' ]"
ktap_test_result "DPC (softirq): MdpAllocateAtDpcLevel and MdpAllocate work there" \
	is at_dpc_allocated 1 allocated 1

nt isr
ktap_test_result "interrupt handler: KeGetCurrentIrql is HIGH_LEVEL and KeGetCurrentProcessorNumber its CPU" \
	sh -c "[ $nt_rc -eq 0 ] && [ '$(v irql)' = 15 ] && [ '$(v cpu)' = '$(v target)' ]"

# --- processors ----------------------------------------------------------
cpus=$(online_cpus)
possible=$(awk -F, '{ n = 0; for (i = 1; i <= NF; i++) {
	if (split($i, r, "-") == 2) n += r[2] - r[1] + 1; else n++ } print n }' \
	/sys/devices/system/cpu/possible)
nt cpus
ktap_test_result "processors: KeNumberProcessors counts the possible CPUs ($possible)" \
	is processors "$possible"
ktap_test_result "processors: KeQueryActiveProcessors has the $cpus online CPUs" \
	is active "$cpus"
ktap_test_result "processors: KeSetSystemAffinityThreadEx moves the thread to each active CPU" \
	is reached "$cpus" round_trips "$cpus"
# A caller restricted to CPU 0 is moved to every CPU and must end up on 0.
if [ "$cpus" -ge 2 ]; then
	ktap_test_result "processors: KeRevertToUserAffinityThreadEx restores the caller's own affinity (CPU 0)" \
		sh -c "taskset -p 0x1 \$\$ > /dev/null && echo cpus > $NTCTL &&
		       grep -q '^Cpus_allowed_list:[[:space:]]*0\$' /proc/\$\$/status"
else
	ktap_test_skip "processors: KeRevertToUserAffinityThreadEx restores the caller's affinity" \
		"needs two CPUs"
fi
nt cpuids
ktap_test_result "processors: on each of the $cpus online CPUs KeGetCurrentProcessorNumber is that CPU and below KeNumberProcessors" \
	is checked "$cpus" active "$cpus" bad 0
# Offline CPU ids stay below KeNumberProcessors' count, and so do the rest.
last=/sys/devices/system/cpu/cpu$((cpus - 1))/online
if [ "$cpus" -ge 2 ] && [ -w "$last" ] && echo 0 > "$last"; then
	nt cpuids
	off_out=$nt_out
	echo 1 > "$last"
	nt_out=$off_out
	ktap_test_result "processors: with CPU $((cpus - 1)) offline, each of the $((cpus - 1)) others is still below KeNumberProcessors ($possible)" \
		is checked $((cpus - 1)) processors "$possible" bad 0
else
	ktap_test_skip "processors: with a CPU offline, each CPU is below KeNumberProcessors" \
		"needs a second CPU that can go offline"
fi

# --- the pool ------------------------------------------------------------
nt pool 1500
ntpool=$(grep -l '^pool .* tag=NtCl ' "$DBG"/*/stats 2>/dev/null | head -n 1)
ntpool=$(basename "$(dirname "${ntpool:-/x/none/stats}")")
ktap_test_result "pool: MdpCreatePool(1500, 'NtCl') makes a pool nt-NtCl-N with that tag" \
	sh -c "[ $nt_rc -eq 0 ] && case '$ntpool' in nt-NtCl-*) true ;; *) false ;; esac"
ktap_test_result "pool: MdpCreatePool(0) is refused" is zero_refused 1
# mdl_bytes SIZE: the MDL (sizeof(MDL), as the client reports it) and room
# for the PFNs of every page a buffer of SIZE bytes can touch
# (SIZE / 4096 + 2), as nt_mdp.c keeps.
mdl_size=$(v mdl_size)
mdl_bytes() {
	echo $((mdl_size + 8 * ($1 / 4096 + 2)))
}
linux_max=$(summary max_buffer_size)
max=$(((linux_max - $(mdl_bytes "$linux_max")) / 8 * 8))
ktap_test_result "pool: BufferSize up to the pool's maximum less the MDL and its PFNs ($max) is accepted, with the same tag; one more is refused" \
	is max "$max" max_accepted 1 over_max_refused 1
ktap_test_result "pool: each Linux buffer holds BufferSize rounded to 8 plus the MDL with its PFNs" \
	expect_stat "$ntpool" buffer_size $((1504 + $(mdl_bytes 1500))) pool

# --- MDLs from the pool --------------------------------------------------
per=8
nt percpu $per
ktap_test_result "MdpAllocate on every CPU: $per buffers each, none NULL, each on that CPU" \
	is cpus "$cpus" allocated $((per * cpus)) bad_null 0 bad_cpu 0
own=0
for c in $(seq 0 $((cpus - 1))); do
	[ "$(pool_stat "$ntpool" allocs cpu=$c)" = $per ] &&
	[ "$(pool_stat "$ntpool" in_use cpu=$c)" = $per ] || own=1
done
ktap_test_result "MdpAllocate on every CPU: the pool counts $per buffers out on each CPU's own pages" \
	[ $own -eq 0 ]
ktap_test_result "MmGetMdlByteCount is BufferSize" is bad_bytecount 0
ktap_test_result "MmGetMdlVirtualAddress and MmGetSystemAddressForMdlSafe are the buffer" \
	is bad_va 0 bad_sysva 0
ktap_test_result "MmGetMdlByteOffset and MmGetMdlBaseVa are the buffer's offset and page; it stays in the page" \
	is bad_offset 0 bad_baseva 0
ktap_test_result "MmGetMdlPfnArray[0] is the buffer's page: MmGetPhysicalAddress agrees, the page holds the buffer" \
	is bad_pfn 0
ktap_test_result "the MDL's scatterlist is the pool's descriptor: one end-marked entry over exactly the buffer" \
	is bad_sg 0
ktap_test_result "a fresh pool MDL has Next NULL, MDL_SOURCE_IS_NONPAGED_POOL, and lies outside the buffer" \
	is bad_next 0 bad_flags 0 bad_overlap 0

if [ "$cpus" -ge 2 ]; then
	nt remote
	ktap_test_result "MdpFree on another CPU: every buffer intact, every free remote" \
		is freed $((per * cpus)) remote $((per * cpus)) pattern_errors 0 \
		   mdl_errors 0 left 0
	ktap_test_result "the pool counted the remote frees, balances and refused nothing" \
		sh -c "[ $(pool_stat "$ntpool" remote_frees) -eq $((per * cpus)) ] &&
		       [ $(pool_stat "$ntpool" in_use) -eq 0 ] &&
		       [ $(pool_stat "$ntpool" allocs) -eq $(pool_stat "$ntpool" frees) ] &&
		       [ $(pool_stat "$ntpool" rejected_frees) -eq 0 ]"
else
	ktap_test_skip "MdpFree on another CPU" "needs two CPUs"
	ktap_test_skip "the pool counted the remote frees" "needs two CPUs"
	nt release
fi

nt bytecount
ktap_test_result "NdisAdjustMdlLength shortens MmGetMdlByteCount and the scatterlist follows" \
	is shortened 10 sg_shortened 1
ktap_test_result "MdpAllocateAtDpcLevel hands the same MDL back with MmGetMdlByteCount reset to BufferSize" \
	is same_mdl 1 reset 512 sg_reset 1
ktap_test_result "... and with Next cleared" is next_reset 1
ktap_test_result "MdpAllocate at PASSIVE_LEVEL resets MmGetMdlByteCount too" \
	is passive_same_mdl 1 passive_reset 512

# A free the pool refuses warns from mdlpool: expected here.
expect_warnings_begin
nt refusedfree
expect_warnings_end
ktap_print_msg "$nt_out"
ktap_test_result "MdpFree of an MDL the pool refuses (descriptor altered) writes nothing into the block, as another CPU sees it" \
	sh -c "[ $nt_rc -eq 0 ] && [ '$(v tries)' -gt 0 ] && [ '$(v samples)' -gt 0 ] &&
	       [ '$(v writes_seen) $(v intact)' = '0 1' ]"

nt chain
ktap_test_result "Next chains three pool MDLs and an IoAllocateMdl MDL; a walk sees 4 MDLs and their bytes" \
	sh -c "[ $nt_rc -eq 0 ] && [ '$(v links)' = 4 ] && [ '$(v bytes)' = '$(v expected)' ] &&
	       [ '$(v sg_bad) $(v io_last)' = '0 1' ]"
ktap_test_result "NDIS_MDL_LINKAGE and NdisGetNextMdl walk the same chain" is ndis_links 4
nt pool 300
chainpool=$(grep -l '^pool .* tag=NtCl ' "$DBG"/*/stats 2>/dev/null | head -n 1)
chainpool=$(basename "$(dirname "${chainpool:-/x/none/stats}")")
nt freechain 40
ktap_print_msg "freechain: $nt_out"
ktap_test_result "MdpFreeChain gives a chain of 40 MDLs back to the pool in bulk: 40 allocations, 40 frees, none refused" \
	sh -c "[ $nt_rc -eq 0 ] && [ '$(v chained)' = 40 ] &&
	       [ $(pool_stat "$chainpool" allocs) -eq 40 ] && [ $(pool_stat "$chainpool" frees) -eq 40 ] &&
	       [ $(pool_stat "$chainpool" in_use) -eq 0 ] && [ $(pool_stat "$chainpool" rejected_frees) -eq 0 ]"
nt release

# Chains given back wrong, on a pool with checks: a freed buffer, and the
# MDL behind it, is poison (0x6b).  The client runs these in a kernel
# thread, so that an oops there cannot block the control file.
saved_checks=$(cat "$PARAMS/debug_checks")
set_param debug_checks 1
nt pool 256
set_param debug_checks "$saved_checks"
badpool=$(grep -l '^pool .* tag=NtCl ' "$DBG"/*/stats 2>/dev/null | head -n 1)
badpool=$(basename "$(dirname "${badpool:-/x/none/stats}")")
# chain_stats: the pool's allocs frees in_use rejected_frees overruns poison_errors
chain_stats() {
	for k in allocs frees in_use rejected_frees overruns poison_errors; do
		printf '%s ' "$(pool_stat "$badpool" $k)"
	done
}
# chain_errors: nt_compat's lines for MDLs MdpFreeChain refused
chain_errors() {
	dmesg | grep -c 'MdpFreeChain(.*not a live MDL from an MDL pool'
}
errs0=$(chain_errors)
expect_warnings_begin
nt freechaintwice 20
expect_warnings_end
errs1=$(chain_errors)
ktap_print_msg "freechaintwice: $nt_out; pool $badpool: $(chain_stats); refusal lines $errs0 -> $errs1"
ktap_test_result "MdpFreeChain of a chain freed already (a pool with checks: its MDLs are poison) refuses the first MDL with an error line and follows no link: 20 allocations, 20 frees, none refused by the pool" \
	sh -c "[ $nt_rc -eq 0 ] && [ '$(v finished) $(v chained)' = '1 20' ] &&
	       [ $(pool_stat "$badpool" checks pool) -eq 1 ] &&
	       [ '$(chain_stats)' = '20 20 0 0 0 0 ' ] && [ $errs1 -eq $((errs0 + 1)) ]"

expect_warnings_begin
nt badchain 40 20 overrun
errs2=$(chain_errors)
ktap_print_msg "badchain overrun: $nt_out; pool: $(chain_stats); refusal lines $errs1 -> $errs2"
ktap_test_result "MdpFreeChain of 40 MDLs, the 21st spoiled by a 16-byte overrun of its buffer: refused there with an error line, no link followed; the 20 before it freed, the 20 from it on still held" \
	sh -c "[ $nt_rc -eq 0 ] && [ '$(v finished) $(v chained) $(v spoiled)' = '1 40 1' ] &&
	       [ '$(chain_stats)' = '60 40 20 0 0 0 ' ] && [ $errs2 -eq $((errs1 + 1)) ]"
nt badchain repair
ktap_test_result "... with the overrun undone, MdpFreeChain from the spoiled MDL gives the other 20 back" \
	sh -c "[ $nt_rc -eq 0 ] && [ '$(v finished) $(v spoiled)' = '1 0' ] &&
	       [ '$(chain_stats)' = '60 60 0 0 0 0 ' ]"
nt badchain 40 5 altered
expect_warnings_end
ktap_print_msg "badchain altered: $nt_out; pool: $(chain_stats)"
ktap_test_result "MdpFreeChain of 40 MDLs, the 6th one's descriptor altered: the pool refuses it, the rest of its batch of 16 is freed, and the walk stops there: 25 held" \
	sh -c "[ $nt_rc -eq 0 ] && [ '$(v finished) $(v chained) $(v spoiled)' = '1 40 1' ] &&
	       [ '$(chain_stats)' = '100 75 25 1 0 0 ' ]"
nt badchain repair
ktap_test_result "... with the descriptor restored, MdpFree of it and MdpFreeChain from the 17th give the rest back; no buffer was written while free" \
	sh -c "[ $nt_rc -eq 0 ] && [ '$(v finished) $(v spoiled)' = '1 0' ] &&
	       [ '$(chain_stats)' = '100 100 0 1 0 0 ' ]"
nt release

# --- MDLs over the driver's own memory ----------------------------------
# nonpaged_tests heap|static: six results
nonpaged_tests() {
	nt nonpaged "$1"
	ktap_test_result "$1 memory: IoAllocateMdl over 3 pages at an offset: ByteCount, VirtualAddress, ByteOffset, BaseVa" \
		sh -c "[ $nt_rc -eq 0 ] && [ '$(v pages)' = 4 ] &&
		       [ '$(v count_ok) $(v va_ok) $(v offset_ok) $(v baseva_ok)' = '1 1 1 1' ]"
	ktap_test_result "$1 memory: an MDL not built yet has no system address (NULL)" \
		is unbuilt_refused 1
	ktap_test_result "$1 memory: MmBuildMdlForNonPagedPool fills the PFN array with the pages holding the data" \
		is flags_ok 1 pfn_ok 1
	ktap_test_result "$1 memory: MmGetSystemAddressForMdlSafe and MmMapLockedPagesSpecifyCache give its own address, also at DISPATCH_LEVEL" \
		is sysva_ok 1 map_ok 1 dispatch_ok 1
	ktap_test_result "$1 memory: the scatterlist covers the 4 pages, and follows NdisAdjustMdlLength(PAGE_SIZE)" \
		is sg_ok 1 short_sg_ok 1
	ktap_test_result "$1 memory: MmProbeAndLockPages locks it for KernelMode; a UserMode probe gets STATUS_ACCESS_VIOLATION" \
		is kernel_lock_status 0x00000000 kernel_lock_ok 1 kernel_unlocked 1 \
		   user_probe_status 0xc0000005 lock_built_refused 1
}
nonpaged_tests heap
nonpaged_tests static

# Blocks of 4 MiB or more come from vmalloc(), and vfree() may sleep.
big0=$(nt_big_areas)
nt bigfree
i=0
while [ "$(nt_big_areas)" -gt "$big0" ] && [ $i -lt 20 ]; do
	sleep 1
	i=$((i + 1))
done
big1=$(nt_big_areas)
ktap_print_msg "$nt_out; nt_compat areas of 4 MiB or more: $big0 before, $big1 after"
ktap_test_result "IoFreeMdl of a 1 GiB MDL and ExFreePoolWithTag of 8 MiB, both vmalloc() memory, under a Linux spinlock (IRQL $spin_irql): both freed, and nothing slept there" \
	sh -c "[ $nt_rc -eq 0 ] && [ '$(v irql) $(v mdl_vmalloc) $(v pool_vmalloc)' = '$spin_irql 1 1' ] &&
	       [ $big1 -eq $big0 ]"

nt mmio
ktap_print_msg "$nt_out"
ktap_test_result "device memory (an ioremap of the HPET) has no struct page: MmBuildMdlForNonPagedPool refuses it and the MDL stays undescribed; MmProbeAndLockPages fails" \
	sh -c "[ $nt_rc -eq 0 ] &&
	       [ '$(v built) $(v no_sysva) $(v lock_status)' = '0 1 0xc0000005' ]"

# --- what the MDL describes is its ByteCount then ------------------------
# Two pages with nothing mapped after them, and an MDL made for three.
nt cutlength user
ktap_print_msg "$nt_out"
ktap_test_result "MmProbeAndLockPages of a 3-page MDL over 2 mapped pages fails (STATUS_ACCESS_VIOLATION); cut to 2 pages less 8 bytes first, it locks those, maps them and lays out 2 scatterlist entries" \
	is full_status 0xc0000005 cut_status 0x00000000 cut_ok 1 regrown 1
said=$(dmesg | grep -c 'MmProbeAndLockPages() failed on this MDL and its status was not checked')
ktap_test_result "a driver that ignores the failed lock's status: its mapping call, IoBuildPartialMdl and MmUnlockPages are refused quietly, with one error line for the MDL ($said)" \
	sh -c "[ '$(v ignored_refused)' = 1 ] && [ $said -eq 1 ]"
nt cutlength kernel
ktap_print_msg "$nt_out"
ktap_test_result "MmBuildMdlForNonPagedPool of a 3-page MDL over 2 pages of vmalloc() memory is refused; cut to 2 pages less 8 bytes first, it builds them" \
	is full_built 0 cut_status 0x00000000 cut_ok 1 regrown 1

# --- the MDL's fields, as NT code reads and writes them ----------------------
said() {
	dmesg | grep -c -- "$1"
}
said_count0=$(said 'ByteCount [0-9]* refused')
said_flags0=$(said 'MdlFlags 0x800 cannot be followed')
said_move0=$(said 'StartVa/ByteOffset moved')
said_mva0=$(said 'MappedSystemVa .* is not the MDL.s mapping')
nt fields
ktap_print_msg "$nt_out"
ktap_test_result "fields: a built MDL's StartVa, ByteOffset, ByteCount, MappedSystemVa, Process and Size read as NT's; the PFN array is at Mdl + 1" \
	is read_fields 1
ktap_test_result "fields: ByteCount cut by the driver is what the MDL describes (byte count, scatterlist, mapping); grown back, it follows" \
	is cut_followed 1 regrown_followed 1 pool_cut_followed 1
ktap_test_result "fields: after a ByteCount cut, nt_mdl_sg_nents asked before nt_mdl_sg counts the new pages" \
	is nents_followed 1
ktap_test_result "fields: ByteCount grown past what the MDL describes is refused and put back, with an error line" \
	sh -c "[ '$(v grow_refused)' = 1 ] && [ $(said 'ByteCount [0-9]* refused') -gt $said_count0 ]"
ktap_test_result "fields: MdlFlags flipped (MDL_PAGES_LOCKED set, MDL_SOURCE_IS_NONPAGED_POOL cleared, MDL_MAPPING_CAN_FAIL) map a built MDL at its address; the hint stays" \
	is flags_flipped 1
ktap_test_result "fields: MDL_IO_SPACE, ByteOffset and MappedSystemVa written by the driver are refused and put back, each with an error line" \
	sh -c "[ '$(v io_space_refused) $(v move_refused) $(v mapped_va_put_back)' = '1 1 1' ] &&
	       [ $(said 'MdlFlags 0x800 cannot be followed') -gt $said_flags0 ] &&
	       [ $(said 'StartVa/ByteOffset moved') -gt $said_move0 ] &&
	       [ $(said 'MappedSystemVa .* is not the MDL.s mapping') -gt $said_mva0 ]"

vmaps0=$(nt_vmaps)
nt pfnarray
vmaps1=$(nt_vmaps)
ktap_print_msg "$nt_out; nt_compat vmap areas: $vmaps0 before, $vmaps1 after"
ktap_test_result "PFN array written by the driver, then MDL_PAGES_LOCKED: mapped at PASSIVE_LEVEL, the pages in the array's order; a write through the mapping reaches them" \
	is adopted 1 written 1
ktap_test_result "... clearing MDL_PAGES_LOCKED lets the pages go; a first mapping at DISPATCH_LEVEL and a PFN that is not RAM are refused, the bit cleared; IoFreeMdl with the bit set leaves no mapping ($vmaps0 before, $vmaps1 after)" \
	sh -c "[ '$(v dropped) $(v dispatch_refused) $(v bad_pfn_refused) $(v adopted_again)' = '1 1 1 1' ] &&
	       [ $vmaps1 -eq $vmaps0 ]"

# pfnarray_failing N: the pfnarray verb with the Nth fault-injectable
# allocation of this task failing (/proc/thread-self/fail-nth, in the
# subshell that writes the verb).  Prints the report, then "injected" if
# the failure was injected, "clean" if the verb allocated fewer than N times.
pfnarray_failing() {
	(
		# The shell's own complaints about failed opens are not news.
		exec 2> /dev/null
		echo reset > "$NTCTL"	# no stale report
		# Two descriptors: a write sets the count, a read from the start
		# tells whether it ran out.
		# shellcheck disable=SC2094
		exec 8> /proc/thread-self/fail-nth 9< /proc/thread-self/fail-nth
		echo "$1" >&8
		echo pfnarray > "$NTCTL"
		read -r left <&9
		cat "$NTCTL"
		if [ "$left" = 0 ]; then echo injected; else echo clean; fi
	)
}

# Every slab allocation of the verb in turn fails: an adoption refused for
# it must say so (before: silently), and nothing may stay mapped.  kmemleak
# (the debug kernels) scans for anything else left behind at the end.
failslab=/sys/kernel/debug/failslab
if [ -w /proc/thread-self/fail-nth ] && [ -w "$failslab/ignore-gfp-wait" ]; then
	wait0=$(cat "$failslab/ignore-gfp-wait")
	verbose0=$(cat "$failslab/verbose")
	echo N > "$failslab/ignore-gfp-wait"	# GFP_KERNEL ones too
	echo 1 > "$failslab/verbose"		# one line per failure, no stack
	failslab_begin
	vmaps0=$(nt_vmaps)
	n=0 hit=0 silent=""
	while [ $n -lt 400 ]; do
		n=$((n + 1))
		mark="mdlpool-selftest: pfnarray, allocation $n fails"
		echo "$mark" > /dev/kmsg
		out=$(pfnarray_failing $n)
		[ "${out##*
}" = injected ] || break
		nt_out=$out
		if [ "$(v adopted)" = 0 ] || [ "$(v adopted_again)" = 0 ]; then
			hit=$((hit + 1))
			dmesg | sed -n "/$mark\$/,\$p" |
				grep -q 'describes nothing: refused, no memory' ||
				silent="$silent $n"
		fi
	done
	failslab_end
	echo "$wait0" > "$failslab/ignore-gfp-wait"
	echo "$verbose0" > "$failslab/verbose"
	vmaps1=$(nt_vmaps)
	ktap_print_msg "pfnarray: $((n - 1)) allocations failed in turn; adoption refused in $hit runs, silently in:${silent:- none}; nt_compat vmap areas: $vmaps0 before, $vmaps1 after"
	ktap_test_result "... each slab allocation of the pfnarray verb failing in turn: every adoption refused for it says why, with an error line, and nothing stays mapped" \
		sh -c "[ $n -lt 400 ] && [ $hit -gt 0 ] && [ -z '$silent' ] && [ $vmaps1 -eq $vmaps0 ]"
else
	ktap_test_skip "... each slab allocation of the pfnarray verb failing in turn: every adoption refused for it says why, with an error line, and nothing stays mapped" \
		"needs CONFIG_FAULT_INJECTION_DEBUG_FS and CONFIG_FAILSLAB (the debug kernels have them)"
fi

# --- partial MDLs, pages for MDLs ----------------------------------------
nt partial
ktap_print_msg "$nt_out"
ktap_test_result "IoBuildPartialMdl: 7000 bytes from inside a built 3-page buffer, and the rest of it (Length 0): the source's pages, scatterlist and mapping (at DISPATCH_LEVEL), with MDL_PARTIAL and MDL_SOURCE_IS_NONPAGED_POOL" \
	is middle_ok 1 nonpaged_inherited 1 rest_ok 1
ktap_test_result "IoBuildPartialMdl: a pool buffer's payload after a 14-byte header" \
	is pool_ok 1
ktap_test_result "IoBuildPartialMdl: ranges not inside the source, and a target too small, are refused and the target describes nothing; MmPrepareMdlForReuse leaves it undescribed" \
	is outside_refused 1 reuse_undescribed 1

vmaps0=$(nt_vmaps)
nt pagesformdl
vmaps1=$(nt_vmaps)
page=$(v page_size)
ktap_print_msg "$nt_out; nt_compat vmap areas: $vmaps0 before, $vmaps1 after"
ktap_test_result "MmAllocatePagesForMdl: $((5 * page + 100)) bytes, zeroed, first mapped at DISPATCH_LEVEL; the mapping, the PFN array and the scatterlist name the same pages" \
	is bytes $((5 * page + 100)) locked 1 dispatch_mapped 1 zeroed 1 pfns_ok 1 pages_hold 1
ktap_test_result "MmAllocatePagesForMdlEx: 16 physically contiguous pages below 4 GiB (FULLY_REQUIRED, REQUIRE_CONTIGUOUS_CHUNKS, DONT_ZERO)" \
	is contiguous_bytes $((16 * page)) contiguous 1 below_4g 1
ktap_test_result "MmAllocatePagesForMdlEx refuses MmNonCached, MM_ALLOCATE_NO_WAIT, a bound below 16 MiB, and DISPATCH_LEVEL" \
	is noncached_refused 1 no_wait_refused 1 below_1m_refused 1 dispatch_refused 1
ktap_test_result "MmUnlockPages refuses such an MDL; MmFreePagesFromMdl frees its pages and mapping (vmap areas back to $vmaps0), leaving an empty MDL for ExFreePool; IoFreeMdl of one still holding pages frees them" \
	sh -c "[ $nt_rc -eq 0 ] && [ '$(v unlock_refused) $(v freed) $(v io_free_with_pages)' = '1 1 1' ] &&
	       [ $vmaps1 -eq $vmaps0 ]"

# --- user buffers --------------------------------------------------------
lines=2200			# 8 bytes each: 17600 bytes
awk -v n=$lines 'BEGIN { for (i = 0; i < n; i++) printf "%07d\n", i }' > "$TMP/ntc_lines"
len=$((lines * 8))
# The driver describes the written buffer from 100 bytes in, as it would a
# caller's data after a header (108 if that happens to start a page).
for skip in 100 108; do
	nt skip $skip
	dd if="$TMP/ntc_lines" of="$NTBUF" bs=$len count=1 2> "$TMP/ntc_dd.err"
	nt_rc=$?
	nt_out=$(cat "$NTCTL")
	[ "$(v offset)" != 0 ] && break
done
ktap_print_msg "$nt_out"
described=$((len - skip))
ktap_test_result "user buffer: $described bytes of write() data at byte offset $(v offset) locked by MmProbeAndLockPages(UserMode, IoReadAccess), 5+ pages" \
	sh -c "[ $nt_rc -eq 0 ] && [ '$(v lock_status)' = 0x00000000 ] &&
	       [ '$(v length)' = $described ] && [ '$(v offset)' != 0 ] && [ '$(v pages)' -ge 5 ] &&
	       [ '$(v locked) $(v va_is_user)' = '1 1' ]"
ktap_test_result "user buffer: locking user memory at DISPATCH_LEVEL is refused with STATUS_INVALID_DEVICE_STATE" \
	is dispatch_lock_status 0xc0000184
ktap_test_result "user buffer: the PFN array names the user's pages (read through them: what user space wrote)" \
	is pfn_hold 1 sg_ok 1
ktap_test_result "user buffer: the first MmGetSystemAddressForMdlSafe, at DISPATCH_LEVEL, maps the pages locked for IoReadAccess: all $described bytes match there" \
	is dispatch_mapped 1 dispatch_match $described
ktap_test_result "user buffer: at PASSIVE_LEVEL it returns the same mapping, which maps the pages in order: all $described bytes match across page boundaries" \
	is mapped 1 same_mapping 1 match $described map_pfn_ok 1
ktap_test_result "user buffer: IoBuildPartialMdl of 2 pages from byte 10 of its second page, mapped at DISPATCH_LEVEL before the buffer is: those bytes, MDL_PARTIAL_HAS_BEEN_MAPPED, and the buffer's mapping from there on" \
	is partial_ok 1 partial_same_mapping 1
ktap_test_result "user buffer: after MmUnmapLockedPages a new mapping at DISPATCH_LEVEL works; MmUnlockPages clears the MDL's state" \
	is unmapped 1 dispatch_remapped $described unlocked 1

# Threads that map one MDL at once must share one mapping.
vmaps0=$(nt_vmaps)
nt maprace 300
vmaps1=$(nt_vmaps)
ktap_print_msg "maprace: $nt_out; nt_compat vmap areas: $vmaps0 before, $vmaps1 after"
ktap_test_result "user buffer: $(v racers) threads call MmGetSystemAddressForMdlSafe on one locked 4-page MDL at once, $(v rounds) rounds: all get the same address, and no vmap() is left behind" \
	sh -c "[ $nt_rc -eq 0 ] && [ '$(v lock_status) $(v pages)' = '0x00000000 4' ] &&
	       [ '$(v rounds)' -gt 0 ] && [ '$(v split) $(v failed)' = '0 0' ] &&
	       [ $vmaps1 -eq $vmaps0 ]"

# The driver fills a read() buffer from 2900 bytes in.
skip=2900
nt skip $skip
rm -f "$TMP/ntc_read"
dd if="$NTBUF" of="$TMP/ntc_read" bs=$len count=1 2> "$TMP/ntc_dd.err"
nt_rc=$?
nt_out=$(cat "$NTCTL")
ktap_print_msg "$nt_out"
tail -c +$((skip + 1)) "$TMP/ntc_read" > "$TMP/ntc_read.tail"
head -c $((len - skip)) "$TMP/ntc_lines" > "$TMP/ntc_expect"
ktap_test_result "user buffer: read() buffer locked for IoWriteAccess, first mapped and written at DISPATCH_LEVEL: user space reads the $((len - skip)) bytes the driver wrote" \
	sh -c "[ $nt_rc -eq 0 ] && [ '$(v lock_status) $(v write_op) $(v mapped)' = '0x00000000 1 1' ] &&
	       [ '$(v pages)' -ge 4 ] && [ $(wc -c < "$TMP/ntc_read") -eq $len ] &&
	       cmp -s '$TMP/ntc_read.tail' '$TMP/ntc_expect'"
ktap_test_result "user buffer: MmUnmapLockedPages and MmUnlockPages at DISPATCH_LEVEL (deferred release) unlock the MDL" \
	is unlocked 1
nt skip 0
rm -f "$TMP"/ntc_*

# lockaddr ADDR LEN read|write: lock an address this shell names
nt lockaddr 0 16 read
ktap_test_result "MmProbeAndLockPages on NULL fails cleanly: STATUS_ACCESS_VIOLATION (EFAULT)" \
	fails_with "Bad address" 0xc0000005
nt lockaddr 0x1000 16 read
ktap_test_result "... on an unmapped user page (0x1000): STATUS_ACCESS_VIOLATION" \
	fails_with "Bad address" 0xc0000005
nt lockaddr 0xffffffff81000000 4096 read
ktap_test_result "... on a kernel address with UserMode: STATUS_ACCESS_VIOLATION" \
	fails_with "Bad address" 0xc0000005
nt lockaddr 0xfffffffffffff000 8192 read
ktap_test_result "... on a range wrapping past the top of the address space: IoAllocateMdl refuses it (STATUS_INVALID_PARAMETER here)" \
	fails_with "Invalid argument" 0xc000000d
# A system thread has no user address space to look user addresses up in.
nt systemlock
ktap_print_msg "$nt_out"
ktap_test_result "... in a kernel thread, of 0x1000 (UserMode and KernelMode) and of pages the writer has mapped: STATUS_ACCESS_VIOLATION; the writer itself locks those pages" \
	sh -c "[ $nt_rc -eq 0 ] && [ '$(v thread_finished)' = 1 ] &&
	       [ '$(v thread_low) $(v thread_low_kernelmode) $(v thread_user)' = '0xc0000005 0xc0000005 0xc0000005' ] &&
	       [ '$(v caller_user)' = 0x00000000 ]"
ktap_test_result "... in a work item (a kworker), the same: STATUS_ACCESS_VIOLATION" \
	is work_low 0xc0000005 work_low_kernelmode 0xc0000005 work_user 0xc0000005

# This shell's mappings; the writes come from its forks, which share them.
rw="" ro="" edge=""
prev_end=0 prev=""
while read -r range perms rest; do
	start=$((0x${range%-*}))
	end=$((0x${range#*-}))
	if [ -n "$prev" ] && [ "$start" -gt "$prev_end" ] && [ -z "$edge" ]; then
		edge=$prev
	fi
	case "$rest" in
	*"[heap]"*|*"[stack]"*|*"[v"*) prev="" ;;
	*) case "$perms" in r*) prev=$end ;; *) prev="" ;; esac ;;
	esac
	prev_end=$end
	case "$perms" in
	rw-p) [ -z "$rw" ] && [ $((end - start)) -ge 16384 ] && rw=$start ;;
	r-xp|r--p) [ -z "$ro" ] && ro=$start ;;
	esac
done < /proc/$$/maps
ktap_print_msg "rw=$(printf '%#x' "${rw:-0}") ro=$(printf '%#x' "${ro:-0}") edge=$(printf '%#x' "${edge:-0}")"

if [ -n "$edge" ]; then
	nt lockaddr "$(printf '%#x' $((edge - 4096)))" 8192 read
	ktap_test_result "... on a range running off the end of a mapping: STATUS_ACCESS_VIOLATION" \
		fails_with "Bad address" 0xc0000005
else
	ktap_test_skip "... on a range running off the end of a mapping" "no mapping followed by a hole"
fi
if [ -n "$ro" ]; then
	nt lockaddr "$(printf '%#x' "$ro")" 4096 write
	ro_write=$nt_rc ro_write_status=$(v lock_status)
	nt lockaddr "$(printf '%#x' "$ro")" 4096 read
	ktap_test_result "a read-only mapping: IoWriteAccess gets STATUS_ACCESS_VIOLATION, IoReadAccess locks and maps" \
		sh -c "[ $ro_write -ne 0 ] && [ $ro_write_status = 0xc0000005 ] &&
		       [ $nt_rc -eq 0 ] && [ '$(v mapped)' = 1 ]"
else
	ktap_test_skip "a read-only mapping" "none found"
fi
# Pages locked for IoReadAccess that the caller cannot write: the kernel
# mapping must not write them either.
nt readonly anon 1
ktap_print_msg "$nt_out"
ktap_test_result "IoReadAccess of a never-written anonymous page (the zero page): mapped, a write through the mapping faults, user space still reads 0" \
	sh -c "[ $nt_rc -eq 0 ] &&
	       [ '$(v lock_status) $(v mapped) $(v write_refused) $(v user_unchanged)' = '0x00000000 1 1 1' ]"
nt readonly anon 3
ktap_test_result "... 3 such pages (a multi-page mapping): writes to each fault" \
	sh -c "[ $nt_rc -eq 0 ] &&
	       [ '$(v lock_status) $(v mapped) $(v write_refused) $(v user_unchanged)' = '0x00000000 1 3 1' ]"
if [ -n "$ro" ]; then
	nt readonly "$(printf '%#x' "$ro")" 1
	ktap_test_result "IoReadAccess of a read-only file mapping (page cache): a write through the mapping faults, the file's page is unchanged" \
		sh -c "[ $nt_rc -eq 0 ] &&
		       [ '$(v lock_status) $(v mapped) $(v write_refused) $(v user_unchanged)' = '0x00000000 1 1 1' ]"
else
	ktap_test_skip "IoReadAccess of a read-only file mapping" "none found"
fi
if [ -n "$rw" ]; then
	nt lockaddr "$(printf '%#x' $((rw + 100)))" 12288 write
	ktap_test_result "a writable mapping of this shell: 3 pages at offset 100 lock for IoWriteAccess and map" \
		sh -c "[ $nt_rc -eq 0 ] && [ '$(v lock_status) $(v pages) $(v mapped)' = '0x00000000 4 1' ]"
else
	ktap_test_skip "a writable mapping of this shell" "none of 4 pages found"
fi

# --- refusals ------------------------------------------------------------
# UserMode (1) and MmNonCached (0), known only at run time.
nt refusals 1 0
ktap_test_result "refusals: MmMapLockedPagesSpecifyCache refuses UserMode, MmNonCached, a RequestedAddress; maps KernelMode MmCached" \
	is user_map_refused 1 cache_refused 1 address_refused 1 kernel_map_ok 1
ktap_test_result "refusals: IoAllocateMdl refuses Length 0 and an IRP" \
	is zero_length_refused 1 irp_refused 1
ktap_test_result "refusals: IoAllocateMdl refuses a range that wraps past the top of the address space, accepts one ending at it" \
	is wrap_refused 1 top_accepted 1
ktap_test_result "refusals: ExAllocatePoolWithTag(PagedPool) at DISPATCH_LEVEL returns NULL" \
	is paged_at_dispatch_refused 1

bad=0
for cmd in bogus "pool" "pool 70000" "percpu x" "nonpaged wrong" "refusals 1" \
	   "lockaddr 0x1000" "lockaddr 0x1000 16 sideways" "types extra" \
	   "readonly anon" "readonly anon 0" "mmio x" "cpuids x" \
	   "badchain 40 5" "badchain 40 5 sideways" "maprace 0" "bigfree x" \
	   "systemlock x" "lockedirql x" "partial x" "pagesformdl x" "cutlength" "cutlength x" "fields x" "pfnarray x"; do
	nt "$cmd"
	fails_with "Invalid argument" 0xc000000d > /dev/null || {
		ktap_print_msg "'$cmd': $nt_err / $nt_out"
		bad=1
	}
done
ktap_test_result "malformed commands fail with EINVAL (STATUS_INVALID_PARAMETER)" [ $bad -eq 0 ]

# --- unload ----------------------------------------------------------------
nt release
rmmod mdlpool_ntclient
rc=$?
ktap_test_result "the client unloads; its pools are gone and every page is back" \
	sh -c "[ $rc -eq 0 ] && [ ! -e $NTDIR ] &&
	       [ $(summary pools) -eq $pools0 ] && [ $(summary pages_held) -eq $pages0 ]"

# The pool-name counter is nt_compat.ko's, shared by all its users: a client
# loaded again (or a second client) never gets a name handed out before.
rc=1
if insmod "$ko"; then
	nt pool 1500
	again=$(grep -l '^pool .* tag=NtCl ' "$DBG"/*/stats 2>/dev/null | head -n 1)
	again=$(basename "$(dirname "${again:-/x/none/stats}")")
	# A user buffer unlocked at DISPATCH_LEVEL right before the client
	# goes: the release may still be queued when it unloads.
	dd if="$NTBUF" of=/dev/null bs=8192 count=1 2> /dev/null
	nt release
	rmmod mdlpool_ntclient && rc=0
fi
ktap_print_msg "first pool $ntpool, after reloading the client $again"
ktap_test_result "MdpCreatePool after the client is loaded again counts on: $again follows $ntpool" \
	sh -c "[ $rc -eq 0 ] && case '$again' in nt-NtCl-*) true ;; *) false ;; esac &&
	       [ ${again##*-} -gt ${ntpool##*-} ]"

rmmod nt_compat
rc=$?
ktap_test_result "nt_compat.ko unloads; no pool and no page of the pool is left" \
	sh -c "[ $rc -eq 0 ] && [ ! -e /sys/module/nt_compat ] &&
	       [ $(summary pools) -eq $pools0 ] && [ $(summary pages_held) -eq $pages0 ]"
pins1=$(pins)
if [ -n "$pins0" ] && [ -n "$pins1" ]; then
	ktap_test_result "every user page MmProbeAndLockPages pinned is unpinned ($pins0 pinned before, $pins1 after)" \
		[ "$pins1" -eq "$pins0" ]
else
	ktap_test_skip "every user page MmProbeAndLockPages pinned is unpinned" \
		"no nr_foll_pin_* in /proc/vmstat"
fi

ktap_finished
