/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NT kernel names for driver code ported from Windows NT that uses the
 * MDL pool and MDLs.
 *
 * NT-origin code includes this header instead of ntddk.h or wdm.h.  It gets
 * the basic NT types, IRQL, the MDL pool under its NT names (on top of
 * mdlpool.h), MDLs whose memory description is a struct scatterlist table,
 * and the MDL life cycle for memory that does not come from the pool.
 *
 * This header has the types, constants, macros, the small inline MDL
 * accessors and IRQL helpers, and the prototypes.  The rest lives in
 * nt_compat.ko (nt_compat.c, nt_mdp.c, nt_mdl.c, nt_mdl_pages.c), which
 * depends on mdlpool.ko: load both before a module that uses these
 * names.  It has one pool-name counter and one deferred-unlock worker for
 * all its users, so a user has nothing to call at module exit.  Where
 * Linux cannot give an NT meaning the name is missing (so the port fails
 * to compile), the call fails to compile when its arguments are
 * constants, or it refuses at run time in the way
 * Documentation/nt-porting.rst documents for that name.
 * It never silently does something else.
 *
 * The mapping in short:
 *
 * - DISPATCH_LEVEL is "bottom halves disabled" (softirqs are Linux's DPCs).
 *   Raising disables them, which also keeps the task on its CPU; that is
 *   all the pool needs (see the context rules at the top of mdlpool.c).
 *   Nothing above DISPATCH_LEVEL can be raised to.
 *
 * - An MDL is struct _MDL below.  As NT documents, drivers touch only Next
 *   (free to read and write) and MdlFlags (read-only here); the rest is
 *   private and read through the Mm* accessors.  The memory an MDL
 *   describes is a scatterlist table (nt_mdl_sg()) plus a PFN array.
 *
 * - A pool MDL lives in the pool buffer, after the caller's bytes, and its
 *   scatterlist is the pool's own descriptor, so MdpFree() hands the pool
 *   exactly what mdlpool_alloc() returned.
 *
 * - An MDL from IoAllocateMdl() is one allocation: the MDL, its PFN array
 *   and a scatterlist entry per page.
 */
#ifndef _NT_COMPAT_H
#define _NT_COMPAT_H

#include <linux/bottom_half.h>
#include <linux/build_bug.h>
#include <linux/bug.h>
#include <linux/cpumask.h>
#include <linux/irqflags.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/preempt.h>
#include <linux/printk.h>
#include <linux/scatterlist.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <linux/types.h>
#include <asm/byteorder.h>

#include "mdlpool.h"

#ifdef __BIG_ENDIAN
#error "NT's LARGE_INTEGER layout is little-endian"
#endif

/* ---------------------------------------------------------------------
 * Basic types.  NT is LLP64: LONG and ULONG stay 32 bits on 64-bit
 * machines; only the _PTR types and SIZE_T follow the pointer size.
 */
#define VOID void

typedef char CHAR;
typedef char CCHAR;
typedef short CSHORT;
typedef unsigned char UCHAR;
typedef unsigned short USHORT;
typedef s32 LONG;
typedef u32 ULONG;
typedef s64 LONGLONG;
typedef u64 ULONGLONG;
typedef unsigned long ULONG_PTR;
typedef size_t SIZE_T;
typedef UCHAR BOOLEAN;
typedef ULONG LOGICAL;
typedef void *PVOID;
typedef PVOID HANDLE;
typedef char *PCHAR;
typedef unsigned char *PUCHAR;
typedef unsigned char UINT8, *PUINT8;
typedef u32 *PULONG;
typedef UCHAR KIRQL;
typedef unsigned char *PKIRQL;
typedef LONG NTSTATUS;
typedef ULONG_PTR KAFFINITY;
typedef ULONG_PTR PFN_NUMBER;
typedef unsigned long *PPFN_NUMBER;

typedef union _LARGE_INTEGER {
	struct {
		ULONG LowPart;
		LONG HighPart;
	};
	struct {
		ULONG LowPart;
		LONG HighPart;
	} u;
	LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;

typedef LARGE_INTEGER PHYSICAL_ADDRESS;

#ifndef TRUE
#define TRUE	1
#endif
#ifndef FALSE
#define FALSE	0
#endif

/* SAL-era parameter annotations: documentation only, as in NT. */
#define IN
#define OUT
#define OPTIONAL

/* A parameter a routine does not use, said as NT's headers say it. */
#define UNREFERENCED_PARAMETER(P)	((void)(P))
/* Elements of an array (not of a pointer: ARRAY_SIZE() checks). */
#define RTL_NUMBER_OF(A)	ARRAY_SIZE(A)
#define ARRAYSIZE(A)		ARRAY_SIZE(A)

/*
 * Pointer truncation helpers of 64-bit NT: the low 32 bits of a pointer,
 * and a ULONG widened back (zero-extended) to a pointer.
 */
#define PtrToUlong(p)		((ULONG)(ULONG_PTR)(p))
#define ULongToPtr(ul)		((PVOID)(ULONG_PTR)(ULONG)(ul))

/* Checked ("DBG") builds get assertions and KdPrint, as in NT. */
#ifndef DBG
#define DBG	0
#endif

/* ---------------------------------------------------------------------
 * Status codes.  Values are NT's, so logs and tables keep their meaning.
 */
#define STATUS_SUCCESS			((NTSTATUS)0x00000000L)
#define STATUS_UNSUCCESSFUL		((NTSTATUS)0xC0000001UL)
#define STATUS_NOT_IMPLEMENTED		((NTSTATUS)0xC0000002UL)
#define STATUS_ACCESS_VIOLATION		((NTSTATUS)0xC0000005UL)
#define STATUS_INVALID_PARAMETER	((NTSTATUS)0xC000000DUL)
#define STATUS_NO_MEMORY		((NTSTATUS)0xC0000017UL)
#define STATUS_BUFFER_TOO_SMALL		((NTSTATUS)0xC0000023UL)
#define STATUS_DATA_ERROR		((NTSTATUS)0xC000003EUL)
#define STATUS_INSUFFICIENT_RESOURCES	((NTSTATUS)0xC000009AUL)
#define STATUS_NOT_SUPPORTED		((NTSTATUS)0xC00000BBUL)
#define STATUS_INVALID_DEVICE_STATE	((NTSTATUS)0xC0000184UL)

#define NT_SUCCESS(Status)	((NTSTATUS)(Status) >= 0)

/* Linux glue: the errno a Linux caller (a write() handler, say) returns. */
int nt_status_to_errno(NTSTATUS status);

/* ---------------------------------------------------------------------
 * Debug output and assertions.  printk's format rules apply: NT-only
 * conversions such as %ws or %I64x are rejected by vsprintf with a warning.
 */
#define DbgPrint(fmt, ...)	pr_info(fmt, ##__VA_ARGS__)

#if DBG
#define KdPrint(args)		DbgPrint args
#define ASSERT(expr)		WARN_ON_ONCE(!(expr))
#else
#define KdPrint(args)		do { } while (0)
#define ASSERT(expr)		do { } while (0)
#endif
/* NT's newer assertion breaks into the debugger; here it is ASSERT(). */
#define NT_ASSERT(expr)		ASSERT(expr)

/*
 * NT bugchecks when pageable code runs at DISPATCH_LEVEL or above.  Linux
 * has no pageable kernel code; what such code may do (sleep) is what
 * might_sleep() checks, with a report on kernels that debug atomic sleep.
 */
#define PAGED_CODE()		might_sleep()

/* ---------------------------------------------------------------------
 * Memory helpers.
 */
#define RtlCopyMemory(Destination, Source, Length) \
	memcpy((Destination), (Source), (Length))
#define RtlMoveMemory(Destination, Source, Length) \
	memmove((Destination), (Source), (Length))
#define RtlFillMemory(Destination, Length, Fill) \
	memset((Destination), (Fill), (Length))
#define RtlZeroMemory(Destination, Length) \
	memset((Destination), 0, (Length))
#define RtlEqualMemory(Source1, Source2, Length) \
	(!memcmp((Source1), (Source2), (Length)))

/* NT's answer is the length of the equal prefix, not memcmp()'s sign. */
SIZE_T RtlCompareMemory(const VOID *Source1, const VOID *Source2, SIZE_T Length);

/* Zeroing the compiler may not drop, for secrets; NT returns the buffer. */
static inline PVOID RtlSecureZeroMemory(PVOID Destination, SIZE_T Length)
{
	memzero_explicit(Destination, Length);
	return Destination;
}

/* Non-temporal stores are a cache hint on NT; plain copies here. */
#define RtlCopyMemoryNonTemporal(Destination, Source, Length) \
	memcpy((Destination), (Source), (Length))
#define RtlFillMemoryNonTemporal(Destination, Length, Fill) \
	memset((Destination), (Fill), (Length))

/*
 * PAGE_ALIGN: NT's rounds an address down to the start of its page,
 * Linux's rounds a size up to whole pages, and Linux headers and macros
 * use theirs.  So Linux's stays, unless a translation unit of NT code
 * defines NT_COMPAT_NT_PAGE_ALIGN before it includes this header, which it
 * must then include after every Linux header: a Linux macro that expands
 * PAGE_ALIGN there would get NT's.  NT_PAGE_ALIGN is NT's by a name of its
 * own, for code that mixes both.
 */
#define NT_PAGE_ALIGN(Va)	((PVOID)((ULONG_PTR)(Va) & PAGE_MASK))
#ifdef NT_COMPAT_NT_PAGE_ALIGN
#undef PAGE_ALIGN
#define PAGE_ALIGN(Va)		NT_PAGE_ALIGN(Va)
#endif

/*
 * MIN and MAX: Linux's (linux/minmax.h) compare without type checks, as
 * the definitions NT code carries do, so NT code drops its own or wraps
 * them in #ifndef MIN.  NT's lowercase min()/max() become Linux's, which
 * check types: write MIN()/MAX() or min_t() instead.
 */
#if !defined(MIN) || !defined(MAX)
#error "this kernel has no MIN() and MAX() in linux/minmax.h"
#endif

#define BYTE_OFFSET(Va)		((ULONG)((ULONG_PTR)(Va) & (PAGE_SIZE - 1)))
/* Pages a size needs, and the size rounded up to whole pages. */
#define BYTES_TO_PAGES(Size)						\
	((ULONG)(((ULONGLONG)(Size) + PAGE_SIZE - 1) >> PAGE_SHIFT))
#define ROUND_TO_PAGES(Size)						\
	((ULONG_PTR)(((ULONGLONG)(Size) + PAGE_SIZE - 1) & PAGE_MASK))
/* In 64 bits: with a 32-bit ULONG_PTR, offset + Size + PAGE_SIZE can wrap. */
#define ADDRESS_AND_SIZE_TO_SPAN_PAGES(Va, Size)			\
	((ULONG)(((ULONGLONG)BYTE_OFFSET(Va) + (ULONGLONG)(Size) +	\
		  PAGE_SIZE - 1) >> PAGE_SHIFT))

/* ---------------------------------------------------------------------
 * IRQL.
 *
 * PASSIVE_LEVEL: process context that may sleep.  DISPATCH_LEVEL: bottom
 * halves disabled or a softirq running (NT's DPCs), or preemption
 * disabled.  HIGH_LEVEL: hardirq, NMI, or local interrupts disabled.
 * APC_LEVEL exists for comparisons only: Linux has no APCs.
 */
#define PASSIVE_LEVEL	0
#define APC_LEVEL	1
#define DISPATCH_LEVEL	2
#define HIGH_LEVEL	15

/*
 * Linux keeps no IRQL; this reads it off the context.  A hardirq handler
 * runs with local interrupts masked, which is what HIGH_LEVEL means, so it
 * reports HIGH_LEVEL rather than a device IRQL.  Sections that only
 * disable preemption (a held spinlock) report DISPATCH_LEVEL because they
 * cannot sleep; they show up only with CONFIG_PREEMPT_COUNT.
 */
static inline KIRQL KeGetCurrentIrql(void)
{
	if (in_nmi() || in_hardirq() || irqs_disabled())
		return HIGH_LEVEL;
	if (in_softirq())
		return DISPATCH_LEVEL;
	if (preempt_count() & PREEMPT_MASK)
		return DISPATCH_LEVEL;
	return PASSIVE_LEVEL;
}

/*
 * Raise to DISPATCH_LEVEL: every raise that is accepted disables bottom
 * halves once more, and returns what KeGetCurrentIrql() said before it;
 * KeLowerIrql() drops one such disable.  A raise and the KeLowerIrql() that
 * undoes it are thus one local_bh_disable()/local_bh_enable() pair, and
 * Linux's own count of those (preempt_count(), a per-task count on
 * PREEMPT_RT) is the only record kept.  That is what lets the old level be
 * the true one everywhere:
 *
 * - from PASSIVE_LEVEL the raise turns bottom halves off and returns
 *   PASSIVE_LEVEL;
 * - inside a Linux spinlock (preemption off, bottom halves on),
 *   KeGetCurrentIrql() says DISPATCH_LEVEL, but softirqs could still run
 *   there and MdpAllocateAtDpcLevel() needs them off, so the raise turns
 *   them off and returns DISPATCH_LEVEL, and lowering to it turns them on
 *   again;
 * - inside a raise, or in a softirq (a DPC), bottom halves are off already:
 *   the raise only counts one more disable and returns DISPATCH_LEVEL, and
 *   lowering to DISPATCH_LEVEL counts it off, so they stay off.
 *
 * A flag that only said "this raise changed something" could not be
 * returned in the old level (that must be DISPATCH_LEVEL in both of the
 * last two cases) and would need a stack of its own per task.
 */
static inline KIRQL nt_raise_irql(unsigned long new_irql)
{
	KIRQL cur = KeGetCurrentIrql();

	if (WARN_ONCE(new_irql != DISPATCH_LEVEL || cur > DISPATCH_LEVEL,
		      "nt_compat: refused raise from IRQL %u to %lu: only DISPATCH_LEVEL, from at most DISPATCH_LEVEL\n",
		      cur, new_irql))
		return cur;
	local_bh_disable();
	return cur;
}

#define KeRaiseIrqlToDpcLevel()	nt_raise_irql(DISPATCH_LEVEL)

/*
 * A constant level other than DISPATCH_LEVEL is refused at compile time.
 * The level is copied first so that it is evaluated once; the compiler
 * still sees through the copy when the argument is a constant.
 */
#define KeRaiseIrql(NewIrql, OldIrql)					\
	do {								\
		unsigned long nt_new_irql_ = (NewIrql);			\
									\
		BUILD_BUG_ON_MSG(__builtin_constant_p(nt_new_irql_) &&	\
				 nt_new_irql_ != DISPATCH_LEVEL,	\
				 "KeRaiseIrql() can raise only to DISPATCH_LEVEL"); \
		*(OldIrql) = nt_raise_irql(nt_new_irql_);		\
	} while (0)

/*
 * Undo the most recent raise not undone yet, as NT requires of the level
 * passed: its bottom-half disable is dropped, so they come on again only if
 * that raise turned them off.  With no disable to drop (in a softirq or a
 * spinlock section that raised nothing) lowering to DISPATCH_LEVEL is
 * lowering to the level the caller is at and changes nothing, while
 * lowering below it is refused: NT would bugcheck.  So is any lowering at
 * HIGH_LEVEL, where no raise can have been made.
 */
static inline VOID KeLowerIrql(KIRQL NewIrql)
{
	if (WARN_ONCE(NewIrql > DISPATCH_LEVEL,
		      "nt_compat: %s(%u): levels above DISPATCH_LEVEL do not exist here\n",
		      __func__, NewIrql))
		return;
	if (WARN_ONCE(KeGetCurrentIrql() > DISPATCH_LEVEL,
		      "nt_compat: %s(%u) at HIGH_LEVEL: no raise to undo\n",
		      __func__, NewIrql))
		return;
	if (softirq_count() < SOFTIRQ_DISABLE_OFFSET) {
		WARN_ONCE(NewIrql < DISPATCH_LEVEL,
			  "nt_compat: %s(%u) without a raise to undo\n",
			  __func__, NewIrql);
		return;
	}
	local_bh_enable();
}

/* Stable only at DISPATCH_LEVEL or above, as in NT. */
static inline ULONG KeGetCurrentProcessorNumber(void)
{
	return raw_smp_processor_id();
}

/*
 * Processor numbers are Linux CPU ids, and NT drivers size per-processor
 * arrays by KeNumberProcessors and index them by
 * KeGetCurrentProcessorNumber(): so it is nr_cpu_ids, above every CPU id,
 * offline or not, and not clamped to KAFFINITY's width.  KAFFINITY has one
 * bit per CPU, so like one NT processor group it covers CPUs 0 to
 * BITS_PER_LONG - 1 only; a loop over affinity bits stops there.
 */
#define KeNumberProcessors	((ULONG)nr_cpu_ids)

/* CPUs 0 to BITS_PER_LONG - 1 that are online. */
KAFFINITY KeQueryActiveProcessors(void);
/* PASSIVE_LEVEL only: returns the previous affinity, to revert to. */
KAFFINITY KeSetSystemAffinityThreadEx(KAFFINITY Affinity);
VOID KeRevertToUserAffinityThreadEx(KAFFINITY Affinity);

/* ---------------------------------------------------------------------
 * Executive pool.  Linux kernel memory is never paged, so PagedPool gets
 * resident memory too; it keeps NT's rule that it needs PASSIVE_LEVEL.
 * Tags are accepted and not recorded.
 */
typedef enum _POOL_TYPE {
	NonPagedPool = 0,
	PagedPool = 1,
	NonPagedPoolNx = 512,
} POOL_TYPE;

PVOID ExAllocatePoolWithTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag);
VOID ExFreePoolWithTag(PVOID P, ULONG Tag);
VOID ExFreePool(PVOID P);
/* The same, zeroed or not said; ReactOS's untagged ExAllocatePool(). */
PVOID ExAllocatePoolZero(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag);
PVOID ExAllocatePoolUninitialized(POOL_TYPE PoolType, SIZE_T NumberOfBytes,
				  ULONG Tag);
#define ExAllocatePool(PoolType, NumberOfBytes) \
	ExAllocatePoolWithTag((PoolType), (NumberOfBytes), 0)

/*
 * ExAllocatePool2()'s flags, with NT's values.  Exactly one of
 * POOL_FLAG_NON_PAGED and POOL_FLAG_PAGED; memory is zeroed unless
 * POOL_FLAG_UNINITIALIZED.  What Linux cannot give is refused at run time
 * with a message: executable pool (kernel heap is never executable),
 * session pool (no sessions) and POOL_FLAG_RAISE_ON_FAILURE (no structured
 * exceptions: the caller would not check for NULL).  POOL_FLAG_USE_QUOTA
 * and POOL_FLAG_SPECIAL_POOL are accepted and ignored.
 */
typedef ULONGLONG POOL_FLAGS;
#define POOL_FLAG_USE_QUOTA		0x0000000000000001ULL
#define POOL_FLAG_UNINITIALIZED		0x0000000000000002ULL
#define POOL_FLAG_SESSION		0x0000000000000004ULL
#define POOL_FLAG_CACHE_ALIGNED		0x0000000000000008ULL
#define POOL_FLAG_RAISE_ON_FAILURE	0x0000000000000020ULL
#define POOL_FLAG_NON_PAGED		0x0000000000000040ULL
#define POOL_FLAG_NON_PAGED_EXECUTE	0x0000000000000080ULL
#define POOL_FLAG_PAGED			0x0000000000000100ULL
#define POOL_FLAG_SPECIAL_POOL		0x0000000100000000ULL

/* ExAllocatePool3()'s extended parameters: none is supported. */
typedef struct _POOL_EXTENDED_PARAMETER POOL_EXTENDED_PARAMETER;
typedef const struct _POOL_EXTENDED_PARAMETER *PCPOOL_EXTENDED_PARAMETER;

PVOID ExAllocatePool2(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag);
PVOID ExAllocatePool3(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag,
		      PCPOOL_EXTENDED_PARAMETER ExtendedParameters,
		      ULONG ExtendedParametersCount);

/* ---------------------------------------------------------------------
 * MDLs.
 */

/* MdlFlags values a driver may test; NT's values. */
#define MDL_MAPPED_TO_SYSTEM_VA		0x0001
#define MDL_PAGES_LOCKED		0x0002
#define MDL_SOURCE_IS_NONPAGED_POOL	0x0004
#define MDL_ALLOCATED_FIXED_SIZE	0x0008
#define MDL_PARTIAL			0x0010
#define MDL_PARTIAL_HAS_BEEN_MAPPED	0x0020
#define MDL_IO_PAGE_READ		0x0040
#define MDL_WRITE_OPERATION		0x0080
#define MDL_IO_SPACE			0x0800
#define MDL_NETWORK_HEADER		0x1000
#define MDL_MAPPING_CAN_FAIL		0x2000
#define MDL_PAGE_CONTENTS_INVARIANT	0x4000

/* Values of nt_magic: which kind of MDL this is, or none any more. */
#define NT_MDL_MAGIC_POOL	0x4c444d50U	/* "PMDL" */
#define NT_MDL_MAGIC_IO		0x4c444d49U	/* "IMDL" */
#define NT_MDL_MAGIC_DEAD	0x4c444d44U	/* "DMDL" */

struct nt_mdl_pin;

/**
 * struct _MDL - an NT memory descriptor list entry
 * @nt_magic: NT_MDL_MAGIC_POOL or NT_MDL_MAGIC_IO; first, so that a pool
 *	buffer overrun, which reaches the MDL behind it, spoils it first
 * @MdlFlags: MDL_* flags.  nt_compat.ko keeps them; a driver may read and
 *	write them, as NT drivers do (see "MDL fields" in nt_mdl.c)
 * @Size: bytes of the MDL and its PFN array, as NT counts them
 * @Next: NT's link to the next MDL of a chain; drivers read and write it
 * @Process: the task whose user pages are locked, or NULL
 * @MappedSystemVa: kernel address of the first byte once the MDL is
 *	mapped (at once for kernel memory)
 * @StartVa: the page of the first byte, a user or kernel address
 * @ByteCount: bytes described; a driver may cut it and grow it back
 * @ByteOffset: offset of the first byte in @StartVa's page
 * @nt_state: NT_STATE_*: how its pages came to be described, or 0
 * @nt_lock_failed: NT_LOCK_FAILED* once MmProbeAndLockPages() failed, 0
 *	after it succeeds
 * @nt_flags_seen: @MdlFlags as nt_compat.ko last left them
 * @nt_sg_count: the @ByteCount the scatterlist was laid out for
 * @nt_max_byte_count: the most bytes the MDL can describe now: what its
 *	pages describe, or @nt_alloc_byte_count while it describes none
 * @nt_nr_pages: entries in @nt_pfns and in the scatterlist table
 * @nt_alloc_byte_count: the most bytes it can ever describe (the pool's
 *	buffer size, IoAllocateMdl()'s Length)
 * @nt_va_seen: @StartVa + @ByteOffset as nt_compat.ko last left them
 * @nt_kva: kernel address of the first byte, set when the pages are
 *	described: what a mapping call hands out
 * @nt_sgl: the scatterlist table; for a pool MDL the pool's descriptor
 * @nt_pin: pinned, allocated or adopted pages and their kernel mapping
 * @nt_pfns: the PFN array, MmGetMdlPfnArray(), right behind the MDL as NT
 *	code expects ((PPFN_NUMBER)(Mdl + 1))
 */
typedef struct _MDL {
	u32 nt_magic;
	CSHORT MdlFlags;
	CSHORT Size;
	struct _MDL *Next;
	PVOID Process;
	PVOID MappedSystemVa;
	PVOID StartVa;
	ULONG ByteCount;
	ULONG ByteOffset;
	u8 nt_state;
	u8 nt_lock_failed;
	CSHORT nt_flags_seen;
	ULONG nt_sg_count;
	ULONG nt_max_byte_count;
	ULONG nt_nr_pages;
	ULONG nt_alloc_byte_count;
	PVOID nt_va_seen;
	PVOID nt_kva;
	struct scatterlist *nt_sgl;
	struct nt_mdl_pin *nt_pin;
	PFN_NUMBER nt_pfns[];
} MDL, *PMDL;

/* There are no IRPs; the type exists so that NT prototypes compile. */
typedef struct _IRP *PIRP;

typedef CCHAR KPROCESSOR_MODE;
#define KernelMode	0
#define UserMode	1

typedef enum _LOCK_OPERATION {
	IoReadAccess,
	IoWriteAccess,
	IoModifyAccess,
} LOCK_OPERATION;

typedef enum _MEMORY_CACHING_TYPE {
	MmNonCached = 0,
	MmCached = 1,
	MmWriteCombined = 2,
} MEMORY_CACHING_TYPE;

typedef enum _MM_PAGE_PRIORITY {
	LowPagePriority = 0,
	NormalPagePriority = 16,
	HighPagePriority = 32,
} MM_PAGE_PRIORITY;

/*
 * OR'd into a mapping's priority.  Kernel mappings are never executable
 * here, so this asks for what every mapping is.
 */
#define MdlMappingNoExecute	0x40000000

static inline ULONG MmGetMdlByteCount(const MDL *Mdl)
{
	return Mdl->ByteCount;
}

static inline ULONG MmGetMdlByteOffset(const MDL *Mdl)
{
	return Mdl->ByteOffset;
}

static inline PVOID MmGetMdlVirtualAddress(const MDL *Mdl)
{
	return (PVOID)((ULONG_PTR)Mdl->StartVa + Mdl->ByteOffset);
}

static inline PVOID MmGetMdlBaseVa(const MDL *Mdl)
{
	return Mdl->StartVa;
}

/* CPU page frame numbers: bus addresses come from the DMA API instead. */
static inline PPFN_NUMBER MmGetMdlPfnArray(MDL *Mdl)
{
	return Mdl->nt_pfns;
}

/* NDIS's names for walking and trimming MDL chains. */
#define NDIS_MDL_LINKAGE(Mdl)	((Mdl)->Next)
#define NdisGetNextMdl(CurrentMdl, NextMdl)	((NextMdl) = (CurrentMdl)->Next)

/* Pages the first @count bytes of an MDL span; at least one entry. */
static inline ULONG nt_mdl_pages_used(const MDL *mdl, ULONG count)
{
	ULONG pages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(MmGetMdlVirtualAddress(mdl),
						     count);

	return pages ? pages : 1;
}

/* True once the MDL's PFNs and scatterlist describe real pages. */
static inline bool nt_mdl_described(const MDL *mdl)
{
	return mdl->nt_magic == NT_MDL_MAGIC_POOL || mdl->nt_state;
}

/* Lays the scatterlist out again after a driver's write of ByteCount. */
struct scatterlist *nt_mdl_sg_follow(MDL *mdl);

/**
 * nt_mdl_sg - the scatterlist a Linux consumer (dma_map_sg, ...) uses
 * @mdl: an MDL whose pages are described (pool, built or locked)
 *
 * Linux glue, not an NT name.  The list covers MmGetMdlByteCount() bytes
 * and ends there; Next is not a scatterlist chain, so a consumer of an MDL
 * chain walks Next and takes each MDL's list.
 *
 * Return: the first entry, or NULL if the MDL describes no pages yet.
 */
static inline struct scatterlist *nt_mdl_sg(MDL *mdl)
{
	if (!nt_mdl_described(mdl))
		return NULL;
	if (unlikely(mdl->ByteCount != mdl->nt_sg_count))
		return nt_mdl_sg_follow(mdl);
	return mdl->nt_sgl;
}

/*
 * Linux glue: entries of nt_mdl_sg() in use, for dma_map_sg().  It follows
 * a ByteCount write as nt_mdl_sg() does: the two may be called either
 * way round, as arguments of one call.
 */
static inline unsigned int nt_mdl_sg_nents(MDL *mdl)
{
	if (mdl->nt_magic == NT_MDL_MAGIC_POOL)
		return 1;
	if (unlikely(mdl->ByteCount != mdl->nt_sg_count))
		nt_mdl_sg_follow(mdl);
	return nt_mdl_pages_used(mdl, mdl->nt_sg_count);
}

/* Set the byte count, as a write of ByteCount does; see nt_mdl_sg(). */
VOID NdisAdjustMdlLength(PMDL Mdl, ULONG Length);

/* 0 for an address that is not kernel memory with a struct page. */
PHYSICAL_ADDRESS MmGetPhysicalAddress(PVOID BaseAddress);

/* ---------------------------------------------------------------------
 * The MDL pool.  A pool buffer is [caller's BufferSize bytes | pad | MDL |
 * one PFN]; the MDL's scatterlist is the pool's own descriptor, trimmed to
 * BufferSize.  The handle is a pointer to a private structure.
 */

/* Linux glue: the largest BufferSize MdpCreatePool() accepts. */
ULONG nt_mdp_max_buffer_size(void);

/* Process context only (NT allowed DISPATCH_LEVEL). */
HANDLE MdpCreatePool(USHORT BufferSize, ULONG Tag);
VOID MdpDestroyPool(HANDLE PoolHandle);
/* At PASSIVE_LEVEL or DISPATCH_LEVEL, as in NT. */
PMDL MdpAllocate(HANDLE PoolHandle, PVOID *Buffer);
/* At DISPATCH_LEVEL only (bottom halves off), as in NT. */
PMDL MdpAllocateAtDpcLevel(HANDLE PoolHandle, PVOID *Buffer);
/* From any CPU at or below DISPATCH_LEVEL; a bad MDL is refused. */
VOID MdpFree(PMDL Mdl);
/*
 * Not NT: MdpFree() for each MDL of a Next chain, in bulk; the walk stops
 * at an MDL refused, and what follows it stays the caller's.
 */
VOID MdpFreeChain(PMDL Mdl);

/* ---------------------------------------------------------------------
 * MDLs for memory that is not the pool's.
 */
PMDL IoAllocateMdl(PVOID VirtualAddress, ULONG Length, BOOLEAN SecondaryBuffer,
		   BOOLEAN ChargeQuota, PIRP Irp);
VOID IoFreeMdl(PMDL Mdl);
VOID MmBuildMdlForNonPagedPool(PMDL MemoryDescriptorList);

/*
 * NT raises an exception on a bad address; there is no SEH here, so this
 * returns the status the exception would have carried, and the caller
 * must check it.
 */
NTSTATUS __must_check MmProbeAndLockPages(PMDL MemoryDescriptorList,
					  KPROCESSOR_MODE AccessMode,
					  LOCK_OPERATION Operation);

/*
 * At DISPATCH_LEVEL the release of the pages is deferred to nt_compat.ko's
 * worker; the MDL is unlocked when this returns, and the caller has
 * nothing to wait for at its module exit.
 */
VOID MmUnlockPages(PMDL MemoryDescriptorList);

PVOID MmGetSystemAddressForMdlSafe(PMDL Mdl, ULONG Priority);

/*
 * TargetMdl (from IoAllocateMdl(), big enough) describes Length bytes of
 * SourceMdl from VirtualAddress on (Length 0: to the end).  It borrows the
 * source's pages and mapping: free or reuse it before the source is
 * unlocked or freed.  A range outside the source is refused with an error
 * line where NT bugchecks, and leaves the target undescribed.
 */
VOID IoBuildPartialMdl(PMDL SourceMdl, PMDL TargetMdl, PVOID VirtualAddress,
		       ULONG Length);
/* Makes a partial MDL ready for the next IoBuildPartialMdl(). */
VOID MmPrepareMdlForReuse(PMDL Mdl);

/* MmAllocatePagesForMdlEx()'s Flags, with NT's values. */
#define MM_DONT_ZERO_ALLOCATION			0x00000001
#define MM_ALLOCATE_FROM_LOCAL_NODE_ONLY	0x00000002
#define MM_ALLOCATE_FULLY_REQUIRED		0x00000004
#define MM_ALLOCATE_NO_WAIT			0x00000008
#define MM_ALLOCATE_PREFER_CONTIGUOUS		0x00000010
#define MM_ALLOCATE_REQUIRE_CONTIGUOUS_CHUNKS	0x00000020

/*
 * Pages for an MDL, mapped at once so that mapping calls work at
 * DISPATCH_LEVEL; release them with MmFreePagesFromMdl() and then the MDL
 * with ExFreePool() (or IoFreeMdl()).  The MDL may describe fewer bytes
 * than asked for: check MmGetMdlByteCount().
 */
PMDL MmAllocatePagesForMdl(PHYSICAL_ADDRESS LowAddress,
			   PHYSICAL_ADDRESS HighAddress,
			   PHYSICAL_ADDRESS SkipBytes, SIZE_T TotalBytes);
PMDL MmAllocatePagesForMdlEx(PHYSICAL_ADDRESS LowAddress,
			     PHYSICAL_ADDRESS HighAddress,
			     PHYSICAL_ADDRESS SkipBytes, SIZE_T TotalBytes,
			     MEMORY_CACHING_TYPE CacheType, ULONG Flags);
VOID MmFreePagesFromMdl(PMDL MemoryDescriptorList);

PVOID nt_map_locked_pages(PMDL MemoryDescriptorList, KPROCESSOR_MODE AccessMode,
			  MEMORY_CACHING_TYPE CacheType, PVOID RequestedAddress,
			  ULONG BugCheckOnFailure, ULONG Priority);

/*
 * Only kernel mappings exist (AccessMode KernelMode), only with the
 * kernel's own cache type (MmCached: a second mapping of RAM with another
 * cache type is an alias the CPU forbids), and only where Linux chooses the
 * address.  A constant UserMode or cache type other than MmCached is a
 * compile-time error; the same given at run time returns NULL, as does a
 * RequestedAddress.  BugCheckOnFailure cannot bugcheck: failure returns
 * NULL with a warning.
 */
#define MmMapLockedPagesSpecifyCache(Mdl, AccessMode, CacheType,	\
				     RequestedAddress, BugCheckOnFailure, \
				     Priority)				\
