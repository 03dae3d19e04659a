// SPDX-License-Identifier: GPL-2.0
/*
 * mdlpool - per-CPU pools of fixed-size buffers described by scatterlists
 */

/**
 * DOC: Design
 *
 * A port of the Windows NT MDL buffer pool.  A pool hands out buffers of
 * one size, each described by a struct scatterlist (the stand-in for NT's
 * MDL).  Every CPU has its own set of slabs.  A slab is one
 * allocation of 2^order pages (order 0 to 5, chosen per buffer size within
 * a waste bound, see mdlpool_slab_order(); a pool whose order is costly
 * falls back to one of at most PAGE_ALLOC_COSTLY_ORDER when the page
 * allocator has none), laid out with the block headers apart from the
 * buffers:
 *
 *   [ mdlpool_slab | hdr 0 | ... | hdr n-1 | pad | buf 0 | ... | buf n-1 ]
 *   hdr = struct mdlpool_block (scatterlist, llist node, state, offset)
 *
 * Each buffer starts on a cache line (and ARCH_DMA_MINALIGN) and fills whole
 * cache lines, so the headers the CPU writes at every allocation and free
 * never share a line with a buffer.  Unlike NT's, a buffer may cross a page
 * boundary inside its slab: the slab is contiguous, the buffer one segment.
 *
 * Blocks are built lazily, one per allocation, until the slab is cut up.
 * Blocks freed by other CPUs go on the slab's llist, blocks freed by the
 * owner on a plain list beside it.  A slab whose blocks are all handed out
 * moves to the CPU's used list, when an allocation finds it full, so that
 * allocation never walks it; the owner moves it back when it frees into
 * it.  A free on another CPU cannot touch the owner's lists, so it only
 * marks the move as missed; the owner picks such slabs up when it
 * scavenges, either because the used list grew past
 * used_pages_threshold after a missed move or because the scavenge period
 * passed.  NT finds those slabs by walking the whole used list; here the
 * remote free that finds its slab there queues it for the owner, so a
 * scavenge costs what it recovers, not what is in use.  A timed scavenge
 * also returns slabs that have been completely free for at least
 * min_page_lifetime_ms; one forced by the threshold only takes the queued
 * slabs back (see mdlpool_scavenge_due()).
 */

/**
 * DOC: Context rules
 *
 * 1. mdlpool_create() and mdlpool_destroy() sleep: process context only.
 *    The caller guarantees that nothing allocates from or frees to a pool
 *    while, or after, it is destroyed.
 *
 * 2. mdlpool_alloc(), mdlpool_free() and mdlpool_scavenge() may be called
 *    from process or softirq context, never from hardirq or NMI context or
 *    with interrupts disabled.  mdlpool_alloc_bh() is for callers already in
 *    softirq context or with bottom halves disabled (NT's DISPATCH_LEVEL).
 *    Hardirq and NMI callers are refused with a warning; interrupts off is
 *    a lockdep assertion (on PREEMPT_RT the section takes a sleeping lock).
 *    They do not sleep, except mdlpool_alloc() and mdlpool_alloc_bulk() on
 *    a pool created with page allocation flags that may: those wait for a
 *    slab outside the section when the caller could sleep: preemptible,
 *    bottom halves on, no spinlock or RCU read-side section, PREEMPT_RT's
 *    sleeping spinlocks included (mdlpool_caller_may_sleep()), and
 *    might_sleep() says so; other callers of such a pool get what can be
 *    had without waiting.
 *
 * 3. Each CPU has two shares of a pool (struct mdlpool_share): one for task
 *    context, one for softirq context and sections with bottom halves off.
 *    A share and the lists, block counts and used flags of its slabs are
 *    written only by its CPU, in its context, inside its section: for the
 *    task share, preemption off (a plain local_lock()); for the softirq
 *    share, nothing more than the caller already has, since without
 *    PREEMPT_RT such code is neither preempted nor interrupted by other
 *    softirqs (the local_lock is lockdep's record only).  A softirq that
 *    interrupts a task's section uses the other share, so neither needs
 *    bottom halves toggled.  On PREEMPT_RT, where softirqs and BH-off
 *    sections are preemptible tasks, every caller uses the task share under
 *    its local_lock, a real per-CPU lock there, and bottom halves stay as
 *    the caller has them; the softirq share stays empty.  See
 *    mdlpool_enter().
 *    mdlpool_assert_owner() asserts this on every such path, in kernels
 *    built to debug preemption or locking.
 *
 * 4. Any CPU, and either share of the owner's CPU, may push a block onto a
 *    slab's free llist (llist_add()).  Only the owner takes blocks off it,
 *    all at once (llist_del_all()), inside its section, so the list has one
 *    consumer.  The owner's own frees go on a plain list in the slab that
 *    no other CPU touches, so the owner's allocations take no atomic
 *    operation and its frees only the one that marks the block free
 *    (mdlpool_free_mark()), which any free must take against a racing one.
 *
 * 5. A free on another CPU, or in the other context of the owner's CPU,
 *    is remote: it runs outside the owner's section.  It touches the slab
 *    only until it has counted itself in page->remote_frees: until then the
 *    block it returns is still counted as out, so the owner cannot release
 *    the slab under it.  In that window, if the slab is on the used list,
 *    it also queues the slab on the owner's orphans llist (once: the slab's
 *    orphaned flag says it is queued), and the owner never releases a
 *    queued slab.  Afterwards it touches only the owner's cross-CPU fields
 *    (missed_move, orphans and the atomic counters), which live as long as
 *    the pool.
 *
 * 6. Statistics are read without locks by the debugfs file: they are a
 *    snapshot, not an invariant.
 *
 * 7. An offline CPU has no section.  While it is offline, whoever holds the
 *    CPU hotplug lock may act as its owner: the hotplug "dead" callback and
 *    the work that later reclaims its slabs do.  Frees into its slabs from
 *    other CPUs go on as under rule 5.
 *
 * 8. NT returns slabs only while their owner allocates or frees, so an idle
 *    pool would keep them for ever.  A timer-driven work queues each share's
 *    reclaim_work on its CPU every half min_page_lifetime_ms; it runs in
 *    process context there and enters the share's section as a caller of
 *    its context would (bottom halves off for the softirq share), so an
 *    idle slab goes back within 1.5 times the lifetime.  Under memory pressure
 *    the shrinker queues the same works to give back every free slab and
 *    waits for them.  Reclaim may be entered with the CPU hotplug lock held
 *    (bring-up allocates), so nothing the shrinker reaches takes that lock
 *    or waits for a lock held around an allocation: mdlpool_mutex is only
 *    tried, and the works it waits for take only their CPU's section.
 *
 * 9. On PREEMPT_RT the section's locks sleep, so a caller that cannot sleep
 *    (preemption or interrupts off, a raw spinlock held) is refused with a
 *    warning, as hardirq callers are everywhere.  Elsewhere such callers
 *    are fine: they take the task share with preemption off once more, or
 *    with bottom halves off the softirq share.
 *
 * 10. Each CPU remembers, per context, the slab it last allocated from
 *    (mdlpool_hot, not on PREEMPT_RT), so that a free of a buffer from it
 *    needs neither virt_addr_valid() nor the page lookup.  It is written
 *    and read on its own CPU only, inside the section of that context's
 *    share (a free reads it after entering what would be that section);
 *    it is cleared when its slab goes back (mdlpool_slab_release()), by
 *    the owner in the same section, or by another CPU only while the
 *    owner is offline (rule 7) or after the pool's destroy has waited for
 *    an RCU grace period (every section is a reader), so no reader sees a
 *    slab that is gone.
 */

