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
 * Everything here is static inline: there is no library to load besides
 * mdlpool.ko.  Where Linux cannot give an NT meaning the name is missing
 * (so the port fails to compile), the call fails to compile when its
 * arguments are constants, or it refuses at run time in the way the README
 * section "Porting NT code" documents for that name.  It never silently
 * does something else.
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

#include <linux/atomic.h>
#include <linux/bottom_half.h>
#include <linux/build_bug.h>
#include <linux/bug.h>
#include <linux/cpumask.h>
#include <linux/ctype.h>
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/llist.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/preempt.h>
#include <linux/printk.h>
#include <linux/scatterlist.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <linux/types.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
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
static inline int nt_status_to_errno(NTSTATUS status)
{
	switch (status) {
	case STATUS_SUCCESS:
		return 0;
	case STATUS_ACCESS_VIOLATION:
		return -EFAULT;
	case STATUS_INVALID_PARAMETER:
		return -EINVAL;
	case STATUS_NO_MEMORY:
	case STATUS_INSUFFICIENT_RESOURCES:
		return -ENOMEM;
	case STATUS_BUFFER_TOO_SMALL:
		return -ENOSPC;
	case STATUS_NOT_IMPLEMENTED:
	case STATUS_NOT_SUPPORTED:
		return -EOPNOTSUPP;
	case STATUS_INVALID_DEVICE_STATE:
		return -EBUSY;
	default:
		return NT_SUCCESS(status) ? 0 : -EIO;
	}
}

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
static inline SIZE_T RtlCompareMemory(const VOID *Source1, const VOID *Source2,
				      SIZE_T Length)
{
	const UCHAR *a = Source1, *b = Source2;
	SIZE_T i;

	for (i = 0; i < Length && a[i] == b[i]; i++)
		;
	return i;
}

/* NT's PAGE_ALIGN rounds down; Linux's rounds up, so it is not redefined. */
#define BYTE_OFFSET(Va)		((ULONG)((ULONG_PTR)(Va) & (PAGE_SIZE - 1)))
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
 * Raise to DISPATCH_LEVEL.  The old level returned is what KeLowerIrql()
 * needs to undo this raise: DISPATCH_LEVEL when bottom halves were already
 * off (nothing was changed), PASSIVE_LEVEL when this call disabled them.
 * In a section that only disables preemption, KeGetCurrentIrql() says
 * DISPATCH_LEVEL but softirqs could still run there, so the raise still
 * disables them and returns PASSIVE_LEVEL.
 */
