// SPDX-License-Identifier: GPL-2.0
/*
 * mdlpool_ntclient - an NT-style client of the MDL pool, built on nt_compat.h
 *
 * The first part of this file is written the way an NT driver is written:
 * NT types and NT calls only, as nt_compat.h provides them.  It creates a
 * pool, allocates on every CPU, shortens byte counts, frees from other
 * CPUs, chains MDLs, builds MDLs over its own memory and locks user
 * buffers, checking every result.  It reports what it saw through
 * NtcReport(); the tests in selftests/mdlpool_ntcompat.sh judge it.
 *
 * The second part is the Linux glue: the debugfs files in
 * /sys/kernel/debug/mdlpool_ntclient/, a tasklet and an IPI that run NT
 * routines at DISPATCH_LEVEL and in an interrupt, two checks that look at
 * an MDL the way Linux code does (its scatterlist, its pages), and module
 * init and exit.  Documentation/nt-porting.rst describes the commands.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/highmem.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "mdlpool_compat.h"
/* NT code here: PAGE_ALIGN is NT's, so nt_compat.h comes last. */
#define NT_COMPAT_NT_PAGE_ALIGN
#include "nt_compat.h"

/* Glue the NT part calls: results, and Linux's view of an MDL. */
static VOID NtcReport(const char *Key, ULONG_PTR Value);
static VOID NtcReportStatus(const char *Key, NTSTATUS Status);
static BOOLEAN NtcScatterlistMatches(PMDL Mdl);
static BOOLEAN NtcAllocationsZeroed(VOID);
static BOOLEAN NtcPagesHold(PMDL Mdl, const VOID *Expected);
static ULONG NtcWritesRefused(PVOID SystemVa, PVOID UserVa, ULONG Length,
			      BOOLEAN *UserUnchanged);
static VOID NtcSpoilDescriptor(PMDL Mdl, BOOLEAN Spoil);
static BOOLEAN NtcWatchStart(const VOID *Address, ULONG Length);
static BOOLEAN NtcWatching(VOID);
static ULONG NtcWatchStop(ULONG *Samples);

typedef VOID (*PNTC_ROUTINE)(PVOID Context);
typedef VOID (*PNTC_RACER)(PVOID Context, ULONG Racer);

static BOOLEAN NtcRunInThread(PNTC_ROUTINE Routine, PVOID Context);
static VOID NtcCallUnderSpinLock(PNTC_ROUTINE Routine, PVOID Context);
static ULONG NtcRaceRound(PNTC_RACER Racer, PVOID Context);
static BOOLEAN NtcIsVmalloc(const VOID *Address);
static ULONG NtcBottomHalfDepth(VOID);

/* ======================================================================
 * NT part.
 */

#define NTC_POOL_TAG		0x6c43744eUL	/* 'lCtN': "NtCl" in memory */
#define NTC_MAX_HELD		1024
#define NTC_LINE		8		/* "%07u\n" */

typedef struct _NTC_HELD {
	PMDL Mdl;
	PVOID Buffer;
	ULONG Cpu;
	UCHAR Fill;
} NTC_HELD;

typedef struct _NTC_CONTEXT {
	HANDLE Pool;
	USHORT BufferSize;
	ULONG HeldCount;
	NTC_HELD Held[NTC_MAX_HELD];
} NTC_CONTEXT;

typedef struct _NTC_DPC_CONTEXT {
	HANDLE Pool;
	KIRQL Irql;
	KIRQL RaiseOld;
	KIRQL AfterLower;
	BOOLEAN AtDpcAllocated;
	BOOLEAN Allocated;
} NTC_DPC_CONTEXT;

typedef struct _NTC_ISR_CONTEXT {
	KIRQL Irql;
	ULONG Cpu;
} NTC_ISR_CONTEXT;

static NTC_CONTEXT NtcContext;

/* Driver-owned static memory: three pages and some, at no particular offset. */
static UCHAR NtcStaticBuffer[3 * PAGE_SIZE + 512];

/*
 * Processors a KAFFINITY can name: KeNumberProcessors counts every
 * processor, and may exceed the mask's bits.
 */
static ULONG NtcAffinityProcessors(VOID)
{
	ULONG Count = KeNumberProcessors, Bits = sizeof(KAFFINITY) * 8;

	return Count < Bits ? Count : Bits;
}

static ULONG NtcCountBits(KAFFINITY Affinity)
{
	ULONG Count = 0;

	while (Affinity) {
		Count += Affinity & 1;
		Affinity >>= 1;
	}
	return Count;
}

/* Position-dependent bytes that differ between pages at the same offset. */
static UCHAR NtcPatternByte(ULONG Index)
{
	return (UCHAR)(Index * 31 + (Index >> 8) + (Index / PAGE_SIZE) * 101);
}

static VOID NtcFillPattern(PUCHAR Buffer, ULONG Length)
{
	ULONG i;

	for (i = 0; i < Length; i++)
		Buffer[i] = NtcPatternByte(i);
}

static BOOLEAN NtcBufferHas(const UCHAR *Buffer, ULONG Length, UCHAR Fill)
{
	ULONG i;

	for (i = 0; i < Length; i++) {
		if (Buffer[i] != Fill)
			return FALSE;
	}
	return TRUE;
}

/* Text lines "0000000\n", "0000001\n", ...: what the tests expect to read. */
static VOID NtcWriteLines(PUCHAR Buffer, ULONG Length)
{
	ULONG i, Line, Digit, Value;

	for (i = 0; i < Length; i++) {
		Line = i / NTC_LINE;
		Digit = i % NTC_LINE;
		if (Digit == NTC_LINE - 1) {
			Buffer[i] = '\n';
			continue;
		}
		Value = Line;
		for (; Digit < NTC_LINE - 2; Digit++)
			Value /= 10;
		Buffer[i] = (UCHAR)('0' + Value % 10);
	}
}

static NTSTATUS NtcTypes(VOID)
{
	LARGE_INTEGER Large;
	UCHAR Left[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	UCHAR Right[8] = { 1, 2, 3, 4, 9, 6, 7, 8 };
	BOOLEAN Equal;

	NtcReport("uchar", sizeof(UCHAR));
	NtcReport("ushort", sizeof(USHORT));
	NtcReport("ulong", sizeof(ULONG));
	NtcReport("longlong", sizeof(LONGLONG));
	NtcReport("ulong_ptr", sizeof(ULONG_PTR));
	NtcReport("size_t", sizeof(SIZE_T));
	NtcReport("pvoid", sizeof(PVOID));
	NtcReport("handle", sizeof(HANDLE));
	NtcReport("kirql", sizeof(KIRQL));
	NtcReport("boolean", sizeof(BOOLEAN));
	NtcReport("ntstatus", sizeof(NTSTATUS));
	NtcReport("large_integer", sizeof(LARGE_INTEGER));

	Large.QuadPart = 0x1122334455667788LL;
	NtcReport("large_parts",
		  Large.LowPart == 0x55667788UL && Large.HighPart == 0x11223344L &&
		  Large.u.LowPart == Large.LowPart && Large.u.HighPart == Large.HighPart);
	Large.QuadPart = -1;
	NtcReport("large_negative", Large.HighPart == -1 && Large.LowPart == 0xFFFFFFFFUL);

	NtcReport("success_ok", NT_SUCCESS(STATUS_SUCCESS));
	NtcReport("violation_fails", !NT_SUCCESS(STATUS_ACCESS_VIOLATION));
	NtcReportStatus("violation", STATUS_ACCESS_VIOLATION);
	NtcReportStatus("resources", STATUS_INSUFFICIENT_RESOURCES);
	NtcReport("true", TRUE);
	NtcReport("false", FALSE);
	NtcReport("compare", RtlCompareMemory(Left, Right, sizeof(Left)));
	Equal = RtlEqualMemory(Left, Left, sizeof(Left)) &&
		!RtlEqualMemory(Left, Right, sizeof(Left));
	NtcReport("equal", Equal);
	return STATUS_SUCCESS;
}

static NTSTATUS NtcUnused(ULONG Unused)
{
	UNREFERENCED_PARAMETER(Unused);
	return STATUS_SUCCESS;
}

static BOOLEAN NtcAllZero(const UCHAR *Bytes, SIZE_T Length)
{
	SIZE_T i;

	for (i = 0; i < Length; i++) {
		if (Bytes[i])
			return FALSE;
	}
	return TRUE;
}

/* A block of pool memory written with non-zero bytes and given back. */
static VOID NtcDirtyPool(SIZE_T Length)
{
	PVOID P = ExAllocatePoolWithTag(NonPagedPoolNx, Length, NTC_POOL_TAG);

	if (P) {
		RtlFillMemory(P, Length, 0xEE);
		ExFreePoolWithTag(P, NTC_POOL_TAG);
	}
}

/*
 * Each allocator gives a block (reported as pool_calls); those that zero
 * give zeroes where a freed block was written just before (pool_zeroed).
 */
static VOID NtcPoolCalls(VOID)
{
	ULONG Given = 0, Zeroed = 0;
	PUCHAR P;

	NtcDirtyPool(200);
	P = ExAllocatePool2(POOL_FLAG_NON_PAGED, 200, NTC_POOL_TAG);
	Given += !!P;
	Zeroed += P && NtcAllZero(P, 200);
	ExFreePoolWithTag(P, NTC_POOL_TAG);
	P = ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_UNINITIALIZED |
			    POOL_FLAG_USE_QUOTA | POOL_FLAG_SPECIAL_POOL, 200,
			    NTC_POOL_TAG);
	Given += !!P;
	ExFreePool(P);
	NtcDirtyPool(5000);
	P = ExAllocatePool2(POOL_FLAG_PAGED, 5000, NTC_POOL_TAG);
	Given += !!P;
	Zeroed += P && NtcAllZero(P, 5000);
	ExFreePool(P);
	NtcDirtyPool(200);
	P = ExAllocatePool3(POOL_FLAG_NON_PAGED, 200, NTC_POOL_TAG, NULL, 0);
	Given += !!P;
	Zeroed += P && NtcAllZero(P, 200);
	ExFreePool(P);
	NtcDirtyPool(128);
	P = ExAllocatePoolZero(NonPagedPoolNx, 128, NTC_POOL_TAG);
	Given += !!P;
	Zeroed += P && NtcAllZero(P, 128);
	ExFreePool(P);
	P = ExAllocatePoolUninitialized(NonPagedPool, 128, NTC_POOL_TAG);
	Given += !!P;
	ExFreePool(P);
	P = ExAllocatePool(PagedPool, 128);
	Given += !!P;
	ExFreePool(P);
	NtcReport("pool_calls", Given);
	NtcReport("pool_zeroed", Zeroed);
}

/* What ExAllocatePool2() and ExAllocatePool3() must refuse (NULL). */
static ULONG NtcPoolRefusals(VOID)
{
	static const POOL_FLAGS Refused[] = {
		0,
		POOL_FLAG_NON_PAGED | POOL_FLAG_PAGED,
		POOL_FLAG_NON_PAGED_EXECUTE,
		POOL_FLAG_NON_PAGED | POOL_FLAG_RAISE_ON_FAILURE,
		POOL_FLAG_NON_PAGED | POOL_FLAG_SESSION,
		POOL_FLAG_NON_PAGED | 0x200,
	};
	ULONG i, Count = 0;
	PVOID P;

	for (i = 0; i < ARRAYSIZE(Refused); i++) {
		P = ExAllocatePool2(Refused[i], 64, NTC_POOL_TAG);
		Count += !P;
		ExFreePool(P);
	}
	P = ExAllocatePool3(POOL_FLAG_NON_PAGED, 64, NTC_POOL_TAG, NULL, 1);
	Count += !P;
	ExFreePool(P);
	return Count;
}

/* The pool at DISPATCH_LEVEL: non-paged memory, never paged. */
static VOID NtcPoolAtDispatch(VOID)
{
	PVOID NonPaged, Paged;
	KIRQL OldIrql;

	KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
	NonPaged = ExAllocatePool2(POOL_FLAG_NON_PAGED, 64, NTC_POOL_TAG);
	Paged = ExAllocatePool2(POOL_FLAG_PAGED, 64, NTC_POOL_TAG);
	ExFreePool(NonPaged);
	ExFreePool(Paged);
	KeLowerIrql(OldIrql);
	NtcReport("pool2_dispatch", !!NonPaged);
	NtcReport("pool2_paged_dispatch_refused", !Paged);
}

/* NDIS 6 and NDIS 5 MDL calls, and the old mapping calls, on one MDL. */
static ULONG NtcNdisCalls(PUCHAR Buffer, UINT Length)
{
	PNDIS_BUFFER Next = (PNDIS_BUFFER)Buffer;
	PVOID Va = NULL, Va5 = NULL, VaSafe = NULL;
	UINT Got = 0, Got5 = 0, Offset = 1, Offset5 = 1;
	ULONG Good = 0;
	PMDL Mdl;

	Mdl = NdisAllocateMdl(NULL, Buffer, Length);
	if (!Mdl)
		return 0;
	NdisQueryMdl(Mdl, &Va, &Got, NormalPagePriority | MdlMappingNoExecute);
	Good += Va == Buffer && Got == Length;
	NdisQueryMdl(Mdl, NULL, &Got, NormalPagePriority);
	Good += Got == Length;
	NdisQueryMdlOffset(Mdl, &Offset, &Got);
	Good += Offset == BYTE_OFFSET(Buffer) && Got == Length;
	NdisQueryBuffer(Mdl, &Va5, &Got5);
	NdisQueryBufferSafe(Mdl, &VaSafe, &Got5, HighPagePriority);
	Good += Va5 == Buffer && VaSafe == Buffer && Got5 == Length;
	NdisQueryBufferOffset(Mdl, &Offset5, &Got5);
	Good += Offset5 == Offset && Got5 == Length;
	NdisGetNextBuffer(Mdl, &Next);
	Good += !Next;
	Good += MmGetSystemAddressForMdl(Mdl) == Buffer;
	Good += MmMapLockedPages(Mdl, KernelMode) == Buffer;
	NdisFreeMdl(Mdl);
	return Good;
}

/* The small names: types, truncation, page arithmetic, memory helpers. */
static NTSTATUS NtcNames(VOID)
{
	UCHAR Secret[16], Source[64], Target[64];
	PHYSICAL_ADDRESS Physical;
	LONG Minus = -1;
	PUINT8 Bytes;
	PUCHAR Buffer;

	PAGED_CODE();
	NT_ASSERT(KeGetCurrentIrql() == PASSIVE_LEVEL);
	NtcReport("unreferenced", NT_SUCCESS(NtcUnused(1)));
	NtcReport("uint8", sizeof(UINT8));
	Bytes = Source;
	NtcReport("puint8", sizeof(*Bytes));
	NtcReport("ptr_to_ulong", PtrToUlong((PVOID)(ULONG_PTR)0x123456789ULL));
	NtcReport("ulong_to_ptr",
		  ULongToPtr(0x89ABCDEFUL) == (PVOID)(ULONG_PTR)0x89ABCDEFUL);
	NtcReport("bytes_to_pages",
		  BYTES_TO_PAGES(0) == 0 && BYTES_TO_PAGES(1) == 1 &&
		  BYTES_TO_PAGES(PAGE_SIZE) == 1 &&
		  BYTES_TO_PAGES(PAGE_SIZE + 1) == 2);
	NtcReport("round_to_pages",
		  ROUND_TO_PAGES(1) == PAGE_SIZE &&
		  ROUND_TO_PAGES(PAGE_SIZE) == PAGE_SIZE &&
		  ROUND_TO_PAGES(PAGE_SIZE + 1) == 2 * PAGE_SIZE);
	/* NT's PAGE_ALIGN, asked for above, and the untyped MIN/MAX. */
	NtcReport("page_align",
		  PAGE_ALIGN(Source + PAGE_SIZE) ==
		  (PVOID)((ULONG_PTR)(Source + PAGE_SIZE) & ~(ULONG_PTR)(PAGE_SIZE - 1)) &&
		  PAGE_ALIGN(NT_PAGE_ALIGN(Source) + PAGE_SIZE - 1) == NT_PAGE_ALIGN(Source));
	NtcReport("min_max", MIN((ULONG)3, (SIZE_T)5) == 3 &&
		  MAX(Minus, (LONG)2) == 2 &&
		  MIN(BYTE_OFFSET(Source), PAGE_SIZE) == BYTE_OFFSET(Source));
	RtlFillMemory(Secret, sizeof(Secret), 0xA5);
	NtcReport("secure_zero",
		  RtlSecureZeroMemory(Secret, sizeof(Secret)) == (PVOID)Secret &&
		  NtcAllZero(Secret, sizeof(Secret)));
	RtlFillMemoryNonTemporal(Source, sizeof(Source), 0x5A);
	RtlZeroMemory(Target, sizeof(Target));
	RtlCopyMemoryNonTemporal(Target, Source, sizeof(Source));
	NtcReport("nontemporal", Source[sizeof(Source) - 1] == 0x5A &&
		  RtlEqualMemory(Target, Source, sizeof(Source)));

	NtcReport("init_on_alloc", NtcAllocationsZeroed());
	NtcPoolCalls();
	NtcReport("pool_refused", NtcPoolRefusals());
	NtcPoolAtDispatch();

	Buffer = ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_CACHE_ALIGNED,
				 100, NTC_POOL_TAG);
	if (!Buffer)
		return STATUS_INSUFFICIENT_RESOURCES;
	NtcReport("cache_aligned", ((ULONG_PTR)Buffer & 63) == 0);
	Physical = MmGetPhysicalAddress(Buffer + 10);
	NtcReport("physical_quad", Physical.QuadPart != 0 &&
		  (Physical.QuadPart & (PAGE_SIZE - 1)) == BYTE_OFFSET(Buffer + 10));
	NtcReport("ndis_calls", NtcNdisCalls(Buffer, 100));
	ExFreePoolWithTag(Buffer, NTC_POOL_TAG);
	return STATUS_SUCCESS;
}