/*
 * Where each job lives: this file is the hot path (slabs, blocks,
 * allocation, free and the bulk calls), in the order an allocation and a
 * free run through it; mdlpool_internal.h holds what the files share.
 * The others: mdlpool_checks.c (special-pool checks, refused frees),
 * mdlpool_reserve.c, mdlpool_dma.c, mdlpool_fault.c (fault injection),
 * mdlpool_reclaim.c (scavenges, idle return, the shrinker, CPU hotplug),
 * mdlpool_stats.c (statistics and debugfs), mdlpool_create.c (creation,
 * destruction, module init).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bottom_half.h>
#include <linux/gfp.h>
#include <linux/jiffies.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/local_lock.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/scatterlist.h>
#include <linux/topology.h>

#include "mdlpool.h"
#include "mdlpool_internal.h"

#define CREATE_TRACE_POINTS
#include "mdlpool_trace.h"

/* Rule 10: the slab each CPU last allocated from, per context. */
DEFINE_PER_CPU(struct mdlpool_slab *, mdlpool_hot[MDLPOOL_NR_CTX]);

/* Slabs held by every pool together. */
atomic_long_t mdlpool_slabs_total = ATOMIC_LONG_INIT(0);

/* ---- slabs: from the page allocator to a share and back ---- */

static struct page *
mdlpool_slab_alloc_order(const struct mdlpool *pool, unsigned int order,
			 gfp_t gfp)
{
	int node = pool->nid == NUMA_NO_NODE ? numa_mem_id() : pool->nid;

	if (mdlpool_inject_page_failure(order))
		return NULL;
	if (order)
		gfp |= __GFP_COMP;
	return alloc_pages_node(node, gfp | __GFP_NOWARN, order);
}

/*
 * A new slab, in the preferred layout if the page allocator has one at hand
 * (a costly order is tried once, without retrying), else in the fallback
 * layout.  Where the preferred order is not costly the two layouts are the
 * same, and the slab counts as preferred.
 */
static struct page *mdlpool_slab_alloc(const struct mdlpool *pool, gfp_t gfp,
				       u8 *layout)
{
	const struct mdlpool_layout *l = pool->layouts;
	struct page *page;

	*layout = MDLPOOL_PREFERRED;
	if (l[MDLPOOL_PREFERRED].order == l[MDLPOOL_FALLBACK].order)
		return mdlpool_slab_alloc_order(pool, l->order, gfp);
	page = mdlpool_slab_alloc_order(pool, l[MDLPOOL_PREFERRED].order,
					gfp | __GFP_NORETRY);
	if (page)
		return page;
	*layout = MDLPOOL_FALLBACK;
	return mdlpool_slab_alloc_order(pool, l[MDLPOOL_FALLBACK].order, gfp);
}

/* The pool's flags without waiting: what a refill in a section may use. */
static gfp_t mdlpool_nowait_gfp(const struct mdlpool *pool)
{
	return (pool->gfp & ~__GFP_DIRECT_RECLAIM) | GFP_NOWAIT;
}

/*
 * Whether the caller, outside any section of ours, could sleep.  Without
 * CONFIG_PREEMPT_COUNT preemptible() is false and no allocation waits.  A
 * caller with bottom halves off is not preemptible either, except on
 * PREEMPT_RT, hence the softirq test.  Nor is an RCU reader, but with
 * PREEMPT_RCU it looks preemptible: the nesting depth tells.  That also
 * covers a spinlock or local_lock on PREEMPT_RT, which leaves preempt_count
 * alone but enters an RCU read-side section.
 */
static bool mdlpool_caller_may_sleep(void)
{
	return preemptible() && !softirq_count() && !rcu_preempt_depth();
}

/*
 * Makes a new slab one of @c's slabs; false if it could not be mapped (the
 * caller then discards it).
 */
