// SPDX-License-Identifier: GPL-2.0
/*
 * nt_compat - the NT kernel names of nt_compat.h, for driver code ported
 * from Windows NT that uses the MDL pool and MDLs.
 *
 * nt_compat.h has the NT types, constants, macros and the small inline
 * accessors; this module has everything else, exported to the modules
 * that include the header.  It depends on mdlpool.ko.
 *
 * State that must be shared by every user lives here, once:
 *
 * - the counter that makes Linux pool names unique ("nt-TAG-N"), so two
 *   modules that create pools with one tag never race for a name;
 *
 * - the work item that finishes what cannot be done where NT allows it:
 *   releasing user pages unlocked at DISPATCH_LEVEL (see "Deferred
 *   unlocks" below) and freeing vmalloc() blocks where the caller cannot
 *   sleep (see nt_kvfree()), so a user has nothing to flush at its module
 *   exit.
 *
 * Documentation/nt-porting.rst documents each NT name, and what
 * it does where Linux cannot give NT's meaning.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/ctype.h>
#include <linux/err.h>
#include <linux/export.h>
#include <linux/llist.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include "nt_compat.h"

/* ---------------------------------------------------------------------
 * Status codes and memory helpers.
 */

/**
 * nt_status_to_errno - the errno for an NTSTATUS
 * @status: an NT status code
 *
 * Linux glue, not an NT name: what a Linux caller (a write() handler, say)
 * returns for the status of NT code it ran.
 *
 * Context: any context.
 * Return: 0 for a success status, else a negative errno: -EFAULT, -EINVAL,
 * -ENOMEM, -ENOSPC, -EOPNOTSUPP or -EBUSY for the codes nt_compat.h
 * defines, -EIO for any other failure.
 */
int nt_status_to_errno(NTSTATUS status)
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
EXPORT_SYMBOL_GPL(nt_status_to_errno);

/**
 * RtlCompareMemory - length of the equal prefix of two buffers
 * @Source1: first buffer
 * @Source2: second buffer
 * @Length: bytes to compare
 *
 * Context: any context.
 * Return: the number of leading bytes that are equal, as NT returns it
 * (@Length if all are), not memcmp()'s sign.
 */
SIZE_T RtlCompareMemory(const VOID *Source1, const VOID *Source2, SIZE_T Length)
{
	const UCHAR *a = Source1, *b = Source2;
	SIZE_T i;

	for (i = 0; i < Length && a[i] == b[i]; i++)
		;
	return i;
}
EXPORT_SYMBOL_GPL(RtlCompareMemory);

/* ---------------------------------------------------------------------
 * Processors.
 */

static KAFFINITY nt_affinity_of(const struct cpumask *mask)
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

/**
 * KeQueryActiveProcessors - the online CPUs as an affinity mask
 *
 * KAFFINITY has one bit per CPU, so like one NT processor group it covers
 * CPUs 0 to BITS_PER_LONG - 1 only.
 *
 * Context: any context.
 * Return: a mask with bit N set for each online CPU N below BITS_PER_LONG.
 */
KAFFINITY KeQueryActiveProcessors(void)
{
	return nt_affinity_of(cpu_online_mask);
}
EXPORT_SYMBOL_GPL(KeQueryActiveProcessors);

/* Bind the calling task to Affinity; false if Linux refused. */
static bool nt_set_affinity(KAFFINITY affinity)
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

/**
 * KeSetSystemAffinityThreadEx - run the calling thread on given CPUs only
 * @Affinity: the CPUs allowed, one bit per CPU id
 *
 * The thread is on one of the CPUs in @Affinity when this returns.  NT
 * returns 0 the first time and reverts to the user's affinity on 0; here
 * the previous mask itself is returned and restored.  Refused, with a log
 * line and nothing changed, on machines with more CPU ids than KAFFINITY
 * has bits, for a thread Linux keeps bound, or for a mask with no online
 * CPU: the caller sees it through KeGetCurrentProcessorNumber().
 *
 * Context: process context (PASSIVE_LEVEL); sleeps.
 * Return: the previous affinity, for KeRevertToUserAffinityThreadEx().
 */
KAFFINITY KeSetSystemAffinityThreadEx(KAFFINITY Affinity)
{
	KAFFINITY old = nt_affinity_of(&current->cpus_mask);

	might_sleep();
	if (nr_cpu_ids > BITS_PER_LONG || !nt_set_affinity(Affinity))
		pr_warn_ratelimited("%s(%#lx) refused\n", __func__, Affinity);
	return old;
}
EXPORT_SYMBOL_GPL(KeSetSystemAffinityThreadEx);

/**
 * KeRevertToUserAffinityThreadEx - restore the calling thread's affinity
 * @Affinity: what KeSetSystemAffinityThreadEx() returned
 *
 * NT's 0 ("back to the user's affinity") is refused with a log line, and
 * so is anything KeSetSystemAffinityThreadEx() would refuse.
 *
 * Context: process context (PASSIVE_LEVEL); sleeps.
 * Return: nothing (VOID).
 */
VOID KeRevertToUserAffinityThreadEx(KAFFINITY Affinity)
{
	might_sleep();
	if (nr_cpu_ids > BITS_PER_LONG || !Affinity ||
	    !nt_set_affinity(Affinity))
		pr_warn_ratelimited("%s(%#lx) refused\n", __func__, Affinity);
}
EXPORT_SYMBOL_GPL(KeRevertToUserAffinityThreadEx);

/* ---------------------------------------------------------------------
 * Deferred work, for every user of this module: one work item runs what a
 * caller at DISPATCH_LEVEL cannot (nt_deferred_fn() below).
 */
static void nt_deferred_fn(struct work_struct *work);
static DECLARE_WORK(nt_deferred_work, nt_deferred_fn);

/* vmalloc() blocks freed where the caller could not sleep. */
static LLIST_HEAD(nt_deferred_vfree);

/*
 * kvfree() at any level up to DISPATCH_LEVEL.  A block from kvmalloc() at
 * PASSIVE_LEVEL may be vmalloc() memory, and vfree() may sleep: it hands
 * the block to the kernel's own worker in interrupt context (a softirq,
 * bottom halves off), but not under a spinlock, where NT code is at
 * DISPATCH_LEVEL too, and vfree_atomic() is not exported to modules.  So
 * wherever the caller may not sleep (an RCU reader, which a spinlock is on
 * PREEMPT_RT, included), the block waits for this module's worker.  It is
 * the caller's no more, so it carries its own link in its first bytes; a
 * vmalloc() block is at least a page.  Without CONFIG_PREEMPT_COUNT nothing
 * tells whether the caller may sleep, and preemptible() is always false:
 * every vmalloc() block then goes to the worker.
 */
static void nt_kvfree(void *p)
{
	if (!is_vmalloc_addr(p) || (preemptible() && !rcu_preempt_depth())) {
		kvfree(p);
		return;
	}
	if (llist_add(p, &nt_deferred_vfree))
		schedule_work(&nt_deferred_work);
}

/* ---------------------------------------------------------------------
 * Executive pool.
 */

/*
 * Pool memory follows the caller's IRQL, as NT's non-paged pool: what may
 * sleep at PASSIVE_LEVEL, what may not at DISPATCH_LEVEL, nothing above.
 * Paged pool keeps NT's rule that it needs PASSIVE_LEVEL.
 */
static void *nt_pool_alloc(bool paged, SIZE_T size, bool zero)
{
	gfp_t zeroed = zero ? __GFP_ZERO : 0;
	KIRQL irql = KeGetCurrentIrql();

	if (irql == PASSIVE_LEVEL)
		return kvmalloc(size, GFP_KERNEL | zeroed);
	if (irql == DISPATCH_LEVEL && !paged)
		return kmalloc(size, GFP_ATOMIC | __GFP_NOWARN | zeroed);
	return NULL;
}

/* The pool types there are; NULL from the callers for any other. */
static bool nt_pool_type_paged(POOL_TYPE type, bool *paged)
{
	switch (type) {
	case PagedPool:
		*paged = true;
		return true;
	case NonPagedPool:
	case NonPagedPoolNx:
		*paged = false;
		return true;
	default:
		return false;
	}
}

/**
 * ExAllocatePoolWithTag - allocate kernel memory
 * @PoolType: NonPagedPool, NonPagedPoolNx or PagedPool
 * @NumberOfBytes: size of the block
 * @Tag: accepted and not recorded
 *
 * Linux kernel memory is never paged, so PagedPool gets resident memory
 * too; it keeps NT's rule that it needs PASSIVE_LEVEL.  At PASSIVE_LEVEL
 * the block comes from kvmalloc(GFP_KERNEL), at DISPATCH_LEVEL from
 * kmalloc(GFP_ATOMIC).  Not zeroed.
 *
 * Context: PASSIVE_LEVEL (sleeps) or DISPATCH_LEVEL (PagedPool: PASSIVE_LEVEL
 * only).
 * Return: the block, free it with ExFreePoolWithTag() or ExFreePool(); NULL
 * if there is no memory, for another pool type, or above DISPATCH_LEVEL.
 */
PVOID ExAllocatePoolWithTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
	bool paged;

	if (!nt_pool_type_paged(PoolType, &paged))
		return NULL;
	return nt_pool_alloc(paged, NumberOfBytes, false);
}
EXPORT_SYMBOL_GPL(ExAllocatePoolWithTag);

/**
 * ExAllocatePoolZero - allocate zeroed kernel memory
 * @PoolType: as for ExAllocatePoolWithTag()
 * @NumberOfBytes: size of the block
 * @Tag: accepted and not recorded
 *
 * Context: as ExAllocatePoolWithTag().
 * Return: as ExAllocatePoolWithTag(), the block zeroed.
 */
PVOID ExAllocatePoolZero(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
	bool paged;

	if (!nt_pool_type_paged(PoolType, &paged))
		return NULL;
	return nt_pool_alloc(paged, NumberOfBytes, true);
}
EXPORT_SYMBOL_GPL(ExAllocatePoolZero);

/**
 * ExAllocatePoolUninitialized - ExAllocatePoolWithTag() by its newer name
 * @PoolType: as for ExAllocatePoolWithTag()
 * @NumberOfBytes: size of the block
 * @Tag: accepted and not recorded
 *
 * Context: as ExAllocatePoolWithTag().
 * Return: as ExAllocatePoolWithTag().
 */
PVOID ExAllocatePoolUninitialized(POOL_TYPE PoolType, SIZE_T NumberOfBytes,
				  ULONG Tag)
{
	return ExAllocatePoolWithTag(PoolType, NumberOfBytes, Tag);
}
EXPORT_SYMBOL_GPL(ExAllocatePoolUninitialized);

#define NT_POOL_FLAGS_KNOWN	(POOL_FLAG_USE_QUOTA | POOL_FLAG_UNINITIALIZED | \
				 POOL_FLAG_SESSION | POOL_FLAG_CACHE_ALIGNED | \
				 POOL_FLAG_RAISE_ON_FAILURE | \
				 POOL_FLAG_NON_PAGED | \
				 POOL_FLAG_NON_PAGED_EXECUTE | POOL_FLAG_PAGED)
