// SPDX-License-Identifier: GPL-2.0
/*
 * The reserve: slabs a pool keeps back so that its creator's number of
 * allocations succeed while the page allocator has nothing, as a mempool's
 * minimum does.  A refill takes one when it finds no slab without waiting
 * (mempool_alloc() too tries the allocator, then its reserve, then waits),
 * and a slab given back refills the reserve before the page allocator gets
 * it.  Any share may take or give back, in task or softirq context: see
 * mdlpool_reserve_lock().  Reserve slabs are neither mapped for a device nor
 * marked as pool slabs while they wait.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/gfp.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/spinlock.h>
#include <linux/topology.h>

#include "mdlpool.h"
#include "mdlpool_internal.h"
#include "mdlpool_trace.h"

/*
 * Without PREEMPT_RT a softirq may interrupt a task that holds the lock on
 * the same CPU, so the lock is taken with bottom halves off.  On PREEMPT_RT
 * softirqs are tasks that cannot interrupt the holder, and the sections
 * that take this lock do not disable bottom halves (see mdlpool_enter()):
 * taking the CPU's softirq lock here, inside a section's local lock, would
 * order the two locks against softirq callers, which hold the softirq lock
 * when they enter.
 */
void mdlpool_reserve_lock(struct mdlpool *pool)
{
	if (IS_ENABLED(CONFIG_PREEMPT_RT))
		spin_lock(&pool->reserve_lock);
	else
		spin_lock_bh(&pool->reserve_lock);
}

void mdlpool_reserve_unlock(struct mdlpool *pool)
{
	if (IS_ENABLED(CONFIG_PREEMPT_RT))
		spin_unlock(&pool->reserve_lock);
	else
		spin_unlock_bh(&pool->reserve_lock);
}

/* Slabs every pool's reserve holds, apart from the slabs in use. */
atomic_long_t mdlpool_reserve_total = ATOMIC_LONG_INIT(0);

/* Under reserve_lock, or before the pool is seen by anyone. */
void mdlpool_reserve_add(struct mdlpool *pool, struct mdlpool_slab *slab)
{
	list_add(&slab->link, &pool->reserve);
	pool->reserve_nr++;
	atomic_long_inc(&mdlpool_reserve_total);
}

bool mdlpool_reserve_put(struct mdlpool *pool, struct mdlpool_slab *slab)
{
	bool kept = false;

	/* A racy look first: most releases find the reserve full. */
	if (data_race(pool->reserve_nr) >= pool->reserve_target)
		return false;
	mdlpool_reserve_lock(pool);
	if (pool->reserve_nr < pool->reserve_target) {
		mdlpool_reserve_add(pool, slab);
		kept = true;
	}
	mdlpool_reserve_unlock(pool);
	return kept;
}

struct page *mdlpool_reserve_take(struct mdlpool *pool, u8 *layout)
{
	struct mdlpool_slab *slab;

	/* A racy look first: most pools have no reserve. */
	if (!data_race(pool->reserve_nr))
		return NULL;
	mdlpool_reserve_lock(pool);
	slab = list_first_entry_or_null(&pool->reserve, struct mdlpool_slab, link);
	if (slab) {
		list_del(&slab->link);
		pool->reserve_nr--;
		atomic_long_dec(&mdlpool_reserve_total);
	}
	mdlpool_reserve_unlock(pool);
	if (!slab)
		return NULL;
	*layout = slab->layout;
	return virt_to_page(slab);
}

/*
 * Reserve slabs enough that @n allocations succeed with no slab to be had,
 * whichever shares they run on.  Each share that allocates may need a slab
 * of its own, and a share that makes k of them needs ceil(k / b) slabs of b
 * blocks: over at most m = min(n, shares) shares that is at most
 * (n + m * (b - 1)) / b.  Reserve slabs have the fallback layout, the one
 * with fewer blocks (or the same).
 */
static unsigned int mdlpool_reserve_slabs(const struct mdlpool *pool,
					  unsigned int n)
{
	unsigned int b = pool->layouts[MDLPOOL_FALLBACK].blocks;
	unsigned int shares = num_possible_cpus() *
			      (IS_ENABLED(CONFIG_PREEMPT_RT) ? 1 : MDLPOOL_NR_CTX);
	unsigned int m = min(n, shares);

	return (n + m * (b - 1)) / b;
}

/* At creation, in process context: may sleep.  -ENOMEM if short. */
int mdlpool_reserve_fill(struct mdlpool *pool, unsigned int buffers)
{
	unsigned int order = pool->layouts[MDLPOOL_FALLBACK].order;
	int nid = pool->nid == NUMA_NO_NODE ? numa_mem_id() : pool->nid;
	struct mdlpool_slab *slab;
	struct page *page;

	pool->reserve_buffers = buffers;
	pool->reserve_target = buffers ? mdlpool_reserve_slabs(pool, buffers) : 0;
	while (pool->reserve_nr < pool->reserve_target) {
		page = alloc_pages_node(nid, GFP_KERNEL |
					(pool->gfp & (__GFP_DMA | __GFP_DMA32)) |
					(order ? __GFP_COMP : 0), order);
		if (!page)
			return -ENOMEM;
		slab = page_address(page);
		slab->layout = MDLPOOL_FALLBACK;
		mdlpool_reserve_add(pool, slab);
	}
	return 0;
}

/* At destruction, or when creation fails. */
void mdlpool_reserve_free(struct mdlpool *pool)
{
	struct mdlpool_slab *slab, *tmp;

	list_for_each_entry_safe(slab, tmp, &pool->reserve, link) {
		__free_pages(virt_to_page(slab), mdlpool_layout_of(pool, slab)->order);
		atomic_long_dec(&mdlpool_reserve_total);
	}
	INIT_LIST_HEAD(&pool->reserve);
	pool->reserve_nr = 0;
}

/* A slab that did not become a slab of @c goes back where it came from. */
void mdlpool_slab_discard(struct mdlpool *pool, struct page *page,
			  bool from_reserve)
{
	struct mdlpool_slab *slab = page_address(page);

	if (from_reserve) {
		mdlpool_reserve_lock(pool);
		mdlpool_reserve_add(pool, slab);
		mdlpool_reserve_unlock(pool);
		return;
	}
	__free_pages(page, mdlpool_layout_of(pool, slab)->order);
}