static bool mdlpool_slab_attach(struct mdlpool_share *c, struct page *page,
				u8 layout, bool from_reserve)
{
	struct mdlpool_slab *slab = page_address(page);
	enum mdlpool_slab_source source;
	unsigned long held;

	mdlpool_assert_owner(c);
	slab->layout = layout;
	if (!mdlpool_slab_map(c, page, slab))
		return false;
	if (from_reserve) {
		source = MDLPOOL_SLAB_RESERVE;
		c->reserve_taken++;
	} else if (layout == MDLPOOL_FALLBACK) {
		source = MDLPOOL_SLAB_FALLBACK;
		c->slab_fallbacks++;
	} else {
		source = MDLPOOL_SLAB_PREFERRED;
	}
	slab->owner = c;
	init_llist_head(&slab->free);
	slab->owner_free = NULL;
	slab->built = 0;
	slab->nr_out = 0;
	atomic_set(&slab->remote_frees, 0);
	slab->on_used = false;
	slab->orphaned = 0;
	slab->last_free = jiffies;
	set_page_private(page, mdlpool_slab_mark(slab));

	list_add(&slab->link, &c->slabs);
	trace_mdlpool_slab_alloc(c, mdlpool_layout_of(c->pool, slab)->order,
				 mdlpool_layout_of(c->pool, slab)->blocks, source);
	c->pages_alloc++;
	held = c->pages_alloc - c->pages_freed;
	if (held > c->peak_pages)
		c->peak_pages = held;
	atomic_long_inc(&mdlpool_slabs_total);
	return true;
}

/* A slab taken without waiting, inside @c's section: else the reserve's. */
static struct mdlpool_slab *mdlpool_slab_add(struct mdlpool_share *c)
{
	struct mdlpool *pool = c->pool;
	bool from_reserve = false;
	struct page *page;
	u8 layout;

	page = mdlpool_slab_alloc(pool, mdlpool_nowait_gfp(pool), &layout);
	if (!page) {
		page = mdlpool_reserve_take(pool, &layout);
		from_reserve = true;
	}
	if (!page)
		return NULL;
	if (!mdlpool_slab_attach(c, page, layout, from_reserve)) {
		mdlpool_slab_discard(pool, page, from_reserve);
		return NULL;
	}
	return page_address(page);
}

/*
 * Rule 10: @slab goes back, so its CPU must not take it for its hot slab any
 * more.  A cmpxchg(), because the destroy of a pool may clear the hot
 * slabs of CPUs that allocate from other pools meanwhile.
 */
void mdlpool_hot_forget(struct mdlpool_share *c, struct mdlpool_slab *slab)
{
	if (!IS_ENABLED(CONFIG_PREEMPT_RT))
		cmpxchg(per_cpu_ptr(&mdlpool_hot[c->ctx], c->cpu), slab, NULL);
}

/* Returns true if the slab went back to the page allocator, not the reserve. */
bool mdlpool_slab_release(struct mdlpool_share *c, struct mdlpool_slab *slab,
			  enum mdlpool_reclaim why)
{
	struct page *page = virt_to_page(slab);
	unsigned int order = mdlpool_layout_of(c->pool, slab)->order;
	bool kept;

	trace_mdlpool_slab_release(c, order, why);

	list_del(&slab->link);
	if (slab->on_used)
		c->nr_used_slabs--;
	c->blocks_built -= slab->built;
	mdlpool_slab_unmap(c, slab);
	/* Later frees of stale descriptors must not recognise the slab. */
	set_page_private(page, 0);
	mdlpool_hot_forget(c, slab);
	kept = mdlpool_reserve_put(c->pool, slab);
	if (!kept)
		__free_pages(page, order);
	c->pages_freed++;
	atomic_long_dec(&mdlpool_slabs_total);
	return !kept;
}

void mdlpool_slab_restore(struct mdlpool_share *c, struct mdlpool_slab *slab)
{
	list_move_tail(&slab->link, &c->slabs);
	WRITE_ONCE(slab->on_used, false);
	c->nr_used_slabs--;
}

/*
 * A slab on the used list with no block out and none free: every block it
 * had left was found overwritten and left out (mdlpool_drop_overwritten()).
 * No free will ever move it back to the slab list, where scavenges look,
 * so it goes back now; unless it still waits on the orphan queue, whose
 * scavenge (mdlpool_adopt_orphans()) comes here again.
 */
noinline void mdlpool_slab_release_dead(struct mdlpool_share *c,
					struct mdlpool_slab *slab)
{
	if (mdlpool_slab_idle(slab, jiffies, 0))
		mdlpool_slab_release(c, slab, MDLPOOL_RECLAIM_CORRUPT);
}

static void mdlpool_slab_retire(struct mdlpool_share *c, struct mdlpool_slab *slab)
{
	list_move_tail(&slab->link, &c->used_slabs);
	WRITE_ONCE(slab->on_used, true);
	c->nr_used_slabs++;
	/*
	 * A remote free pushes its block (a full barrier) and then reads
	 * on_used.  With this barrier between our store of on_used and our
	 * look at the list, either we see its block and keep the slab where
	 * allocation finds it, or it sees on_used, records a missed move and
	 * queues the slab as an orphan.
	 */
	smp_mb();
	if (!llist_empty(&slab->free))
		mdlpool_slab_restore(c, slab);
	else if (unlikely(!mdlpool_slab_in_use(slab)))
		mdlpool_slab_release_dead(c, slab);
}

/* ---- allocation ---- */

static struct mdlpool_block *mdlpool_block_build(const struct mdlpool *pool,
						 struct mdlpool_slab *slab)
{
	struct mdlpool_block *blk = mdlpool_block_at(pool, slab, slab->built);
	void *buf = mdlpool_block_buf(pool, slab, blk);

	/* One segment, even where the buffer crosses into the next page. */
	sg_init_one(&blk->sg, buf, pool->buffer_size);
	blk->buf_offset = buf - (void *)slab;
	if (pool->dma_dev) {
		sg_dma_address(&blk->sg) = slab->dma +
					   mdlpool_block_offset(pool, slab, blk);
		sg_dma_len(&blk->sg) = pool->buffer_size;
	}
	blk->state = MDLPOOL_BLOCK_FREE;
	if (pool->checked)
		memset(buf, MDLPOOL_POISON_BYTE, pool->buffer_size);
	slab->built++;
	slab->owner->blocks_built++;
	return blk;
}