static inline KIRQL nt_raise_irql(unsigned long new_irql)
{
	KIRQL cur = KeGetCurrentIrql();

	if (WARN_ONCE(new_irql != DISPATCH_LEVEL || cur > DISPATCH_LEVEL,
		      "nt_compat: refused raise from IRQL %u to %lu: only DISPATCH_LEVEL, from at most DISPATCH_LEVEL\n",
		      cur, new_irql))
		return cur;
	if (in_softirq())
		return DISPATCH_LEVEL;
	local_bh_disable();
	return PASSIVE_LEVEL;
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
 * Lowering to DISPATCH_LEVEL keeps bottom halves off; lowering below it
 * re-enables them, which undoes a raise that returned PASSIVE_LEVEL.
 * Lowering below DISPATCH_LEVEL with no raise to undo (in a softirq, say)
 * is refused: NT would bugcheck.
 */
static inline VOID KeLowerIrql(KIRQL NewIrql)
{
	if (WARN_ONCE(NewIrql > DISPATCH_LEVEL,
		      "nt_compat: %s(%u): levels above DISPATCH_LEVEL do not exist here\n",
		      __func__, NewIrql))
		return;
	if (NewIrql == DISPATCH_LEVEL)
		return;
	if (WARN_ONCE(softirq_count() < SOFTIRQ_DISABLE_OFFSET,
		      "nt_compat: %s(%u) without a raise to undo\n",
		      __func__, NewIrql))
		return;
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

static inline KAFFINITY nt_affinity_of(const struct cpumask *mask)
{
	KAFFINITY affinity = 0;
	unsigned int cpu;

	for_each_cpu(cpu, mask) {
		if (cpu >= BITS_PER_LONG)
			break;
		affinity |= (KAFFINITY)1 << cpu;
	}
	return affinity;
}

static inline KAFFINITY KeQueryActiveProcessors(VOID)
{
	return nt_affinity_of(cpu_online_mask);
}

/* Bind the calling task to Affinity; false if Linux refused. */
static inline bool nt_set_affinity(KAFFINITY affinity)
{
	cpumask_var_t mask;
	unsigned int cpu;
	int err;

	if (!alloc_cpumask_var(&mask, GFP_KERNEL))
		return false;
	cpumask_clear(mask);
	for (cpu = 0; cpu < BITS_PER_LONG && cpu < nr_cpu_ids; cpu++) {
		if (affinity & ((KAFFINITY)1 << cpu))
			cpumask_set_cpu(cpu, mask);
	}
	err = set_cpus_allowed_ptr(current, mask);
	free_cpumask_var(mask);
	return !err;
}

/*
 * Runs the calling thread only on the CPUs in Affinity, which the thread
 * reaches before this returns.  Returns the previous affinity for
 * KeRevertToUserAffinityThreadEx().  NT returns 0 the first time and
 * reverts to the user's affinity on 0; here the previous mask itself is
 * returned and restored.  PASSIVE_LEVEL only.  Refused (nothing changes)
 * on machines with more CPU ids than KAFFINITY has bits, for a thread
 * Linux keeps bound, or for a mask with no online CPU: the caller sees
 * it through KeGetCurrentProcessorNumber().
 */
static inline KAFFINITY KeSetSystemAffinityThreadEx(KAFFINITY Affinity)
{
	KAFFINITY old = nt_affinity_of(&current->cpus_mask);

	might_sleep();
	if (nr_cpu_ids > BITS_PER_LONG || !nt_set_affinity(Affinity))
		pr_warn_ratelimited("nt_compat: %s(%#lx) refused\n",
				    __func__, Affinity);
	return old;
}

static inline VOID KeRevertToUserAffinityThreadEx(KAFFINITY Affinity)
{
	might_sleep();
	if (nr_cpu_ids > BITS_PER_LONG || !Affinity ||
	    !nt_set_affinity(Affinity))
		pr_warn_ratelimited("nt_compat: %s(%#lx) refused\n",
				    __func__, Affinity);
}

/* Kernel allocations follow the caller's IRQL, as NT's non-paged pool. */
static inline void *nt_alloc(size_t size)
{
	KIRQL irql = KeGetCurrentIrql();

	if (irql == PASSIVE_LEVEL)
		return kvzalloc(size, GFP_KERNEL);
	if (irql == DISPATCH_LEVEL)
		return kzalloc(size, GFP_ATOMIC | __GFP_NOWARN);
	return NULL;
}

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

static inline PVOID ExAllocatePoolWithTag(POOL_TYPE PoolType,
					  SIZE_T NumberOfBytes, ULONG Tag)
{
	KIRQL irql = KeGetCurrentIrql();

	switch (PoolType) {
	case PagedPool:
		if (irql != PASSIVE_LEVEL)
			return NULL;
		fallthrough;
	case NonPagedPool:
	case NonPagedPoolNx:
		if (irql == PASSIVE_LEVEL)
			return kvmalloc(NumberOfBytes, GFP_KERNEL);
		if (irql == DISPATCH_LEVEL)
			return kmalloc(NumberOfBytes, GFP_ATOMIC | __GFP_NOWARN);
		return NULL;
	default:
		return NULL;
	}
}

static inline VOID ExFreePoolWithTag(PVOID P, ULONG Tag)
{
	kvfree(P);
}

static inline VOID ExFreePool(PVOID P)
{
	kvfree(P);
}

/* ---------------------------------------------------------------------
 * MDLs.
 */

/* MdlFlags values a driver may test; NT's values. */
#define MDL_MAPPED_TO_SYSTEM_VA		0x0001
#define MDL_PAGES_LOCKED		0x0002
#define MDL_SOURCE_IS_NONPAGED_POOL	0x0004
#define MDL_WRITE_OPERATION		0x0080

/* Values of nt_magic: which kind of MDL this is, or none any more. */
#define NT_MDL_MAGIC_POOL	0x4c444d50U	/* "PMDL" */
#define NT_MDL_MAGIC_IO		0x4c444d49U	/* "IMDL" */
#define NT_MDL_MAGIC_DEAD	0x4c444d44U	/* "DMDL" */

struct nt_mdl_pin;

/**
 * struct _MDL - an NT memory descriptor list entry
 * @nt_magic: NT_MDL_MAGIC_POOL or NT_MDL_MAGIC_IO; first, so that a pool
 *	buffer overrun, which reaches the MDL behind it, spoils it first
 * @MdlFlags: MDL_* flags, kept by this header; read-only to drivers
 * @nt_flags: the writable view of @MdlFlags
 * @Next: NT's link to the next MDL of a chain; drivers read and write it
 * @nt_byte_count: MmGetMdlByteCount()
 * @nt_max_byte_count: the most bytes the MDL can describe
 * @nt_nr_pages: entries in @nt_pfns and in the scatterlist table
 * @nt_va: MmGetMdlVirtualAddress(): a user or kernel address
 * @nt_system_va: kernel address of the first byte, once there is one
 * @nt_sgl: the scatterlist table; for a pool MDL the pool's descriptor
 * @nt_pin: pinned user pages and their kernel mapping, if any
 * @nt_pfns: the PFN array, MmGetMdlPfnArray()
 */
typedef struct _MDL {
	u32 nt_magic;
	union {
		const CSHORT MdlFlags;
		CSHORT nt_flags;
	};
	struct _MDL *Next;
	ULONG nt_byte_count;
	ULONG nt_max_byte_count;
	ULONG nt_nr_pages;
	PVOID nt_va;
	PVOID nt_system_va;
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

static inline ULONG MmGetMdlByteCount(const MDL *Mdl)
{
	return Mdl->nt_byte_count;
}

static inline ULONG MmGetMdlByteOffset(const MDL *Mdl)
{
	return BYTE_OFFSET(Mdl->nt_va);
}

static inline PVOID MmGetMdlVirtualAddress(const MDL *Mdl)
{
	return Mdl->nt_va;
}

static inline PVOID MmGetMdlBaseVa(const MDL *Mdl)
{
	return (PVOID)((ULONG_PTR)Mdl->nt_va & PAGE_MASK);
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
	ULONG pages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(mdl->nt_va, count);

	return pages ? pages : 1;
}

/* True once the MDL's PFNs and scatterlist describe real pages. */
static inline bool nt_mdl_described(const MDL *mdl)
{
	return mdl->nt_magic == NT_MDL_MAGIC_POOL ||
	       (mdl->nt_flags & (MDL_SOURCE_IS_NONPAGED_POOL | MDL_PAGES_LOCKED));
}

/*
 * Lay the scatterlist table out over the PFN array for the current byte
 * count: one entry per page, the last one in use marked as the end.
 */
static inline void nt_mdl_layout(MDL *mdl)
{
	ULONG used = nt_mdl_pages_used(mdl, mdl->nt_byte_count);
	ULONG left = mdl->nt_byte_count;
	ULONG off = BYTE_OFFSET(mdl->nt_va);
	ULONG i;

	for (i = 0; i < mdl->nt_nr_pages; i++) {
		struct scatterlist *sg = &mdl->nt_sgl[i];
		ULONG len = min_t(ULONG, left, PAGE_SIZE - off);

		sg_unmark_end(sg);
		sg_set_page(sg, pfn_to_page(mdl->nt_pfns[i]), len, off);
		left -= len;
		off = 0;
	}
	sg_mark_end(&mdl->nt_sgl[used - 1]);
}

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
	return nt_mdl_described(mdl) ? mdl->nt_sgl : NULL;
}

/* Linux glue: entries of nt_mdl_sg() in use, for dma_map_sg(). */
static inline unsigned int nt_mdl_sg_nents(const MDL *mdl)
{
	if (mdl->nt_magic == NT_MDL_MAGIC_POOL)
		return 1;
	return nt_mdl_pages_used(mdl, mdl->nt_byte_count);
}

/*
 * Set the byte count, as NDIS drivers do to trim a buffer they fill.  The
 * scatterlist follows.  An MDL cannot grow past what it was made for (the
 * pool's buffer size, IoAllocateMdl()'s Length): that is refused.
 */
static inline VOID NdisAdjustMdlLength(PMDL Mdl, ULONG Length)
{
	if (WARN_ONCE(Length > Mdl->nt_max_byte_count,
		      "nt_compat: MDL %p cannot grow to %u bytes (at most %u)\n",
		      Mdl, Length, Mdl->nt_max_byte_count))
		return;
	Mdl->nt_byte_count = Length;
	if (Mdl->nt_magic == NT_MDL_MAGIC_POOL)
		Mdl->nt_sgl->length = Length;
	else if (nt_mdl_described(Mdl))
		nt_mdl_layout(Mdl);
}

/*
 * A page mapped in vmalloc space.  I/O mappings (ioremap()) live there too,
 * and their page frames have no struct page: vmalloc_to_page() turns such
 * a frame into a pointer all the same, and with classic SPARSEMEM even
 * page_to_pfn() of that pointer reads memory that does not exist.  So the
 * frame number is checked before it becomes a page.
 */
static inline struct page *nt_vmalloc_page(const void *addr)
{
#ifdef CONFIG_X86
	unsigned long va = (unsigned long)addr, pfn;
	unsigned int level;
	pte_t *pte = lookup_address(va, &level);

	if (!pte || !pte_present(*pte))
		return NULL;
	pfn = pte_pfn(*pte) + ((va & ~page_level_mask(level)) >> PAGE_SHIFT);
	return pfn_valid(pfn) ? pfn_to_page(pfn) : NULL;
#else
	/* Safe where page_to_pfn() is arithmetic (VMEMMAP, FLATMEM). */
	struct page *page = vmalloc_to_page(addr);

	if (!page || !pfn_valid(page_to_pfn(page)))
		return NULL;
	return page;
#endif
}

/* A kernel address's page, or NULL if it is not kernel memory. */
static inline struct page *nt_kernel_page(const void *addr)
{
	if (is_vmalloc_addr(addr))
		return nt_vmalloc_page(addr);
#if defined(CONFIG_MODULES) && defined(MODULES_VADDR)
	/* Module data (a driver's static buffer) is mapped like vmalloc. */
	if ((unsigned long)addr >= MODULES_VADDR &&
	    (unsigned long)addr < MODULES_END)
		return nt_vmalloc_page(addr);
#endif
	if (virt_addr_valid(addr))
		return virt_to_page(addr);
	return NULL;
}

/*
 * The physical address behind a kernel virtual address, or 0 if there is
 * none (user addresses included), as NT answers for an invalid address.
 */
static inline PHYSICAL_ADDRESS MmGetPhysicalAddress(PVOID BaseAddress)
{
	struct page *page = nt_kernel_page(BaseAddress);
	PHYSICAL_ADDRESS pa;

	pa.QuadPart = page ? (LONGLONG)page_to_phys(page) +
			     offset_in_page(BaseAddress) : 0;
	return pa;
}

/* ---------------------------------------------------------------------
 * The MDL pool.
 *
 * A pool buffer is [caller's BufferSize bytes | pad | MDL | one PFN].  The
 * MDL's scatterlist is the pool's own descriptor, trimmed to BufferSize.
 */
#define NT_POOL_MDL_OFFSET(size)	ALIGN((size_t)(size), sizeof(void *))
#define NT_POOL_MDL_BYTES		(sizeof(MDL) + sizeof(PFN_NUMBER))

/* The handle: the Linux pool and the size the NT caller asked for. */
struct nt_mdp_pool {
	struct mdlpool *pool;
	ULONG buffer_size;
};

/* Linux glue: the largest BufferSize MdpCreatePool() accepts. */
static inline ULONG nt_mdp_max_buffer_size(void)
{
	return ALIGN_DOWN(mdlpool_max_buffer_size() - NT_POOL_MDL_BYTES,
			  sizeof(void *));
}

/*
 * Linux pools need unique names; NT pools have only a tag.  The name is
 * "nt-TAG-N", N counting up past names already taken by other modules.
 * Process context only: mdlpool_create() sleeps, where NT allowed
 * DISPATCH_LEVEL; a call above PASSIVE_LEVEL is refused with NULL.  A pool
 * created with mdlpool's debug_checks on keeps a redzone after each buffer,
 * which costs another 16 bytes of the largest BufferSize.
 */
static inline HANDLE MdpCreatePool(USHORT BufferSize, ULONG Tag)
{
	static atomic_t seq = ATOMIC_INIT(0);
	char name[MDLPOOL_NAME_MAX + 1];
	struct nt_mdp_pool *handle;
	struct mdlpool *pool;
	char tag[5];
	int i;

	if (!BufferSize || BufferSize > nt_mdp_max_buffer_size())
		return NULL;
	if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
		pr_warn_once("nt_compat: %s() refused above PASSIVE_LEVEL\n",
			     __func__);
		return NULL;
	}
	handle = kmalloc(sizeof(*handle), GFP_KERNEL);
	if (!handle)
		return NULL;
	for (i = 0; i < 4; i++) {
		char c = Tag >> (8 * i);

		tag[i] = isalnum(c) ? c : '_';
	}
	tag[4] = '\0';
	do {
		snprintf(name, sizeof(name), "nt-%s-%u", tag,
			 (unsigned int)atomic_inc_return(&seq));
		pool = mdlpool_create(name, NT_POOL_MDL_OFFSET(BufferSize) +
					    NT_POOL_MDL_BYTES, Tag);
	} while (IS_ERR(pool) && PTR_ERR(pool) == -EEXIST);
	if (IS_ERR(pool)) {
		kfree(handle);
		return NULL;
	}
	handle->pool = pool;
	handle->buffer_size = BufferSize;
	return handle;
}

/*
 * NT asserts that no buffer is out; Linux's pool refuses to destroy a pool
 * with buffers out (it warns) and leaves pool and handle intact.  Process
 * context only, like MdpCreatePool().
 */
static inline VOID MdpDestroyPool(HANDLE PoolHandle)
{
	struct nt_mdp_pool *handle = PoolHandle;

	if (!handle)
		return;
	if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
		pr_warn_once("nt_compat: %s() refused above PASSIVE_LEVEL\n",
			     __func__);
		return;
	}
	if (mdlpool_destroy(handle->pool))
		return;
	kfree(handle);
}