static NTSTATUS NtcIrql(VOID)
{
	KIRQL OldIrql, NestedIrql;
	HANDLE Pool, Refused;
	BOOLEAN Stable = TRUE, Allocated = TRUE;
	PVOID Buffer;
	ULONG Cpu, i;
	PMDL Mdl;

	NtcReport("passive", KeGetCurrentIrql());
	Pool = MdpCreatePool(256, NTC_POOL_TAG);
	if (!Pool)
		return STATUS_INSUFFICIENT_RESOURCES;

	OldIrql = KeRaiseIrqlToDpcLevel();
	NtcReport("raise_old", OldIrql);
	NtcReport("raised", KeGetCurrentIrql());
	Cpu = KeGetCurrentProcessorNumber();

	KeRaiseIrql(DISPATCH_LEVEL, &NestedIrql);
	NtcReport("nested_old", NestedIrql);
	KeLowerIrql(NestedIrql);
	NestedIrql = KeRaiseIrqlToDpcLevel();
	NtcReport("again_old", NestedIrql);
	for (i = 0; i < 2000; i++) {
		Mdl = MdpAllocateAtDpcLevel(Pool, &Buffer);
		if (!Mdl) {
			Allocated = FALSE;
			break;
		}
		if (KeGetCurrentProcessorNumber() != Cpu)
			Stable = FALSE;
		MdpFree(Mdl);
	}
	KeLowerIrql(NestedIrql);
	NtcReport("after_nested", KeGetCurrentIrql());
	NtcReport("dpc_allocs", Allocated);
	NtcReport("cpu_stable", Stable && KeGetCurrentProcessorNumber() == Cpu);

	/* The Linux pool sleeps while it creates: not at DISPATCH_LEVEL. */
	Refused = MdpCreatePool(256, NTC_POOL_TAG);
	NtcReport("create_refused", !Refused);

	KeLowerIrql(OldIrql);
	NtcReport("lowered", KeGetCurrentIrql());

	MdpDestroyPool(Refused);
	MdpDestroyPool(Pool);
	return STATUS_SUCCESS;
}

static NTSTATUS NtcDpcPrepare(NTC_DPC_CONTEXT *Context)
{
	RtlZeroMemory(Context, sizeof(*Context));
	Context->Pool = MdpCreatePool(128, NTC_POOL_TAG);
	return Context->Pool ? STATUS_SUCCESS : STATUS_INSUFFICIENT_RESOURCES;
}

/* Runs as a DPC: in a softirq. */
static VOID NtcDpcRoutine(NTC_DPC_CONTEXT *Context)
{
	PVOID Buffer;
	PMDL Mdl;

	Context->Irql = KeGetCurrentIrql();
	Context->RaiseOld = KeRaiseIrqlToDpcLevel();
	Mdl = MdpAllocateAtDpcLevel(Context->Pool, &Buffer);
	Context->AtDpcAllocated = Mdl && Buffer && MmGetMdlByteCount(Mdl) == 128;
	if (Mdl)
		MdpFree(Mdl);
	Mdl = MdpAllocate(Context->Pool, &Buffer);
	Context->Allocated = Mdl && Buffer && MmGetMdlByteCount(Mdl) == 128;
	if (Mdl)
		MdpFree(Mdl);
	KeLowerIrql(Context->RaiseOld);
	Context->AfterLower = KeGetCurrentIrql();
}

static NTSTATUS NtcDpcFinish(NTC_DPC_CONTEXT *Context)
{
	NtcReport("irql", Context->Irql);
	NtcReport("raise_old", Context->RaiseOld);
	NtcReport("after_lower", Context->AfterLower);
	NtcReport("at_dpc_allocated", Context->AtDpcAllocated);
	NtcReport("allocated", Context->Allocated);
	MdpDestroyPool(Context->Pool);
	return STATUS_SUCCESS;
}

/* Runs in an interrupt handler. */
static VOID NtcIsrRoutine(NTC_ISR_CONTEXT *Context)
{
	Context->Irql = KeGetCurrentIrql();
	Context->Cpu = KeGetCurrentProcessorNumber();
}

static NTSTATUS NtcCpus(VOID)
{
	KAFFINITY Active = KeQueryActiveProcessors();
	KAFFINITY Old, Again;
	ULONG i, Reached = 0, RoundTrips = 0;

	NtcReport("processors", KeNumberProcessors);
	NtcReport("active", NtcCountBits(Active));
	for (i = 0; i < NtcAffinityProcessors(); i++) {
		if (!(Active & ((KAFFINITY)1 << i)))
			continue;
		Old = KeSetSystemAffinityThreadEx((KAFFINITY)1 << i);
		if (KeGetCurrentProcessorNumber() == i)
			Reached++;
		/* Setting it again returns the affinity just set. */
		Again = KeSetSystemAffinityThreadEx((KAFFINITY)1 << i);
		if (Again == ((KAFFINITY)1 << i))
			RoundTrips++;
		KeRevertToUserAffinityThreadEx(Old);
	}
	NtcReport("reached", Reached);
	NtcReport("round_trips", RoundTrips);
	return STATUS_SUCCESS;
}

static VOID NtcFreeHeld(VOID)
{
	while (NtcContext.HeldCount) {
		NtcContext.HeldCount--;
		MdpFree(NtcContext.Held[NtcContext.HeldCount].Mdl);
	}
}

static VOID NtcPoolDestroy(VOID)
{
	NtcFreeHeld();
	MdpDestroyPool(NtcContext.Pool);
	NtcContext.Pool = NULL;
}

static NTSTATUS NtcPoolCreate(USHORT BufferSize, ULONG MaxBufferSize)
{
	HANDLE Other;

	NtcPoolDestroy();
	NtcContext.Pool = MdpCreatePool(BufferSize, NTC_POOL_TAG);
	if (!NtcContext.Pool)
		return STATUS_INSUFFICIENT_RESOURCES;
	NtcContext.BufferSize = BufferSize;
	/* NT's own size of an MDL without PFNs. */
	NtcReport("mdl_size", sizeof(MDL));

	Other = MdpCreatePool(0, NTC_POOL_TAG);
	NtcReport("zero_refused", !Other);
	MdpDestroyPool(Other);

	/* Same tag again, and the largest size: a second, distinct pool. */
	Other = MdpCreatePool((USHORT)MaxBufferSize, NTC_POOL_TAG);
	NtcReport("max_accepted", Other && Other != NtcContext.Pool);
	MdpDestroyPool(Other);

	Other = MdpCreatePool((USHORT)(MaxBufferSize + 1), NTC_POOL_TAG);
	NtcReport("over_max_refused", !Other);
	MdpDestroyPool(Other);

	NtcReport("max", MaxBufferSize);
	NtcReport("size", BufferSize);
	return STATUS_SUCCESS;
}

typedef struct _NTC_POOL_CHECKS {
	ULONG Null;
	ULONG Cpu;
	ULONG ByteCount;
	ULONG VirtualAddress;
	ULONG SystemAddress;
	ULONG Offset;
	ULONG BaseVa;
	ULONG Pfn;
	ULONG Scatterlist;
	ULONG Next;
	ULONG Flags;
	ULONG Overlap;
} NTC_POOL_CHECKS;

static VOID NtcCheckPoolMdl(PMDL Mdl, PVOID Buffer, NTC_POOL_CHECKS *Bad)
{
	ULONG Size = NtcContext.BufferSize;
	PUCHAR Start = Buffer;
	PHYSICAL_ADDRESS Physical = MmGetPhysicalAddress(Buffer);

	if (MmGetMdlByteCount(Mdl) != Size)
		Bad->ByteCount++;
	if (MmGetMdlVirtualAddress(Mdl) != Buffer)
		Bad->VirtualAddress++;
	if (MmGetSystemAddressForMdlSafe(Mdl, NormalPagePriority) != Buffer)
		Bad->SystemAddress++;
	/* A buffer may cross pages of its slab: every PFN is checked below. */
	if (MmGetMdlByteOffset(Mdl) != BYTE_OFFSET(Buffer))
		Bad->Offset++;
	if (MmGetMdlBaseVa(Mdl) != Start - BYTE_OFFSET(Buffer))
		Bad->BaseVa++;
	if (MmGetMdlPfnArray(Mdl)[0] !=
	    (PFN_NUMBER)(Physical.QuadPart >> PAGE_SHIFT) ||
	    BYTE_OFFSET(Physical.LowPart) != BYTE_OFFSET(Buffer) ||
	    !NtcPagesHold(Mdl, Buffer))
		Bad->Pfn++;
	if (!NtcScatterlistMatches(Mdl))
		Bad->Scatterlist++;
	if (Mdl->Next)
		Bad->Next++;
	if (!(Mdl->MdlFlags & MDL_SOURCE_IS_NONPAGED_POOL))
		Bad->Flags++;
	if ((PUCHAR)Mdl < Start + Size && (PUCHAR)(Mdl + 1) > Start)
		Bad->Overlap++;
}

/* Allocate PerCpu buffers on every active processor and keep them. */
static NTSTATUS NtcAllocateEverywhere(ULONG PerCpu)
{
	KAFFINITY Active = KeQueryActiveProcessors();
	NTC_POOL_CHECKS Bad;
	NTC_HELD *Held;
	KAFFINITY Old;
	ULONG i, k, Allocated = 0, Cpus = 0;
	PVOID Buffer;
	PMDL Mdl;

	if (!NtcContext.Pool)
		return STATUS_INVALID_DEVICE_STATE;
	RtlZeroMemory(&Bad, sizeof(Bad));
	for (i = 0; i < NtcAffinityProcessors(); i++) {
		if (!(Active & ((KAFFINITY)1 << i)))
			continue;
		Cpus++;
		Old = KeSetSystemAffinityThreadEx((KAFFINITY)1 << i);
		for (k = 0; k < PerCpu; k++) {
			if (NtcContext.HeldCount == NTC_MAX_HELD)
				break;
			Mdl = MdpAllocate(NtcContext.Pool, &Buffer);
			if (!Mdl || !Buffer) {
				Bad.Null++;
				continue;
			}
			if (KeGetCurrentProcessorNumber() != i)
				Bad.Cpu++;
			NtcCheckPoolMdl(Mdl, Buffer, &Bad);
			Held = &NtcContext.Held[NtcContext.HeldCount++];
			Held->Mdl = Mdl;
			Held->Buffer = Buffer;
			Held->Cpu = i;
			Held->Fill = (UCHAR)(NtcContext.HeldCount * 7 + i + 1);
			RtlFillMemory(Buffer, NtcContext.BufferSize, Held->Fill);
			Allocated++;
		}
		KeRevertToUserAffinityThreadEx(Old);
	}
	NtcReport("cpus", Cpus);
	NtcReport("allocated", Allocated);
	NtcReport("held", NtcContext.HeldCount);
	NtcReport("bad_null", Bad.Null);
	NtcReport("bad_cpu", Bad.Cpu);
	NtcReport("bad_bytecount", Bad.ByteCount);
	NtcReport("bad_va", Bad.VirtualAddress);
	NtcReport("bad_sysva", Bad.SystemAddress);
	NtcReport("bad_offset", Bad.Offset);
	NtcReport("bad_baseva", Bad.BaseVa);
	NtcReport("bad_pfn", Bad.Pfn);
	NtcReport("bad_sg", Bad.Scatterlist);
	NtcReport("bad_next", Bad.Next);
	NtcReport("bad_flags", Bad.Flags);
	NtcReport("bad_overlap", Bad.Overlap);
	return STATUS_SUCCESS;
}

/* Free every held buffer on the next active processor after its own. */
static NTSTATUS NtcFreeRemotely(VOID)
{
	KAFFINITY Active = KeQueryActiveProcessors();
	ULONG Target, Owner, i, Freed = 0, Remote = 0, Damaged = 0, Wrong = 0;
	NTC_HELD *Held;
	KAFFINITY Old;

	for (Target = 0; Target < NtcAffinityProcessors(); Target++) {
		if (!(Active & ((KAFFINITY)1 << Target)))
			continue;
		Old = KeSetSystemAffinityThreadEx((KAFFINITY)1 << Target);
		for (i = 0; i < NtcContext.HeldCount; i++) {
			Held = &NtcContext.Held[i];
			if (!Held->Mdl)
				continue;
			/* Owner's successor among the active processors. */
			Owner = Held->Cpu;
			do {
				Owner = (Owner + 1) % NtcAffinityProcessors();
			} while (!(Active & ((KAFFINITY)1 << Owner)));
			if (Owner != Target)
				continue;
			if (!NtcBufferHas(Held->Buffer, NtcContext.BufferSize,
					  Held->Fill))
				Damaged++;
			if (MmGetMdlByteCount(Held->Mdl) != NtcContext.BufferSize ||
			    MmGetMdlVirtualAddress(Held->Mdl) != Held->Buffer)
				Wrong++;
			if (KeGetCurrentProcessorNumber() != Held->Cpu)
				Remote++;
			MdpFree(Held->Mdl);
			Held->Mdl = NULL;
			Freed++;
		}
		KeRevertToUserAffinityThreadEx(Old);
	}
	NtcReport("freed", Freed);
	NtcReport("remote", Remote);
	NtcReport("pattern_errors", Damaged);
	NtcReport("mdl_errors", Wrong);
	NtcReport("left", NtcContext.HeldCount - Freed);
	NtcContext.HeldCount = 0;
	return STATUS_SUCCESS;
}