/*
 * The next block of @slab to hand out: one freed before, else a new one.
 * NULL only if overwritten free blocks were all the slab had left; the slab
 * is exhausted then and the caller moves on.
 */
static __always_inline struct mdlpool_block *
mdlpool_block_take(const struct mdlpool *pool, struct mdlpool_slab *slab)
{
	struct llist_node *node = slab->owner_free;
	struct mdlpool_block *blk;

	/* One exchange takes every block other CPUs have freed so far. */
	if (!node)
		node = llist_del_all(&slab->free);
	while (node) {
		blk = container_of(node, struct mdlpool_block, free_node);
		if (likely(blk->state == MDLPOOL_BLOCK_FREE)) {
			slab->owner_free = node->next;
			return blk;
		}
		node = mdlpool_drop_overwritten(pool, slab, blk);
		if (!node)
			node = llist_del_all(&slab->free);
	}
	slab->owner_free = NULL;
	if (slab->built < mdlpool_layout_of(pool, slab)->blocks)
		return mdlpool_block_build(pool, slab);
	return NULL;
}

/* The block leaves the pool: its descriptor as a new buffer's should be. */
static __always_inline struct scatterlist *
mdlpool_block_give(const struct mdlpool *pool, struct mdlpool_slab *slab,
		   struct mdlpool_block *blk, void **buf)
{
	struct scatterlist *sg = &blk->sg;

	blk->state = MDLPOOL_BLOCK_OUT;
	/* Callers shorten the length while they use a buffer; NT resets it. */
	sg->length = pool->buffer_size;
	if (pool->dma_dev)
		sg_dma_len(sg) = pool->buffer_size;
	/* NT clears the MDL's link: a new buffer is never part of a chain. */
	sg_mark_end(sg);
	*buf = (void *)slab + blk->buf_offset;
	return sg;
}

static __always_inline struct scatterlist *
mdlpool_block_hand_out(const struct mdlpool *pool, struct mdlpool_slab *slab,
		       struct mdlpool_block *blk, void **buf)
{
	if (pool->checked)
		mdlpool_check_poison(pool, slab, blk);
	return mdlpool_block_give(pool, slab, blk, buf);
}

/* After one allocation or a bulk of them: the high-water mark. */
static __always_inline void mdlpool_note_peak(struct mdlpool_share *c)
{
	unsigned long in_use = mdlpool_share_in_use(c);

	if ((long)in_use > (long)c->peak_in_use)
		c->peak_in_use = in_use;
}

/*
 * The first slab with a block to give, after moving the full slabs in
 * front of it to the used list.  NT moves a slab when it hands out its last
 * block; moving it when an allocation finds it full instead spares the
 * moves (and their barrier) when the block comes straight back, as it does
 * when a caller allocates and frees in turn.
 */
static __always_inline struct mdlpool_slab *
mdlpool_first_usable_slab(struct mdlpool *pool, struct mdlpool_share *c)
{
	struct mdlpool_slab *slab;

	while ((slab = list_first_entry_or_null(&c->slabs, struct mdlpool_slab,
						link))) {
		if (!mdlpool_slab_exhausted(pool, slab))
			return slab;
		mdlpool_slab_retire(c, slab);
	}
	return NULL;
}

/* A slab to allocate from: a usable one, an orphan, else a new one. */
static __always_inline struct mdlpool_slab *
mdlpool_slab_to_use(struct mdlpool *pool, struct mdlpool_share *c)
{
	struct mdlpool_slab *slab;

	slab = mdlpool_first_usable_slab(pool, c);
	if (!slab && !llist_empty(&c->orphans)) {
		/*
		 * NT grows the pool here and leaves orphans to the next
		 * scavenge; slabs other CPUs have freed into are cheaper.
		 */
		mdlpool_adopt_orphans(c);
		slab = mdlpool_first_usable_slab(pool, c);
	}
	if (!slab)
		slab = mdlpool_slab_add(c);
	return slab;
}

static __always_inline void mdlpool_scavenge_if_due(struct mdlpool_share *c)
{
	switch (mdlpool_scavenge_due(c, jiffies, READ_ONCE(mdlpool_used_pages_threshold))) {
	case MDLPOOL_SCAVENGE_FULL:
		mdlpool_scavenge_timed(c, MDLPOOL_RECLAIM_PERIOD);
		break;
	case MDLPOOL_SCAVENGE_ORPHANS:
		mdlpool_scavenge_orphans(c);
		break;
	case MDLPOOL_SCAVENGE_NONE:
		break;
	}
}

/*
 * Up to @nr buffers in the section of @c, without waiting; how many it got.
 * Each slab gives what it has before the next is looked for, so a bulk pays
 * for the slab lists once per slab rather than once per buffer.
 */
static __always_inline unsigned int
mdlpool_alloc_many(struct mdlpool_share *c, unsigned int nr,
		   struct scatterlist **sgs, void **bufs)
{
	struct mdlpool *pool = c->pool;
	struct mdlpool_block *blk;
	struct mdlpool_slab *slab;
	unsigned int i = 0;

	mdlpool_assert_owner(c);
	mdlpool_scavenge_if_due(c);
	while (i < nr) {
		slab = mdlpool_slab_to_use(pool, c);
		if (!slab)
			break;
		/* A slab that runs dry is retired by the next lookup. */
		while (i < nr && (blk = mdlpool_block_take(pool, slab))) {
			slab->nr_out++;
			sgs[i] = mdlpool_block_hand_out(pool, slab, blk, &bufs[i]);
			i++;
		}
	}
	c->allocs += i;
	mdlpool_note_peak(c);
	return i;
}