/* Dress a pool descriptor as an MDL, reset as NT resets it. */
static inline PMDL nt_mdp_hand_out(struct nt_mdp_pool *handle,
				   struct scatterlist *sg, void *buf,
				   PVOID *Buffer)
{
	MDL *mdl;

	if (!sg)
		return NULL;
	mdl = buf + NT_POOL_MDL_OFFSET(handle->buffer_size);
	mdl->Next = NULL;
	mdl->nt_flags = MDL_SOURCE_IS_NONPAGED_POOL;
	mdl->nt_magic = NT_MDL_MAGIC_POOL;
	mdl->nt_byte_count = handle->buffer_size;
	mdl->nt_max_byte_count = handle->buffer_size;
	mdl->nt_nr_pages = 1;
	mdl->nt_va = buf;
	mdl->nt_system_va = buf;
	mdl->nt_sgl = sg;
	mdl->nt_pin = NULL;
	mdl->nt_pfns[0] = page_to_pfn(sg_page(sg));
	/* The pool reset the length to its own size, which includes the MDL. */
	sg->length = handle->buffer_size;
	*Buffer = buf;
	return mdl;
}

/* At PASSIVE_LEVEL or DISPATCH_LEVEL, as in NT. */
static inline PMDL MdpAllocate(HANDLE PoolHandle, PVOID *Buffer)
{
	struct nt_mdp_pool *handle = PoolHandle;
	struct scatterlist *sg;
	void *buf;

	*Buffer = NULL;
	sg = mdlpool_alloc(handle->pool, &buf);
	return nt_mdp_hand_out(handle, sg, buf, Buffer);
}