static NTSTATUS NtcByteCount(VOID)
{
	NTSTATUS Status = STATUS_INSUFFICIENT_RESOURCES;
	PMDL First, Second, Third;
	PVOID Buffer;
	KIRQL OldIrql;
	KAFFINITY Old;
	HANDLE Pool;

	Pool = MdpCreatePool(512, NTC_POOL_TAG);
	if (!Pool)
		return Status;
	/* A freed block comes back first, but only on the CPU that owns it. */
	Old = KeSetSystemAffinityThreadEx((KAFFINITY)1 << KeGetCurrentProcessorNumber());

	OldIrql = KeRaiseIrqlToDpcLevel();
	First = MdpAllocateAtDpcLevel(Pool, &Buffer);
	if (!First) {
		KeLowerIrql(OldIrql);
		goto out;
	}
	NdisAdjustMdlLength(First, 10);
	NtcReport("shortened", MmGetMdlByteCount(First));
	NtcReport("sg_shortened", NtcScatterlistMatches(First));
	First->Next = First;
	MdpFree(First);
	Second = MdpAllocateAtDpcLevel(Pool, &Buffer);
	KeLowerIrql(OldIrql);
	if (!Second)
		goto out;
	NtcReport("same_mdl", Second == First);
	NtcReport("reset", MmGetMdlByteCount(Second));
	NtcReport("sg_reset", NtcScatterlistMatches(Second));
	NtcReport("next_reset", !Second->Next);

	MdpFree(Second);

	/*
	 * The same at PASSIVE_LEVEL through MdpAllocate().  PASSIVE_LEVEL
	 * callers have blocks of their own on each CPU, apart from the
	 * DISPATCH_LEVEL ones, so the MDL to come back is one freed here.
	 */
	Second = MdpAllocate(Pool, &Buffer);
	if (!Second)
		goto out;
	NdisAdjustMdlLength(Second, 1);
	MdpFree(Second);
	Third = MdpAllocate(Pool, &Buffer);
	if (!Third)
		goto out;
	NtcReport("passive_same_mdl", Third == Second);
	NtcReport("passive_reset", MmGetMdlByteCount(Third));
	NtcReport("size", 512);
	MdpFree(Third);
	Status = STATUS_SUCCESS;
out:
	KeRevertToUserAffinityThreadEx(Old);
	MdpDestroyPool(Pool);
	return Status;
}

static NTSTATUS NtcChain(VOID)
{
	PMDL Mdl[3], IoMdl, Current, Next;
	ULONG i, Links, Bytes, Expected, SgBad, NdisLinks;
	PVOID Buffer, Memory;
	HANDLE Pool;
	NTSTATUS Status = STATUS_INSUFFICIENT_RESOURCES;

	Pool = MdpCreatePool(300, NTC_POOL_TAG);
	if (!Pool)
		return Status;
	Memory = ExAllocatePoolWithTag(NonPagedPoolNx, 2 * PAGE_SIZE, NTC_POOL_TAG);
	if (!Memory)
		goto out_pool;
	IoMdl = IoAllocateMdl((PUCHAR)Memory + 50, PAGE_SIZE + 100, FALSE, FALSE, NULL);
	if (!IoMdl)
		goto out_memory;
	MmBuildMdlForNonPagedPool(IoMdl);
	for (i = 0; i < 3; i++) {
		Mdl[i] = MdpAllocate(Pool, &Buffer);
		if (!Mdl[i]) {
			while (i--)
				MdpFree(Mdl[i]);
			goto out_mdl;
		}
	}
	NdisAdjustMdlLength(Mdl[1], 100);

	Mdl[0]->Next = Mdl[1];
	Mdl[1]->Next = Mdl[2];
	NDIS_MDL_LINKAGE(Mdl[2]) = IoMdl;
	Expected = 300 + 100 + 300 + PAGE_SIZE + 100;

	Links = 0;
	Bytes = 0;
	SgBad = 0;
	for (Current = Mdl[0]; Current; Current = Current->Next) {
		Links++;
		Bytes += MmGetMdlByteCount(Current);
		if (!NtcScatterlistMatches(Current))
			SgBad++;
	}
	NdisLinks = 0;
	for (Current = Mdl[0]; Current; Current = Next) {
		NdisLinks++;
		NdisGetNextMdl(Current, Next);
	}
	NtcReport("links", Links);
	NtcReport("ndis_links", NdisLinks);
	NtcReport("bytes", Bytes);
	NtcReport("expected", Expected);
	NtcReport("sg_bad", SgBad);
	NtcReport("io_last", !IoMdl->Next);

	/* The pool ignores Next: links are the caller's business. */
	for (i = 0; i < 3; i++)
		MdpFree(Mdl[i]);
	Status = STATUS_SUCCESS;
out_mdl:
	IoFreeMdl(IoMdl);
out_memory:
	ExFreePoolWithTag(Memory, NTC_POOL_TAG);
out_pool:
	MdpDestroyPool(Pool);
	return Status;
}

/*
 * A chain of Count MDLs from the pool, given back with one MdpFreeChain();
 * the test reads the pool's counters.
 */
static NTSTATUS NtcFreeChain(ULONG Count)
{
	PMDL First = NULL, Mdl;
	PVOID Buffer;
	ULONG i;

	if (!NtcContext.Pool)
		return STATUS_INVALID_DEVICE_STATE;
	for (i = 0; i < Count; i++) {
		Mdl = MdpAllocate(NtcContext.Pool, &Buffer);
		if (!Mdl)
			break;
		Mdl->Next = First;
		First = Mdl;
	}
	MdpFreeChain(First);
	NtcReport("chained", i);
	return i == Count ? STATUS_SUCCESS : STATUS_INSUFFICIENT_RESOURCES;
}

/*
 * Chains handed back wrong.  The glue runs these routines in a system
 * thread of their own (NtcRunInThread()), so that a library that follows
 * a spoiled link oopses there and not in the writer of the control file.
 */
#define NTC_CHAIN_MAX		64
#define NTC_OVERRUN		16	/* magic, flags and Next of the MDL behind */
#define NTC_FREE_BATCH		16	/* MdpFreeChain()'s batch, as documented */

typedef enum _NTC_DAMAGE {
	NtcFreedTwice,		/* the whole chain, freed already */
	NtcOverrun,		/* Mdl[Bad], by an overrun of its buffer */
	NtcAltered,		/* Mdl[Bad]'s pool descriptor */
} NTC_DAMAGE;

typedef struct _NTC_CHAIN {
	HANDLE Pool;
	ULONG BufferSize;
	ULONG Count;
	ULONG Bad;
	NTC_DAMAGE Damage;
	BOOLEAN Spoiled;
	ULONG Chained;
	PUCHAR Tail;
	UCHAR Saved[NTC_OVERRUN];
	PMDL Mdl[NTC_CHAIN_MAX];
} NTC_CHAIN;

static NTC_CHAIN NtcChainState;

static NTSTATUS NtcChainPrepare(ULONG Count, ULONG Bad, NTC_DAMAGE Damage)
{
	NTC_CHAIN *Chain = &NtcChainState;

	if (!NtcContext.Pool || Chain->Spoiled)
		return STATUS_INVALID_DEVICE_STATE;
	if (!Count || Count > NTC_CHAIN_MAX || Bad >= Count)
		return STATUS_INVALID_PARAMETER;
	/* 16 bytes reach all of the MDL's Next only from an 8-byte end. */
	if (Damage == NtcOverrun && NtcContext.BufferSize % 8)
		return STATUS_INVALID_PARAMETER;
	RtlZeroMemory(Chain, sizeof(*Chain));
	Chain->Pool = NtcContext.Pool;
	Chain->BufferSize = NtcContext.BufferSize;
	Chain->Count = Count;
	Chain->Bad = Bad;
	Chain->Damage = Damage;
	return STATUS_SUCCESS;
}

/* Count MDLs linked in order through Next; how many could be had. */
static ULONG NtcBuildChain(NTC_CHAIN *Chain)
{
	PVOID Buffer;
	ULONG i;

	for (i = 0; i < Chain->Count; i++) {
		Chain->Mdl[i] = MdpAllocate(Chain->Pool, &Buffer);
		if (!Chain->Mdl[i])
			break;
		if (i)
			Chain->Mdl[i - 1]->Next = Chain->Mdl[i];
	}
	Chain->Chained = i;
	if (i < Chain->Count && i)
		MdpFreeChain(Chain->Mdl[0]);
	return i;
}

/*
 * The chain given back twice: on a pool with checks the first return
 * poisons every buffer and the MDL behind it, so the second finds no live
 * MDL at its head and must not go further.
 */
static VOID NtcFreeChainTwice(PVOID Context)
{
	NTC_CHAIN *Chain = Context;

	if (NtcBuildChain(Chain) != Chain->Count)
		return;
	MdpFreeChain(Chain->Mdl[0]);
	MdpFreeChain(Chain->Mdl[0]);
}

/*
 * Mdl[Bad] spoiled before the chain goes back: its buffer overrun by
 * NTC_OVERRUN bytes, which reach the MDL behind it, or (NtcAltered) its pool
 * descriptor changed, which the pool refuses.  What the walk leaves alone
 * stays held until NtcRepairBadChain().
 */
static VOID NtcFreeBadChain(PVOID Context)
{
	NTC_CHAIN *Chain = Context;
	PMDL Mdl;

	if (NtcBuildChain(Chain) != Chain->Count)
		return;
	Mdl = Chain->Mdl[Chain->Bad];
	if (Chain->Damage == NtcAltered) {
		NtcSpoilDescriptor(Mdl, TRUE);
	} else {
		Chain->Tail = (PUCHAR)MmGetMdlVirtualAddress(Mdl) + Chain->BufferSize;
		RtlCopyMemory(Chain->Saved, Chain->Tail, NTC_OVERRUN);
		RtlFillMemory(Chain->Tail, NTC_OVERRUN, 0xA5);
	}
	Chain->Spoiled = TRUE;
	MdpFreeChain(Chain->Mdl[0]);
}

/*
 * Undo the damage and give back what the walk left, as documented: after
 * an overrun, the spoiled MDL and the rest of the chain behind it; after a
 * refusal by the pool, the refused MDL and the MDLs from the batch after
 * its own on.
 */
static VOID NtcRepairBadChain(PVOID Context)
{
	NTC_CHAIN *Chain = Context;
	PMDL Mdl = Chain->Mdl[Chain->Bad];
	ULONG Next = (Chain->Bad / NTC_FREE_BATCH + 1) * NTC_FREE_BATCH;

	Chain->Spoiled = FALSE;
	if (Chain->Damage == NtcOverrun) {
		RtlCopyMemory(Chain->Tail, Chain->Saved, NTC_OVERRUN);
		MdpFreeChain(Mdl);
		return;
	}
	NtcSpoilDescriptor(Mdl, FALSE);
	MdpFree(Mdl);
	if (Next < Chain->Count)
		MdpFreeChain(Chain->Mdl[Next]);
}

static NTSTATUS NtcChainInThread(PNTC_ROUTINE Routine)
{
	BOOLEAN Finished = NtcRunInThread(Routine, &NtcChainState);

	NtcReport("finished", Finished);
	NtcReport("chained", NtcChainState.Chained);
	NtcReport("spoiled", NtcChainState.Spoiled);
	return Finished ? STATUS_SUCCESS : STATUS_UNSUCCESSFUL;
}

/* An MDL over three pages of the driver's own memory, at an offset. */
static NTSTATUS NtcNonPaged(BOOLEAN UseStatic)
{
	ULONG Length = 3 * PAGE_SIZE, Pages, i, PfnBad = 0;
	PUCHAR Memory, Va, BaseVa;
	PVOID Mapped, AtDispatch;
	PHYSICAL_ADDRESS Physical;
	BOOLEAN Shortened;
	KIRQL OldIrql;
	NTSTATUS Status;
	CSHORT Flags;
	PMDL Mdl;

	if (UseStatic) {
		Memory = NtcStaticBuffer;
		Va = Memory + 256;
		/* Make sure the three pages start inside a page: four spanned. */
		if (!BYTE_OFFSET(Va))
			Va += 8;
	} else {
		Memory = ExAllocatePoolWithTag(NonPagedPoolNx, 4 * PAGE_SIZE,
					       NTC_POOL_TAG);
		if (!Memory)
			return STATUS_INSUFFICIENT_RESOURCES;
		Va = Memory + 100;
	}
	NtcFillPattern(Va, Length);

	Mdl = IoAllocateMdl(Va, Length, FALSE, FALSE, NULL);
	if (!Mdl) {
		if (!UseStatic)
			ExFreePoolWithTag(Memory, NTC_POOL_TAG);
		return STATUS_INSUFFICIENT_RESOURCES;
	}
	BaseVa = Va - BYTE_OFFSET(Va);
	Pages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(Va, Length);
	NtcReport("pages", Pages);
	NtcReport("offset", BYTE_OFFSET(Va));
	NtcReport("count_ok", MmGetMdlByteCount(Mdl) == Length);
	NtcReport("offset_ok", MmGetMdlByteOffset(Mdl) == BYTE_OFFSET(Va));
	NtcReport("va_ok", MmGetMdlVirtualAddress(Mdl) == Va);
	NtcReport("baseva_ok", MmGetMdlBaseVa(Mdl) == BaseVa);
	NtcReport("unbuilt_refused",
		  !MmGetSystemAddressForMdlSafe(Mdl, NormalPagePriority));

	MmBuildMdlForNonPagedPool(Mdl);
	Flags = Mdl->MdlFlags;
	NtcReport("flags_ok", (Flags & MDL_SOURCE_IS_NONPAGED_POOL) &&
		  !(Flags & MDL_PAGES_LOCKED));
	for (i = 0; i < Pages; i++) {
		Physical = MmGetPhysicalAddress(BaseVa + i * PAGE_SIZE);
		if (MmGetMdlPfnArray(Mdl)[i] !=
		    (PFN_NUMBER)(Physical.QuadPart >> PAGE_SHIFT))
			PfnBad++;
	}
	NtcReport("pfn_ok", PfnBad == 0 && NtcPagesHold(Mdl, Va));
	NtcReport("sysva_ok",
		  MmGetSystemAddressForMdlSafe(Mdl, NormalPagePriority) == Va);
	Mapped = MmMapLockedPagesSpecifyCache(Mdl, KernelMode, MmCached, NULL,
					      FALSE, NormalPagePriority);
	NtcReport("map_ok", Mapped == Va);
	OldIrql = KeRaiseIrqlToDpcLevel();
	AtDispatch = MmGetSystemAddressForMdlSafe(Mdl, NormalPagePriority);
	KeLowerIrql(OldIrql);
	NtcReport("dispatch_ok", AtDispatch == Va);
	if (Mapped)
		MmUnmapLockedPages(Mapped, Mdl);
	NtcReport("sg_ok", NtcScatterlistMatches(Mdl));
	NdisAdjustMdlLength(Mdl, PAGE_SIZE);
	Shortened = NtcScatterlistMatches(Mdl) &&
		    MmGetMdlByteCount(Mdl) == PAGE_SIZE;
	NtcReport("short_sg_ok", Shortened);
	NtcReport("lock_built_refused",
		  MmProbeAndLockPages(Mdl, KernelMode, IoReadAccess) ==
		  STATUS_INVALID_PARAMETER);
	IoFreeMdl(Mdl);

	/* The same memory through MmProbeAndLockPages(). */
	Mdl = IoAllocateMdl(Va, Length, FALSE, FALSE, NULL);
	if (!Mdl) {
		Status = STATUS_INSUFFICIENT_RESOURCES;
		goto out;
	}
	Status = MmProbeAndLockPages(Mdl, UserMode, IoReadAccess);
	NtcReportStatus("user_probe_status", Status);
	Status = MmProbeAndLockPages(Mdl, KernelMode, IoModifyAccess);
	NtcReportStatus("kernel_lock_status", Status);
	if (NT_SUCCESS(Status)) {
		NtcReport("kernel_lock_ok",
			  (Mdl->MdlFlags & MDL_PAGES_LOCKED) &&
			  MmGetSystemAddressForMdlSafe(Mdl, NormalPagePriority) == Va &&
			  NtcPagesHold(Mdl, Va) && NtcScatterlistMatches(Mdl));
		MmUnlockPages(Mdl);
		NtcReport("kernel_unlocked", !(Mdl->MdlFlags & MDL_PAGES_LOCKED));
	}
	IoFreeMdl(Mdl);
	Status = STATUS_SUCCESS;
out:
	if (!UseStatic)
		ExFreePoolWithTag(Memory, NTC_POOL_TAG);
	return Status;
}

/*
 * Does a partial MDL describe the Length bytes Expected at Va: the right
 * pages (read through the PFNs), the scatterlist, and a mapping at
 * DISPATCH_LEVEL that holds them, at ExpectedVa unless that is NULL.
 */