/*
 * The slow end of an allocation that got @got of @nr buffers without
 * waiting.  If the pool's flags may sleep it leaves the section, and if the
 * caller could sleep (which only shows outside the section) it takes a
 * slab with those flags, then goes on in the section of whatever CPU it
 * runs on, to which the slab goes.  It counts and traces a shortfall and
 * leaves the section of the share it then holds.  Out of line, so that the
 * fast path keeps its locals in registers and no tracepoint in its code.
 */
static noinline unsigned int
mdlpool_alloc_short(struct mdlpool_share *c, unsigned int nr, unsigned int got,
		    struct scatterlist **sgs, void **bufs)
{
	struct mdlpool *pool = c->pool;
	struct page *page;
	bool may_sleep;
	u8 layout;

	while (got < nr && gfpflags_allow_blocking(pool->gfp)) {
		mdlpool_leave(c);
		may_sleep = mdlpool_caller_may_sleep();
		if (may_sleep) {
			might_sleep();
			page = mdlpool_slab_alloc(pool, pool->gfp, &layout);
		}
		c = mdlpool_enter(pool);
		if (!may_sleep || !page)
			break;
		if (!mdlpool_slab_attach(c, page, layout, false)) {
			mdlpool_slab_discard(pool, page, false);
			break;
		}
		c->waited_slabs++;
		got += mdlpool_alloc_many(c, nr - got, sgs + got, bufs + got);
	}
	if (got < nr) {
		c->alloc_failures++;
		trace_mdlpool_alloc_fail(c, nr, got);
		sgs[got] = NULL;
		bufs[got] = NULL;
	}
	mdlpool_leave(c);
	return got;
}

/*
 * The allocation most calls make, inline in mdlpool_alloc() and
 * mdlpool_alloc_bh(): a block the owner freed into the first slab of its
 * list, with nothing to scavenge and no checks to run.  NULL, with nothing
 * changed, sends the caller to mdlpool_alloc_slow() for every other case.
 * It calls nothing and keeps few values, so that the compiler saves no
 * register for it: a path that did everything pushed and popped six of
 * them in every call (BENCHMARKS.md).
 */
static __always_inline struct scatterlist *
mdlpool_alloc_fast(struct mdlpool_share *c, void **buf)
{
	const struct mdlpool *pool = c->pool;
	struct mdlpool_block *blk;
	struct mdlpool_slab *slab;
	struct llist_node *node;

	mdlpool_assert_owner(c);
	if (unlikely(pool->checked ||
		     mdlpool_scavenge_due(c, jiffies,
					  READ_ONCE(mdlpool_used_pages_threshold))))
		return NULL;
	slab = list_first_entry_or_null(&c->slabs, struct mdlpool_slab, link);
	if (unlikely(!slab || !slab->owner_free))
		return NULL;
	node = slab->owner_free;
	blk = container_of(node, struct mdlpool_block, free_node);
	if (unlikely(blk->state != MDLPOOL_BLOCK_FREE))
		return NULL;
	slab->owner_free = node->next;
	slab->nr_out++;
	c->allocs++;
	mdlpool_note_peak(c);
	/* Rule 10: a free of this buffer will find its slab here. */
	if (!IS_ENABLED(CONFIG_PREEMPT_RT) &&
	    unlikely(this_cpu_read(mdlpool_hot[c->ctx]) != slab))
		this_cpu_write(mdlpool_hot[c->ctx], slab);
	return mdlpool_block_give(pool, slab, blk, buf);
}

/* One buffer, when mdlpool_alloc_fast() has none; leaves the section. */
static noinline struct scatterlist *
mdlpool_alloc_slow(struct mdlpool_share *c, void **buf)
{
	struct scatterlist *sg;

	if (likely(mdlpool_alloc_many(c, 1, &sg, buf))) {
		mdlpool_leave(c);
		return sg;
	}
	return mdlpool_alloc_short(c, 1, 0, &sg, buf) ? sg : NULL;
}

/**
 * mdlpool_alloc_bh - allocate a buffer from a section with bottom halves off
 * @pool: the pool to allocate from
 * @buf: receives the buffer's kernel address, or NULL on failure
 *
 * For callers in softirq context or with bottom halves disabled, the Linux
 * form of NT's MdpAllocateAtDpcLevel(): mdlpool_alloc() that asserts the
 * context.  The buffer comes from the current CPU's slabs for that context.
 *
 * Context: softirq, or process context with bottom halves disabled.
 * Return: the buffer's descriptor, with ->length reset to the pool's buffer
 * size and marked as the end of its list; NULL if no slab could be had or
 * if called from a context the pool does not support.
 */
struct scatterlist *mdlpool_alloc_bh(struct mdlpool *pool, void **buf)
{
	struct scatterlist *sg;
	struct mdlpool_share *c;

	if (unlikely(!mdlpool_context_ok() || WARN_ON_ONCE(!in_softirq()))) {
		*buf = NULL;
		return NULL;
	}
	c = mdlpool_enter(pool);
	sg = mdlpool_alloc_fast(c, buf);
	if (unlikely(!sg))
		return mdlpool_alloc_slow(c, buf);
	mdlpool_leave(c);
	return sg;
}
EXPORT_SYMBOL_GPL(mdlpool_alloc_bh);

/**
 * mdlpool_alloc - allocate a buffer and its descriptor
 * @pool: the pool to allocate from
 * @buf: receives the buffer's kernel address, or NULL on failure
 *
 * NT's MdpAllocate().  The buffer comes from the current CPU's slabs; it
 * is mdlpool_buffer_size() bytes long, starts on a cache line, is one
 * physically contiguous segment (it may cross pages of its slab), and is not
 * zeroed.  Does not sleep, unless the pool was created with page allocation
 * flags that may (mdlpool_create_params()): then, when the CPU has no slab
 * with a free block and none can be had without waiting, a caller that
 * could sleep (process context, preemptible, bottom halves on) waits for
 * one with those flags.
 *
 * Context: process or softirq context.
 * Return: the buffer's descriptor, with ->length reset to the pool's buffer
 * size and marked as the end of its list; NULL if no slab could be had or
 * if called from a context the pool does not support.
 */