/* At DISPATCH_LEVEL only (bottom halves off), as in NT. */
static inline PMDL MdpAllocateAtDpcLevel(HANDLE PoolHandle, PVOID *Buffer)
{
	struct nt_mdp_pool *handle = PoolHandle;
	struct scatterlist *sg;
	void *buf;

	*Buffer = NULL;
	sg = mdlpool_alloc_bh(handle->pool, &buf);
	return nt_mdp_hand_out(handle, sg, buf, Buffer);
}

/*
 * From any CPU at or below DISPATCH_LEVEL.  NT bugchecks on an MDL the
 * pool did not hand out; here such a free is refused with a warning (by
 * this header for an MDL that is not a pool MDL, or whose magic a buffer
 * overrun spoiled, by the pool for a pool MDL whose descriptor was
 * altered or that is already free) and the memory stays as it was.
 *
 * Nothing is written to the MDL, not even to mark it freed: once the pool
 * accepts, the block is the pool's; when it refuses, a racing free of the
 * same MDL may have won and the block may already be another caller's.
 * A second free of the MDL is refused by the pool's own double-free check.
 */
static inline VOID MdpFree(PMDL Mdl)
{
	if (WARN_ONCE(Mdl->nt_magic != NT_MDL_MAGIC_POOL,
		      "nt_compat: %s(%p): not an MDL from an MDL pool\n",
		      __func__, Mdl))
		return;
	mdlpool_free(Mdl->nt_sgl);
}