/* NT's required flags are the low 32 bits; the others may be ignored. */
#define NT_POOL_FLAGS_REQUIRED	0x00000000ffffffffULL

/* Why ExAllocatePool2() cannot do what @flags ask, or NULL if it can. */
static const char *nt_pool_flags_refused(POOL_FLAGS flags)
{
	POOL_FLAGS type = flags & (POOL_FLAG_NON_PAGED | POOL_FLAG_PAGED |
				   POOL_FLAG_NON_PAGED_EXECUTE);

	if (flags & NT_POOL_FLAGS_REQUIRED & ~NT_POOL_FLAGS_KNOWN)
		return "an unknown required flag";
	if (flags & POOL_FLAG_NON_PAGED_EXECUTE)
		return "executable pool: kernel heap is never executable";
	if (flags & POOL_FLAG_SESSION)
		return "session pool: there are no sessions";
	if (flags & POOL_FLAG_RAISE_ON_FAILURE)
		return "POOL_FLAG_RAISE_ON_FAILURE: no structured exceptions, failure is NULL";
	if (type != POOL_FLAG_NON_PAGED && type != POOL_FLAG_PAGED)
		return "not exactly one of POOL_FLAG_NON_PAGED and POOL_FLAG_PAGED";
	return NULL;
}

/*
 * kmalloc() aligns a block of a power-of-two size to that size; larger
 * blocks come whole pages at a time.
 */
static SIZE_T nt_cache_aligned_size(SIZE_T size)
{
	if (size >= PAGE_SIZE)
		return size;
	return roundup_pow_of_two(max_t(SIZE_T, size, L1_CACHE_BYTES));
}

/**
 * ExAllocatePool2 - allocate kernel memory, zeroed unless asked not to
 * @Flags: POOL_FLAG_NON_PAGED or POOL_FLAG_PAGED, with POOL_FLAG_UNINITIALIZED,
 *	POOL_FLAG_CACHE_ALIGNED, POOL_FLAG_USE_QUOTA (ignored) or
 *	POOL_FLAG_SPECIAL_POOL (ignored)
 * @NumberOfBytes: size of the block
 * @Tag: accepted and not recorded
 *
 * As ExAllocatePoolWithTag() for the pool type the flags name.  Flags Linux
 * cannot honour (executable or session pool, raising on failure, unknown
 * required flags, no pool type or two) are refused with a message.
 *
 * Context: as ExAllocatePoolWithTag().
 * Return: the block, free it with ExFreePoolWithTag() or ExFreePool(); NULL
 * if there is no memory, for refused flags, or at a level the pool type
 * does not allow.
 */
PVOID ExAllocatePool2(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag)
{
	const char *why = nt_pool_flags_refused(Flags);

	if (why) {
		pr_err_ratelimited("%s(0x%llx) refused: %s\n", __func__,
				   (unsigned long long)Flags, why);
		return NULL;
	}
	if (Flags & POOL_FLAG_CACHE_ALIGNED)
		NumberOfBytes = nt_cache_aligned_size(NumberOfBytes);
	return nt_pool_alloc(Flags & POOL_FLAG_PAGED, NumberOfBytes,
			     !(Flags & POOL_FLAG_UNINITIALIZED));
}
EXPORT_SYMBOL_GPL(ExAllocatePool2);

/**
 * ExAllocatePool3 - ExAllocatePool2() with extended parameters
 * @Flags: as for ExAllocatePool2()
 * @NumberOfBytes: size of the block
 * @Tag: accepted and not recorded
 * @ExtendedParameters: must be NULL
 * @ExtendedParametersCount: must be 0
 *
 * None of NT's extended parameters (priority, secure pool, NUMA node) is
 * supported: a call with any is refused with a message.
 *
 * Context: as ExAllocatePoolWithTag().
 * Return: as ExAllocatePool2(); NULL if extended parameters are given.
 */
PVOID ExAllocatePool3(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag,
		      PCPOOL_EXTENDED_PARAMETER ExtendedParameters,
		      ULONG ExtendedParametersCount)
{
	if (ExtendedParameters || ExtendedParametersCount) {
		pr_err_ratelimited("%s: %u extended parameters refused: none is supported\n",
				   __func__, ExtendedParametersCount);
		return NULL;
	}
	return ExAllocatePool2(Flags, NumberOfBytes, Tag);
}
EXPORT_SYMBOL_GPL(ExAllocatePool3);

/**
 * ExFreePoolWithTag - free a block from ExAllocatePoolWithTag()
 * @P: the block, or NULL
 * @Tag: ignored
 *
 * A vmalloc() block (a large one from PASSIVE_LEVEL) freed where the
 * caller cannot sleep, under a Linux spinlock say, is freed a little
 * later by this module's worker.
 *
 * Context: PASSIVE_LEVEL or DISPATCH_LEVEL.
 * Return: nothing (VOID).
 */
VOID ExFreePoolWithTag(PVOID P, ULONG Tag)
{
	nt_kvfree(P);
}
EXPORT_SYMBOL_GPL(ExFreePoolWithTag);

/**
 * ExFreePool - free a block from ExAllocatePoolWithTag()
 * @P: the block, or NULL
 *
 * Context: as ExFreePoolWithTag().
 * Return: nothing (VOID).
 */
VOID ExFreePool(PVOID P)
{
	nt_kvfree(P);
}
EXPORT_SYMBOL_GPL(ExFreePool);

/* ---------------------------------------------------------------------
 * MDLs.
 */

/* Values of nt_state: how an MDL's pages came to be described. */
#define NT_STATE_BUILT		BIT(0)	/* kernel memory (not pinned) */
#define NT_STATE_LOCKED		BIT(1)	/* MmProbeAndLockPages() */
#define NT_STATE_PARTIAL	BIT(2)	/* IoBuildPartialMdl(): borrowed */
#define NT_STATE_PAGES		BIT(3)	/* MmAllocatePagesForMdlEx() */
#define NT_STATE_ADOPTED	BIT(4)	/* a PFN array the driver wrote */

/*
 * The MdlFlags bits drivers set as hints.  They are kept and change
 * nothing: every mapping here may fail, and says so with NULL.
 */
#define NT_FLAGS_HINTS	(MDL_ALLOCATED_FIXED_SIZE | MDL_IO_PAGE_READ | \
			 MDL_NETWORK_HEADER | MDL_MAPPING_CAN_FAIL | \
			 MDL_PAGE_CONTENTS_INVARIANT)
/* The bits nt_compat.ko keeps, which the driver may read and flip. */
#define NT_FLAGS_KEPT	(MDL_MAPPED_TO_SYSTEM_VA | MDL_PAGES_LOCKED | \
			 MDL_SOURCE_IS_NONPAGED_POOL | MDL_PARTIAL | \
			 MDL_PARTIAL_HAS_BEEN_MAPPED | MDL_WRITE_OPERATION)

/* MdlFlags as nt_compat.ko leaves them: what nt_mdl_follow() compares with. */
static void nt_mdl_set_flags(MDL *mdl, CSHORT flags)
{
	WRITE_ONCE(mdl->nt_flags_seen, flags);
	WRITE_ONCE(mdl->MdlFlags, flags);
}

static void nt_mdl_add_flags(MDL *mdl, CSHORT flags)
{
	nt_mdl_set_flags(mdl, READ_ONCE(mdl->MdlFlags) | flags);
}

static void nt_mdl_drop_flags(MDL *mdl, CSHORT flags)
{
	nt_mdl_set_flags(mdl, READ_ONCE(mdl->MdlFlags) & ~flags);
}

static void nt_mdl_follow(MDL *mdl, const char *what);

static void nt_mdl_set_va(MDL *mdl, PVOID va)
{
	mdl->StartVa = (PVOID)((ULONG_PTR)va & PAGE_MASK);
	mdl->ByteOffset = BYTE_OFFSET(va);
	mdl->nt_va_seen = va;
}

/*
 * Lay the scatterlist table out over the PFN array for the current byte
 * count: one entry per page in use, the last of them marked as the end.
 * Entries past it are left alone: a partial MDL fills only the PFNs of
 * the pages it uses.
 */