struct scatterlist *mdlpool_alloc(struct mdlpool *pool, void **buf)
{
	struct scatterlist *sg;
	struct mdlpool_share *c;

	if (unlikely(!mdlpool_context_ok())) {
		*buf = NULL;
		return NULL;
	}
	c = mdlpool_enter(pool);
	sg = mdlpool_alloc_fast(c, buf);
	if (unlikely(!sg))
		return mdlpool_alloc_slow(c, buf);
	mdlpool_leave(c);
	return sg;
}
EXPORT_SYMBOL_GPL(mdlpool_alloc);

/**
 * mdlpool_alloc_bulk - allocate several buffers in one section
 * @pool: the pool to allocate from
 * @nr: how many
 * @sgs: receives the descriptors, @nr entries
 * @bufs: receives the buffers' kernel addresses, @nr entries
 *
 * As @nr calls of mdlpool_alloc(), for the price of entering the CPU's
 * section once, like kmem_cache_alloc_bulk(), and it waits for slabs where
 * mdlpool_alloc() would.  Unlike kmem_cache_alloc_bulk(), what could be
 * allocated is kept when the pool runs out of slabs: a driver refilling a
 * ring uses what it got.
 *
 * Context: process or softirq context.
 * Return: how many buffers were allocated, 0 to @nr; they are the first
 * entries of @sgs and @bufs.
 */
unsigned int mdlpool_alloc_bulk(struct mdlpool *pool, unsigned int nr,
				struct scatterlist **sgs, void **bufs)
{
	struct mdlpool_share *c;
	unsigned int got;

	if (!nr || !mdlpool_context_ok())
		return 0;
	c = mdlpool_enter(pool);
	got = mdlpool_alloc_many(c, nr, sgs, bufs);
	if (unlikely(got < nr))
		return mdlpool_alloc_short(c, nr, got, sgs, bufs);
	mdlpool_leave(c);
	return got;
}
EXPORT_SYMBOL_GPL(mdlpool_alloc_bulk);

/* ---- free ---- */

/* NT's check that the caller did not repoint the MDL at memory of its own. */
static __always_inline bool
mdlpool_block_intact(const struct mdlpool *pool, struct mdlpool_slab *slab,
		     struct page *head, struct mdlpool_block *blk)
{
	unsigned int off = mdlpool_block_offset(pool, slab, blk);
	struct scatterlist *sg = &blk->sg;

	/* The slab's struct pages follow its head's, as for any folio. */
	return sg_page(sg) == nth_page(head, off >> PAGE_SHIFT) &&
	       sg->offset == offset_in_page(off) &&
	       (!pool->dma_dev || sg_dma_address(sg) == slab->dma + off);
}

/* The owner's free of a block marked free, into its slab's own list. */
static __always_inline void
mdlpool_free_to_slab(struct mdlpool_share *c, struct mdlpool_slab *slab,
		     struct mdlpool_block *blk)
{
	mdlpool_assert_owner(c);
	WRITE_ONCE(slab->last_free, jiffies);
	blk->free_node.next = slab->owner_free;
	slab->owner_free = &blk->free_node;
	slab->nr_out--;
	c->local_frees++;
}

static __always_inline void
mdlpool_free_local(struct mdlpool_share *c, struct mdlpool_slab *slab,
		   struct mdlpool_block *blk)
{
	mdlpool_free_to_slab(c, slab, blk);
	if (slab->on_used)
		mdlpool_slab_restore(c, slab);
}

/* Once per section that freed, however many blocks it freed. */
static __always_inline void
mdlpool_scavenge_if_period_over(struct mdlpool_share *c)
{
	if (time_after(jiffies, c->next_scavenge))
		mdlpool_scavenge_timed(c, MDLPOOL_RECLAIM_PERIOD);
}

/* Rule 5: any CPU, any supported context, no section needed. */
static void mdlpool_free_remote(struct mdlpool_share *owner,
				struct mdlpool_slab *slab,
				struct mdlpool_block *blk)
{
	bool on_used;

	WRITE_ONCE(slab->last_free, jiffies);
	/* Fully ordered: pairs with the barrier in mdlpool_slab_retire(). */
	llist_add(&blk->free_node, &slab->free);
	on_used = READ_ONCE(slab->on_used);
	/* Fully ordered too: pairs with mdlpool_adopt_orphans(). */
	if (on_used && !xchg(&slab->orphaned, 1))
		llist_add(&slab->orphan_node, &owner->orphans);
	/* Our last touch of the slab: the owner may release it after this. */
	atomic_inc_return_release(&slab->remote_frees);

	atomic_long_inc(&owner->remote_frees);
	if (on_used) {
		WRITE_ONCE(owner->missed_move, true);
		atomic_long_inc(&owner->missed_moves);
	}
}

/*
 * The checks of a free: the descriptor is one a pool handed out and
 * unaltered.  Each returns the block's share and sets @blkp (and the slab
 * and its head page, @slabp and @headp), or NULL if the free is refused
 * (-EINVAL).  mdlpool_free_check_in() is for a descriptor known to lie in
 * @slab; mdlpool_free_check_mapped() for one virt_addr_valid() has
 * accepted.
 */
static __always_inline struct mdlpool_share *
mdlpool_free_check_in(struct mdlpool_slab *slab, struct page *head,
		      struct scatterlist *sg, struct mdlpool_block **blkp)
{
	struct mdlpool_share *c = slab->owner;
	struct mdlpool_block *blk = mdlpool_block_of(c->pool, slab, sg);

	if (unlikely(!blk || !mdlpool_block_intact(c->pool, slab, head, blk))) {
		mdlpool_reject(c, sg, MDLPOOL_REFUSED_ALTERED);
		return NULL;
	}
	*blkp = blk;
	return c;
}