/* ---------------------------------------------------------------------
 * MDLs for memory that is not the pool's.
 */

/* NT's limit (Windows 7 on): 4 GiB less a page. */
#define NT_MDL_MAX_BYTES	((ULONG)(0x100000000ULL - PAGE_SIZE))

/**
 * struct nt_mdl_pin - user pages pinned by MmProbeAndLockPages()
 * @node: entry on the deferred-release list
 * @vaddr: vmap() of @pages, or NULL
 * @nr_pages: entries in @pages
 * @dirty: the pages were locked for writing: dirty them on release, and
 *	only then may a kernel mapping of them be writable
 * @pages: the pinned pages
 */
struct nt_mdl_pin {
	struct llist_node node;
	void *vaddr;
	unsigned int nr_pages;
	bool dirty;
	struct page *pages[];
};

static inline void nt_mdl_pin_release(struct nt_mdl_pin *pin)
{
	if (pin->vaddr)
		vunmap(pin->vaddr);
	unpin_user_pages_dirty_lock(pin->pages, pin->nr_pages, pin->dirty);
	kvfree(pin);
}

/*
 * Dirtying pages and vunmap() sleep, but NT unlocks MDLs at DISPATCH_LEVEL
 * (in completion routines).  Such releases go on a list that a work item
 * empties.  The list and work item are per file that includes this
 * header, so a module's exit can wait for its own: see
 * nt_compat_flush_deferred().
 */
static inline void nt_deferred_fn(struct work_struct *work);

static inline struct llist_head *nt_deferred_list(void)
{
	static LLIST_HEAD(list);

	return &list;
}

static inline struct work_struct *nt_deferred_work(void)
{
	static DECLARE_WORK(work, nt_deferred_fn);

	return &work;
}

static inline void nt_deferred_fn(struct work_struct *work)
{
	struct llist_node *list = llist_del_all(nt_deferred_list());
	struct nt_mdl_pin *pin, *tmp;

	llist_for_each_entry_safe(pin, tmp, list, node)
		nt_mdl_pin_release(pin);
}

/**
 * nt_compat_flush_deferred - wait for unlocks deferred from DISPATCH_LEVEL
 *
 * Linux glue, not an NT name.  Call it in the module exit path of every
 * file that calls MmUnlockPages() or IoFreeMdl(), so that no release is
 * still queued when the module's code goes away.
 *
 * Context: process context; sleeps.
 */