static BOOLEAN NtcPartialMatches(PMDL Partial, PVOID Va, ULONG Length,
				 const UCHAR *Expected, PVOID ExpectedVa)
{
	PVOID Mapped;
	KIRQL OldIrql;
	BOOLEAN Same;

	OldIrql = KeRaiseIrqlToDpcLevel();
	Mapped = MmGetSystemAddressForMdlSafe(Partial, NormalPagePriority);
	Same = Mapped && (!ExpectedVa || Mapped == ExpectedVa) &&
	       RtlCompareMemory(Mapped, Expected, Length) == Length;
	KeLowerIrql(OldIrql);
	return Same && MmGetMdlVirtualAddress(Partial) == Va &&
	       MmGetMdlByteCount(Partial) == Length &&
	       (Partial->MdlFlags & MDL_PARTIAL) &&
	       NtcPagesHold(Partial, Expected) && NtcScatterlistMatches(Partial);
}

/*
 * IoBuildPartialMdl() as drivers use it: a header split off a built
 * buffer, the rest of it (Length 0), a pool buffer's payload, ranges that
 * are not inside the source, and a target reused.
 */
static NTSTATUS NtcPartial(VOID)
{
	ULONG Length = 3 * PAGE_SIZE + 100, i;
	PUCHAR Memory, Buffer;
	PMDL Source, Target, Small;
	HANDLE Pool;
	NTSTATUS Status = STATUS_INSUFFICIENT_RESOURCES;

	Memory = ExAllocatePoolWithTag(NonPagedPoolNx, Length, NTC_POOL_TAG);
	if (!Memory)
		return Status;
	for (i = 0; i < Length; i++)
		Memory[i] = (UCHAR)(i * 7 + i / 251);
	Source = IoAllocateMdl(Memory, Length, FALSE, FALSE, NULL);
	Target = IoAllocateMdl(Memory, Length, FALSE, FALSE, NULL);
	Small = IoAllocateMdl(Memory + 10, 20, FALSE, FALSE, NULL);
	if (!Source || !Target || !Small)
		goto out;
	MmBuildMdlForNonPagedPool(Source);

	/* Bytes 1000 to 7999: over a page boundary, from inside a page. */
	IoBuildPartialMdl(Source, Target, Memory + 1000, 7000);
	NtcReport("middle_ok", NtcPartialMatches(Target, Memory + 1000, 7000,
						 Memory + 1000, Memory + 1000));
	NtcReport("nonpaged_inherited",
		  (Target->MdlFlags & MDL_SOURCE_IS_NONPAGED_POOL) != 0);
	MmPrepareMdlForReuse(Target);
	NtcReport("reuse_undescribed",
		  !(Target->MdlFlags & MDL_PARTIAL) &&
		  !MmGetSystemAddressForMdlSafe(Target, NormalPagePriority));

	/* Length 0: from PAGE_SIZE + 1 to the end of the source. */
	IoBuildPartialMdl(Source, Target, Memory + PAGE_SIZE + 1, 0);
	NtcReport("rest_ok",
		  NtcPartialMatches(Target, Memory + PAGE_SIZE + 1,
				    Length - PAGE_SIZE - 1,
				    Memory + PAGE_SIZE + 1,
				    Memory + PAGE_SIZE + 1));
	MmPrepareMdlForReuse(Target);

	/* Where NT bugchecks: refused, and the target describes nothing. */
	IoBuildPartialMdl(Source, Target, Memory + Length - 10, 11);
	IoBuildPartialMdl(Source, Target, Memory - 1, 10);
	IoBuildPartialMdl(Source, Target, Memory + Length, 0);
	IoBuildPartialMdl(Source, Small, Memory + 10, 2 * PAGE_SIZE);
	NtcReport("outside_refused",
		  !(Target->MdlFlags & MDL_PARTIAL) &&
		  !(Small->MdlFlags & MDL_PARTIAL) &&
		  !MmGetSystemAddressForMdlSafe(Target, NormalPagePriority) &&
		  !nt_mdl_sg(Target));

	/* A pool buffer's payload after a 14-byte header. */
	Pool = MdpCreatePool(3000, NTC_POOL_TAG);
	if (Pool) {
		PMDL Mdl = MdpAllocate(Pool, (PVOID *)&Buffer);

		if (Mdl) {
			for (i = 0; i < 3000; i++)
				Buffer[i] = (UCHAR)(255 - i % 253);
			IoBuildPartialMdl(Mdl, Target, Buffer + 14, 0);
			NtcReport("pool_ok",
				  NtcPartialMatches(Target, Buffer + 14, 2986,
						    Buffer + 14, Buffer + 14));
			MmPrepareMdlForReuse(Target);
			MdpFree(Mdl);
		}
		MdpDestroyPool(Pool);
	}
	Status = STATUS_SUCCESS;
out:
	if (Small)
		IoFreeMdl(Small);
	if (Target)
		IoFreeMdl(Target);
	if (Source)
		IoFreeMdl(Source);
	ExFreePoolWithTag(Memory, NTC_POOL_TAG);
	return Status;
}

/* The mapping of an MDL maps its PFN array, page by page. */
static BOOLEAN NtcMappingMatchesPfns(PMDL Mdl, PUCHAR Va)
{
	ULONG Pages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(MmGetMdlVirtualAddress(Mdl),
						     MmGetMdlByteCount(Mdl));
	PPFN_NUMBER Pfns = MmGetMdlPfnArray(Mdl);
	ULONG i;

	for (i = 0; i < Pages; i++) {
		if ((PFN_NUMBER)(MmGetPhysicalAddress(Va + i * PAGE_SIZE).QuadPart >>
				 PAGE_SHIFT) != Pfns[i])
			return FALSE;
	}
	return TRUE;
}

/*
 * MmAllocatePagesForMdl(Ex) as drivers use them for DMA memory: zeroed
 * pages mapped first at DISPATCH_LEVEL; contiguous pages below 4 GiB; the
 * refusals; MmFreePagesFromMdl() and ExFreePool() of the MDL.
 */
static NTSTATUS NtcPagesForMdl(VOID)
{
	PHYSICAL_ADDRESS Low = { .QuadPart = 0 }, High = { .QuadPart = -1 };
	PHYSICAL_ADDRESS Below4G = { .QuadPart = 0xffffffffLL };
	PHYSICAL_ADDRESS Tiny = { .QuadPart = 0xfffffLL };
	SIZE_T Total = 5 * PAGE_SIZE + 100;
	PPFN_NUMBER Pfns;
	PUCHAR Va;
	KIRQL OldIrql;
	ULONG i, Contiguous = 1, Below = 1;
	PMDL Mdl, Other;

	NtcReport("page_size", PAGE_SIZE);
	Mdl = MmAllocatePagesForMdl(Low, High, Low, Total);
	if (!Mdl)
		return STATUS_INSUFFICIENT_RESOURCES;
	NtcReport("bytes", MmGetMdlByteCount(Mdl));
	NtcReport("locked", (Mdl->MdlFlags & MDL_PAGES_LOCKED) != 0);
	OldIrql = KeRaiseIrqlToDpcLevel();
	Va = MmGetSystemAddressForMdlSafe(Mdl, NormalPagePriority | MdlMappingNoExecute);
	KeLowerIrql(OldIrql);
	NtcReport("dispatch_mapped", !!Va);
	if (Va) {
		NtcReport("zeroed", NtcBufferHas(Va, (ULONG)Total, 0));
		RtlFillMemory(Va, Total, 0x5a);
		NtcReport("pfns_ok", NtcMappingMatchesPfns(Mdl, Va) &&
			  NtcScatterlistMatches(Mdl));
		NtcReport("pages_hold", NtcBufferHas(Va, (ULONG)Total, 0x5a));
		MmUnmapLockedPages(Va, Mdl);
	}
	MmUnlockPages(Mdl);
	NtcReport("unlock_refused", (Mdl->MdlFlags & MDL_PAGES_LOCKED) != 0);
	MmFreePagesFromMdl(Mdl);
	NtcReport("freed", MmGetMdlByteCount(Mdl) == 0 &&
		  !(Mdl->MdlFlags & MDL_PAGES_LOCKED) &&
		  !MmGetSystemAddressForMdlSafe(Mdl, NormalPagePriority));
	ExFreePool(Mdl);

	Mdl = MmAllocatePagesForMdlEx(Low, Below4G, Low, 16 * PAGE_SIZE, MmCached,
				      MM_ALLOCATE_FULLY_REQUIRED |
				      MM_ALLOCATE_REQUIRE_CONTIGUOUS_CHUNKS |
				      MM_DONT_ZERO_ALLOCATION);
	NtcReport("contiguous_bytes", Mdl ? MmGetMdlByteCount(Mdl) : 0);
	if (Mdl) {
		Pfns = MmGetMdlPfnArray(Mdl);
		for (i = 0; i < 16; i++) {
			if (Pfns[i] != Pfns[0] + i)
				Contiguous = 0;
			if (((ULONGLONG)Pfns[i] + 1) << PAGE_SHIFT > 0x100000000ULL)
				Below = 0;
		}
		NtcReport("contiguous", Contiguous);
		NtcReport("below_4g", Below);
		MmFreePagesFromMdl(Mdl);
		IoFreeMdl(Mdl);
	}

	/* Refused: another cache type, NO_WAIT, a range no zone keeps, DISPATCH_LEVEL. */
	Other = MmAllocatePagesForMdlEx(Low, High, Low, PAGE_SIZE, MmNonCached, 0);
	NtcReport("noncached_refused", !Other);
	if (Other)
		ExFreePool(Other);
	Other = MmAllocatePagesForMdlEx(Low, High, Low, PAGE_SIZE, MmCached,
					MM_ALLOCATE_NO_WAIT);
	NtcReport("no_wait_refused", !Other);
	if (Other)
		ExFreePool(Other);
	Other = MmAllocatePagesForMdl(Low, Tiny, Low, PAGE_SIZE);
	NtcReport("below_1m_refused", !Other);
	if (Other)
		ExFreePool(Other);
	OldIrql = KeRaiseIrqlToDpcLevel();
	Other = MmAllocatePagesForMdl(Low, High, Low, PAGE_SIZE);
	KeLowerIrql(OldIrql);
	NtcReport("dispatch_refused", !Other);
	if (Other)
		ExFreePool(Other);

	/* IoFreeMdl() of an MDL still holding its pages frees them too. */
	Mdl = MmAllocatePagesForMdl(Low, High, Low, 3 * PAGE_SIZE);
	NtcReport("io_free_with_pages", !!Mdl);
	if (Mdl)
		IoFreeMdl(Mdl);
	return STATUS_SUCCESS;
}

/*
 * An MDL describes its ByteCount as it is when the pages are described,
 * not IoAllocateMdl()'s Length.  Va has two pages and nothing mapped
 * after them; the MDL is made for three.  Locking (or building) all three
 * fails; a driver that ignores that status gets NULL mappings and no
 * crash; once cut to two pages less 8 bytes, the MDL locks (or builds).
 */
static NTSTATUS NtcCutLength(PVOID Va, BOOLEAN User)
{
	ULONG Cut = 2 * PAGE_SIZE - 8;
	PUCHAR Mapped, Expected;
	PMDL Mdl, Partial;
	NTSTATUS Status;

	Mdl = IoAllocateMdl(Va, 3 * PAGE_SIZE, FALSE, FALSE, NULL);
	Partial = IoAllocateMdl(Va, PAGE_SIZE, FALSE, FALSE, NULL);
	Expected = ExAllocatePoolWithTag(NonPagedPoolNx, Cut, NTC_POOL_TAG);
	if (!Mdl || !Partial || !Expected) {
		if (Mdl)
			IoFreeMdl(Mdl);
		if (Partial)
			IoFreeMdl(Partial);
		if (Expected)
			ExFreePoolWithTag(Expected, NTC_POOL_TAG);
		return STATUS_INSUFFICIENT_RESOURCES;
	}
	if (User) {
		Status = MmProbeAndLockPages(Mdl, UserMode, IoWriteAccess);
		NtcReportStatus("full_status", Status);
		/* What NT code does after the lock when nothing was raised. */
		Mapped = MmGetSystemAddressForMdlSafe(Mdl, NormalPagePriority);
		IoBuildPartialMdl(Mdl, Partial, Va, PAGE_SIZE);
		MmUnlockPages(Mdl);
		NtcReport("ignored_refused", !Mapped && !(Partial->MdlFlags & MDL_PARTIAL) &&
			  !(Mdl->MdlFlags & MDL_PAGES_LOCKED));
	} else {
		MmBuildMdlForNonPagedPool(Mdl);
		NtcReport("full_built", (Mdl->MdlFlags & MDL_SOURCE_IS_NONPAGED_POOL) != 0);
	}

	NdisAdjustMdlLength(Mdl, Cut);
	if (User) {
		Status = MmProbeAndLockPages(Mdl, UserMode, IoWriteAccess);
	} else {
		MmBuildMdlForNonPagedPool(Mdl);
		Status = (Mdl->MdlFlags & MDL_SOURCE_IS_NONPAGED_POOL) ?
			 STATUS_SUCCESS : STATUS_ACCESS_VIOLATION;
	}
	NtcReportStatus("cut_status", Status);
	if (NT_SUCCESS(Status)) {
		RtlFillMemory(Expected, Cut, 0x3c);
		Mapped = MmGetSystemAddressForMdlSafe(Mdl, NormalPagePriority);
		if (Mapped)
			RtlFillMemory(Mapped, Cut, 0x3c);
		/* Read back through the PFNs: the mapping wrote those pages. */
		NtcReport("cut_ok", Mapped && nt_mdl_sg_nents(Mdl) == 2 &&
			  NtcScatterlistMatches(Mdl) &&
			  NtcPagesHold(Mdl, Expected));
		/* Described bytes are the most it can grow back to. */
		NdisAdjustMdlLength(Mdl, Cut / 2);
		NdisAdjustMdlLength(Mdl, Cut);
		NtcReport("regrown", MmGetMdlByteCount(Mdl) == Cut &&
			  NtcScatterlistMatches(Mdl));
		if (User) {
			if (Mapped)
				MmUnmapLockedPages(Mapped, Mdl);
			MmUnlockPages(Mdl);
		}
	}
	ExFreePoolWithTag(Expected, NTC_POOL_TAG);
	IoFreeMdl(Partial);
	IoFreeMdl(Mdl);
	return STATUS_SUCCESS;
}

/*
 * The MDL's fields as NT code reads and writes them: a built MDL's fields
 * read; ByteCount cut, grown back and grown too far; MdlFlags flipped to
 * map a built MDL as if locked, a hint kept, MDL_IO_SPACE refused;
 * ByteOffset and MappedSystemVa written; a pool MDL's ByteCount cut.
 */