static void nt_mdl_layout(MDL *mdl)
{
	ULONG used = nt_mdl_pages_used(mdl, mdl->ByteCount);
	ULONG left = mdl->ByteCount;
	ULONG off = mdl->ByteOffset;
	ULONG i;

	mdl->nt_sg_count = mdl->ByteCount;
	if (mdl->nt_magic == NT_MDL_MAGIC_POOL) {
		mdl->nt_sgl->length = mdl->ByteCount;
		return;
	}

	for (i = 0; i < used; i++) {
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
 * NdisAdjustMdlLength - set an MDL's byte count
 * @Mdl: a pool MDL or one from IoAllocateMdl()
 * @Length: the new byte count
 *
 * What NDIS drivers do to trim a buffer they fill: the same as a write of
 * Mdl->ByteCount, followed at once.  The scatterlist follows.  An MDL
 * cannot grow past what it was made for (the pool's buffer size,
 * IoAllocateMdl()'s Length), nor past what its pages describe once built
 * or locked: that is refused with a warning.
 *
 * Context: any context.
 * Return: nothing (VOID).
 */
VOID NdisAdjustMdlLength(PMDL Mdl, ULONG Length)
{
	nt_mdl_follow(Mdl, __func__);
	if (WARN_ONCE(Length > Mdl->nt_max_byte_count,
		      "nt_compat: MDL %p cannot grow to %u bytes (at most %u)\n",
		      Mdl, Length, Mdl->nt_max_byte_count))
		return;
	Mdl->ByteCount = Length;
	if (nt_mdl_described(Mdl))
		nt_mdl_layout(Mdl);
}
EXPORT_SYMBOL_GPL(NdisAdjustMdlLength);

/*
 * A page mapped in vmalloc space.  I/O mappings (ioremap()) live there too,
 * and their page frames have no struct page: vmalloc_to_page() turns such
 * a frame into a pointer all the same, and with classic SPARSEMEM even
 * page_to_pfn() of that pointer reads memory that does not exist.  So the
 * frame number is checked before it becomes a page.
 */
static struct page *nt_vmalloc_page(const void *addr)
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
static struct page *nt_kernel_page(const void *addr)
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

/**
 * MmGetPhysicalAddress - the physical address behind a kernel address
 * @BaseAddress: a direct-map, vmalloc or module address
 *
 * Context: any context.
 * Return: page_to_phys() of the page plus the offset in it; 0 if there is
 * none (user addresses included), as NT answers for an invalid address.
 */
PHYSICAL_ADDRESS MmGetPhysicalAddress(PVOID BaseAddress)
{
	struct page *page = nt_kernel_page(BaseAddress);
	PHYSICAL_ADDRESS pa;

	pa.QuadPart = page ? (LONGLONG)page_to_phys(page) +
			     offset_in_page(BaseAddress) : 0;
	return pa;
}
EXPORT_SYMBOL_GPL(MmGetPhysicalAddress);

/* ---------------------------------------------------------------------
 * The MDL pool.
 *
 * A pool buffer is [caller's BufferSize bytes | pad | MDL | its PFNs].  The
 * MDL's scatterlist is the pool's own descriptor, trimmed to BufferSize.  A
 * buffer may cross pages inside its slab, which is physically contiguous,
 * so its PFNs follow each other; room is kept for the most pages a buffer
 * of that size can touch, wherever in a page it starts.
 */
#define NT_POOL_MDL_OFFSET(size)	ALIGN((size_t)(size), sizeof(void *))
#define NT_POOL_MAX_SPAN(size)		((size_t)(size) / PAGE_SIZE + 2)
#define NT_POOL_MDL_BYTES(size)		\
	(sizeof(MDL) + NT_POOL_MAX_SPAN(size) * sizeof(PFN_NUMBER))

/* The handle: the Linux pool and the size the NT caller asked for. */
struct nt_mdp_pool {
	struct mdlpool *pool;
	ULONG buffer_size;
};

/*
 * The N of the pool names "nt-TAG-N": one counter for every user of this
 * module, so two modules creating pools never try the same name.
 */
static atomic_t nt_pool_seq = ATOMIC_INIT(0);

/**
 * nt_mdp_max_buffer_size - the largest BufferSize MdpCreatePool() accepts
 *
 * Linux glue, not an NT name.  A pool created with mdlpool's debug_checks
 * on accepts 16 bytes less (its redzone).
 *
 * Context: any context.
 * Return: mdlpool_max_buffer_size() less the MDL and its PFNs, rounded
 * down to 8 bytes.
 */
ULONG nt_mdp_max_buffer_size(void)
{
	size_t max = mdlpool_max_buffer_size();

	return ALIGN_DOWN(max - NT_POOL_MDL_BYTES(max), sizeof(void *));
}
EXPORT_SYMBOL_GPL(nt_mdp_max_buffer_size);

/**
 * MdpCreatePool - create an MDL pool
 * @BufferSize: bytes of each buffer, 1 to nt_mdp_max_buffer_size()
 * @Tag: the pool's tag, shown in debugfs
 *
 * Linux pools need unique names; NT pools have only a tag.  The name is
 * "nt-TAG-N", N counting up, for all modules together, past names already
 * taken.  A pool created with mdlpool's debug_checks on keeps a redzone
 * after each buffer, which costs another 16 bytes of the largest
 * BufferSize.
 *
 * Context: process context (PASSIVE_LEVEL); sleeps.  NT allowed
 * DISPATCH_LEVEL: a call above PASSIVE_LEVEL is refused with a log line.
 * Return: the pool's handle, or NULL if refused or out of memory.
 */
HANDLE MdpCreatePool(USHORT BufferSize, ULONG Tag)
{
	char name[MDLPOOL_NAME_MAX + 1];
	struct nt_mdp_pool *handle;
	struct mdlpool *pool;
	char tag[5];
	int i;

	if (!BufferSize || BufferSize > nt_mdp_max_buffer_size())
		return NULL;
	if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
		pr_warn_once("%s() refused above PASSIVE_LEVEL\n", __func__);
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
			 (unsigned int)atomic_inc_return(&nt_pool_seq));
		pool = mdlpool_create(name, NT_POOL_MDL_OFFSET(BufferSize) +
					    NT_POOL_MDL_BYTES(BufferSize), Tag);
	} while (IS_ERR(pool) && PTR_ERR(pool) == -EEXIST);
	if (IS_ERR(pool)) {
		kfree(handle);
		return NULL;
	}
	handle->pool = pool;
	handle->buffer_size = BufferSize;
	return handle;
}
EXPORT_SYMBOL_GPL(MdpCreatePool);

/**
 * MdpDestroyPool - destroy an MDL pool
 * @PoolHandle: from MdpCreatePool(), or NULL
 *
 * NT asserts that no buffer is out; Linux's pool refuses to destroy a pool
 * with buffers out (it warns) and leaves pool and handle intact.
 *
 * Context: process context (PASSIVE_LEVEL); sleeps.  Refused above it.
 * Return: nothing (VOID).
 */
VOID MdpDestroyPool(HANDLE PoolHandle)
{
	struct nt_mdp_pool *handle = PoolHandle;

	if (!handle)
		return;
	if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
		pr_warn_once("%s() refused above PASSIVE_LEVEL\n", __func__);
		return;
	}
	if (mdlpool_destroy(handle->pool))
		return;
	kfree(handle);
}
EXPORT_SYMBOL_GPL(MdpDestroyPool);

/* Dress a pool descriptor as an MDL, reset as NT resets it. */
static PMDL nt_mdp_hand_out(struct nt_mdp_pool *handle, struct scatterlist *sg,
			    void *buf, PVOID *Buffer)
{
	unsigned long pfn;
	MDL *mdl;
	ULONG i;

	if (!sg)
		return NULL;
	mdl = buf + NT_POOL_MDL_OFFSET(handle->buffer_size);
	mdl->Next = NULL;
	nt_mdl_set_flags(mdl, MDL_SOURCE_IS_NONPAGED_POOL);
	mdl->nt_magic = NT_MDL_MAGIC_POOL;
	mdl->nt_nr_pages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(buf, handle->buffer_size);
	mdl->Size = struct_size(mdl, nt_pfns, mdl->nt_nr_pages);
	mdl->Process = NULL;
	mdl->ByteCount = handle->buffer_size;
	mdl->nt_max_byte_count = handle->buffer_size;
	mdl->nt_alloc_byte_count = handle->buffer_size;
	nt_mdl_set_va(mdl, buf);
	mdl->MappedSystemVa = buf;
	mdl->nt_kva = buf;
	mdl->nt_sgl = sg;
	mdl->nt_pin = NULL;
	mdl->nt_state = 0;
	mdl->nt_lock_failed = 0;
	pfn = page_to_pfn(sg_page(sg));
	for (i = 0; i < mdl->nt_nr_pages; i++)
		mdl->nt_pfns[i] = pfn + i;
	/* The pool reset the length to its own size, which includes the MDL. */
	nt_mdl_layout(mdl);
	*Buffer = buf;
	return mdl;
}

/**
 * MdpAllocate - take a buffer and its MDL from a pool
 * @PoolHandle: from MdpCreatePool()
 * @Buffer: set to the buffer, or NULL
 *
 * The MDL comes back with its byte count reset to the pool's BufferSize
 * and Next cleared.
 *
 * Context: PASSIVE_LEVEL or DISPATCH_LEVEL, as in NT.
 * Return: the MDL, or NULL if there is no memory.
 */
PMDL MdpAllocate(HANDLE PoolHandle, PVOID *Buffer)
{
	struct nt_mdp_pool *handle = PoolHandle;
	struct scatterlist *sg;
	void *buf;

	*Buffer = NULL;
	sg = mdlpool_alloc(handle->pool, &buf);
	return nt_mdp_hand_out(handle, sg, buf, Buffer);
}
EXPORT_SYMBOL_GPL(MdpAllocate);

/**
 * MdpAllocateAtDpcLevel - MdpAllocate() for a caller at DISPATCH_LEVEL
 * @PoolHandle: from MdpCreatePool()
 * @Buffer: set to the buffer, or NULL
 *
 * Context: DISPATCH_LEVEL only: bottom halves off (KeRaiseIrqlToDpcLevel(),
 * a DPC); holding a Linux spinlock is not enough and the pool warns.
 * Return: the MDL, or NULL if there is no memory.
 */
PMDL MdpAllocateAtDpcLevel(HANDLE PoolHandle, PVOID *Buffer)
{
	struct nt_mdp_pool *handle = PoolHandle;
	struct scatterlist *sg;
	void *buf;

	*Buffer = NULL;
	sg = mdlpool_alloc_bh(handle->pool, &buf);
	return nt_mdp_hand_out(handle, sg, buf, Buffer);
}
EXPORT_SYMBOL_GPL(MdpAllocateAtDpcLevel);

/**
 * MdpFree - give a pool MDL and its buffer back
 * @Mdl: from MdpAllocate() or MdpAllocateAtDpcLevel(); Next is ignored
 *
 * NT bugchecks on an MDL the pool did not hand out; here such a free is
 * refused with a warning (by nt_compat for an MDL that is not a pool MDL, or whose
 * magic a buffer overrun spoiled, by the pool for a pool MDL whose
 * descriptor was altered or that is already free) and the memory stays as
 * it was.
 *
 * Nothing is written to the MDL, not even to mark it freed: once the pool
 * accepts, the block is the pool's; when it refuses, a racing free of the
 * same MDL may have won and the block may already be another caller's
 * (mdlpool_free() says which racing frees it can tell apart).
 * A second free of the MDL is refused by the pool's own double-free check.
 *
 * Context: any CPU, at or below DISPATCH_LEVEL.
 * Return: nothing (VOID).
 */
VOID MdpFree(PMDL Mdl)
{
	if (WARN_ONCE(Mdl->nt_magic != NT_MDL_MAGIC_POOL,
		      "nt_compat: %s(%p): not an MDL from an MDL pool\n",
		      __func__, Mdl))
		return;
	mdlpool_free(Mdl->nt_sgl);
}
EXPORT_SYMBOL_GPL(MdpFree);

#define NT_MDP_FREE_BATCH	16

/**
 * MdpFreeChain - give back every pool MDL of a chain
 * @Mdl: the first MDL of a chain linked through Next and ending in NULL,
 *	or NULL
 *
 * Not an NT call: NT drivers free a chain MDL by MDL.  A Linux driver that
 * returns a whole received chain saves a section entry per MDL: the MDLs
 * go back through mdlpool_free_bulk(), NT_MDP_FREE_BATCH at a time, and
 * may come from several pools.  A chain must hold pool MDLs only.
 *
 * An MDL's Next is read only once its magic says it is a live pool MDL:
 * the link of any other is garbage, and following it oopses.  A freed
 * MDL of a pool with checks is poison, one after an overrun of the buffer
 * in front of it is whatever the overrun wrote.  So the walk stops at the
 * first MDL refused here, with an error line: that MDL and every MDL after
 * it are left as they are, and stay the caller's; those before it are
 * freed.  When the pool refuses an MDL of a batch (its descriptor altered,
 * or its block free already, a chain freed twice), the rest of that batch
 * is freed and the walk stops after it: the refused MDL's Next was read
 * from a block that was not the caller's, and may lead into a chain of
 * whoever owns that block now.  This also ends a chain that loops back on
 * itself, at the first batch that holds an MDL twice.
 *
 * Context: any CPU, at or below DISPATCH_LEVEL.
 * Return: nothing (VOID).
 */