static inline void nt_compat_flush_deferred(void)
{
	flush_work(nt_deferred_work());
}

/*
 * An MDL for VirtualAddress..+Length, which may span many pages.  Its pages
 * are not described until MmBuildMdlForNonPagedPool() or
 * MmProbeAndLockPages().  There are no IRPs: an Irp is refused (NULL).
 * SecondaryBuffer and ChargeQuota matter only with an IRP and are ignored.
 * Length 0 or more than 4 GiB less a page is refused, and so is a range
 * that wraps past the top of the address space: its page count and every
 * address computed from it would be wrong.
 */
static inline PMDL IoAllocateMdl(PVOID VirtualAddress, ULONG Length,
				 BOOLEAN SecondaryBuffer, BOOLEAN ChargeQuota,
				 PIRP Irp)
{
	ULONG_PTR last;
	ULONG pages;
	MDL *mdl;

	if (Irp) {
		pr_warn_once("nt_compat: IoAllocateMdl() with an IRP refused: there are no IRPs\n");
		return NULL;
	}
	if (!Length || Length > NT_MDL_MAX_BYTES ||
	    check_add_overflow((ULONG_PTR)VirtualAddress, (ULONG_PTR)Length - 1,
			       &last))
		return NULL;
	pages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(VirtualAddress, Length);
	mdl = nt_alloc(size_add(struct_size(mdl, nt_pfns, pages),
				array_size(pages, sizeof(struct scatterlist))));
	if (!mdl)
		return NULL;
	mdl->nt_magic = NT_MDL_MAGIC_IO;
	mdl->nt_byte_count = Length;
	mdl->nt_max_byte_count = Length;
	mdl->nt_nr_pages = pages;
	mdl->nt_va = VirtualAddress;
	mdl->nt_sgl = (struct scatterlist *)&mdl->nt_pfns[pages];
	sg_init_table(mdl->nt_sgl, pages);
	return mdl;
}

static inline bool nt_mdl_check_io(const MDL *mdl, const char *what)
{
	return !WARN_ONCE(mdl->nt_magic != NT_MDL_MAGIC_IO,
			  "nt_compat: %s(%p): not an MDL from IoAllocateMdl()\n",
			  what, mdl);
}

/* Fill the PFN array from kernel memory; false if a page is not kernel memory. */
static inline bool nt_mdl_describe_kernel(MDL *mdl)
{
	ULONG_PTR base = (ULONG_PTR)MmGetMdlBaseVa(mdl);
	ULONG i;

	for (i = 0; i < mdl->nt_nr_pages; i++) {
		struct page *page = nt_kernel_page((void *)(base + i * PAGE_SIZE));

		if (!page)
			return false;
		mdl->nt_pfns[i] = page_to_pfn(page);
	}
	nt_mdl_layout(mdl);
	mdl->nt_system_va = mdl->nt_va;
	return true;
}

/*
 * Describe driver-owned kernel memory (kmalloc, vmalloc, ExAllocatePool,
 * module data, a vmapped stack).  Any IRQL up to DISPATCH_LEVEL.  An
 * address that is not kernel memory with a struct page (device memory
 * from ioremap(), say) is refused with an error line where NT would
 * bugcheck, and leaves the MDL undescribed: MmGetSystemAddressForMdlSafe()
 * then returns NULL.
 */
static inline VOID MmBuildMdlForNonPagedPool(PMDL MemoryDescriptorList)
{
	MDL *mdl = MemoryDescriptorList;

	if (mdl->nt_magic == NT_MDL_MAGIC_POOL)
		return;		/* the pool built it so already */
	if (!nt_mdl_check_io(mdl, __func__) ||
	    WARN_ONCE(nt_mdl_described(mdl),
		      "nt_compat: %s(%p): already built or locked\n",
		      __func__, mdl))
		return;
	if (!nt_mdl_describe_kernel(mdl)) {
		pr_err_ratelimited("nt_compat: %s(%p): refused: %p..+%u is not kernel memory with a struct page (device memory?)\n",
				   __func__, mdl, mdl->nt_va,
				   mdl->nt_max_byte_count);
		return;
	}
	mdl->nt_flags |= MDL_SOURCE_IS_NONPAGED_POOL;
}

/*
 * Lock the pages an MDL describes.  NT returns nothing and raises an
 * exception on a bad address; there is no SEH here, so this returns the
 * status the exception would have carried and the caller must check it:
 *
 * - a user address (any AccessMode) is pinned with pin_user_pages_fast()
 *   (FOLL_LONGTERM: an NT lock has no time limit; FOLL_WRITE unless
 *   IoReadAccess).  PASSIVE_LEVEL only: a fault may sleep.  Returns
 *   STATUS_ACCESS_VIOLATION if any page cannot be had that way (unmapped,
 *   read-only for a write lock, ...), with nothing left pinned;
 * - a kernel address is accepted with KernelMode only (a UserMode probe
 *   of it fails as in NT) and is described as MmBuildMdlForNonPagedPool()
 *   does: kernel memory is never paged, so nothing is pinned;
 * - above PASSIVE_LEVEL a user address is refused with
 *   STATUS_INVALID_DEVICE_STATE; an MDL already built or locked, or a pool
 *   MDL, with STATUS_INVALID_PARAMETER.
 */