static NTSTATUS NtcFields(VOID)
{
	ULONG Length = 2 * PAGE_SIZE + 300, Cut = PAGE_SIZE / 2;
	PUCHAR Memory, Start, Mapped, Buffer;
	CSHORT Flags;
	HANDLE Pool;
	PMDL Mdl;

	Memory = ExAllocatePoolWithTag(NonPagedPoolNx, Length + 100, NTC_POOL_TAG);
	if (!Memory)
		return STATUS_INSUFFICIENT_RESOURCES;
	Start = Memory + 100;
	Mdl = IoAllocateMdl(Start, Length, FALSE, FALSE, NULL);
	if (!Mdl) {
		ExFreePoolWithTag(Memory, NTC_POOL_TAG);
		return STATUS_INSUFFICIENT_RESOURCES;
	}
	MmBuildMdlForNonPagedPool(Mdl);
	NtcReport("read_fields",
		  Mdl->StartVa == NT_PAGE_ALIGN(Start) &&
		  Mdl->ByteOffset == BYTE_OFFSET(Start) &&
		  Mdl->ByteCount == Length && Mdl->MappedSystemVa == Start &&
		  !Mdl->Process && (PPFN_NUMBER)(Mdl + 1) == MmGetMdlPfnArray(Mdl) &&
		  Mdl->Size == sizeof(MDL) + sizeof(PFN_NUMBER) *
		  ADDRESS_AND_SIZE_TO_SPAN_PAGES(Start, Length));

	/*
	 * Cut to one page, the count asked for before the list: a call such
	 * as dma_map_sg(dev, nt_mdl_sg(m), nt_mdl_sg_nents(m), ...) may
	 * evaluate either first.
	 */
	Mdl->ByteCount = PAGE_SIZE - Mdl->ByteOffset;
	NtcReport("nents_followed", nt_mdl_sg_nents(Mdl) == 1 &&
		  sg_nents(nt_mdl_sg(Mdl)) == 1);
	Mdl->ByteCount = Cut;
	NtcReport("cut_followed", MmGetMdlByteCount(Mdl) == Cut &&
		  NtcScatterlistMatches(Mdl) &&
		  MmGetSystemAddressForMdlSafe(Mdl, NormalPagePriority) == Start);
	Mdl->ByteCount = Length;
	NtcReport("regrown_followed", NtcScatterlistMatches(Mdl));
	Mdl->ByteCount = Length + PAGE_SIZE;
	Mapped = MmGetSystemAddressForMdlSafe(Mdl, NormalPagePriority);
	NtcReport("grow_refused", Mdl->ByteCount == Length && Mapped == Start &&
		  NtcScatterlistMatches(Mdl));

	/* What drivers do to have a built MDL mapped as if it were locked. */
	Flags = Mdl->MdlFlags;
	Mdl->MdlFlags |= MDL_PAGES_LOCKED | MDL_MAPPING_CAN_FAIL;
	Mdl->MdlFlags &= ~MDL_SOURCE_IS_NONPAGED_POOL;
	Mapped = MmMapLockedPagesSpecifyCache(Mdl, KernelMode, MmCached, NULL,
					      FALSE, HighPagePriority);
	NtcReport("flags_flipped", Mapped == Start &&
		  (Mdl->MdlFlags & MDL_MAPPING_CAN_FAIL) &&
		  (Mdl->MdlFlags & MDL_PAGES_LOCKED));
	if (Mapped)
		MmUnmapLockedPages(Mapped, Mdl);
	Mdl->MdlFlags = Flags;

	Mdl->MdlFlags |= MDL_IO_SPACE;
	Mapped = MmGetSystemAddressForMdlSafe(Mdl, NormalPagePriority);
	NtcReport("io_space_refused", Mapped == Start &&
		  !(Mdl->MdlFlags & MDL_IO_SPACE) && Mdl->MdlFlags == Flags);

	Mdl->ByteOffset = (Mdl->ByteOffset + 8) % PAGE_SIZE;
	Mapped = MmGetSystemAddressForMdlSafe(Mdl, NormalPagePriority);
	NtcReport("move_refused", Mapped == Start &&
		  MmGetMdlVirtualAddress(Mdl) == Start);

	Mdl->MappedSystemVa = Memory;
	Mapped = MmGetSystemAddressForMdlSafe(Mdl, NormalPagePriority);
	NtcReport("mapped_va_put_back", Mapped == Start &&
		  Mdl->MappedSystemVa == Start);
	IoFreeMdl(Mdl);
	ExFreePoolWithTag(Memory, NTC_POOL_TAG);

	/* A receive path cuts a pool buffer's MDL to the frame's length. */
	Pool = MdpCreatePool(1500, NTC_POOL_TAG);
	if (!Pool)
		return STATUS_INSUFFICIENT_RESOURCES;
	Mdl = MdpAllocate(Pool, (PVOID *)&Buffer);
	if (Mdl) {
		Mdl->ByteCount = 60;
		NtcReport("pool_cut_followed", nt_mdl_sg(Mdl)->length == 60 &&
			  nt_mdl_sg_nents(Mdl) == 1);
		MdpFree(Mdl);
	}
	MdpDestroyPool(Pool);
	return STATUS_SUCCESS;
}

/*
 * An MDL over pages the driver names by PFN, as NT code builds one for
 * pages it holds: IoAllocateMdl(NULL), the PFN array filled, and
 * MDL_PAGES_LOCKED set.  Mapped at PASSIVE_LEVEL it maps those pages in
 * the array's order; clearing the bit lets it go.  Refused: the first
 * mapping at DISPATCH_LEVEL and a PFN that is not RAM.  The last one is
 * freed as NT code frees it, with the bit still set.
 */
static NTSTATUS NtcPfnArray(VOID)
{
	PUCHAR Memory, Aligned, Mapped;
	PPFN_NUMBER Pfns;
	KIRQL OldIrql;
	ULONG i;
	PMDL Mdl;

	Memory = ExAllocatePoolWithTag(NonPagedPoolNx, 3 * PAGE_SIZE, NTC_POOL_TAG);
	Mdl = IoAllocateMdl(NULL, 2 * PAGE_SIZE, FALSE, FALSE, NULL);
	if (!Memory || !Mdl) {
		if (Mdl)
			IoFreeMdl(Mdl);
		if (Memory)
			ExFreePoolWithTag(Memory, NTC_POOL_TAG);
		return STATUS_INSUFFICIENT_RESOURCES;
	}
	Aligned = NT_PAGE_ALIGN(Memory + PAGE_SIZE - 1);
	for (i = 0; i < 2 * PAGE_SIZE; i++)
		Aligned[i] = (UCHAR)(i / PAGE_SIZE + 1);
	/* The second page first: the mapping follows the array. */
	Pfns = (PPFN_NUMBER)(Mdl + 1);
	Pfns[0] = (PFN_NUMBER)(MmGetPhysicalAddress(Aligned + PAGE_SIZE).QuadPart >> PAGE_SHIFT);
	Pfns[1] = (PFN_NUMBER)(MmGetPhysicalAddress(Aligned).QuadPart >> PAGE_SHIFT);

	OldIrql = KeRaiseIrqlToDpcLevel();
	Mdl->MdlFlags |= MDL_PAGES_LOCKED;
	Mapped = MmGetSystemAddressForMdlSafe(Mdl, NormalPagePriority);
	KeLowerIrql(OldIrql);
	NtcReport("dispatch_refused", !Mapped && !(Mdl->MdlFlags & MDL_PAGES_LOCKED));

	Mdl->MdlFlags |= MDL_PAGES_LOCKED;
	Mapped = MmGetSystemAddressForMdlSafe(Mdl, NormalPagePriority);
	NtcReport("adopted", Mapped && Mapped[0] == 2 && Mapped[PAGE_SIZE - 1] == 2 &&
		  Mapped[PAGE_SIZE] == 1 && Mapped[2 * PAGE_SIZE - 1] == 1 &&
		  NtcScatterlistMatches(Mdl));
	if (Mapped)
		Mapped[0] = 0x77;
	NtcReport("written", Aligned[PAGE_SIZE] == 0x77);
	/* Let go while still mapped, as such code does. */
	Mdl->MdlFlags &= ~MDL_PAGES_LOCKED;
	NtcReport("dropped", !MmGetSystemAddressForMdlSafe(Mdl, NormalPagePriority) &&
		  !nt_mdl_sg(Mdl) && !Mdl->MappedSystemVa &&
		  !(Mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA));

	Pfns[1] = (PFN_NUMBER)0xfffffffffULL;	/* 64 TiB up: no RAM here */
	Mdl->MdlFlags |= MDL_PAGES_LOCKED;
	NtcReport("bad_pfn_refused",
		  !MmGetSystemAddressForMdlSafe(Mdl, NormalPagePriority) &&
		  !(Mdl->MdlFlags & MDL_PAGES_LOCKED));

	Pfns[1] = (PFN_NUMBER)(MmGetPhysicalAddress(Aligned).QuadPart >> PAGE_SHIFT);
	Mdl->MdlFlags |= MDL_PAGES_LOCKED;
	NtcReport("adopted_again",
		  !!MmGetSystemAddressForMdlSafe(Mdl, NormalPagePriority));
	IoFreeMdl(Mdl);
	ExFreePoolWithTag(Memory, NTC_POOL_TAG);
	return STATUS_SUCCESS;
}

/*
 * Mode and CacheType come from the command, so the compiler cannot see
 * them: these are the run-time refusals.  As constants they do not compile.
 */
static NTSTATUS NtcRefusals(KPROCESSOR_MODE Mode, MEMORY_CACHING_TYPE CacheType)
{
	PVOID Memory, Paged;
	KIRQL OldIrql;
	PMDL Mdl, Other;

	Memory = ExAllocatePoolWithTag(NonPagedPoolNx, PAGE_SIZE, NTC_POOL_TAG);
	if (!Memory)
		return STATUS_INSUFFICIENT_RESOURCES;
	Mdl = IoAllocateMdl(Memory, 64, FALSE, FALSE, NULL);
	if (!Mdl) {
		ExFreePoolWithTag(Memory, NTC_POOL_TAG);
		return STATUS_INSUFFICIENT_RESOURCES;
	}
	MmBuildMdlForNonPagedPool(Mdl);

	NtcReport("user_map_refused",
		  !MmMapLockedPagesSpecifyCache(Mdl, Mode, MmCached, NULL, FALSE,
						NormalPagePriority));
	NtcReport("cache_refused",
		  !MmMapLockedPagesSpecifyCache(Mdl, KernelMode, CacheType, NULL,
						FALSE, NormalPagePriority));
	NtcReport("address_refused",
		  !MmMapLockedPagesSpecifyCache(Mdl, KernelMode, MmCached, Memory,
						FALSE, NormalPagePriority));
	NtcReport("kernel_map_ok",
		  MmMapLockedPagesSpecifyCache(Mdl, KernelMode, MmCached, NULL,
					       FALSE, NormalPagePriority) == Memory);

	Other = IoAllocateMdl(Memory, 0, FALSE, FALSE, NULL);
	NtcReport("zero_length_refused", !Other);
	if (Other)
		IoFreeMdl(Other);
	Other = IoAllocateMdl(Memory, 64, FALSE, FALSE, (PIRP)Memory);
	NtcReport("irp_refused", !Other);
	if (Other)
		IoFreeMdl(Other);
	/* 200 bytes from 100 below the top of the address space wrap. */
	Other = IoAllocateMdl((PVOID)((ULONG_PTR)0 - 100), 200, FALSE, FALSE,
			      NULL);
	NtcReport("wrap_refused", !Other);
	if (Other)
		IoFreeMdl(Other);
	/* The last byte of the address space is a range that does not wrap. */
	Other = IoAllocateMdl((PVOID)((ULONG_PTR)0 - 100), 100, FALSE, FALSE,
			      NULL);
	NtcReport("top_accepted", Other && MmGetMdlByteCount(Other) == 100);
	if (Other)
		IoFreeMdl(Other);

	OldIrql = KeRaiseIrqlToDpcLevel();
	Paged = ExAllocatePoolWithTag(PagedPool, 64, NTC_POOL_TAG);
	KeLowerIrql(OldIrql);
	NtcReport("paged_at_dispatch_refused", !Paged);
	if (Paged)
		ExFreePool(Paged);

	IoFreeMdl(Mdl);
	ExFreePoolWithTag(Memory, NTC_POOL_TAG);
	return STATUS_SUCCESS;
}

/*
 * A user buffer handed to the driver (the data of a write()): lock it,
 * read it through a kernel mapping and compare with Expected, which the
 * glue copied from user space on its own.
 */
static NTSTATUS NtcCheckUserBuffer(PVOID UserVa, ULONG Length, const UCHAR *Expected)
{
	PVOID SystemVa, AtDispatch;
	ULONG Pages, Offset, i, PfnBad = 0;
	SIZE_T Match = 0;
	PMDL Partial;
	PHYSICAL_ADDRESS Physical;
	KIRQL OldIrql;
	NTSTATUS Status;
	PMDL Mdl;

	Mdl = IoAllocateMdl(UserVa, Length, FALSE, FALSE, NULL);
	if (!Mdl)
		return STATUS_INSUFFICIENT_RESOURCES;
	Offset = MmGetMdlByteOffset(Mdl);
	Pages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(MmGetMdlVirtualAddress(Mdl),
					       MmGetMdlByteCount(Mdl));
	NtcReport("length", MmGetMdlByteCount(Mdl));
	NtcReport("offset", Offset);
	NtcReport("pages", Pages);

	/* A fault may sleep: user memory is locked at PASSIVE_LEVEL only. */
	OldIrql = KeRaiseIrqlToDpcLevel();
	Status = MmProbeAndLockPages(Mdl, UserMode, IoReadAccess);
	KeLowerIrql(OldIrql);
	NtcReportStatus("dispatch_lock_status", Status);
	if (NT_SUCCESS(Status))
		MmUnlockPages(Mdl);

	Status = MmProbeAndLockPages(Mdl, UserMode, IoReadAccess);
	NtcReportStatus("lock_status", Status);
	if (!NT_SUCCESS(Status)) {
		IoFreeMdl(Mdl);
		return Status;
	}
	NtcReport("locked", (Mdl->MdlFlags & MDL_PAGES_LOCKED) &&
		  !(Mdl->MdlFlags & MDL_WRITE_OPERATION));
	NtcReport("va_is_user", MmGetMdlVirtualAddress(Mdl) == UserVa);
	NtcReport("pfn_hold", NtcPagesHold(Mdl, Expected));
	NtcReport("sg_ok", NtcScatterlistMatches(Mdl));

	/* A partial MDL of a locked buffer, mapped before the buffer is. */
	Partial = IoAllocateMdl((PUCHAR)UserVa + PAGE_SIZE + 10, 2 * PAGE_SIZE,
				FALSE, FALSE, NULL);
	if (Partial) {
		IoBuildPartialMdl(Mdl, Partial, (PUCHAR)UserVa + PAGE_SIZE + 10,
				  2 * PAGE_SIZE);
		NtcReport("partial_ok",
			  NtcPartialMatches(Partial, (PUCHAR)UserVa + PAGE_SIZE + 10,
					    2 * PAGE_SIZE, Expected + PAGE_SIZE + 10,
					    NULL) &&
			  (Partial->MdlFlags & MDL_PARTIAL_HAS_BEEN_MAPPED));
	}

	/* Drivers map late, in completion routines: first at DISPATCH_LEVEL. */
	OldIrql = KeRaiseIrqlToDpcLevel();
	AtDispatch = MmGetSystemAddressForMdlSafe(Mdl, NormalPagePriority);
	if (AtDispatch)
		Match = RtlCompareMemory(AtDispatch, Expected, Length);
	KeLowerIrql(OldIrql);
	NtcReport("dispatch_mapped", AtDispatch &&
		  (Mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA));
	NtcReport("dispatch_match", Match);

	SystemVa = MmGetSystemAddressForMdlSafe(Mdl, NormalPagePriority);
	NtcReport("mapped", SystemVa && (Mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA));
	NtcReport("same_mapping", SystemVa == AtDispatch);
	if (Partial) {
		NtcReport("partial_same_mapping",
			  SystemVa && MmGetSystemAddressForMdlSafe(Partial, NormalPagePriority) ==
			  (PUCHAR)SystemVa + PAGE_SIZE + 10);
		IoFreeMdl(Partial);
	}
	if (SystemVa) {
		NtcReport("match", RtlCompareMemory(SystemVa, Expected, Length));
		/* The mapping maps the locked pages, in order. */
		for (i = 0; i < Pages; i++) {
			Physical = MmGetPhysicalAddress((PUCHAR)SystemVa - Offset +
							i * PAGE_SIZE);
			if (MmGetMdlPfnArray(Mdl)[i] !=
			    (PFN_NUMBER)(Physical.QuadPart >> PAGE_SHIFT))
				PfnBad++;
		}
		NtcReport("map_pfn_ok", PfnBad == 0);

		MmUnmapLockedPages(SystemVa, Mdl);
		NtcReport("unmapped", !(Mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA));

		/* Mapped again after an unmap, at DISPATCH_LEVEL again. */
		OldIrql = KeRaiseIrqlToDpcLevel();
		AtDispatch = MmGetSystemAddressForMdlSafe(Mdl, NormalPagePriority);
		Match = AtDispatch ? RtlCompareMemory(AtDispatch, Expected, Length) : 0;
		if (AtDispatch)
			MmUnmapLockedPages(AtDispatch, Mdl);
		KeLowerIrql(OldIrql);
		NtcReport("dispatch_remapped", Match);
	}
	MmUnlockPages(Mdl);
	NtcReport("unlocked", !(Mdl->MdlFlags & MDL_PAGES_LOCKED));
	IoFreeMdl(Mdl);
	return STATUS_SUCCESS;
}

/*
 * A user buffer to fill (the buffer of a read()): lock it for writing,
 * write text lines through a kernel mapping, and release it at
 * DISPATCH_LEVEL as a completion routine would.
 */