VOID MdpFreeChain(PMDL Mdl)
{
	struct scatterlist *sgs[NT_MDP_FREE_BATCH];
	unsigned int n = 0;

	while (Mdl) {
		/*
		 * An error line for each refusal, naming the caller, rather
		 * than a warning once: each one leaves the rest of a chain
		 * allocated, and the porter needs to find them all.
		 */
		if (Mdl->nt_magic != NT_MDL_MAGIC_POOL) {
			pr_err_ratelimited("%s(%p) from %pS: not a live MDL from an MDL pool (freed already, or spoiled by an overrun); it and the rest of the chain are not freed\n",
					   __func__, Mdl,
					   __builtin_return_address(0));
			break;
		}
		sgs[n++] = Mdl->nt_sgl;
		/* The MDL lies in its buffer: read the link before it goes. */
		Mdl = Mdl->Next;
		if (n == NT_MDP_FREE_BATCH) {
			if (mdlpool_free_bulk(n, sgs))
				return;
			n = 0;
		}
	}
	if (n)
		mdlpool_free_bulk(n, sgs);
}
EXPORT_SYMBOL_GPL(MdpFreeChain);

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
 * @kind: NT_PIN_USER (pinned: unpinned on release), NT_PIN_OWNED
 *	(allocated by MmAllocatePagesForMdlEx(): freed) or NT_PIN_ADOPTED (a
 *	PFN array the driver wrote: only the mapping is ours)
 * @pages: the pages
 */
struct nt_mdl_pin {
	struct llist_node node;
	void *vaddr;
	unsigned int nr_pages;
	bool dirty;
	u8 kind;
	struct page *pages[];
};

#define NT_PIN_USER	0
#define NT_PIN_OWNED	1
#define NT_PIN_ADOPTED	2

static void nt_mdl_pin_release(struct nt_mdl_pin *pin)
{
	unsigned int i;

	if (pin->vaddr)
		vunmap(pin->vaddr);
	if (pin->kind == NT_PIN_OWNED) {
		for (i = 0; i < pin->nr_pages; i++)
			__free_page(pin->pages[i]);
	} else if (pin->kind == NT_PIN_USER) {
		unpin_user_pages_dirty_lock(pin->pages, pin->nr_pages,
					    pin->dirty);
	}
	kvfree(pin);
}

/*
 * Locked user pages get their kernel mapping at lock time, at
 * PASSIVE_LEVEL, because NT maps them later at any level up to
 * DISPATCH_LEVEL (in completion and receive paths), where vmap() cannot
 * run.  One page locked for writing needs no mapping of its own: the
 * direct map is it.  Pages locked for IoReadAccess may be ones the caller
 * cannot write (the zero page, page cache, pages shared copy-on-write with
 * another process): the direct map would let the driver write them, so
 * they always get a read-only mapping of their own.
 */
static bool nt_pin_needs_vmap(const struct nt_mdl_pin *pin)
{
	return !pin->dirty || pin->nr_pages > 1 || PageHighMem(pin->pages[0]);
}

static int nt_pin_map(struct nt_mdl_pin *pin)
{
	might_sleep();
	if (!nt_pin_needs_vmap(pin))
		return 0;
	pin->vaddr = vmap(pin->pages, pin->nr_pages, VM_MAP,
			  pin->dirty ? PAGE_KERNEL : PAGE_KERNEL_RO);
	return pin->vaddr ? 0 : -ENOMEM;
}

/* The kernel address of the first locked page. */
static void *nt_pin_address(const struct nt_mdl_pin *pin)
{
	return pin->vaddr ?: page_address(pin->pages[0]);
}

/*
 * Deferred unlocks.
 *
 * Dirtying pages and vunmap() sleep, but NT unlocks MDLs at DISPATCH_LEVEL
 * (in completion routines).  MmUnlockPages() there puts the pin on one
 * list, for all users of this module, and a work item empties it.
 *
 * A client module may unload while a release of its MDL is still on the
 * list (it unlocked at DISPATCH_LEVEL, freed the MDL and left).  That is
 * safe, so a client has nothing to flush at its exit:
 *
 * - MmUnlockPages() detaches the pin from the MDL before queueing it, and
 *   the MDL is unlocked when it returns.  The worker touches only the pin:
 *   never the MDL (which the client may free or unload at once), never a
 *   callback or anything else in the client's text or data.
 *
 * - Everything the worker releases belongs to this module: the pin was
 *   allocated here, the vmap() was made here, and the pages are held by
 *   FOLL_PIN references taken here, which need no client state to drop.
 *   The pages are unpinned, and dirtied for write locks, as soon as the
 *   worker runs, whether or not the client is still loaded.  The vmalloc()
 *   blocks nt_kvfree() queues on the same worker are the same: allocated
 *   here, and no one's but the worker's once queued.
 *
 * - The worker's code is this module's.  This module cannot unload while
 *   a client is loaded (the client uses its symbols), so once its exit
 *   runs no client is left to queue a release, and nt_compat_exit()'s
 *   flush runs whatever is still queued before this code goes away.  No
 *   pinned page outlives the module.
 */
static LLIST_HEAD(nt_deferred_list);

static void nt_deferred_fn(struct work_struct *work)
{
	struct llist_node *list = llist_del_all(&nt_deferred_list);
	struct llist_node *block, *next_block;
	struct nt_mdl_pin *pin, *tmp;

	llist_for_each_entry_safe(pin, tmp, list, node)
		nt_mdl_pin_release(pin);
	llist_for_each_safe(block, next_block, llist_del_all(&nt_deferred_vfree))
		vfree(block);
}

/* Release @pin now at PASSIVE_LEVEL; above it, in the worker. */
static void nt_mdl_pin_drop(struct nt_mdl_pin *pin)
{
	if (KeGetCurrentIrql() == PASSIVE_LEVEL) {
		nt_mdl_pin_release(pin);
		return;
	}
	if (llist_add(&pin->node, &nt_deferred_list))
		schedule_work(&nt_deferred_work);
}

/* An MDL with room for @pages pages, from pool memory (ExFreePool() frees it). */
static MDL *nt_mdl_alloc(PVOID va, ULONG length, ULONG pages)
{
	MDL *mdl;

	mdl = nt_pool_alloc(false, size_add(struct_size(mdl, nt_pfns, pages),
					    array_size(pages,
						       sizeof(struct scatterlist))),
			    true);
	if (!mdl)
		return NULL;
	mdl->nt_magic = NT_MDL_MAGIC_IO;
	mdl->Size = struct_size(mdl, nt_pfns, pages);
	mdl->ByteCount = length;
	mdl->nt_sg_count = length;
	mdl->nt_max_byte_count = length;
	mdl->nt_alloc_byte_count = length;
	mdl->nt_nr_pages = pages;
	nt_mdl_set_va(mdl, va);
	mdl->nt_sgl = (struct scatterlist *)&mdl->nt_pfns[pages];
	sg_init_table(mdl->nt_sgl, pages);
	return mdl;
}

/**
 * IoAllocateMdl - allocate an MDL for a range of memory
 * @VirtualAddress: start of the range, a user or kernel address
 * @Length: bytes in the range, 1 to 4 GiB less a page
 * @SecondaryBuffer: ignored (matters only with an IRP)
 * @ChargeQuota: ignored (matters only with an IRP)
 * @Irp: must be NULL: there are no IRPs
 *
 * The range may span many pages.  Its pages are not described until
 * MmBuildMdlForNonPagedPool() or MmProbeAndLockPages().  A range that
 * wraps past the top of the address space is refused: its page count and
 * every address computed from it would be wrong.
 *
 * Context: PASSIVE_LEVEL or DISPATCH_LEVEL.
 * Return: the MDL, free it with IoFreeMdl(); NULL for an @Irp, a @Length
 * out of range, a wrapping range, above DISPATCH_LEVEL or without memory.
 */
PMDL IoAllocateMdl(PVOID VirtualAddress, ULONG Length, BOOLEAN SecondaryBuffer,
		   BOOLEAN ChargeQuota, PIRP Irp)
{
	ULONG_PTR last;
	ULONG pages;

	if (Irp) {
		pr_warn_once("%s() with an IRP refused: there are no IRPs\n",
			     __func__);
		return NULL;
	}
	if (!Length || Length > NT_MDL_MAX_BYTES ||
	    check_add_overflow((ULONG_PTR)VirtualAddress, (ULONG_PTR)Length - 1,
			       &last))
		return NULL;
	pages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(VirtualAddress, Length);
	return nt_mdl_alloc(VirtualAddress, Length, pages);
}
EXPORT_SYMBOL_GPL(IoAllocateMdl);

static bool nt_mdl_check_io(const MDL *mdl, const char *what)
{
	return !WARN_ONCE(mdl->nt_magic != NT_MDL_MAGIC_IO,
			  "nt_compat: %s(%p): not an MDL from IoAllocateMdl()\n",
			  what, mdl);
}

/* Values of nt_lock_failed. */
#define NT_LOCK_FAILED		1	/* MmProbeAndLockPages() failed */
#define NT_LOCK_FAILED_SAID	2	/* ... and a use of the MDL was told so */

/*
 * NT code calls MmProbeAndLockPages() inside __try and reaches the next
 * line only if the pages were locked.  Ported code that ignores the status
 * instead goes on with an MDL that describes nothing: its first use says
 * why, once per MDL, and every use is refused quietly (no warning, no
 * bugcheck).  True if @mdl is such an MDL.
 */
static bool nt_mdl_lock_failed(MDL *mdl, const char *what)
{
	if (mdl->nt_magic != NT_MDL_MAGIC_IO || nt_mdl_described(mdl) ||
	    !mdl->nt_lock_failed)
		return false;
	if (mdl->nt_lock_failed == NT_LOCK_FAILED) {
		mdl->nt_lock_failed = NT_LOCK_FAILED_SAID;
		pr_err_ratelimited("%s(%p): refused: MmProbeAndLockPages() failed on this MDL and its status was not checked: it describes nothing\n",
				   what, mdl);
	}
	return true;
}