static inline __must_check NTSTATUS
MmProbeAndLockPages(PMDL MemoryDescriptorList, KPROCESSOR_MODE AccessMode,
		    LOCK_OPERATION Operation)
{
	MDL *mdl = MemoryDescriptorList;
	ULONG_PTR start = (ULONG_PTR)MmGetMdlBaseVa(mdl);
	struct nt_mdl_pin *pin;
	unsigned int gup = FOLL_LONGTERM;
	ULONG i;
	int got;

	if (mdl->nt_magic != NT_MDL_MAGIC_IO || nt_mdl_described(mdl))
		return STATUS_INVALID_PARAMETER;
	if (!access_ok(mdl->nt_va, mdl->nt_max_byte_count)) {
		if (AccessMode != KernelMode || !nt_mdl_describe_kernel(mdl))
			return STATUS_ACCESS_VIOLATION;
		mdl->nt_flags |= MDL_PAGES_LOCKED;
		return STATUS_SUCCESS;
	}
	if (KeGetCurrentIrql() != PASSIVE_LEVEL)
		return STATUS_INVALID_DEVICE_STATE;

	pin = kvzalloc(struct_size(pin, pages, mdl->nt_nr_pages), GFP_KERNEL);
	if (!pin)
		return STATUS_INSUFFICIENT_RESOURCES;
	pin->dirty = Operation != IoReadAccess;
	if (pin->dirty)
		gup |= FOLL_WRITE;
	got = pin_user_pages_fast(start, mdl->nt_nr_pages, gup, pin->pages);
	if (got != (int)mdl->nt_nr_pages) {
		if (got > 0)
			unpin_user_pages(pin->pages, got);
		kvfree(pin);
		return got == -ENOMEM ? STATUS_INSUFFICIENT_RESOURCES :
					STATUS_ACCESS_VIOLATION;
	}
	pin->nr_pages = got;
	for (i = 0; i < mdl->nt_nr_pages; i++)
		mdl->nt_pfns[i] = page_to_pfn(pin->pages[i]);
	nt_mdl_layout(mdl);
	mdl->nt_pin = pin;
	mdl->nt_flags |= MDL_PAGES_LOCKED;
	if (pin->dirty)
		mdl->nt_flags |= MDL_WRITE_OPERATION;
	return STATUS_SUCCESS;
}

/*
 * Undo MmProbeAndLockPages(), including any kernel mapping.  At
 * PASSIVE_LEVEL the pages are released now; at DISPATCH_LEVEL (NT allows
 * it) the release is deferred to a work item, because dirtying pages and
 * vunmap() sleep.  Either way the MDL is unlocked when this returns.
 */
static inline VOID MmUnlockPages(PMDL MemoryDescriptorList)
{
	MDL *mdl = MemoryDescriptorList;
	struct nt_mdl_pin *pin = mdl->nt_pin;

	if (!nt_mdl_check_io(mdl, __func__) ||
	    WARN_ONCE(!(mdl->nt_flags & MDL_PAGES_LOCKED),
		      "nt_compat: %s(%p): not locked\n", __func__, mdl))
		return;
	mdl->nt_pin = NULL;
	mdl->nt_system_va = NULL;
	mdl->nt_flags &= ~(MDL_PAGES_LOCKED | MDL_WRITE_OPERATION |
			   MDL_MAPPED_TO_SYSTEM_VA);
	if (!pin)
		return;
	if (KeGetCurrentIrql() == PASSIVE_LEVEL) {
		nt_mdl_pin_release(pin);
		return;
	}
	if (llist_add(&pin->node, nt_deferred_list()))
		schedule_work(nt_deferred_work());
}