static __always_inline struct mdlpool_share *
mdlpool_free_check_mapped(struct scatterlist *sg, struct mdlpool_slab **slabp,
			  struct page **headp, struct mdlpool_block **blkp)
{
	struct mdlpool_slab *slab = mdlpool_slab_of_mapped(sg, headp);

	if (unlikely(!slab)) {
		mdlpool_reject(NULL, sg, MDLPOOL_REFUSED_FOREIGN);
		return NULL;
	}
	*slabp = slab;
	return mdlpool_free_check_in(slab, *headp, sg, blkp);
}

static __always_inline struct mdlpool_share *
mdlpool_free_check(struct scatterlist *sg, struct mdlpool_slab **slabp,
		   struct page **headp, struct mdlpool_block **blkp)
{
	if (unlikely(!virt_addr_valid(sg))) {
		mdlpool_reject(NULL, sg, MDLPOOL_REFUSED_FOREIGN);
		return NULL;
	}
	return mdlpool_free_check_mapped(sg, slabp, headp, blkp);
}

/* Whether @sg lies among the built block headers of @slab. */
static __always_inline bool mdlpool_in_headers(struct mdlpool_slab *slab,
					       const struct scatterlist *sg)
{
	return (unsigned long)sg - (unsigned long)slab->blocks <
	       (unsigned long)slab->built * sizeof(struct mdlpool_block);
}

/*
 * Marks an out block free, or refuses a second free.  Atomic on every path,
 * the owner's included: two frees of one block racing each other (from
 * two CPUs, or from a task and a softirq of one CPU) must not both win, or
 * the block would sit on two free lists and its slab's in-use count would
 * be one short, so that the slab could go back to the page allocator under
 * another caller's live buffer.  The line is the owner's already; the
 * locked instruction costs what BENCHMARKS.md shows.
 */
static __always_inline int
mdlpool_free_mark(struct mdlpool_share *c, struct mdlpool_slab *slab,
		  struct mdlpool_block *blk)
{
	struct mdlpool *pool = c->pool;
	u32 out = MDLPOOL_BLOCK_OUT;

	if (unlikely(!try_cmpxchg(&blk->state, &out, MDLPOOL_BLOCK_FREE)))
		return mdlpool_reject(c, &blk->sg, MDLPOOL_REFUSED_TWICE);
	if (pool->checked)
		mdlpool_check_redzone(pool, slab, blk);
	return 0;
}

/* Inside the section of share @here: a free to it is local (rule 3). */
static __always_inline int
mdlpool_free_in(struct mdlpool_share *here, struct mdlpool_share *c,
		struct mdlpool_slab *slab, struct mdlpool_block *blk)
{
	int err = mdlpool_free_mark(c, slab, blk);

	if (err)
		return err;
	if (c == here)
		mdlpool_free_local(c, slab, blk);
	else
		mdlpool_free_remote(c, slab, blk);
	return 0;
}

/*
 * The free most calls make, in the section of the block's own share: no
 * checks to run, the slab on the slab list, no scavenge due.  False, with
 * nothing changed, sends the caller to mdlpool_free_slow().  Small for the
 * reason mdlpool_alloc_fast() is.
 */
static __always_inline bool
mdlpool_free_fast(struct mdlpool_share *c, struct mdlpool_slab *slab,
		  struct mdlpool_block *blk)
{
	u32 out = MDLPOOL_BLOCK_OUT;

	if (unlikely(c->pool->checked || slab->on_used ||
		     time_after(jiffies, c->next_scavenge)))
		return false;
	/*
	 * A block that is not out stays as it is until mdlpool_free_slow()
	 * refuses it: only an allocation in this section could change it.
	 */
	if (unlikely(!try_cmpxchg(&blk->state, &out, MDLPOOL_BLOCK_FREE)))
		return false;
	mdlpool_free_to_slab(c, slab, blk);
	return true;
}

/* Every free mdlpool_free_fast() leaves, in the section of @here. */
static noinline int mdlpool_free_slow(struct mdlpool_share *here,
				      struct mdlpool_share *c,
				      struct mdlpool_slab *slab,
				      struct mdlpool_block *blk)
{
	int err = mdlpool_free_in(here, c, slab, blk);

	mdlpool_scavenge_if_period_over(here);
	mdlpool_leave(here);
	return err;
}

/* Rule 5: a free on another CPU than the block's, in no section. */
static noinline int mdlpool_free_elsewhere(struct mdlpool_share *c,
					   struct mdlpool_slab *slab,
					   struct mdlpool_block *blk)
{
	int err = mdlpool_free_mark(c, slab, blk);

	if (!err)
		mdlpool_free_remote(c, slab, blk);
	return err;
}

/*
 * mdlpool_free() once virt_addr_valid() has accepted the descriptor.  That
 * call is the only one on the way, so it is made before anything else is
 * worked out and this is a jump: neither function saves more than a
 * register (see mdlpool_alloc_fast()).
 */
static noinline int mdlpool_free_mapped(struct scatterlist *sg)
{
	struct mdlpool_share *c, *here;
	struct mdlpool_block *blk;
	struct mdlpool_slab *slab;
	struct page *head;

	c = mdlpool_free_check_mapped(sg, &slab, &head, &blk);
	if (unlikely(!c))
		return -EINVAL;
	/*
	 * A free on another CPU needs no section (rule 5), so a racy look at
	 * the CPU is enough to send it there; a free that looks local is
	 * checked again inside the section, where the CPU cannot change.
	 */
	if (c->cpu != raw_smp_processor_id())
		return mdlpool_free_elsewhere(c, slab, blk);
	here = mdlpool_enter(c->pool);
	if (unlikely(here != c || !mdlpool_free_fast(c, slab, blk)))
		return mdlpool_free_slow(here, c, slab, blk);
	mdlpool_leave(here);
	return 0;
}