/*
 * MDL fields.
 *
 * NT code reads the MDL's fields, and writes some that NT calls private:
 * it cuts ByteCount, sets and clears MdlFlags bits, fills a PFN array
 * itself.  The fields are plain memory here as there, so nt_compat.ko
 * cannot see a write when it happens.  Each call that takes an MDL first
 * compares the fields with what it last left in them (nt_mdl_follow())
 * and follows the change, or refuses it with an error line and puts the
 * field back:
 *
 * - ByteCount: cut, or grown back within what the pages describe, it is
 *   what the MDL describes from then on (the scatterlist is laid out
 *   again; chain walks and mappings read the field).  Past that: refused.
 * - StartVa, ByteOffset: moved: refused (the pages and their mapping were
 *   taken for the old address).
 * - MdlFlags: hint bits (MDL_MAPPING_CAN_FAIL, MDL_NETWORK_HEADER, ...) are
 *   kept and change nothing.  The bits nt_compat.ko keeps are the
 *   driver's to flip: what the MDL describes and how it maps follow its
 *   own state (nt_state), so a driver that sets MDL_PAGES_LOCKED and
 *   clears MDL_SOURCE_IS_NONPAGED_POOL to get a mapping call to map a
 *   built MDL gets the mapping there is.  MDL_PAGES_LOCKED set on an MDL
 *   that describes nothing adopts the PFN array the driver wrote, and
 *   cleared again drops it (nt_mdl_adopt_pfns()).  Other bits (MDL_IO_SPACE
 *   and NT's internal ones) cannot be followed: refused.
 * - MappedSystemVa: the mapping calls write it; a mapping call that finds
 *   another value there puts its own back, with an error line.
 *
 * Threads that map one MDL at once run this too.  They write nothing
 * unless a driver changed a field, which it may not do while the MDL is in
 * use elsewhere (on NT as here), so the loads are marked and need no lock.
 */
static void nt_mdl_follow_count(MDL *mdl, const char *what)
{
	ULONG count = READ_ONCE(mdl->ByteCount);

	if (!nt_mdl_described(mdl))
		return;		/* describing it will take the new count */
	if (count > mdl->nt_max_byte_count ||
	    (mdl->nt_magic == NT_MDL_MAGIC_POOL && !count)) {
		pr_err_ratelimited("%s(%p): ByteCount %u refused: the MDL describes %u bytes; %u put back\n",
				   what, mdl, count, mdl->nt_max_byte_count,
				   mdl->nt_sg_count);
		mdl->ByteCount = mdl->nt_sg_count;
		return;
	}
	nt_mdl_layout(mdl);
}

/* Keep @mdl's PFN array, which the driver wrote, as what it describes. */
static bool nt_mdl_adopt_pfns(MDL *mdl, const char *what)
{
	ULONG pages = nt_mdl_pages_used(mdl, mdl->ByteCount), i;
	struct nt_mdl_pin *pin;
	const char *refused = NULL;

	if (mdl->nt_magic != NT_MDL_MAGIC_IO)
		refused = "not an MDL from IoAllocateMdl()";
	else if (pages > mdl->nt_nr_pages)
		refused = "ByteCount runs past the PFN array";
	else if (KeGetCurrentIrql() != PASSIVE_LEVEL)
		refused = "its mapping needs PASSIVE_LEVEL";
	for (i = 0; !refused && i < pages; i++) {
		if (!pfn_valid(mdl->nt_pfns[i]))
			refused = "a PFN is not RAM with a struct page";
	}
	if (refused) {
		pr_err_ratelimited("%s(%p): MDL_PAGES_LOCKED set on an MDL that describes nothing: refused, %s\n",
				   what, mdl, refused);
		return false;
	}
	pin = kvzalloc(struct_size(pin, pages, pages), GFP_KERNEL);
	if (!pin)
		return false;
	for (i = 0; i < pages; i++)
		pin->pages[i] = pfn_to_page(mdl->nt_pfns[i]);
	pin->nr_pages = pages;
	pin->dirty = true;
	pin->kind = NT_PIN_ADOPTED;
	if (nt_pin_map(pin)) {
		kvfree(pin);
		return false;
	}
	mdl->nt_pin = pin;
	mdl->nt_kva = nt_pin_address(pin) + mdl->ByteOffset;
	mdl->nt_max_byte_count = mdl->ByteCount;
	nt_mdl_layout(mdl);
	mdl->nt_state = NT_STATE_ADOPTED;
	return true;
}

/* The driver cleared MDL_PAGES_LOCKED of an adopted array: drop it. */
static void nt_mdl_drop_adopted(MDL *mdl)
{
	struct nt_mdl_pin *pin = mdl->nt_pin;

	mdl->nt_pin = NULL;
	mdl->nt_kva = NULL;
	mdl->nt_state = 0;
	mdl->nt_max_byte_count = mdl->nt_alloc_byte_count;
	nt_mdl_pin_drop(pin);
}

static void nt_mdl_follow_flags(MDL *mdl, CSHORT flags, const char *what)
{
	CSHORT seen = READ_ONCE(mdl->nt_flags_seen);
	CSHORT refused = (flags ^ seen) & ~(NT_FLAGS_HINTS | NT_FLAGS_KEPT);
	bool put_back = false;

	if (refused) {
		pr_err_ratelimited("%s(%p): MdlFlags %#x cannot be followed: refused, cleared\n",
				   what, mdl, (u16)refused);
		flags ^= refused;
		put_back = true;
	}
	if ((flags & MDL_PAGES_LOCKED) && !(seen & MDL_PAGES_LOCKED) &&
	    !nt_mdl_described(mdl)) {
		if (!nt_mdl_adopt_pfns(mdl, what)) {
			flags &= ~MDL_PAGES_LOCKED;
			put_back = true;
		}
	} else if (!(flags & MDL_PAGES_LOCKED) &&
		   (mdl->nt_state & NT_STATE_ADOPTED)) {
		nt_mdl_drop_adopted(mdl);
	}
	/*
	 * Only a refusal writes MdlFlags: a thread mapping the MDL meanwhile
	 * may have set MDL_MAPPED_TO_SYSTEM_VA since @flags was read.
	 */
	if (put_back)
		nt_mdl_set_flags(mdl, flags);
	else
		WRITE_ONCE(mdl->nt_flags_seen, flags);
}

/*
 * Follow what the driver wrote into @mdl's fields since nt_compat.ko last
 * did (see "MDL fields" above).  @what names the caller in messages.
 */
static void nt_mdl_follow(MDL *mdl, const char *what)
{
	CSHORT flags = READ_ONCE(mdl->MdlFlags);
	PVOID va = MmGetMdlVirtualAddress(mdl), mva;

	if (unlikely(va != mdl->nt_va_seen)) {
		pr_err_ratelimited("%s(%p): StartVa/ByteOffset moved to %p: refused, put back\n",
				   what, mdl, va);
		nt_mdl_set_va(mdl, mdl->nt_va_seen);
	}
	if (unlikely(flags != READ_ONCE(mdl->nt_flags_seen)))
		nt_mdl_follow_flags(mdl, flags, what);
	if (unlikely(READ_ONCE(mdl->ByteCount) != mdl->nt_sg_count))
		nt_mdl_follow_count(mdl, what);
	/* MappedSystemVa is NULL or the mapping there is. */
	mva = READ_ONCE(mdl->MappedSystemVa);
	if (unlikely(mva && mva != mdl->nt_kva)) {
		pr_err_ratelimited("%s(%p): MappedSystemVa %p is not the MDL's mapping: refused, put back\n",
				   what, mdl, mva);
		WRITE_ONCE(mdl->MappedSystemVa, mdl->nt_kva);
	}
}

/**
 * nt_mdl_sg_follow - nt_mdl_sg() after a driver wrote the MDL's ByteCount
 * @mdl: a described MDL
 *
 * Linux glue, called by nt_mdl_sg().  Follows the write as the NT calls
 * do (see "MDL fields" above).
 *
 * Context: any context.
 * Return: the first entry of the scatterlist laid out for the new count,
 * or for the old one if the new count was refused.
 */
struct scatterlist *nt_mdl_sg_follow(MDL *mdl)
{
	nt_mdl_follow(mdl, __func__);
	return nt_mdl_described(mdl) ? mdl->nt_sgl : NULL;
}
EXPORT_SYMBOL_GPL(nt_mdl_sg_follow);

/*
 * Fill the PFN array for the MDL's current byte count (NT describes
 * ByteCount, which the driver may have cut since IoAllocateMdl()) from
 * kernel memory; false if a page is not kernel memory.
 */
static bool nt_mdl_describe_kernel(MDL *mdl)
{
	ULONG_PTR base = (ULONG_PTR)MmGetMdlBaseVa(mdl);
	ULONG pages = nt_mdl_pages_used(mdl, mdl->ByteCount);
	ULONG i;

	if (pages > mdl->nt_nr_pages)
		return false;	/* ByteCount written past what it was made for */
	for (i = 0; i < pages; i++) {
		struct page *page = nt_kernel_page((void *)(base + i * PAGE_SIZE));

		if (!page)
			return false;
		mdl->nt_pfns[i] = page_to_pfn(page);
	}
	nt_mdl_layout(mdl);
	mdl->nt_max_byte_count = mdl->ByteCount;
	mdl->MappedSystemVa = MmGetMdlVirtualAddress(mdl);
	mdl->nt_kva = MmGetMdlVirtualAddress(mdl);
	return true;
}

/**
 * MmBuildMdlForNonPagedPool - describe driver-owned kernel memory
 * @MemoryDescriptorList: an MDL from IoAllocateMdl(), not built or locked
 *
 * Fills the PFN array and scatterlist for kmalloc(), vmalloc(),
 * ExAllocatePoolWithTag() memory, module data or a vmapped stack.  An
 * address that is not kernel memory with a struct page (device memory
 * from ioremap(), say) is refused with an error line where NT would
 * bugcheck, and leaves the MDL undescribed: MmGetSystemAddressForMdlSafe()
 * then returns NULL.  A pool MDL is already built: nothing happens.
 *
 * Context: any IRQL up to DISPATCH_LEVEL.
 * Return: nothing (VOID).
 */
VOID MmBuildMdlForNonPagedPool(PMDL MemoryDescriptorList)
{
	MDL *mdl = MemoryDescriptorList;

	if (mdl->nt_magic == NT_MDL_MAGIC_POOL)
		return;		/* the pool built it so already */
	if (!nt_mdl_check_io(mdl, __func__))
		return;
	nt_mdl_follow(mdl, __func__);
	if (WARN_ONCE(nt_mdl_described(mdl),
		      "nt_compat: %s(%p): already built or locked\n",
		      __func__, mdl))
		return;
	if (!nt_mdl_describe_kernel(mdl)) {
		pr_err_ratelimited("%s(%p): refused: %p..+%u is not kernel memory with a struct page (device memory?)\n",
				   __func__, mdl, MmGetMdlVirtualAddress(mdl),
				   mdl->ByteCount);
		return;
	}
	mdl->nt_state = NT_STATE_BUILT;
	nt_mdl_add_flags(mdl, MDL_SOURCE_IS_NONPAGED_POOL);
}
EXPORT_SYMBOL_GPL(MmBuildMdlForNonPagedPool);