static NTSTATUS NtcFillUserBuffer(PVOID UserVa, ULONG Length)
{
	PVOID SystemVa;
	KIRQL OldIrql;
	NTSTATUS Status;
	PMDL Mdl;

	Mdl = IoAllocateMdl(UserVa, Length, FALSE, FALSE, NULL);
	if (!Mdl)
		return STATUS_INSUFFICIENT_RESOURCES;
	Status = MmProbeAndLockPages(Mdl, UserMode, IoWriteAccess);
	NtcReportStatus("lock_status", Status);
	if (!NT_SUCCESS(Status)) {
		IoFreeMdl(Mdl);
		return Status;
	}
	NtcReport("pages", ADDRESS_AND_SIZE_TO_SPAN_PAGES(UserVa, Length));
	NtcReport("write_op", (Mdl->MdlFlags & MDL_WRITE_OPERATION) != 0);

	/* Filled and completed in a DPC, as a driver's completion path does. */
	OldIrql = KeRaiseIrqlToDpcLevel();
	SystemVa = MmMapLockedPagesSpecifyCache(Mdl, KernelMode, MmCached, NULL,
						FALSE, NormalPagePriority);
	NtcReport("mapped", !!SystemVa);
	if (SystemVa) {
		NtcWriteLines(SystemVa, Length);
		MmUnmapLockedPages(SystemVa, Mdl);
	}
	MmUnlockPages(Mdl);
	NtcReport("unlocked", !(Mdl->MdlFlags & (MDL_PAGES_LOCKED |
						 MDL_MAPPED_TO_SYSTEM_VA)));
	IoFreeMdl(Mdl);
	KeLowerIrql(OldIrql);
	return SystemVa ? STATUS_SUCCESS : STATUS_INSUFFICIENT_RESOURCES;
}

/* Lock Length bytes at an address given as text: it may be anything. */
static NTSTATUS NtcLockAddress(PVOID Va, ULONG Length, LOCK_OPERATION Operation,
			       KPROCESSOR_MODE Mode)
{
	PVOID SystemVa;
	NTSTATUS Status;
	PMDL Mdl;

	Mdl = IoAllocateMdl(Va, Length, FALSE, FALSE, NULL);
	if (!Mdl)
		return STATUS_INVALID_PARAMETER;
	NtcReport("pages", ADDRESS_AND_SIZE_TO_SPAN_PAGES(Va, Length));
	Status = MmProbeAndLockPages(Mdl, Mode, Operation);
	NtcReportStatus("lock_status", Status);
	if (NT_SUCCESS(Status)) {
		SystemVa = MmGetSystemAddressForMdlSafe(Mdl, NormalPagePriority);
		NtcReport("mapped", !!SystemVa);
		if (SystemVa)
			MmUnmapLockedPages(SystemVa, Mdl);
		MmUnlockPages(Mdl);
	}
	IoFreeMdl(Mdl);
	return Status;
}

/*
 * Every processor number the driver can see is below KeNumberProcessors:
 * per-processor arrays are sized by one and indexed by the other.
 */
static NTSTATUS NtcProcessorNumbers(VOID)
{
	KAFFINITY Active = KeQueryActiveProcessors();
	ULONG i, Checked = 0, Bad = 0;
	KAFFINITY Old;
	KIRQL OldIrql;

	for (i = 0; i < NtcAffinityProcessors(); i++) {
		if (!(Active & ((KAFFINITY)1 << i)))
			continue;
		Old = KeSetSystemAffinityThreadEx((KAFFINITY)1 << i);
		OldIrql = KeRaiseIrqlToDpcLevel();
		if (KeGetCurrentProcessorNumber() != i ||
		    KeGetCurrentProcessorNumber() >= KeNumberProcessors)
			Bad++;
		KeLowerIrql(OldIrql);
		KeRevertToUserAffinityThreadEx(Old);
		Checked++;
	}
	NtcReport("processors", KeNumberProcessors);
	NtcReport("checked", Checked);
	NtcReport("active", NtcCountBits(Active));
	NtcReport("bad", Bad);
	return STATUS_SUCCESS;
}

/*
 * Pages the caller may only read (the zero page of a mapping never
 * written, the page cache of a read-only file mapping) locked for
 * IoReadAccess: the kernel mapping must not let the driver write them.
 */
static NTSTATUS NtcReadOnlyLock(PVOID UserVa, ULONG Length)
{
	BOOLEAN Unchanged = FALSE;
	PVOID SystemVa;
	NTSTATUS Status;
	PMDL Mdl;

	Mdl = IoAllocateMdl(UserVa, Length, FALSE, FALSE, NULL);
	if (!Mdl)
		return STATUS_INSUFFICIENT_RESOURCES;
	NtcReport("pages", ADDRESS_AND_SIZE_TO_SPAN_PAGES(UserVa, Length));
	Status = MmProbeAndLockPages(Mdl, UserMode, IoReadAccess);
	NtcReportStatus("lock_status", Status);
	if (!NT_SUCCESS(Status)) {
		IoFreeMdl(Mdl);
		return Status;
	}
	SystemVa = MmGetSystemAddressForMdlSafe(Mdl, NormalPagePriority);
	NtcReport("mapped", !!SystemVa);
	if (SystemVa) {
		NtcReport("write_refused",
			  NtcWritesRefused(SystemVa, UserVa, Length, &Unchanged));
		NtcReport("user_unchanged", Unchanged);
		MmUnmapLockedPages(SystemVa, Mdl);
	}
	MmUnlockPages(Mdl);
	IoFreeMdl(Mdl);
	return STATUS_SUCCESS;
}

/*
 * A free the pool refuses (the MDL's descriptor was altered) must leave
 * the block alone: when frees race, the block may already be someone
 * else's.  Another processor watches the MDL's bytes meanwhile.
 */
static NTSTATUS NtcRefusedFree(VOID)
{
	ULONG Tries = 0, Changes, Samples = 0;
	PVOID Buffer;
	KAFFINITY Old;
	HANDLE Pool;
	PMDL Mdl;

	Pool = MdpCreatePool(200, NTC_POOL_TAG);
	if (!Pool)
		return STATUS_INSUFFICIENT_RESOURCES;
	Old = KeSetSystemAffinityThreadEx((KAFFINITY)1 << KeGetCurrentProcessorNumber());
	Mdl = MdpAllocate(Pool, &Buffer);
	if (!Mdl) {
		KeRevertToUserAffinityThreadEx(Old);
		MdpDestroyPool(Pool);
		return STATUS_INSUFFICIENT_RESOURCES;
	}
	NtcSpoilDescriptor(Mdl, TRUE);
	if (NtcWatchStart(Mdl, sizeof(*Mdl))) {
		while (NtcWatching()) {
			MdpFree(Mdl);
			Tries++;
		}
	}
	Changes = NtcWatchStop(&Samples);
	NtcSpoilDescriptor(Mdl, FALSE);
	NtcReport("tries", Tries);
	NtcReport("samples", Samples);
	NtcReport("writes_seen", Changes);
	NtcReport("intact", MmGetMdlVirtualAddress(Mdl) == Buffer &&
		  MmGetMdlByteCount(Mdl) == 200);
	MdpFree(Mdl);
	KeRevertToUserAffinityThreadEx(Old);
	MdpDestroyPool(Pool);
	return STATUS_SUCCESS;
}

/*
 * Device memory (an I/O mapping) has no struct page: an MDL cannot
 * describe it, so building one must fail and leave the MDL undescribed.
 */
static NTSTATUS NtcIoSpace(PVOID IoVa)
{
	NTSTATUS Status;
	PMDL Mdl;

	Mdl = IoAllocateMdl(IoVa, PAGE_SIZE, FALSE, FALSE, NULL);
	if (!Mdl)
		return STATUS_INSUFFICIENT_RESOURCES;
	MmBuildMdlForNonPagedPool(Mdl);
	NtcReport("built", (Mdl->MdlFlags & MDL_SOURCE_IS_NONPAGED_POOL) != 0);
	NtcReport("no_sysva", !MmGetSystemAddressForMdlSafe(Mdl, NormalPagePriority));
	IoFreeMdl(Mdl);

	Mdl = IoAllocateMdl(IoVa, PAGE_SIZE, FALSE, FALSE, NULL);
	if (!Mdl)
		return STATUS_INSUFFICIENT_RESOURCES;
	Status = MmProbeAndLockPages(Mdl, KernelMode, IoReadAccess);
	NtcReportStatus("lock_status", Status);
	if (NT_SUCCESS(Status))
		MmUnlockPages(Mdl);
	IoFreeMdl(Mdl);
	return STATUS_SUCCESS;
}

/* Big enough to be vmalloc() memory: over kmalloc()'s 4 MiB. */
#define NTC_BIG_POOL_BYTES	(8UL * 1024 * 1024)
/* 1 GiB: 40 bytes or more of MDL per page make over 10 MiB. */
#define NTC_BIG_MDL_BYTES	(1024UL * 1024 * 1024)

typedef struct _NTC_BIG_FREE {
	PVOID Memory;
	PMDL Mdl;
	KIRQL Irql;
} NTC_BIG_FREE;

/* Called with a Linux spinlock held: NT code at DISPATCH_LEVEL. */
static VOID NtcFreeAtDispatch(PVOID Context)
{
	NTC_BIG_FREE *Free = Context;

	Free->Irql = KeGetCurrentIrql();
	IoFreeMdl(Free->Mdl);
	ExFreePoolWithTag(Free->Memory, NTC_POOL_TAG);
}

/*
 * 8 MiB of pool and an MDL for 1 GiB from it on (never built: only the
 * MDL's size matters), allocated at PASSIVE_LEVEL and freed at
 * DISPATCH_LEVEL, where the glue holds a spinlock.
 */
static NTSTATUS NtcBigFrees(VOID)
{
	NTC_BIG_FREE Free;

	Free.Memory = ExAllocatePoolWithTag(NonPagedPoolNx, NTC_BIG_POOL_BYTES,
					    NTC_POOL_TAG);
	if (!Free.Memory)
		return STATUS_INSUFFICIENT_RESOURCES;
	Free.Mdl = IoAllocateMdl(Free.Memory, NTC_BIG_MDL_BYTES, FALSE, FALSE,
				 NULL);
	if (!Free.Mdl) {
		ExFreePoolWithTag(Free.Memory, NTC_POOL_TAG);
		return STATUS_INSUFFICIENT_RESOURCES;
	}
	NtcReport("mdl_vmalloc", NtcIsVmalloc(Free.Mdl));
	NtcReport("pool_vmalloc", NtcIsVmalloc(Free.Memory));
	NtcCallUnderSpinLock(NtcFreeAtDispatch, &Free);
	NtcReport("irql", Free.Irql);
	return STATUS_SUCCESS;
}

#define NTC_RACERS_MAX		4

typedef struct _NTC_MAP_RACE {
	PMDL Mdl;
	PVOID Address[NTC_RACERS_MAX];
} NTC_MAP_RACE;

/* Each racer thread runs this at the same moment as the others. */
static VOID NtcMapRacer(PVOID Context, ULONG Racer)
{
	NTC_MAP_RACE *Race = Context;

	Race->Address[Racer] = MmGetSystemAddressForMdlSafe(Race->Mdl,
							    NormalPagePriority);
}

/*
 * A user buffer of several pages, locked once and mapped by several
 * threads at once, round after round, each round from no mapping: every
 * thread must get the same address, and every mapping must be undone.
 */
static NTSTATUS NtcMapRace(PVOID UserVa, ULONG Length, ULONG Rounds)
{
	ULONG Round, Racers, i, Done = 0, Split = 0, Failed = 0;
	NTC_MAP_RACE Race;
	NTSTATUS Status;
	BOOLEAN Same;
	PVOID Va;

	Race.Mdl = IoAllocateMdl(UserVa, Length, FALSE, FALSE, NULL);
	if (!Race.Mdl)
		return STATUS_INSUFFICIENT_RESOURCES;
	NtcReport("pages", ADDRESS_AND_SIZE_TO_SPAN_PAGES(UserVa, Length));
	Status = MmProbeAndLockPages(Race.Mdl, UserMode, IoWriteAccess);
	NtcReportStatus("lock_status", Status);
	if (!NT_SUCCESS(Status)) {
		IoFreeMdl(Race.Mdl);
		return Status;
	}
	for (Round = 0; Round < Rounds; Round++) {
		RtlZeroMemory(Race.Address, sizeof(Race.Address));
		Racers = NtcRaceRound(NtcMapRacer, &Race);
		if (!Racers)
			break;
		Done++;
		Same = TRUE;
		for (i = 0; i < Racers; i++) {
			if (!Race.Address[i])
				Failed++;
			if (Race.Address[i] != Race.Address[0])
				Same = FALSE;
		}
		if (!Same)
			Split++;
		/* Whatever mapping the MDL has now goes, for a fresh race. */
		Va = MmGetSystemAddressForMdlSafe(Race.Mdl, NormalPagePriority);
		if (Va)
			MmUnmapLockedPages(Va, Race.Mdl);
	}
	MmUnlockPages(Race.Mdl);
	IoFreeMdl(Race.Mdl);
	NtcReport("rounds", Done);
	NtcReport("split", Split);
	NtcReport("failed", Failed);
	return STATUS_SUCCESS;
}

typedef struct _NTC_THREAD_LOCK {
	PVOID UserVa;
	ULONG Length;
	NTSTATUS Low;
	NTSTATUS LowKernelMode;
	NTSTATUS User;
} NTC_THREAD_LOCK;

/* Lock Length bytes and let go again: only the status matters. */
static NTSTATUS NtcTryLock(PVOID Va, ULONG Length, KPROCESSOR_MODE Mode)
{
	NTSTATUS Status;
	PMDL Mdl;

	Mdl = IoAllocateMdl(Va, Length, FALSE, FALSE, NULL);
	if (!Mdl)
		return STATUS_INSUFFICIENT_RESOURCES;
	Status = MmProbeAndLockPages(Mdl, Mode, IoReadAccess);
	if (NT_SUCCESS(Status))
		MmUnlockPages(Mdl);
	IoFreeMdl(Mdl);
	return Status;
}

/*
 * Runs in a system thread (a kernel thread, a work item), which has no
 * user address space: no user address can be locked there, not even one
 * the process that asked for the work has mapped.
 */
static VOID NtcSystemThreadLock(PVOID Context)
{
	NTC_THREAD_LOCK *Lock = Context;

	Lock->Low = NtcTryLock((PVOID)0x1000, 16, UserMode);
	Lock->LowKernelMode = NtcTryLock((PVOID)0x1000, 16, KernelMode);
	Lock->User = NtcTryLock(Lock->UserVa, Lock->Length, UserMode);
}

typedef struct _NTC_LOCKED_IRQL {
	HANDLE Pool;
	KIRQL Before;
	KIRQL RaiseOld;
	KIRQL Raised;
	KIRQL NestedOld;
	KIRQL Lowered;
	KIRQL RaiseIrqlOld;
	ULONG DepthBefore;
	ULONG DepthRaised;
	ULONG DepthNested;
	ULONG DepthLowered;
	ULONG DepthAgain;
	BOOLEAN Allocated;
} NTC_LOCKED_IRQL;

/*
 * Called with a Linux spinlock held, where KeGetCurrentIrql() says
 * DISPATCH_LEVEL: a raise there must return that level, and its lower
 * must undo exactly what the raise did, bottom halves included.
 */
static VOID NtcIrqlUnderLock(PVOID Context)
{
	NTC_LOCKED_IRQL *Locked = Context;
	PVOID Buffer;
	KIRQL Old;
	PMDL Mdl;

	Locked->Before = KeGetCurrentIrql();
	Locked->DepthBefore = NtcBottomHalfDepth();
	Locked->RaiseOld = KeRaiseIrqlToDpcLevel();
	Locked->Raised = KeGetCurrentIrql();
	Locked->DepthRaised = NtcBottomHalfDepth();
	KeRaiseIrql(DISPATCH_LEVEL, &Locked->NestedOld);
	KeLowerIrql(Locked->NestedOld);
	Locked->DepthNested = NtcBottomHalfDepth();
	Mdl = MdpAllocateAtDpcLevel(Locked->Pool, &Buffer);
	Locked->Allocated = Mdl && Buffer;
	if (Mdl)
		MdpFree(Mdl);
	KeLowerIrql(Locked->RaiseOld);
	Locked->Lowered = KeGetCurrentIrql();
	Locked->DepthLowered = NtcBottomHalfDepth();
	KeRaiseIrql(DISPATCH_LEVEL, &Old);
	Locked->RaiseIrqlOld = Old;
	KeLowerIrql(Old);
	Locked->DepthAgain = NtcBottomHalfDepth();
}

