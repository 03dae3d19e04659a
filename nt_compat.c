// SPDX-License-Identifier: GPL-2.0
/*
 * nt_compat - the NT kernel names of nt_compat.h, for driver code ported
 * from Windows NT that uses the MDL pool and MDLs.
 *
 * nt_compat.h has the NT types, constants, macros and the small inline
 * accessors; this module has everything else, exported to the modules
 * that include the header.  It depends on mdlpool.ko.  One file per job
 * (nt_compat_internal.h lists them); this one has the status codes, the
 * processors, the executive pool and the module itself.
 *
 * State that must be shared by every user lives in the module, once:
 *
 * - the counter that makes Linux pool names unique ("nt-TAG-N", nt_mdp.c),
 *   so two modules that create pools with one tag never race for a name;
 *
 * - the work item, here, that finishes what cannot be done where NT allows
 *   it: releasing user pages unlocked at DISPATCH_LEVEL (see "Deferred
 *   unlocks" in nt_mdl.c) and freeing vmalloc() blocks where the caller
 *   cannot sleep (see nt_kvfree()), so a user has nothing to flush at its
 *   module exit.
 *
 * Documentation/nt-porting.rst documents each NT name, and what
 * it does where Linux cannot give NT's meaning.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/export.h>
#include <linux/llist.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include "nt_compat_internal.h"

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

/* Runs what callers above PASSIVE_LEVEL queued: pins (nt_mdl.c), blocks. */
static void nt_deferred_fn(struct work_struct *work)
{
	struct llist_node *block, *next_block;

	nt_mdl_release_deferred();
	llist_for_each_safe(block, next_block, llist_del_all(&nt_deferred_vfree))
		vfree(block);
}

void nt_deferred_schedule(void)
{
	schedule_work(&nt_deferred_work);
}

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
void nt_kvfree(void *p)
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
void *nt_pool_alloc(bool paged, SIZE_T size, bool zero)
{
	gfp_t zeroed = zero ? __GFP_ZERO : 0;
	KIRQL irql = KeGetCurrentIrql();

	if (irql == PASSIVE_LEVEL)
		return kvmalloc(size, GFP_KERNEL | zeroed);
	if (irql == DISPATCH_LEVEL && !paged)
		return kmalloc(size, GFP_ATOMIC | __GFP_NOWARN | zeroed);
	return NULL;
}

/* A block from one of the pool types there are; NULL for any other. */
static void *nt_pool_typed_alloc(POOL_TYPE type, SIZE_T size, bool zero)
{
	switch (type) {
	case PagedPool:
		return nt_pool_alloc(true, size, zero);
	case NonPagedPool:
	case NonPagedPoolNx:
		return nt_pool_alloc(false, size, zero);
	default:
		return NULL;
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
	return nt_pool_typed_alloc(PoolType, NumberOfBytes, false);
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
	return nt_pool_typed_alloc(PoolType, NumberOfBytes, true);
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

/*
 * No client is loaded any more (each holds a reference on this module), so
 * nothing can queue a release now: run what is still queued.
 */
static void __exit nt_compat_exit(void)
{
	flush_work(&nt_deferred_work);
	WARN_ON(!nt_mdl_deferred_idle() || !llist_empty(&nt_deferred_vfree));
}
module_exit(nt_compat_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The mdlpool developers");
MODULE_VERSION(MDLPOOL_VERSION);
MODULE_DESCRIPTION("NT kernel names for drivers ported from Windows NT that use mdlpool");