/* MmProbeAndLockPages() of an MDL from IoAllocateMdl() that describes nothing. */
static NTSTATUS nt_probe_and_lock(MDL *mdl, KPROCESSOR_MODE AccessMode,
				  LOCK_OPERATION Operation)
{
	ULONG pages = nt_mdl_pages_used(mdl, mdl->ByteCount);
	ULONG_PTR start = (ULONG_PTR)MmGetMdlBaseVa(mdl);
	struct nt_mdl_pin *pin;
	unsigned int gup = FOLL_LONGTERM;
	ULONG i;
	int got;

	if (pages > mdl->nt_nr_pages)
		return STATUS_INVALID_PARAMETER;	/* ByteCount written too big */
	if (!access_ok(MmGetMdlVirtualAddress(mdl), mdl->ByteCount)) {
		if (AccessMode != KernelMode || !nt_mdl_describe_kernel(mdl))
			return STATUS_ACCESS_VIOLATION;
		mdl->nt_state = NT_STATE_LOCKED;
		nt_mdl_add_flags(mdl, MDL_PAGES_LOCKED);
		return STATUS_SUCCESS;
	}
	/* pin_user_pages_fast() looks the address up in current->mm. */
	if (!current->mm)
		return STATUS_ACCESS_VIOLATION;
	if (KeGetCurrentIrql() != PASSIVE_LEVEL)
		return STATUS_INVALID_DEVICE_STATE;

	pin = kvzalloc(struct_size(pin, pages, pages), GFP_KERNEL);
	if (!pin)
		return STATUS_INSUFFICIENT_RESOURCES;
	pin->dirty = Operation != IoReadAccess;
	if (pin->dirty)
		gup |= FOLL_WRITE;
	got = pin_user_pages_fast(start, pages, gup, pin->pages);
	if (got != (int)pages) {
		if (got > 0)
			unpin_user_pages(pin->pages, got);
		kvfree(pin);
		return got == -ENOMEM ? STATUS_INSUFFICIENT_RESOURCES :
					STATUS_ACCESS_VIOLATION;
	}
	pin->nr_pages = got;
	if (nt_pin_map(pin)) {
		unpin_user_pages(pin->pages, got);
		kvfree(pin);
		return STATUS_INSUFFICIENT_RESOURCES;
	}
	for (i = 0; i < pages; i++)
		mdl->nt_pfns[i] = page_to_pfn(pin->pages[i]);
	mdl->nt_max_byte_count = mdl->ByteCount;
	nt_mdl_layout(mdl);
	mdl->nt_pin = pin;
	mdl->nt_kva = nt_pin_address(pin) + MmGetMdlByteOffset(mdl);
	mdl->Process = current;
	mdl->nt_state = NT_STATE_LOCKED;
	nt_mdl_add_flags(mdl, MDL_PAGES_LOCKED);
	if (pin->dirty)
		nt_mdl_add_flags(mdl, MDL_WRITE_OPERATION);
	return STATUS_SUCCESS;
}

/**
 * MmProbeAndLockPages - lock the pages an MDL describes
 * @MemoryDescriptorList: an MDL from IoAllocateMdl(), not built or locked
 * @AccessMode: KernelMode or UserMode
 * @Operation: IoReadAccess, IoWriteAccess or IoModifyAccess
 *
 * NT returns nothing and raises an exception on a bad address; there is no
 * SEH here, so this returns the status the exception would have carried.
 *
 * A user address (any @AccessMode) is pinned with pin_user_pages_fast():
 * FOLL_LONGTERM, as an NT lock has no time limit, and FOLL_WRITE unless
 * @Operation is IoReadAccess.  The pages get their kernel mapping now, at
 * PASSIVE_LEVEL, so that mapping calls succeed later at DISPATCH_LEVEL
 * (see nt_pin_map()).  A kernel address is accepted with KernelMode
 * only (a UserMode probe of it fails as in NT) and is described as
 * MmBuildMdlForNonPagedPool() does: kernel memory is never paged, so
 * nothing is pinned.
 *
 * The pages described are those of the MDL's byte count now, which the
 * caller may have cut (NdisAdjustMdlLength()) since IoAllocateMdl().  A
 * caller that ignores a failure and goes on with the MDL (as NT code whose
 * exception handler is gone would) gets an error line naming the failed
 * lock at its next use of it, and an MDL that describes nothing.
 *
 * A user address needs a user address space to look it up in: a kernel
 * thread has none (NT's system threads run in the system process, where
 * no user address is valid), so there it fails as a bad address does.
 *
 * Context: PASSIVE_LEVEL for a user address (a fault may sleep), in a
 * thread with a user address space; up to DISPATCH_LEVEL for a kernel
 * address.
 * Return: STATUS_SUCCESS; STATUS_ACCESS_VIOLATION if any page cannot be
 * had (nothing is left pinned), and for any user address in a thread
 * without a user address space (a kernel thread, a work item);
 * STATUS_INVALID_DEVICE_STATE for a user address above PASSIVE_LEVEL;
 * STATUS_INVALID_PARAMETER for an MDL already built or locked, or a pool
 * MDL; STATUS_INSUFFICIENT_RESOURCES without memory or vmalloc space for
 * the mapping.
 */
NTSTATUS MmProbeAndLockPages(PMDL MemoryDescriptorList,
			     KPROCESSOR_MODE AccessMode,
			     LOCK_OPERATION Operation)
{
	MDL *mdl = MemoryDescriptorList;
	NTSTATUS status;

	if (mdl->nt_magic != NT_MDL_MAGIC_IO)
		return STATUS_INVALID_PARAMETER;
	nt_mdl_follow(mdl, __func__);
	if (nt_mdl_described(mdl))
		return STATUS_INVALID_PARAMETER;
	status = nt_probe_and_lock(mdl, AccessMode, Operation);
	mdl->nt_lock_failed = NT_SUCCESS(status) ? 0 : NT_LOCK_FAILED;
	return status;
}
EXPORT_SYMBOL_GPL(MmProbeAndLockPages);

/**
 * MmUnlockPages - undo MmProbeAndLockPages()
 * @MemoryDescriptorList: a locked MDL from IoAllocateMdl()
 *
 * Unlocks the MDL, including any kernel mapping of it.  At PASSIVE_LEVEL
 * the pages are released now; at DISPATCH_LEVEL (NT allows it) the release
 * is deferred to this module's worker, because dirtying pages and vunmap()
 * sleep.  Either way the MDL is unlocked when this returns, and the caller
 * may free it and unload at once: see "Deferred unlocks" above.
 *
 * Context: PASSIVE_LEVEL or DISPATCH_LEVEL.
 * Return: nothing (VOID).
 */
VOID MmUnlockPages(PMDL MemoryDescriptorList)
{
	MDL *mdl = MemoryDescriptorList;
	struct nt_mdl_pin *pin;

	if (!nt_mdl_check_io(mdl, __func__))
		return;
	nt_mdl_follow(mdl, __func__);
	if (nt_mdl_lock_failed(mdl, __func__))
		return;
	if (mdl->nt_state & NT_STATE_PAGES) {
		pr_err_ratelimited("%s(%p): refused: its pages are from MmAllocatePagesForMdl(), MmFreePagesFromMdl() frees them\n",
				   __func__, mdl);
		return;
	}
	if (WARN_ONCE(!(mdl->nt_state & NT_STATE_LOCKED),
		      "nt_compat: %s(%p): not locked\n", __func__, mdl))
		return;
	pin = mdl->nt_pin;
	mdl->nt_pin = NULL;
	mdl->MappedSystemVa = NULL;
	mdl->Process = NULL;
	mdl->nt_kva = NULL;
	mdl->nt_state = 0;
	mdl->nt_max_byte_count = mdl->nt_alloc_byte_count;
	nt_mdl_drop_flags(mdl, MDL_PAGES_LOCKED | MDL_WRITE_OPERATION |
			   MDL_MAPPED_TO_SYSTEM_VA);
	if (pin)
		nt_mdl_pin_drop(pin);
}
EXPORT_SYMBOL_GPL(MmUnlockPages);

/*
 * The kernel address of an MDL's first byte, marking the MDL mapped.
 *
 * The mapping exists from the time the pages were described on (locked,
 * allocated, built, or borrowed by a partial MDL), so this never sleeps,
 * and threads that map one MDL at once all return the one mapping.  They
 * also store the same MappedSystemVa and flag bits, so their racing stores
 * are harmless; they are marked (WRITE_ONCE) because each may overlap
 * another's loads.  Changing other flags of the MDL (locking, unlocking)
 * while it is being mapped is a caller's bug on NT as here.
 */
static PVOID nt_mdl_map(MDL *mdl)
{
	CSHORT flags, mapped = MDL_MAPPED_TO_SYSTEM_VA;

	nt_mdl_follow(mdl, "a mapping call");
	if (!nt_mdl_described(mdl)) {
		nt_mdl_lock_failed(mdl, "a mapping call");
		return NULL;		/* NT would bugcheck: nothing to map */
	}
	/* Pool buffers and built MDLs are mapped from the start. */
	if (mdl->nt_magic == NT_MDL_MAGIC_POOL ||
	    (mdl->nt_state & NT_STATE_BUILT))
		return mdl->nt_kva;
	flags = READ_ONCE(mdl->MdlFlags);
	if (mdl->nt_state & NT_STATE_PARTIAL)
		mapped |= MDL_PARTIAL_HAS_BEEN_MAPPED;
	WRITE_ONCE(mdl->MappedSystemVa, mdl->nt_kva);
	if ((flags & mapped) != mapped)
		nt_mdl_set_flags(mdl, flags | mapped);
	return mdl->nt_kva;
}

/**
 * MmGetSystemAddressForMdlSafe - the kernel address of a described MDL
 * @Mdl: a pool MDL, or one built or locked
 * @Priority: accepted and ignored
 *
 * Pool MDLs and kernel memory are their own address.  Locked user pages
 * were mapped when MmProbeAndLockPages() locked them (one page locked for
 * writing through the direct map, pages locked for IoReadAccess read-only
 * and several pages through vmap()), so this succeeds at any level up to
 * DISPATCH_LEVEL, and threads that call it for one MDL at once all get the
 * same mapping.  It sets MappedSystemVa and MDL_MAPPED_TO_SYSTEM_VA.
 *
 * Context: up to DISPATCH_LEVEL.
 * Return: the address of the MDL's first byte; NULL for an MDL not built
 * or locked, and above DISPATCH_LEVEL.
 */
PVOID MmGetSystemAddressForMdlSafe(PMDL Mdl, ULONG Priority)
{
	if (KeGetCurrentIrql() > DISPATCH_LEVEL)
		return NULL;
	return nt_mdl_map(Mdl);
}
EXPORT_SYMBOL_GPL(MmGetSystemAddressForMdlSafe);

/**
 * nt_map_locked_pages - MmMapLockedPagesSpecifyCache() at run time
 * @MemoryDescriptorList: a pool MDL, or one built or locked
 * @AccessMode: KernelMode only
 * @CacheType: MmCached only
 * @RequestedAddress: must be NULL
 * @BugCheckOnFailure: warn if the mapping fails (there is no bugcheck)
 * @Priority: accepted and ignored
 *
 * Called by the MmMapLockedPagesSpecifyCache() macro, which refuses a
 * constant UserMode or cache type other than MmCached at compile time.
 * Only kernel mappings exist, only with the kernel's own cache type, and
 * only where Linux chooses the address.
 *
 * Context: as MmGetSystemAddressForMdlSafe().
 * Return: as MmGetSystemAddressForMdlSafe(); NULL for UserMode, another
 * cache type or a @RequestedAddress.
 */
