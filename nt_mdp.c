// SPDX-License-Identifier: GPL-2.0
/*
 * nt_compat: the MDL pool (MdpCreatePool() and the rest of NT's mdlpool.c
 * interface) on mdlpool.ko, each buffer's MDL kept behind the buffer.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/ctype.h>
#include <linux/export.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "nt_compat_internal.h"

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