/* The kernel address of an MDL's first byte, making a mapping if needed. */
static inline PVOID nt_mdl_map(MDL *mdl)
{
	struct nt_mdl_pin *pin = mdl->nt_pin;

	if (!nt_mdl_described(mdl))
		return NULL;		/* NT would bugcheck: nothing to map */
	if (!pin)
		return mdl->nt_va;	/* kernel memory: its own address */
	if (mdl->nt_system_va)
		return mdl->nt_system_va;
	if (pin->vaddr) {
		/* Kept from before an unmap at DISPATCH_LEVEL: reuse it. */
		mdl->nt_system_va = pin->vaddr + MmGetMdlByteOffset(mdl);
	} else if (pin->dirty && pin->nr_pages == 1 &&
		   !PageHighMem(pin->pages[0])) {
		mdl->nt_system_va = page_address(pin->pages[0]) +
				    MmGetMdlByteOffset(mdl);
	} else {
		/* vmap() sleeps: a new mapping needs PASSIVE_LEVEL. */
		if (KeGetCurrentIrql() != PASSIVE_LEVEL)
			return NULL;
		/*
		 * Pages locked for IoReadAccess may be ones the caller cannot
		 * write (the zero page, page cache, pages shared copy-on-write
		 * with another process): the direct map would let the driver
		 * write them, so they get a read-only mapping of their own.
		 */
		pin->vaddr = vmap(pin->pages, pin->nr_pages, VM_MAP,
				  pin->dirty ? PAGE_KERNEL : PAGE_KERNEL_RO);
		if (!pin->vaddr)
			return NULL;
		mdl->nt_system_va = pin->vaddr + MmGetMdlByteOffset(mdl);
	}
	mdl->nt_flags |= MDL_MAPPED_TO_SYSTEM_VA;
	return mdl->nt_system_va;
}

/*
 * The kernel address of a described MDL.  Pool MDLs and kernel memory are
 * their own address.  Locked user pages are mapped: one page locked for
 * writing through the direct map at any level up to DISPATCH_LEVEL; pages
 * locked for IoReadAccess (read-only) and several pages through vmap(),
 * which needs PASSIVE_LEVEL; above it NULL is returned.  Map once at
 * PASSIVE_LEVEL and later calls at DISPATCH_LEVEL return that mapping.
 * Priority is accepted and ignored.
 */
static inline PVOID MmGetSystemAddressForMdlSafe(PMDL Mdl, ULONG Priority)
{
	if (KeGetCurrentIrql() > DISPATCH_LEVEL)
		return NULL;
	return nt_mdl_map(Mdl);
}

/*
 * Only kernel mappings exist (AccessMode KernelMode), only with the
 * kernel's own cache type (MmCached: a second mapping of RAM with another
 * cache type is an alias the CPU forbids), and only where Linux chooses the
 * address.  A constant UserMode or cache type other than MmCached is a
 * compile-time error; the same given at run time returns NULL, as does a
 * RequestedAddress.  BugCheckOnFailure cannot bugcheck: failure returns
 * NULL with a warning.
 */
static inline PVOID nt_map_locked_pages(PMDL MemoryDescriptorList,
					KPROCESSOR_MODE AccessMode,
					MEMORY_CACHING_TYPE CacheType,
					PVOID RequestedAddress,
					ULONG BugCheckOnFailure,
					ULONG Priority)
{
	PVOID va = NULL;

	if (AccessMode == KernelMode && CacheType == MmCached &&
	    !RequestedAddress && KeGetCurrentIrql() <= DISPATCH_LEVEL)
		va = nt_mdl_map(MemoryDescriptorList);
	WARN_ONCE(!va && BugCheckOnFailure,
		  "nt_compat: MmMapLockedPagesSpecifyCache(%p) failed and cannot bugcheck\n",
		  MemoryDescriptorList);
	return va;
}

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

/*
 * Drop the MDL's kernel mapping.  A vmap() is undone now at PASSIVE_LEVEL;
 * at DISPATCH_LEVEL it is kept until MmUnlockPages() (vunmap() sleeps).
 * Pool and kernel-memory MDLs have no mapping of their own to drop.
 */
static inline VOID MmUnmapLockedPages(PVOID BaseAddress, PMDL MemoryDescriptorList)
{
	MDL *mdl = MemoryDescriptorList;
	struct nt_mdl_pin *pin = mdl->nt_pin;

	if (!pin)
		return;
	if (WARN_ONCE(!(mdl->nt_flags & MDL_MAPPED_TO_SYSTEM_VA) ||
		      BaseAddress != mdl->nt_system_va,
		      "nt_compat: %s(%p, %p): not this MDL's mapping\n",
		      __func__, BaseAddress, mdl))
		return;
	mdl->nt_system_va = NULL;
	mdl->nt_flags &= ~MDL_MAPPED_TO_SYSTEM_VA;
	if (pin->vaddr && KeGetCurrentIrql() == PASSIVE_LEVEL) {
		vunmap(pin->vaddr);
		pin->vaddr = NULL;
	}
}

/*
 * Free an MDL from IoAllocateMdl().  It does not follow Next, as in NT.
 * An MDL still locked is unlocked first (NT would leave the pages locked
 * for good), with a warning.
 */
static inline VOID IoFreeMdl(PMDL Mdl)
{
	if (!nt_mdl_check_io(Mdl, __func__))
		return;
	if (WARN_ONCE(Mdl->nt_flags & MDL_PAGES_LOCKED,
		      "nt_compat: %s(%p): still locked\n", __func__, Mdl))
		MmUnlockPages(Mdl);
	Mdl->nt_magic = NT_MDL_MAGIC_DEAD;
	kvfree(Mdl);
}

#endif /* _NT_COMPAT_H */