static NTSTATUS NtcLockedIrql(VOID)
{
	NTC_LOCKED_IRQL Locked;

	RtlZeroMemory(&Locked, sizeof(Locked));
	Locked.Pool = MdpCreatePool(128, NTC_POOL_TAG);
	if (!Locked.Pool)
		return STATUS_INSUFFICIENT_RESOURCES;
	NtcCallUnderSpinLock(NtcIrqlUnderLock, &Locked);
	NtcReport("before", Locked.Before);
	NtcReport("raise_old", Locked.RaiseOld);
	NtcReport("raised", Locked.Raised);
	NtcReport("nested_old", Locked.NestedOld);
	NtcReport("lowered", Locked.Lowered);
	NtcReport("raiseirql_old", Locked.RaiseIrqlOld);
	NtcReport("bh_on_before", Locked.DepthBefore == 0);
	NtcReport("bh_off_raised", Locked.DepthRaised > Locked.DepthBefore);
	NtcReport("bh_kept_nested", Locked.DepthNested == Locked.DepthRaised);
	NtcReport("bh_restored", Locked.DepthLowered == Locked.DepthBefore &&
		  Locked.DepthAgain == Locked.DepthBefore);
	NtcReport("at_dpc_allocated", Locked.Allocated);
	NtcReport("after", KeGetCurrentIrql());
	MdpDestroyPool(Locked.Pool);
	return STATUS_SUCCESS;
}

/* ======================================================================
 * Linux glue.
 */

#define NTC_RESULT_MAX		2048
#define NTC_CMD_MAX		128
#define NTC_USERBUF_MAX		(1024 * 1024)

static DEFINE_MUTEX(ntc_mutex);		/* one command at a time */
static unsigned int ntc_userbuf_skip;	/* leading bytes of a user buffer not described */
static char ntc_result[NTC_RESULT_MAX];
static size_t ntc_result_len;
static struct dentry *ntc_dir;

static NTC_DPC_CONTEXT ntc_dpc_context;
static DECLARE_COMPLETION(ntc_dpc_done);
static struct tasklet_struct ntc_tasklet;

static __printf(1, 2) void ntc_result_add(const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	ntc_result_len += vscnprintf(ntc_result + ntc_result_len,
				     sizeof(ntc_result) - ntc_result_len,
				     fmt, args);
	va_end(args);
}

/* init_on_alloc zeroes every allocation: zeroing cannot be told apart. */
static BOOLEAN NtcAllocationsZeroed(VOID)
{
	return want_init_on_alloc(GFP_KERNEL);
}

static VOID NtcReport(const char *Key, ULONG_PTR Value)
{
	ntc_result_add(" %s=%lu", Key, Value);
}

static VOID NtcReportStatus(const char *Key, NTSTATUS Status)
{
	ntc_result_add(" %s=0x%08x", Key, (u32)Status);
}

/*
 * What a Linux consumer of the MDL sees: a scatterlist that ends after
 * nt_mdl_sg_nents() entries, whose pages are the PFN array's, which starts
 * at the byte offset and adds up to the byte count.
 */
static BOOLEAN NtcScatterlistMatches(PMDL Mdl)
{
	struct scatterlist *first = nt_mdl_sg(Mdl), *sg;
	unsigned int nents = nt_mdl_sg_nents(Mdl), i;
	PPFN_NUMBER pfn = MmGetMdlPfnArray(Mdl);
	unsigned long total = 0;

	if (!first || sg_nents(first) != nents)
		return FALSE;
	for_each_sg(first, sg, nents, i) {
		if (page_to_pfn(sg_page(sg)) != pfn[i])
			return FALSE;
		if (sg->offset != (i ? 0 : MmGetMdlByteOffset(Mdl)))
			return FALSE;
		if (sg_is_last(sg) != (i == nents - 1))
			return FALSE;
		total += sg->length;
	}
	return total == MmGetMdlByteCount(Mdl);
}

/*
 * Read the bytes an MDL describes through its PFNs alone, page by page
 * with kmap_local_page(), and compare them with Expected: this proves the
 * PFN array names the pages that really hold the data.
 */
static BOOLEAN NtcPagesHold(PMDL Mdl, const VOID *Expected)
{
	unsigned long left = MmGetMdlByteCount(Mdl), done = 0;
	unsigned int off = MmGetMdlByteOffset(Mdl), i = 0;
	PPFN_NUMBER pfn = MmGetMdlPfnArray(Mdl);
	bool same = true;

	while (left && same) {
		unsigned int len = min_t(unsigned long, left, PAGE_SIZE - off);
		void *kaddr = kmap_local_page(pfn_to_page(pfn[i]));

		same = !memcmp(kaddr + off, Expected + done, len);
		kunmap_local(kaddr);
		done += len;
		left -= len;
		off = 0;
		i++;
	}
	return same;
}

/*
 * copy_to_kernel_nofault() of one byte; that function is not exported to
 * modules, the primitive it is built on is.
 */
static int ntc_put_byte_nofault(u8 *dst, u8 val)
{
	pagefault_disable();
	__put_kernel_nofault(dst, &val, u8, fault);
	pagefault_enable();
	return 0;
fault:
	pagefault_enable();
	return -EFAULT;
}

/*
 * Try to write the first byte of each page through a kernel mapping of
 * user pages.  The byte the page already holds goes first, so that a
 * mapping that wrongly allows writes changes nothing; only when that is
 * refused is a different byte tried.  Returns the pages whose writes were
 * all refused; *UserUnchanged says user space still reads what it had.
 */
static ULONG NtcWritesRefused(PVOID SystemVa, PVOID UserVa, ULONG Length,
			      BOOLEAN *UserUnchanged)
{
	unsigned long off = 0;
	ULONG refused = 0;
	u8 old, now, other;

	*UserUnchanged = TRUE;
	while (off < Length) {
		u8 *kva = (u8 *)SystemVa + off;
		u8 __user *uva = (u8 __user *)UserVa + off;

		if (get_user(old, uva)) {
			*UserUnchanged = FALSE;
			break;
		}
		other = old ^ 0xff;
		if (ntc_put_byte_nofault(kva, old) == -EFAULT &&
		    ntc_put_byte_nofault(kva, other) == -EFAULT)
			refused++;
		if (get_user(now, uva) || now != old)
			*UserUnchanged = FALSE;
		/* The next page, from the first byte of it. */
		off += PAGE_SIZE - offset_in_page((unsigned long)UserVa + off);
	}
	return refused;
}

/* Alter or restore the pool's descriptor behind a pool MDL. */
static VOID NtcSpoilDescriptor(PMDL Mdl, BOOLEAN Spoil)
{
	struct scatterlist *sg = nt_mdl_sg(Mdl);

	if (Spoil)
		sg->offset += 8;
	else
		sg->offset -= 8;
}

/* A thread on another CPU that counts changes to a watched range. */
static struct {
	struct task_struct *task;
	const void *addr;
	size_t len;
	u8 snapshot[128];
	unsigned long until, deadline;
	atomic_t running;
	unsigned int samples, changes;
	bool stop;
} ntc_watch;