({									\
	long nt_mode_ = (AccessMode), nt_cache_ = (CacheType);		\
									\
	BUILD_BUG_ON_MSG(__builtin_constant_p(nt_mode_) &&		\
			 nt_mode_ != KernelMode,			\
			 "no user-mode mappings of MDLs");		\
	BUILD_BUG_ON_MSG(__builtin_constant_p(nt_cache_) &&		\
			 nt_cache_ != MmCached,				\
			 "MDLs map only as MmCached");			\
	nt_map_locked_pages((Mdl), nt_mode_, nt_cache_,			\
			    (RequestedAddress), (BugCheckOnFailure),	\
			    (Priority));				\
})

VOID MmUnmapLockedPages(PVOID BaseAddress, PMDL MemoryDescriptorList);

/*
 * The older mapping calls, which NT code still uses: NT bugchecks where
 * they fail; here they return NULL with a warning, as
 * MmMapLockedPagesSpecifyCache() with BugCheckOnFailure does.
 */
#define MmMapLockedPages(Mdl, AccessMode)				\
	MmMapLockedPagesSpecifyCache((Mdl), (AccessMode), MmCached, NULL, \
				     TRUE, NormalPagePriority)
#define MmGetSystemAddressForMdl(Mdl)	MmMapLockedPages((Mdl), KernelMode)