#define MDLPOOL_NOT_HOT		1

/*
 * Rule 10: a free of a buffer of the slab this CPU last allocated from in
 * the caller's context, the common case, in that share's section without
 * virt_addr_valid() or the page lookup.  mdlpool_enter() would take that
 * section as this does, preemption off for a task (what local_lock() is
 * without PREEMPT_RT), nothing more in softirq context: so when the slab
 * turns out to be the hot one, the section is held already.  Returns what
 * mdlpool_free() returns, or MDLPOOL_NOT_HOT, with the section left,
 * for any other descriptor.
 */
#ifdef CONFIG_PREEMPT_RT
static __always_inline int mdlpool_free_hot(struct scatterlist *sg)
{
	return MDLPOOL_NOT_HOT;
}
#else
static __always_inline int mdlpool_free_hot(struct scatterlist *sg)
{
	unsigned int ctx = softirq_count() ? MDLPOOL_CTX_BH : MDLPOOL_CTX_TASK;
	struct mdlpool_block *blk;
	struct mdlpool_slab *slab;
	struct mdlpool_share *c;

	if (ctx == MDLPOOL_CTX_TASK)
		preempt_disable();
	slab = this_cpu_read(mdlpool_hot[ctx]);
	if (unlikely(!slab || !mdlpool_in_headers(slab, sg))) {
		if (ctx == MDLPOOL_CTX_TASK)
			preempt_enable();
		return MDLPOOL_NOT_HOT;
	}
	c = slab->owner;
	local_lock_acquire(&c->lock);
	c = mdlpool_free_check_in(slab, virt_to_page(slab), sg, &blk);
	if (unlikely(!c)) {
		mdlpool_leave(slab->owner);
		return -EINVAL;
	}
	if (unlikely(!mdlpool_free_fast(c, slab, blk)))
		return mdlpool_free_slow(c, c, slab, blk);
	mdlpool_leave(c);
	return 0;
}
#endif

/**
 * mdlpool_free - give a buffer back to its pool
 * @sg: a descriptor returned by mdlpool_alloc() or mdlpool_alloc_bh()
 *
 * NT's MdpFree().  May run on any CPU.  The descriptor is checked first: one
 * that no pool handed out, that was repointed at other memory, or whose
 * block is free already is refused with a warning and counted (in the pool's
 * rejected_frees, or in the global count when no pool owns the memory), and
 * the pool is left as it was.  A double free is caught only while the block
 * is still free in a slab the pool holds: once the block is handed out
 * again, or its slab went back and a pool got a slab at the same address,
 * a stale descriptor looks like a live one and frees that buffer.  Of
 * several frees of one descriptor at the same moment, from any CPUs and
 * contexts, one is accepted and the others are refused.
 *
 * Context: process or softirq context.
 * Return: 0, or -EINVAL if the descriptor was refused, or -EPERM if called
 * from a context the pool does not support (the buffer stays allocated).
 */
int mdlpool_free(struct scatterlist *sg)
{
	int ret;

	if (unlikely(!mdlpool_context_ok()))
		return -EPERM;
	ret = mdlpool_free_hot(sg);
	if (ret != MDLPOOL_NOT_HOT)
		return ret;
	if (unlikely(!virt_addr_valid(sg)))
		return mdlpool_reject(NULL, sg, MDLPOOL_REFUSED_FOREIGN);
	return mdlpool_free_mapped(sg);
}
EXPORT_SYMBOL_GPL(mdlpool_free);

/**
 * mdlpool_free_bulk - give several buffers back in one section
 * @nr: how many
 * @sgs: their descriptors, @nr entries, from any pools and CPUs
 *
 * As @nr calls of mdlpool_free(), entering the CPU's section at most once:
 * that of the pool of the first descriptor accepted.  Buffers of that pool
 * and of the caller's share are freed there; the others go back as remote
 * frees.  Each descriptor is checked as mdlpool_free() checks it; one that
 * is refused does not stop the others.
 *
 * Context: process or softirq context.
 * Return: 0, or -EINVAL if any descriptor was refused (the others are
 * freed), or -EPERM if called from a context the pool does not support
 * (nothing is freed).
 */
int mdlpool_free_bulk(unsigned int nr, struct scatterlist **sgs)
{
	struct mdlpool_slab *slab, *near = NULL;
	struct mdlpool_share *c, *here = NULL;
	struct page *head, *near_head = NULL;
	struct mdlpool_block *blk;
	unsigned int i;
	int ret = 0;

	if (!mdlpool_context_ok())
		return -EPERM;
	for (i = 0; i < nr; i++) {
		/*
		 * Buffers allocated together are freed together: one in the
		 * slab of the last local free needs no virt_addr_valid() and
		 * no page lookup.  That slab is the share's whose section we
		 * hold, and only its owner gives it back, in that section
		 * (rules 3 and 8), so it stays while we look at it.
		 */
		if (near && mdlpool_in_headers(near, sgs[i])) {
			slab = near;
			head = near_head;
			c = mdlpool_free_check_in(slab, head, sgs[i], &blk);
		} else {
			c = mdlpool_free_check(sgs[i], &slab, &head, &blk);
		}
		if (!c) {
			ret = -EINVAL;
			continue;
		}
		if (!here)
			here = mdlpool_enter(c->pool);
		ret = mdlpool_free_in(here, c, slab, blk) ?: ret;
		if (c == here) {
			near = slab;
			near_head = head;
		}
	}
	if (here) {
		mdlpool_scavenge_if_period_over(here);
		mdlpool_leave(here);
	}
	return ret;
}
EXPORT_SYMBOL_GPL(mdlpool_free_bulk);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The mdlpool developers");
MODULE_VERSION(MDLPOOL_VERSION);
MODULE_DESCRIPTION("Per-CPU pools of scatterlist-described buffers, after the NT MDL pool");