static int ntc_watch_fn(void *data)
{
	atomic_set(&ntc_watch.running, 1);
	while (!READ_ONCE(ntc_watch.stop)) {
		if (memcmp(ntc_watch.addr, ntc_watch.snapshot, ntc_watch.len))
			WRITE_ONCE(ntc_watch.changes, ntc_watch.changes + 1);
		WRITE_ONCE(ntc_watch.samples, ntc_watch.samples + 1);
		if (!(ntc_watch.samples % 1024))
			cond_resched();
	}
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

static BOOLEAN NtcWatchStart(const VOID *Address, ULONG Length)
{
	unsigned int self = raw_smp_processor_id(), cpu;

	cpu = cpumask_any_but(cpu_online_mask, self);
	if (cpu >= nr_cpu_ids || Length > sizeof(ntc_watch.snapshot))
		return FALSE;
	ntc_watch.addr = Address;
	ntc_watch.len = Length;
	memcpy(ntc_watch.snapshot, Address, Length);
	ntc_watch.samples = 0;
	ntc_watch.changes = 0;
	ntc_watch.stop = false;
	atomic_set(&ntc_watch.running, 0);
	ntc_watch.task = kthread_create(ntc_watch_fn, NULL, "ntc_watch");
	if (IS_ERR(ntc_watch.task)) {
		ntc_watch.task = NULL;
		return FALSE;
	}
	kthread_bind(ntc_watch.task, cpu);
	wake_up_process(ntc_watch.task);
	while (!atomic_read(&ntc_watch.running))
		cond_resched();
	ntc_watch.until = jiffies + msecs_to_jiffies(300);
	ntc_watch.deadline = jiffies + msecs_to_jiffies(3000);
	return TRUE;
}

/*
 * Go on for 300 ms and until the watcher has looked 10000 times (a busy
 * host may not run both CPUs at once), at most 3 s, or until it saw a
 * change.
 */
static BOOLEAN NtcWatching(VOID)
{
	if (READ_ONCE(ntc_watch.changes))
		return FALSE;
	if (time_after(jiffies, ntc_watch.deadline))
		return FALSE;
	cond_resched();
	return time_before(jiffies, ntc_watch.until) ||
	       READ_ONCE(ntc_watch.samples) < 10000;
}

static ULONG NtcWatchStop(ULONG *Samples)
{
	if (!ntc_watch.task)
		return 0;
	WRITE_ONCE(ntc_watch.stop, true);
	kthread_stop(ntc_watch.task);
	ntc_watch.task = NULL;
	if (memcmp(ntc_watch.addr, ntc_watch.snapshot, ntc_watch.len))
		ntc_watch.changes++;
	*Samples = ntc_watch.samples;
	return ntc_watch.changes;
}

/*
 * readonly anon PAGES: a new private read-only anonymous mapping of this
 * process, never written (its pages are the zero page); readonly ADDR
 * PAGES: a read-only mapping the shell names (a file's page cache).
 */
static NTSTATUS ntc_readonly(char *args)
{
	char *where = strsep(&args, " ");
	unsigned long va, len;
	unsigned int pages;
	NTSTATUS status;
	bool anon;

	if (!where || !args || kstrtouint(args, 0, &pages) || !pages ||
	    pages > 16)
		return STATUS_INVALID_PARAMETER;
	len = (unsigned long)pages * PAGE_SIZE;
	anon = !strcmp(where, "anon");
	if (anon) {
		va = vm_mmap(NULL, 0, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, 0);
		if (IS_ERR_VALUE(va))
			return STATUS_INSUFFICIENT_RESOURCES;
	} else if (kstrtoul(where, 0, &va)) {
		return STATUS_INVALID_PARAMETER;
	}
	status = NtcReadOnlyLock((PVOID)va, len);
	if (anon)
		vm_munmap(va, len);
	return status;
}

/* An I/O mapping of the HPET's registers (QEMU's pc machine: 0xfed00000). */
static NTSTATUS ntc_mmio(void)
{
	void __iomem *io = ioremap(0xfed00000, PAGE_SIZE);
	NTSTATUS status;

	if (!io)
		return STATUS_INSUFFICIENT_RESOURCES;
	status = NtcIoSpace((__force PVOID)io);
	iounmap(io);
	return status;
}

/*
 * cutlength user|kernel: two pages with nothing mapped after them, in the
 * writer's address space or in vmalloc space (its guard page).
 */
static NTSTATUS ntc_cutlength(bool user)
{
	unsigned long va;
	void *kva;
	NTSTATUS status;

	if (!user) {
		kva = vzalloc(2 * PAGE_SIZE);
		if (!kva)
			return STATUS_INSUFFICIENT_RESOURCES;
		status = NtcCutLength(kva, FALSE);
		vfree(kva);
		return status;
	}
	va = vm_mmap(NULL, 0, 3 * PAGE_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, 0);
	if (IS_ERR_VALUE(va))
		return STATUS_INSUFFICIENT_RESOURCES;
	vm_munmap(va + 2 * PAGE_SIZE, PAGE_SIZE);
	status = NtcCutLength((PVOID)va, TRUE);
	vm_munmap(va, 2 * PAGE_SIZE);
	return status;
}

/* Linux code that calls NT code with one of its spinlocks held. */
static DEFINE_SPINLOCK(ntc_spin);

static VOID NtcCallUnderSpinLock(PNTC_ROUTINE Routine, PVOID Context)
{
	spin_lock(&ntc_spin);
	Routine(Context);
	spin_unlock(&ntc_spin);
}

static BOOLEAN NtcIsVmalloc(const VOID *Address)
{
	return is_vmalloc_addr(Address);
}

/* Linux's own count of bottom-half disables (and softirq) in effect. */
static ULONG NtcBottomHalfDepth(VOID)
{
	return softirq_count();
}

#define NTC_THREAD_WAIT		msecs_to_jiffies(30000)

struct ntc_thread {
	PNTC_ROUTINE routine;
	PVOID context;
	struct completion done;
};

static int ntc_thread_fn(void *data)
{
	struct ntc_thread *t = data;

	t->routine(t->context);
	complete(&t->done);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

/*
 * Runs an NT routine in a kernel thread of its own, a system thread with
 * no user address space, and waits for it.  Should the library oops
 * there, the thread dies holding nothing of ours: the control file's
 * mutex stays free, and after NTC_THREAD_WAIT the command reports that the
 * routine never finished, instead of every later command hanging.
 * kthread_stop() returns for a thread that died too (its exit completes
 * what kthread_stop() waits for), and the reference taken before the
 * thread first runs keeps its task_struct until then.
 */
static BOOLEAN NtcRunInThread(PNTC_ROUTINE Routine, PVOID Context)
{
	struct ntc_thread t = { .routine = Routine, .context = Context };
	struct task_struct *task;
	bool finished;

	init_completion(&t.done);
	task = kthread_create(ntc_thread_fn, &t, "ntc_thread");
	if (IS_ERR(task))
		return FALSE;
	get_task_struct(task);
	wake_up_process(task);
	finished = wait_for_completion_timeout(&t.done, NTC_THREAD_WAIT);
	kthread_stop(task);
	put_task_struct(task);
	return finished;
}

/*
 * Racer threads, one per CPU up to NTC_RACERS_MAX and at least two, that
 * spin until a round starts and then all run the NT racer routine at
 * once.  A round counts as overlapped when two racers were in the routine
 * at the same time: only those test anything.
 */
static struct {
	struct task_struct *task[NTC_RACERS_MAX];
	unsigned int racers;
	unsigned int round;
	atomic_t left;
	struct completion done;
	PNTC_RACER routine;
	PVOID context;
	ktime_t start[NTC_RACERS_MAX];
	ktime_t end[NTC_RACERS_MAX];
	unsigned int overlapped;
	unsigned long deadline;
} ntc_race;

static int ntc_racer_fn(void *data)
{
	unsigned int me = (unsigned long)data, seen = 0, round;

	while (!kthread_should_stop()) {
		/* Pairs with the release in NtcRaceRound(): routine, context. */
		round = smp_load_acquire(&ntc_race.round);
		if (round == seen) {
			cpu_relax();
			cond_resched();
			continue;
		}
		seen = round;
		ntc_race.start[me] = ktime_get();
		ntc_race.routine(ntc_race.context, me);
		ntc_race.end[me] = ktime_get();
		if (atomic_dec_and_test(&ntc_race.left))
			complete(&ntc_race.done);
	}
	return 0;
}

/* One round: the racers run Racer at once; 0 once time is up. */
static ULONG NtcRaceRound(PNTC_RACER Racer, PVOID Context)
{
	unsigned int i, j;
	bool overlap = false;

	if (time_after(jiffies, ntc_race.deadline))
		return 0;
	ntc_race.routine = Racer;
	ntc_race.context = Context;
	atomic_set(&ntc_race.left, ntc_race.racers);
	reinit_completion(&ntc_race.done);
	/* The racers see the routine and the count before the new round. */
	smp_store_release(&ntc_race.round, ntc_race.round + 1);
	wait_for_completion(&ntc_race.done);
	for (i = 0; i < ntc_race.racers; i++) {
		for (j = i + 1; j < ntc_race.racers; j++) {
			if (ktime_before(ntc_race.start[i], ntc_race.end[j]) &&
			    ktime_before(ntc_race.start[j], ntc_race.end[i]))
				overlap = true;
		}
	}
	ntc_race.overlapped += overlap;
	return ntc_race.racers;
}

static void ntc_race_stop(void)
{
	unsigned int i;

	for (i = 0; i < ntc_race.racers; i++)
		kthread_stop(ntc_race.task[i]);
	ntc_race.racers = 0;
}

/*
 * maprace ROUNDS: 4 pages of a new anonymous mapping of the writer, from
 * byte 100 on (so a vmap() it is), mapped by the racers at once for
 * ROUNDS rounds or 10 s.
 */
static NTSTATUS ntc_maprace(unsigned int rounds)
{
	unsigned int n = clamp(num_online_cpus(), 2U, (unsigned int)NTC_RACERS_MAX);
	unsigned long va, len = 4 * PAGE_SIZE;
	unsigned int i, cpu = cpumask_first(cpu_online_mask);
	struct task_struct *task;
	unsigned long start;
	NTSTATUS status = STATUS_INSUFFICIENT_RESOURCES;

	va = vm_mmap(NULL, 0, len, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, 0);
	if (IS_ERR_VALUE(va))
		return status;
	/* Racers start from round 0; those of the last command are gone. */
	ntc_race.round = 0;
	ntc_race.overlapped = 0;
	init_completion(&ntc_race.done);
	for (i = 0; i < n; i++) {
		task = kthread_create(ntc_racer_fn, (void *)(unsigned long)i,
				      "ntc_racer/%u", i);
		if (IS_ERR(task))
			goto out;
		kthread_bind(task, cpu);
		ntc_race.task[ntc_race.racers++] = task;
		wake_up_process(task);
		cpu = cpumask_next(cpu, cpu_online_mask);
		if (cpu >= nr_cpu_ids)
			cpu = cpumask_first(cpu_online_mask);
	}
	start = jiffies;
	ntc_race.deadline = start + msecs_to_jiffies(10000);
	status = NtcMapRace((PVOID)(va + 100), len - 100, rounds);
	ntc_result_add(" racers=%u overlapped=%u ms=%u", ntc_race.racers,
		       ntc_race.overlapped, jiffies_to_msecs(jiffies - start));
out:
	ntc_race_stop();
	vm_munmap(va, len);
	return status;
}

struct ntc_work {
	struct work_struct work;
	NTC_THREAD_LOCK *lock;
};

static void ntc_lock_work_fn(struct work_struct *work)
{
	NtcSystemThreadLock(container_of(work, struct ntc_work, work)->lock);
}

/*
 * systemlock: two pages mapped in the writer, which can lock them; a
 * kernel thread, and then a work item, try to lock them and address 0x1000.
 * The work item runs only once the thread came back: a worker that dies
 * in it could not be flushed.
 */
static NTSTATUS ntc_systemlock(void)
{
	NTC_THREAD_LOCK lock = { .Length = 2 * PAGE_SIZE };
	struct ntc_work w = { .lock = &lock };
	unsigned long va;
	bool finished;

	va = vm_mmap(NULL, 0, lock.Length, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, 0);
	if (IS_ERR_VALUE(va))
		return STATUS_INSUFFICIENT_RESOURCES;
	lock.UserVa = (PVOID)va;
	finished = NtcRunInThread(NtcSystemThreadLock, &lock);
	ntc_result_add(" thread_finished=%u", finished);
	if (finished) {
		NtcReportStatus("thread_low", lock.Low);
		NtcReportStatus("thread_low_kernelmode", lock.LowKernelMode);
		NtcReportStatus("thread_user", lock.User);
		memset(&lock.Low, 0xff, sizeof(lock.Low));
		lock.LowKernelMode = lock.Low;
		lock.User = lock.Low;
		INIT_WORK_ONSTACK(&w.work, ntc_lock_work_fn);
		queue_work(system_wq, &w.work);
		flush_work(&w.work);
		destroy_work_on_stack(&w.work);
		NtcReportStatus("work_low", lock.Low);
		NtcReportStatus("work_low_kernelmode", lock.LowKernelMode);
		NtcReportStatus("work_user", lock.User);
	}
	NtcReportStatus("caller_user", NtcTryLock(lock.UserVa, lock.Length,
						  UserMode));
	vm_munmap(va, lock.Length);
	return finished ? STATUS_SUCCESS : STATUS_UNSUCCESSFUL;
}

/* badchain N K overrun|altered, or badchain repair */
static NTSTATUS ntc_badchain(char *args)
{
	char *count = strsep(&args, " "), *bad = strsep(&args, " ");
	char *how = strsep(&args, " ");
	unsigned int n, k;
	NTSTATUS status;

	if (count && !strcmp(count, "repair") && !bad) {
		if (!NtcChainState.Spoiled)
			return STATUS_INVALID_DEVICE_STATE;
		return NtcChainInThread(NtcRepairBadChain);
	}
	if (!count || !bad || !how || args || kstrtouint(count, 0, &n) ||
	    kstrtouint(bad, 0, &k) ||
	    (strcmp(how, "overrun") && strcmp(how, "altered")))
		return STATUS_INVALID_PARAMETER;
	status = NtcChainPrepare(n, k, strcmp(how, "altered") ? NtcOverrun :
							       NtcAltered);
	if (!NT_SUCCESS(status))
		return status;
	return NtcChainInThread(NtcFreeBadChain);
}

static void ntc_tasklet_fn(struct tasklet_struct *t)
{
	NtcDpcRoutine(&ntc_dpc_context);
	complete(&ntc_dpc_done);
}

static void ntc_ipi_fn(void *context)
{
	NtcIsrRoutine(context);
}

static NTSTATUS ntc_dpc(void)
{
	NTSTATUS status = NtcDpcPrepare(&ntc_dpc_context);

	if (!NT_SUCCESS(status))
		return status;
	reinit_completion(&ntc_dpc_done);
	tasklet_schedule(&ntc_tasklet);
	wait_for_completion(&ntc_dpc_done);
	return NtcDpcFinish(&ntc_dpc_context);
}

static NTSTATUS ntc_isr(void)
{
	NTC_ISR_CONTEXT context = {};
	unsigned int target = cpumask_last(cpu_online_mask);
	int err;

	err = smp_call_function_single(target, ntc_ipi_fn, &context, 1);
	if (err)
		return STATUS_UNSUCCESSFUL;
	ntc_result_add(" target=%u irql=%u cpu=%u", target, context.Irql,
		       context.Cpu);
	return STATUS_SUCCESS;
}

static NTSTATUS ntc_lockaddr(char *args)
{
	char *addr = strsep(&args, " "), *len = strsep(&args, " ");
	char *op = strsep(&args, " "), *mode = strsep(&args, " ");
	unsigned long va;
	unsigned int length;
	LOCK_OPERATION operation;

	if (!addr || !len || !op || args || kstrtoul(addr, 0, &va) ||
	    kstrtouint(len, 0, &length))
		return STATUS_INVALID_PARAMETER;
	if (!strcmp(op, "read"))
		operation = IoReadAccess;
	else if (!strcmp(op, "write"))
		operation = IoWriteAccess;
	else
		return STATUS_INVALID_PARAMETER;
	if (mode && strcmp(mode, "kernel") && strcmp(mode, "user"))
		return STATUS_INVALID_PARAMETER;
	return NtcLockAddress((PVOID)va, length, operation,
			      mode && !strcmp(mode, "kernel") ?
			      KernelMode : UserMode);
}

static NTSTATUS ntc_run(char *cmd)
{
	char *verb = strsep(&cmd, " ");
	unsigned int a, b;

	if (!strcmp(verb, "types") && !cmd)
		return NtcTypes();
	if (!strcmp(verb, "irql") && !cmd)
		return NtcIrql();
	if (!strcmp(verb, "names") && !cmd)
		return NtcNames();
	if (!strcmp(verb, "dpc") && !cmd)
		return ntc_dpc();
	if (!strcmp(verb, "isr") && !cmd)
		return ntc_isr();
	if (!strcmp(verb, "cpus") && !cmd)
		return NtcCpus();
	if (!strcmp(verb, "pool") && cmd && !kstrtouint(cmd, 0, &a) &&
	    a <= USHRT_MAX)
		return NtcPoolCreate(a, nt_mdp_max_buffer_size());
	if (!strcmp(verb, "percpu") && cmd && !kstrtouint(cmd, 0, &a))
		return NtcAllocateEverywhere(a);
	if (!strcmp(verb, "remote") && !cmd)
		return NtcFreeRemotely();
	if (!strcmp(verb, "release") && !cmd) {
		NtcPoolDestroy();
		return STATUS_SUCCESS;
	}
	if (!strcmp(verb, "bytecount") && !cmd)
		return NtcByteCount();
	if (!strcmp(verb, "chain") && !cmd)
		return NtcChain();
	if (!strcmp(verb, "partial") && !cmd)
		return NtcPartial();
	if (!strcmp(verb, "fields") && !cmd)
		return NtcFields();
	if (!strcmp(verb, "pfnarray") && !cmd)
		return NtcPfnArray();
	if (!strcmp(verb, "cutlength") && cmd && !strcmp(cmd, "user"))
		return ntc_cutlength(true);
	if (!strcmp(verb, "cutlength") && cmd && !strcmp(cmd, "kernel"))
		return ntc_cutlength(false);
	if (!strcmp(verb, "pagesformdl") && !cmd)
		return NtcPagesForMdl();
	if (!strcmp(verb, "freechain") && cmd && !kstrtouint(cmd, 0, &a) &&
	    a && a <= 4096)
		return NtcFreeChain(a);
	if (!strcmp(verb, "freechaintwice") && cmd && !kstrtouint(cmd, 0, &a)) {
		NTSTATUS status = NtcChainPrepare(a, 0, NtcFreedTwice);

		return NT_SUCCESS(status) ?
		       NtcChainInThread(NtcFreeChainTwice) : status;
	}
	if (!strcmp(verb, "badchain") && cmd)
		return ntc_badchain(cmd);
	if (!strcmp(verb, "bigfree") && !cmd)
		return NtcBigFrees();
	if (!strcmp(verb, "maprace") && cmd && !kstrtouint(cmd, 0, &a) &&
	    a && a <= 100000)
		return ntc_maprace(a);
	if (!strcmp(verb, "systemlock") && !cmd)
		return ntc_systemlock();
	if (!strcmp(verb, "lockedirql") && !cmd)
		return NtcLockedIrql();
	if (!strcmp(verb, "nonpaged") && cmd && !strcmp(cmd, "heap"))
		return NtcNonPaged(FALSE);
	if (!strcmp(verb, "nonpaged") && cmd && !strcmp(cmd, "static"))
		return NtcNonPaged(TRUE);
	if (!strcmp(verb, "refusals") && cmd &&
	    sscanf(cmd, "%u %u", &a, &b) == 2)
		return NtcRefusals(a, b);
	if (!strcmp(verb, "lockaddr") && cmd)
		return ntc_lockaddr(cmd);
	if (!strcmp(verb, "readonly") && cmd)
		return ntc_readonly(cmd);
	if (!strcmp(verb, "refusedfree") && !cmd)
		return NtcRefusedFree();
	if (!strcmp(verb, "mmio") && !cmd)
		return ntc_mmio();
	if (!strcmp(verb, "cpuids") && !cmd)
		return NtcProcessorNumbers();
	if (!strcmp(verb, "skip") && cmd && !kstrtouint(cmd, 0, &a) &&
	    a < NTC_USERBUF_MAX) {
		ntc_userbuf_skip = a;
		return STATUS_SUCCESS;
	}
	return STATUS_INVALID_PARAMETER;
}

/* Runs one command; its report replaces the previous one. */
static ssize_t ntc_control_write(struct file *file, const char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	char cmd[NTC_CMD_MAX];
	NTSTATUS status;
	int err;

	if (!count || count >= sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(cmd, ubuf, count))
		return -EFAULT;
	cmd[count] = '\0';
	strim(cmd);
	if (strlen(cmd) != strnlen(cmd, count) || !*cmd)
		return -EINVAL;

	mutex_lock(&ntc_mutex);
	ntc_result_len = 0;
	ntc_result_add("%s:", cmd);
	status = ntc_run(cmd);
	ntc_result_add(" status=0x%08x\n", (u32)status);
	mutex_unlock(&ntc_mutex);
	err = nt_status_to_errno(status);
	return err ? err : count;
}

static ssize_t ntc_result_read(struct file *file, char __user *ubuf,
			       size_t count, loff_t *ppos)
{
	ssize_t ret;

	mutex_lock(&ntc_mutex);
	ret = simple_read_from_buffer(ubuf, count, ppos, ntc_result,
				      ntc_result_len);
	mutex_unlock(&ntc_mutex);
	return ret;
}

/*
 * The written data stays in user space: the driver locks it there, all of
 * it but the first ntc_userbuf_skip bytes, as a driver describes the part
 * of a caller's buffer after a header.
 */
static ssize_t ntc_userbuf_write(struct file *file, const char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	unsigned int skip = READ_ONCE(ntc_userbuf_skip);
	NTSTATUS status;
	void *expected;
	int err;

	if (count <= skip || count > NTC_USERBUF_MAX)
		return -EINVAL;
	expected = kvmalloc(count, GFP_KERNEL);
	if (!expected)
		return -ENOMEM;
	if (copy_from_user(expected, ubuf, count)) {
		kvfree(expected);
		return -EFAULT;
	}
	mutex_lock(&ntc_mutex);
	ntc_result_len = 0;
	ntc_result_add("userbuf write: skip=%u", skip);
	status = NtcCheckUserBuffer((__force PVOID)(ubuf + skip), count - skip,
				    expected + skip);
	ntc_result_add(" status=0x%08x\n", (u32)status);
	mutex_unlock(&ntc_mutex);
	kvfree(expected);
	err = nt_status_to_errno(status);
	return err ? err : count;
}

/*
 * Every read returns count bytes: after the first ntc_userbuf_skip, which
 * stay as they were, text lines written by the driver.
 */
static ssize_t ntc_userbuf_read(struct file *file, char __user *ubuf,
				size_t count, loff_t *ppos)
{
	unsigned int skip = READ_ONCE(ntc_userbuf_skip);
	NTSTATUS status;
	int err;

	if (count <= skip || count > NTC_USERBUF_MAX)
		return -EINVAL;
	mutex_lock(&ntc_mutex);
	ntc_result_len = 0;
	ntc_result_add("userbuf read: skip=%u", skip);
	status = NtcFillUserBuffer((__force PVOID)(ubuf + skip), count - skip);
	ntc_result_add(" status=0x%08x\n", (u32)status);
	mutex_unlock(&ntc_mutex);
	err = nt_status_to_errno(status);
	return err ? err : count;
}

static const struct file_operations ntc_control_fops = {
	.owner = THIS_MODULE,
	.write = ntc_control_write,
	.read = ntc_result_read,
	.llseek = default_llseek,
};

static const struct file_operations ntc_userbuf_fops = {
	.owner = THIS_MODULE,
	.write = ntc_userbuf_write,
	.read = ntc_userbuf_read,
	.llseek = MDLPOOL_NO_LLSEEK,
};

static int __init ntc_init(void)
{
	tasklet_setup(&ntc_tasklet, ntc_tasklet_fn);
	ntc_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("control", 0600, ntc_dir, NULL, &ntc_control_fops);
	debugfs_create_file("userbuf", 0600, ntc_dir, NULL, &ntc_userbuf_fops);
	return 0;
}

static void __exit ntc_exit(void)
{
	debugfs_remove_recursive(ntc_dir);
	tasklet_kill(&ntc_tasklet);
	NtcPoolDestroy();
}

module_init(ntc_init);
module_exit(ntc_exit);

MODULE_LICENSE("GPL");
MODULE_INFO(test, "Y");
MODULE_DESCRIPTION("An NT-style client of mdlpool, written against nt_compat.h");