PVOID nt_map_locked_pages(PMDL MemoryDescriptorList, KPROCESSOR_MODE AccessMode,
			  MEMORY_CACHING_TYPE CacheType, PVOID RequestedAddress,
			  ULONG BugCheckOnFailure, ULONG Priority)
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
EXPORT_SYMBOL_GPL(nt_map_locked_pages);

/**
 * MmUnmapLockedPages - drop an MDL's kernel mapping
 * @BaseAddress: what MmGetSystemAddressForMdlSafe() or
 *	MmMapLockedPagesSpecifyCache() returned
 * @MemoryDescriptorList: the MDL
 *
 * Clears MappedSystemVa and MDL_MAPPED_TO_SYSTEM_VA.  The mapping of locked
 * user pages itself stays until MmUnlockPages(): it was made at lock time
 * so that mapping again works at DISPATCH_LEVEL.  Pool and kernel-memory
 * MDLs have no mapping of their own to drop.  An address that is not the
 * MDL's mapping is refused with a warning.
 *
 * Context: up to DISPATCH_LEVEL.
 * Return: nothing (VOID).
 */
VOID MmUnmapLockedPages(PVOID BaseAddress, PMDL MemoryDescriptorList)
{
	MDL *mdl = MemoryDescriptorList;

	nt_mdl_follow(mdl, __func__);
	if (mdl->nt_magic == NT_MDL_MAGIC_POOL ||
	    (mdl->nt_state & NT_STATE_BUILT))
		return;		/* their own address: nothing to undo */
	if (WARN_ONCE(!(mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA) ||
		      BaseAddress != mdl->MappedSystemVa,
		      "nt_compat: %s(%p, %p): not this MDL's mapping\n",
		      __func__, BaseAddress, mdl))
		return;
	mdl->MappedSystemVa = NULL;
	nt_mdl_drop_flags(mdl, MDL_MAPPED_TO_SYSTEM_VA |
			   MDL_PARTIAL_HAS_BEEN_MAPPED);
}
EXPORT_SYMBOL_GPL(MmUnmapLockedPages);

/* Why IoBuildPartialMdl() cannot build this target, or NULL if it can. */
static const char *nt_partial_refused(const MDL *src, const MDL *dst,
				      ULONG_PTR start, ULONG *length)
{
	ULONG_PTR src_start = (ULONG_PTR)MmGetMdlVirtualAddress(src);
	ULONG offset;

	if (src->nt_magic != NT_MDL_MAGIC_POOL &&
	    src->nt_magic != NT_MDL_MAGIC_IO)
		return "the source is not an MDL";
	if (!nt_mdl_described(src))
		return "the source is neither built nor locked";
	if (dst->nt_state && !(dst->nt_state & NT_STATE_PARTIAL))
		return "the target is built or locked itself";
	if (start < src_start || start - src_start > src->ByteCount)
		return "the address is outside the source";
	offset = start - src_start;
	if (!*length)
		*length = src->ByteCount - offset;
	if (!*length || *length > src->ByteCount - offset)
		return "the range runs past the end of the source";
	if (ADDRESS_AND_SIZE_TO_SPAN_PAGES(start, *length) > dst->nt_nr_pages)
		return "the target has room for fewer pages";
	return NULL;
}

/**
 * IoBuildPartialMdl - describe part of an MDL with another MDL
 * @SourceMdl: a pool MDL, or one built, locked, allocated or partial
 * @TargetMdl: from IoAllocateMdl(), with room for the pages of the range;
 *	not built or locked itself (a partial MDL may be built again)
 * @VirtualAddress: first byte of the range, inside the source's
 * @Length: bytes in the range; 0 for all the rest of the source
 *
 * The target describes the range with the source's pages, and its
 * mapping calls hand out the source's mapping from @VirtualAddress on, at
 * any level up to DISPATCH_LEVEL.  It inherits MDL_SOURCE_IS_NONPAGED_POOL,
 * MDL_WRITE_OPERATION and, with MappedSystemVa, MDL_MAPPED_TO_SYSTEM_VA
 * from the source, and gets MDL_PARTIAL.  It borrows, as on NT: free it
 * (IoFreeMdl()) or reuse it (MmPrepareMdlForReuse()) before the source is
 * unlocked or freed.  Where NT bugchecks (a range not inside the source, a
 * target too small), this refuses with an error line and leaves the
 * target undescribed.
 *
 * Context: any level up to DISPATCH_LEVEL.
 * Return: nothing (VOID).
 */
VOID IoBuildPartialMdl(PMDL SourceMdl, PMDL TargetMdl, PVOID VirtualAddress,
		       ULONG Length)
{
	MDL *src = SourceMdl, *dst = TargetMdl;
	ULONG_PTR start = (ULONG_PTR)VirtualAddress;
	ULONG offset, first, i;
	const char *refused;
	CSHORT inherited;

	if (!nt_mdl_check_io(dst, __func__))
		return;
	nt_mdl_follow(src, __func__);
	nt_mdl_follow(dst, __func__);
	if (nt_mdl_lock_failed(src, __func__))
		return;
	refused = nt_partial_refused(src, dst, start, &Length);
	if (refused) {
		pr_err_ratelimited("%s(%p, %p, source offset %lld, %u bytes of %u): refused: %s\n",
				   __func__, src, dst,
				   (long long)(start - (ULONG_PTR)MmGetMdlVirtualAddress(src)),
				   Length, src->ByteCount, refused);
		return;
	}
	offset = start - (ULONG_PTR)MmGetMdlVirtualAddress(src);
	first = (PAGE_ALIGN_DOWN(start) -
		 (ULONG_PTR)MmGetMdlBaseVa(src)) >> PAGE_SHIFT;
	for (i = 0; i < ADDRESS_AND_SIZE_TO_SPAN_PAGES(start, Length); i++)
		dst->nt_pfns[i] = src->nt_pfns[first + i];
	nt_mdl_set_va(dst, VirtualAddress);
	dst->ByteCount = Length;
	dst->nt_max_byte_count = Length;
	dst->nt_kva = src->nt_kva + offset;
	nt_mdl_layout(dst);

	inherited = src->MdlFlags & (MDL_SOURCE_IS_NONPAGED_POOL |
				     MDL_WRITE_OPERATION |
				     MDL_MAPPED_TO_SYSTEM_VA);
	dst->nt_state = NT_STATE_PARTIAL;
	if (src->nt_magic == NT_MDL_MAGIC_POOL ||
	    (src->nt_state & NT_STATE_BUILT)) {
		inherited |= MDL_SOURCE_IS_NONPAGED_POOL;
		dst->nt_state |= NT_STATE_BUILT;
	}
	dst->MappedSystemVa = inherited & (MDL_SOURCE_IS_NONPAGED_POOL |
					 MDL_MAPPED_TO_SYSTEM_VA) ?
			    dst->nt_kva : NULL;
	nt_mdl_set_flags(dst, (dst->MdlFlags & ~NT_FLAGS_KEPT) |
			 inherited | MDL_PARTIAL);
}
EXPORT_SYMBOL_GPL(IoBuildPartialMdl);

/**
 * MmPrepareMdlForReuse - undo IoBuildPartialMdl() before building again
 * @Mdl: a partial MDL, mapped or not
 *
 * Drops the mapped state and the description: the MDL describes nothing
 * until the next IoBuildPartialMdl().  An MDL that is not partial is left
 * alone, as on NT; a locked one draws a warning (NT asserts).
 *
 * Context: any level up to DISPATCH_LEVEL.
 * Return: nothing (VOID).
 */
VOID MmPrepareMdlForReuse(PMDL Mdl)
{
	if (!nt_mdl_check_io(Mdl, __func__))
		return;
	nt_mdl_follow(Mdl, __func__);
	if (WARN_ONCE(Mdl->nt_state & NT_STATE_LOCKED,
		      "nt_compat: %s(%p): locked, not partial\n", __func__,
		      Mdl) ||
	    !(Mdl->nt_state & NT_STATE_PARTIAL))
		return;
	nt_mdl_drop_flags(Mdl, NT_FLAGS_KEPT);
	Mdl->MappedSystemVa = NULL;
	Mdl->nt_kva = NULL;
	Mdl->nt_state = 0;
	Mdl->nt_max_byte_count = Mdl->nt_alloc_byte_count;
}
EXPORT_SYMBOL_GPL(MmPrepareMdlForReuse);

/* What MmAllocatePagesForMdlEx() accepts: others are refused. */
#define NT_PAGES_FLAGS_KNOWN	(MM_DONT_ZERO_ALLOCATION | \
				 MM_ALLOCATE_FROM_LOCAL_NODE_ONLY | \
				 MM_ALLOCATE_FULLY_REQUIRED | \
				 MM_ALLOCATE_PREFER_CONTIGUOUS | \
				 MM_ALLOCATE_REQUIRE_CONTIGUOUS_CHUNKS)

/*
 * The zone whose pages all lie at or below @high, or ~0 if none does.  A
 * bound from 4 GiB up has no zone of its own: any zone is tried, and pages
 * above the bound are refused one by one (nt_page_in()).
 */
static gfp_t nt_gfp_below(ULONGLONG high)
{
	if (high >= SZ_4G)
		return 0;
#ifdef CONFIG_ZONE_DMA32
	if (high == SZ_4G - 1)
		return GFP_DMA32;
#endif
#ifdef CONFIG_ZONE_DMA
	if (high >= SZ_16M - 1)
		return GFP_DMA;
#endif
	return (gfp_t)~0U;
}

static bool nt_page_in(struct page *page, ULONGLONG low, ULONGLONG high)
{
	ULONGLONG phys = PFN_PHYS(page_to_pfn(page));

	return phys >= low && phys + PAGE_SIZE - 1 <= high;
}

/*
 * @nr physically contiguous pages, each freeable alone (as
 * alloc_pages_exact() leaves them), from the local node (there is no
 * exported call for another); the run is refused, as a whole, if it is not
 * all inside [@low, @high].
 */
static unsigned int nt_alloc_contiguous(struct page **pages, unsigned int nr,
					gfp_t gfp, ULONGLONG low, ULONGLONG high)
{
	size_t size = (size_t)nr << PAGE_SHIFT;
	struct page *head;
	void *va;
	unsigned int i;

	va = alloc_pages_exact(size, gfp);
	if (!va)
		return 0;
	head = virt_to_page(va);
	if (!nt_page_in(head, low, high) ||
	    !nt_page_in(head + nr - 1, low, high)) {
		free_pages_exact(va, size);
		return 0;
	}
	for (i = 0; i < nr; i++)
		pages[i] = head + i;
	return nr;
}