/* ---------------------------------------------------------------------
 * NDIS's MDL calls (NDIS 6) and their NDIS 5 forms on NDIS_BUFFER, which
 * is an MDL.  NET_BUFFER and the rest of NDIS are outside nt_compat.
 */
typedef PVOID NDIS_HANDLE;
typedef unsigned int UINT, *PUINT;
typedef MDL NDIS_BUFFER, *PNDIS_BUFFER;

/* An MDL describing driver-owned kernel memory; the handle is not used. */
static inline PMDL NdisAllocateMdl(NDIS_HANDLE NdisHandle, PVOID VirtualAddress,
				   UINT Length)
{
	PMDL mdl = IoAllocateMdl(VirtualAddress, Length, FALSE, FALSE, NULL);

	if (mdl)
		MmBuildMdlForNonPagedPool(mdl);
	return mdl;
}

static inline VOID NdisFreeMdl(PMDL Mdl)
{
	IoFreeMdl(Mdl);
}

/* The address (if asked for) and the byte count of an MDL. */
static inline VOID NdisQueryMdl(PMDL Mdl, PVOID *VirtualAddress, PUINT Length,
				ULONG Priority)
{
	if (VirtualAddress)
		*VirtualAddress = MmGetSystemAddressForMdlSafe(Mdl, Priority);
	*Length = MmGetMdlByteCount(Mdl);
}

static inline VOID NdisQueryMdlOffset(PMDL Mdl, PUINT Offset, PUINT Length)
{
	*Offset = MmGetMdlByteOffset(Mdl);
	*Length = MmGetMdlByteCount(Mdl);
}

#define NdisQueryBufferSafe(Buffer, VirtualAddress, Length, Priority) \
	NdisQueryMdl((Buffer), (VirtualAddress), (Length), (Priority))
/* NDIS 5's unsafe form maps as MmGetSystemAddressForMdl(). */
static inline VOID NdisQueryBuffer(PNDIS_BUFFER Buffer, PVOID *VirtualAddress,
				   PUINT Length)
{
	if (VirtualAddress)
		*VirtualAddress = MmGetSystemAddressForMdl(Buffer);
	*Length = MmGetMdlByteCount(Buffer);
}

#define NdisQueryBufferOffset(Buffer, Offset, Length) \
	NdisQueryMdlOffset((Buffer), (Offset), (Length))
#define NdisGetNextBuffer(CurrentBuffer, NextBuffer) \
	(*(NextBuffer) = (CurrentBuffer)->Next)

#endif /* _NT_COMPAT_H */