/* Up to @nr pages one by one, stopping at the first that cannot be had. */
static unsigned int nt_alloc_scattered(struct page **pages, unsigned int nr,
				       gfp_t gfp, int nid, ULONGLONG low,
				       ULONGLONG high)
{
	unsigned int got = 0;
	struct page *page;

	while (got < nr) {
		page = alloc_pages_node(nid, gfp, 0);
		if (!page)
			break;
		if (!nt_page_in(page, low, high)) {
			__free_page(page);
			break;
		}
		pages[got++] = page;
	}
	return got;
}

/* Pages for MmAllocatePagesForMdlEx(), held as a pin of its own pages. */
static struct nt_mdl_pin *nt_pages_alloc(ULONGLONG low, ULONGLONG high,
					 unsigned int nr, ULONG flags)
{
	gfp_t zone = nt_gfp_below(high);
	gfp_t gfp = GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN;
	int nid = NUMA_NO_NODE;
	struct nt_mdl_pin *pin;
	unsigned int got;

	if (zone == (gfp_t)~0U || low > high)
		return NULL;
	gfp |= zone;
	if (!(flags & MM_DONT_ZERO_ALLOCATION))
		gfp |= __GFP_ZERO;
	if (flags & MM_ALLOCATE_FROM_LOCAL_NODE_ONLY) {
		gfp |= __GFP_THISNODE;
		nid = numa_mem_id();
	}
	pin = kvzalloc(struct_size(pin, pages, nr), GFP_KERNEL);
	if (!pin)
		return NULL;
	if (flags & MM_ALLOCATE_REQUIRE_CONTIGUOUS_CHUNKS)
		got = nt_alloc_contiguous(pin->pages, nr, gfp, low, high);
	else
		got = nt_alloc_scattered(pin->pages, nr, gfp, nid, low, high);
	pin->nr_pages = got;
	pin->dirty = true;
	pin->kind = NT_PIN_OWNED;
	if (!got || (got < nr && (flags & MM_ALLOCATE_FULLY_REQUIRED)) ||
	    nt_pin_map(pin)) {
		nt_mdl_pin_release(pin);
		return NULL;
	}
	return pin;
}

/**
 * MmAllocatePagesForMdlEx - allocate pages and an MDL that describes them
 * @LowAddress: lowest physical address a page may have
 * @HighAddress: highest physical address a page may have
 * @SkipBytes: accepted and ignored (NT's stride for a second try)
 * @TotalBytes: bytes wanted; up to 4 GiB less a page are described
 * @CacheType: MmCached only
 * @Flags: MM_DONT_ZERO_ALLOCATION, MM_ALLOCATE_FROM_LOCAL_NODE_ONLY,
 *	MM_ALLOCATE_FULLY_REQUIRED, MM_ALLOCATE_PREFER_CONTIGUOUS (a hint,
 *	ignored), MM_ALLOCATE_REQUIRE_CONTIGUOUS_CHUNKS (here: one
 *	physically contiguous run)
 *
 * Pages come from the zone that keeps them at or below @HighAddress
 * (ZONE_DMA32 for 4 GiB, say), zeroed unless MM_DONT_ZERO_ALLOCATION, and
 * get their kernel mapping now, so that mapping calls work up to
 * DISPATCH_LEVEL.  Without MM_ALLOCATE_FULLY_REQUIRED the MDL may describe
 * fewer bytes than asked for, as on NT: check MmGetMdlByteCount().  The
 * MDL's virtual address is 0 (its StartVa on NT) and it is marked
 * MDL_PAGES_LOCKED; MmUnlockPages() refuses it.  Other cache types and
 * flags (MM_ALLOCATE_NO_WAIT among them: the mapping sleeps) are refused
 * with an error line.
 *
 * Context: PASSIVE_LEVEL (NT: up to APC_LEVEL).
 * Return: the MDL; release the pages with MmFreePagesFromMdl(), then the
 * MDL with ExFreePool() or IoFreeMdl().  NULL if no page could be had, if
 * not all could with MM_ALLOCATE_FULLY_REQUIRED, for a range no zone
 * keeps, above PASSIVE_LEVEL, and for what is refused.
 */
PMDL MmAllocatePagesForMdlEx(PHYSICAL_ADDRESS LowAddress,
			     PHYSICAL_ADDRESS HighAddress,
			     PHYSICAL_ADDRESS SkipBytes, SIZE_T TotalBytes,
			     MEMORY_CACHING_TYPE CacheType, ULONG Flags)
{
	ULONGLONG bytes = min_t(ULONGLONG, TotalBytes, NT_MDL_MAX_BYTES);
	struct nt_mdl_pin *pin;
	ULONG i;
	MDL *mdl;

	if (CacheType != MmCached || (Flags & ~NT_PAGES_FLAGS_KNOWN)) {
		pr_err_ratelimited("%s(cache type %d, flags %#x): refused: only MmCached, and flags %#x\n",
				   __func__, CacheType, Flags,
				   NT_PAGES_FLAGS_KNOWN);
		return NULL;
	}
	if (!bytes || KeGetCurrentIrql() != PASSIVE_LEVEL)
		return NULL;
	pin = nt_pages_alloc(LowAddress.QuadPart, HighAddress.QuadPart,
			     DIV_ROUND_UP(bytes, PAGE_SIZE), Flags);
	if (!pin)
		return NULL;
	bytes = min_t(ULONGLONG, bytes, (ULONGLONG)pin->nr_pages << PAGE_SHIFT);
	mdl = nt_mdl_alloc(NULL, bytes, pin->nr_pages);
	if (!mdl) {
		nt_mdl_pin_release(pin);
		return NULL;
	}
	for (i = 0; i < pin->nr_pages; i++)
		mdl->nt_pfns[i] = page_to_pfn(pin->pages[i]);
	nt_mdl_layout(mdl);
	mdl->nt_pin = pin;
	mdl->nt_kva = nt_pin_address(pin);
	mdl->nt_state = NT_STATE_PAGES;
	nt_mdl_set_flags(mdl, MDL_PAGES_LOCKED);
	return mdl;
}
EXPORT_SYMBOL_GPL(MmAllocatePagesForMdlEx);

/**
 * MmAllocatePagesForMdl - MmAllocatePagesForMdlEx() of zeroed cached pages
 * @LowAddress: lowest physical address a page may have
 * @HighAddress: highest physical address a page may have
 * @SkipBytes: accepted and ignored
 * @TotalBytes: bytes wanted
 *
 * Context: PASSIVE_LEVEL.
 * Return: as MmAllocatePagesForMdlEx().
 */
PMDL MmAllocatePagesForMdl(PHYSICAL_ADDRESS LowAddress,
			   PHYSICAL_ADDRESS HighAddress,
			   PHYSICAL_ADDRESS SkipBytes, SIZE_T TotalBytes)
{
	return MmAllocatePagesForMdlEx(LowAddress, HighAddress, SkipBytes,
				       TotalBytes, MmCached, 0);
}
EXPORT_SYMBOL_GPL(MmAllocatePagesForMdl);

/**
 * MmFreePagesFromMdl - free the pages of an MDL from MmAllocatePagesForMdl()
 * @MemoryDescriptorList: the MDL
 *
 * The pages and their mapping go; the MDL stays, describing nothing, for
 * the caller to free with ExFreePool() or IoFreeMdl().  At DISPATCH_LEVEL
 * (which NT does not allow) the release is deferred as MmUnlockPages()'s.
 * Any other MDL is refused with a warning.
 *
 * Context: PASSIVE_LEVEL (NT: up to APC_LEVEL).
 * Return: nothing (VOID).
 */
VOID MmFreePagesFromMdl(PMDL MemoryDescriptorList)
{
	MDL *mdl = MemoryDescriptorList;
	struct nt_mdl_pin *pin = mdl->nt_pin;

	if (!nt_mdl_check_io(mdl, __func__))
		return;
	nt_mdl_follow(mdl, __func__);
	if (WARN_ONCE(!(mdl->nt_state & NT_STATE_PAGES),
		      "nt_compat: %s(%p): not from MmAllocatePagesForMdl()\n",
		      __func__, mdl))
		return;
	mdl->nt_pin = NULL;
	mdl->MappedSystemVa = NULL;
	mdl->nt_kva = NULL;
	mdl->nt_state = 0;
	mdl->ByteCount = 0;
	mdl->nt_sg_count = 0;
	mdl->nt_max_byte_count = 0;
	nt_mdl_drop_flags(mdl, NT_FLAGS_KEPT);
	nt_mdl_pin_drop(pin);
}
EXPORT_SYMBOL_GPL(MmFreePagesFromMdl);

/**
 * IoFreeMdl - free an MDL from IoAllocateMdl() or MmAllocatePagesForMdl()
 * @Mdl: the MDL
 *
 * It does not follow Next, as in NT.  An MDL still locked is unlocked
 * first (NT would leave the pages locked for good), with a warning; one
 * still holding pages from MmAllocatePagesForMdl() frees them, with an
 * error line.  An
 * MDL big enough to be vmalloc() memory (a range of about 400 MiB or more)
 * freed where the caller cannot sleep, under a Linux spinlock say, is
 * freed a little later by this module's worker.
 *
 * Context: PASSIVE_LEVEL or DISPATCH_LEVEL.
 * Return: nothing (VOID).
 */
VOID IoFreeMdl(PMDL Mdl)
{
	if (!nt_mdl_check_io(Mdl, __func__))
		return;
	nt_mdl_follow(Mdl, __func__);
	if (Mdl->nt_state & NT_STATE_PAGES) {
		pr_err_ratelimited("%s(%p): its pages from MmAllocatePagesForMdl() are freed with it: call MmFreePagesFromMdl() first\n",
				   __func__, Mdl);
		MmFreePagesFromMdl(Mdl);
	}
	/* A driver frees the MDL it built over its PFN array as it is. */
	if (Mdl->nt_state & NT_STATE_ADOPTED)
		nt_mdl_drop_adopted(Mdl);
	if (WARN_ONCE(Mdl->nt_state & NT_STATE_LOCKED,
		      "nt_compat: %s(%p): still locked\n", __func__, Mdl))
		MmUnlockPages(Mdl);
	Mdl->nt_magic = NT_MDL_MAGIC_DEAD;
	nt_kvfree(Mdl);
}
EXPORT_SYMBOL_GPL(IoFreeMdl);

/*
 * No client is loaded any more (each holds a reference on this module), so
 * nothing can queue a release now: run what is still queued.
 */
static void __exit nt_compat_exit(void)
{
	flush_work(&nt_deferred_work);
	WARN_ON(!llist_empty(&nt_deferred_list) ||
		!llist_empty(&nt_deferred_vfree));
}
module_exit(nt_compat_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The mdlpool developers");
MODULE_VERSION(MDLPOOL_VERSION);
MODULE_DESCRIPTION("NT kernel names for drivers ported from Windows NT that use mdlpool");
