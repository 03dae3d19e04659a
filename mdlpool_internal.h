/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mdlpool internals: the layout of pools, slabs and blocks, the pure
 * decisions made on them, the sections (rule 3), and what the library's
 * files share.  Included by those files and by test/mdlpool_kunit.c, which
 * checks the layout and the decisions with made-up times; nothing else
 * should include it.
 */
#ifndef _MDLPOOL_INTERNAL_H
#define _MDLPOOL_INTERNAL_H

#include <linux/atomic.h>
#include <linux/bottom_half.h>
#include <linux/cpuhotplug.h>
#include <linux/cache.h>
#include <linux/dma-direction.h>
#include <linux/jiffies.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/local_lock.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/rcupdate.h>
#include <linux/scatterlist.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "mdlpool.h"

/* Values of mdlpool_block.state; anything else is not a live block. */
#define MDLPOOL_BLOCK_FREE	0x4d646c46U	/* "FldM" */
#define MDLPOOL_BLOCK_OUT	0x4d646c4fU	/* "OldM" */

/*
 * Every buffer starts on a cache line and on the DMA alignment, and its slot
 * is a whole number of them: no two buffers, and no buffer and the
 * metadata, share a cache line that the CPU writes while a device may own
 * the other (streaming DMA on non-coherent machines, DMA-API debugging).
 */
#define MDLPOOL_BUF_ALIGN	max_t(unsigned int, L1_CACHE_BYTES, ARCH_DMA_MINALIGN)

/*
 * Slab orders.  A pool prefers the smallest order that keeps its waste
 * within mdlpool_waste_bound(), up to MDLPOOL_MAX_ORDER (128 KiB with 4 KiB
 * slabs).  Above PAGE_ALLOC_COSTLY_ORDER the page allocator gives up easily,
 * so such a pool also has a fallback order of at most that, used when the
 * preferred allocation fails, as SLUB does with its slabs: a pool never
 * depends on a costly allocation.  The largest buffer fits a fallback slab.
 */
#define MDLPOOL_MAX_ORDER		5
#define MDLPOOL_FALLBACK_MAX_ORDER	PAGE_ALLOC_COSTLY_ORDER

/* With debug_checks: bytes guarded after each buffer, and the fill bytes. */
#define MDLPOOL_REDZONE		16
#define MDLPOOL_REDZONE_BYTE	0xbb
#define MDLPOOL_POISON_BYTE	0x6b

/*
 * The two shares of a pool each CPU has (rule 3): one for task context,
 * one for softirq context and sections with bottom halves off.  On
 * PREEMPT_RT, where softirqs run in tasks, only the first is used.
 */
enum mdlpool_ctx {
	MDLPOOL_CTX_TASK,
	MDLPOOL_CTX_BH,
	MDLPOOL_NR_CTX
};

/**
 * struct mdlpool_share - one CPU's share of a pool, for one context
 * @lock: lockdep's record of the owner's section, and the section itself
 *	where it needs a lock (rule 3)
 * @pool: the pool this belongs to
 * @cpu: the owning CPU
 * @ctx: the context that owns it, an enum mdlpool_ctx
 * @slabs: slabs with a free or not yet built block; allocation uses the first
 * @used_slabs: slabs with every block handed out
 * @nr_used_slabs: length of @used_slabs
 * @next_scavenge: jiffies after which the next allocation or free scavenges
 * @allocs: buffers handed out
 * @local_frees: buffers freed on this CPU into this CPU's slabs
 * @peak_in_use: most buffers of this CPU's slabs out at once
 * @pages_alloc: slabs taken from the page allocator
 * @pages_freed: slabs given back
 * @peak_pages: most slabs held at once
 * @blocks_built: blocks built on the slabs held now
 * @scavenges: scavenges run
 * @alloc_failures: allocations that found no slab
 * @corrupt_free_blocks: free blocks found overwritten at allocation and
 *	left out of their slab's lists
 * @dma_mapped_pages: slabs of a device-bound pool mapped for its device now
 * @dma_map_failures: slabs given back because the mapping failed
 * @slab_fallbacks: slabs taken at the pool's fallback order because the
 *	preferred one could not be had
 * @waited_slabs: slabs an allocation waited for outside its section, with
 *	the pool's flags, after none could be had without waiting
 * @reserve_taken: slabs taken from the pool's reserve because the page
 *	allocator had none
 * @missed_move: a free on another CPU hit a slab on @used_slabs
 * @orphans: slabs of @used_slabs that other CPUs freed blocks into, each
 *	queued once by the free that found it there, so that a scavenge
 *	moves them back without walking @used_slabs (rule 5)
 * @remote_frees: buffers freed on other CPUs into this CPU's slabs
 * @missed_moves: how often @missed_move was set
 * @rejected_frees: frees of this CPU's slabs refused as corrupt or double
 * @overruns: buffers of this CPU's slabs freed with their redzone overwritten
 * @poison_errors: freed buffers of this CPU's slabs written to while free
 * @reclaim_all: the shrinker asks the next @reclaim_work to give back every
 *	free slab, however young (a word, for xchg())
 * @reclaim_work: reclaim run on this CPU when the pool is idle (rule 8)
 *
 * Everything up to @corrupt_free_blocks is the owner's alone (rule 3).  The
 * fields from @missed_move on are written by other CPUs (rule 5) and sit on
 * their own cache line so those writes do not bounce the owner's line.
 * Their plain-typed flags go through READ_ONCE()/WRITE_ONCE() for the same
 * reason as struct mdlpool_slab's.  Other CPUs read the owner's counters
 * only through mdlpool_peek(), as snapshots.
 */
struct mdlpool_share {
	local_lock_t lock;
	struct mdlpool *pool;
	unsigned int cpu;
	unsigned int ctx;
	struct list_head slabs;
	struct list_head used_slabs;
	unsigned long nr_used_slabs;
	unsigned long next_scavenge;
	unsigned long allocs;
	unsigned long local_frees;
	unsigned long peak_in_use;
	unsigned long pages_alloc;
	unsigned long pages_freed;
	unsigned long peak_pages;
	unsigned long blocks_built;
	unsigned long scavenges;
	unsigned long alloc_failures;
	unsigned long corrupt_free_blocks;
	unsigned long dma_mapped_pages;
	unsigned long dma_map_failures;
	unsigned long slab_fallbacks;
	unsigned long waited_slabs;
	unsigned long reserve_taken;

	bool missed_move ____cacheline_aligned_in_smp;
	struct llist_head orphans;
	atomic_long_t remote_frees;
	atomic_long_t missed_moves;
	atomic_long_t rejected_frees;
	atomic_long_t overruns;
	atomic_long_t poison_errors;
	unsigned int reclaim_all;
	struct work_struct reclaim_work;
};

/**
 * struct mdlpool_layout - the shape of a slab of one order
 * @order: the slab ("page" in the statistics) is 2^@order pages
 * @blocks: blocks it holds
 * @buf_offset: where its first buffer starts, after the header and the
 *	block array
 */
struct mdlpool_layout {
	unsigned int order;
	unsigned int blocks;
	unsigned int buf_offset;
};

enum {
	MDLPOOL_PREFERRED,
	MDLPOOL_FALLBACK,
	MDLPOOL_NR_LAYOUTS
};

/* What a pool has on each CPU. */
struct mdlpool_pcpu {
	struct mdlpool_share ctx[MDLPOOL_NR_CTX];
};

/**
 * struct mdlpool - a pool of one buffer size
 * @pcpu: the per-CPU shares, two per CPU
 * @buffer_size: bytes of each buffer
 * @block_size: bytes from one buffer to the next: the buffer and, when
 *	checked, its redzone, rounded up to MDLPOOL_BUF_ALIGN
 * @layouts: the slab layouts, MDLPOOL_PREFERRED and MDLPOOL_FALLBACK; the
 *	same when the preferred order is not costly
 * @blocks_per_page: blocks in a slab of the preferred layout
 * @checked: redzones and poisoning (mdlpool_params.flags, else debug_checks)
 * @gfp: refill flags where the caller may sleep (GFP_NOWAIT if none given)
 * @nid: the node of every slab, or NUMA_NO_NODE for the owner CPU's
 * @reserve_lock: guards @reserve and @reserve_nr
 * @reserve: slabs kept back, unmapped and unmarked, linked through ->link
 * @reserve_nr: slabs in @reserve
 * @reserve_target: slabs @reserve is filled to, see mdlpool_reserve_slabs()
 * @reserve_buffers: the reserve the pool was created with, in buffers
 * @dma_dev: for a device-bound pool, the device its slabs are mapped for
 * @dma_dir: the direction of those mappings
 * @tag: four characters naming the pool's owner, as NT pool tags do
 * @name: unique name, also the debugfs directory
 * @node: entry in mdlpool_list
 * @cpuhp_node: instance of the CPU hotplug state
 * @dir: debugfs directory
 */
struct mdlpool {
	struct mdlpool_pcpu __percpu *pcpu;
	unsigned int buffer_size;
	unsigned int block_size;
	struct mdlpool_layout layouts[MDLPOOL_NR_LAYOUTS];
	unsigned int blocks_per_page;
	bool checked;
	gfp_t gfp;
	int nid;
	spinlock_t reserve_lock;	/* mdlpool_reserve_lock() */
	struct list_head reserve;
	unsigned int reserve_nr;
	unsigned int reserve_target;
	unsigned int reserve_buffers;
	struct device *dma_dev;
	enum dma_data_direction dma_dir;
	u32 tag;
	char name[MDLPOOL_NAME_MAX + 1];
	struct list_head node;
	struct hlist_node cpuhp_node;
	struct dentry *dir;
};

/**
 * struct mdlpool_block - a buffer's header, in its slab's block array
 * @sg: the descriptor handed to callers; first, so a descriptor's address is
 *	its block's address
 * @free_node: link on one of the slab's free lists
 * @state: MDLPOOL_BLOCK_FREE or MDLPOOL_BLOCK_OUT
 * @buf_offset: where the buffer lies in the slab, kept for allocations
 *	(mdlpool_block_offset() works it out; this fills the padding)
 *
 * Apart from the buffers: an overrun or underrun of a buffer reaches the
 * neighbouring buffer's slot, never a header.
 */
struct mdlpool_block {
	struct scatterlist sg;
	struct llist_node free_node;
	u32 state;
	u32 buf_offset;
};

/**
 * struct mdlpool_slab - header at the start of every slab
 *
 * A slab is one allocation of 2^order pages (a compound page above order
 * 0), in one of its pool's two layouts: this header, the array of block headers, then the buffers,
 * each starting on MDLPOOL_BUF_ALIGN.  A buffer may cross a page boundary
 * inside its slab; it is still one physically contiguous segment.
 * @owner: the CPU share that allocated the slab
 * @link: entry in @owner's slabs or used_pages list (owner only)
 * @free: blocks freed by other CPUs; any CPU pushes, only the owner takes
 *	them, all at once (rule 4)
 * @owner_free: blocks the owner freed, or took from @free (owner only)
 * @built: blocks built so far (owner only); a slab holds fewer than 2^16
 * @nr_out: blocks handed out minus those the owner got back (owner only)
 * @remote_frees: blocks other CPUs gave back (rule 5); the slab's blocks in
 *	use are @nr_out - @remote_frees, modulo 2^32
 * @on_used: the slab is on @owner's used list (owner writes, anyone reads)
 * @orphaned: the slab is queued on @owner's orphans; set by the remote free
 *	that queues it, cleared by the owner when it takes it off.  A whole
 *	word: xchg() of a byte is not available on every architecture
 * @layout: index of its layout in the pool's layouts (set before the slab
 *	is published, then constant)
 * @orphan_node: link on @owner's orphans
 * @last_free: jiffies of the last free into the slab (any CPU writes it,
 *	the owner reads it to age the slab)
 * @dma_sync: in a device-bound pool, whether the DMA API wants the slab's
 *	mapping synced (set with @dma, then constant)
 * @dma: in a device-bound pool, the slab's bus address
 * @blocks: the block headers, one per buffer, in buffer order
 *
 * A field that one CPU writes while another may read it (@built and
 * @on_used for the free-time checks and remote frees, @last_free) is
 * accessed with READ_ONCE()/WRITE_ONCE() on the concurrent side, so each
 * access is whole and KCSAN (the 6.12-debug test tier) knows it is meant.
 */
struct mdlpool_slab {
	struct mdlpool_share *owner;
	struct list_head link;
	struct llist_head free;
	struct llist_node *owner_free;
	unsigned int nr_out;
	atomic_t remote_frees;
	unsigned int orphaned;
	u16 built;
	bool on_used;
	u8 layout;
	bool dma_sync;
	struct llist_node orphan_node;
	unsigned long last_free;
	dma_addr_t dma;
	struct mdlpool_block blocks[];
};

/* mdlpool_slab.built counts the blocks of the largest slab. */
static_assert((PAGE_SIZE << MDLPOOL_MAX_ORDER) / sizeof(struct mdlpool_block) <=
	      U16_MAX);

static inline struct mdlpool_share *
mdlpool_share(const struct mdlpool *pool, int cpu, unsigned int ctx)
{
	return &per_cpu_ptr(pool->pcpu, cpu)->ctx[ctx];
}

struct mdlpool_share_iter {
	const struct mdlpool *of;
	int cpu;
	unsigned int ctx;
};

static inline struct mdlpool_share *
mdlpool_share_iter_next(struct mdlpool_share_iter *it)
{
	if (it->cpu >= 0 && ++it->ctx < MDLPOOL_NR_CTX)
		return mdlpool_share(it->of, it->cpu, it->ctx);
	it->cpu = cpumask_next(it->cpu, cpu_possible_mask);
	if (it->cpu >= nr_cpu_ids)
		return NULL;
	it->ctx = 0;
	return mdlpool_share(it->of, it->cpu, 0);
}

/* Each share @c of @pool: both contexts of every possible CPU. */
#define for_each_mdlpool_share(c, pool)					\
	for (struct mdlpool_share_iter __it = { .of = (pool), .cpu = -1 }; \
	     ((c) = mdlpool_share_iter_next(&__it));)

/* Bytes from one buffer to the next: the buffer, its redzone if checked. */
static inline unsigned int mdlpool_block_size(unsigned int buffer_size,
					      bool checked)
{
	return ALIGN(buffer_size + (checked ? MDLPOOL_REDZONE : 0),
		     MDLPOOL_BUF_ALIGN);
}

/* Where the first buffer of a slab of @blocks blocks starts. */
static inline unsigned int mdlpool_buf_offset(unsigned int blocks)
{
	return ALIGN(struct_size((struct mdlpool_slab *)NULL, blocks, blocks),
		     MDLPOOL_BUF_ALIGN);
}

/* How many blocks of @block_size bytes a slab of @order holds. */
static inline unsigned int mdlpool_slab_blocks(unsigned int order,
					       unsigned int block_size)
{
	unsigned int slab = PAGE_SIZE << order;
	unsigned int n = (slab - sizeof(struct mdlpool_slab)) /
			 (block_size + sizeof(struct mdlpool_block));

	/* The division ignores the alignment of the first buffer. */
	while (n && mdlpool_buf_offset(n) + n * block_size > slab)
		n--;
	return n;
}

/*
 * Slab bytes per buffer a layout may spend on buffers of @buffer_size
 * bytes: 1.15 times the size plus 128, or below 256 bytes twice the size
 * plus 128 (the cache-line alignment alone can double a small buffer).
 */
static inline unsigned int mdlpool_waste_bound(unsigned int buffer_size)
{
	if (buffer_size < 256)
		return 2 * buffer_size + 128;
	return buffer_size + buffer_size * 3 / 20 + 128;
}

/*
 * Blocks a slab should hold where an order that is not costly allows it
 * within the waste bound: a slab with few blocks changes lists, and goes
 * to the orphan queue, every few operations.  SLUB keeps a minimum number
 * of objects per slab for the same reason.
 */
#define MDLPOOL_MIN_BLOCKS	16

/*
 * The slab order, up to @max_order, for blocks of @block_size bytes holding
 * @buffer_size-byte buffers.  Among the orders that are not costly and keep
 * within the waste bound: the smallest that holds MDLPOOL_MIN_BLOCKS, else
 * the largest (most blocks, for no more waste).  If none of those is within
 * the bound, the smallest costly order that is; if none at all, the order
 * that wastes least.  -1 if no order holds a block.
 */
static inline int mdlpool_slab_order(unsigned int block_size,
				     unsigned int buffer_size,
				     unsigned int max_order)
{
	unsigned int order, n, best_n = 0;
	int best = -1, cheap = -1;

	for (order = 0; order <= max_order; order++) {
		n = mdlpool_slab_blocks(order, block_size);
		if (!n)
			continue;
		if ((PAGE_SIZE << order) <= n * mdlpool_waste_bound(buffer_size)) {
			if (order > MDLPOOL_FALLBACK_MAX_ORDER)
				return cheap >= 0 ? cheap : order;
			if (n >= MDLPOOL_MIN_BLOCKS)
				return order;
			cheap = order;
		}
		/* PAGE_SIZE << order / n < PAGE_SIZE << best / best_n */
		if (best < 0 || (n << best) > (best_n << order)) {
			best = order;
			best_n = n;
		}
	}
	return cheap >= 0 ? cheap : best;
}

static inline void mdlpool_layout_init(struct mdlpool_layout *l,
				       unsigned int order,
				       unsigned int block_size)
{
	l->order = order;
	l->blocks = mdlpool_slab_blocks(order, block_size);
	l->buf_offset = mdlpool_buf_offset(l->blocks);
}

static inline const struct mdlpool_layout *
mdlpool_layout_of(const struct mdlpool *pool, const struct mdlpool_slab *slab)
{
	return &pool->layouts[slab->layout];
}

static inline unsigned int mdlpool_layout_bytes(const struct mdlpool_layout *l)
{
	return PAGE_SIZE << l->order;
}

static inline struct mdlpool_block *
mdlpool_block_at(const struct mdlpool *pool,
		 struct mdlpool_slab *slab,
		 unsigned int idx)
{
	return &slab->blocks[idx];
}

static inline unsigned int mdlpool_block_index(const struct mdlpool *pool,
					       struct mdlpool_slab *slab,
					       struct mdlpool_block *blk)
{
	return blk - slab->blocks;
}

/* Where a block's buffer lies in its slab. */
static inline unsigned int mdlpool_block_offset(const struct mdlpool *pool,
						struct mdlpool_slab *slab,
						struct mdlpool_block *blk)
{
	return mdlpool_layout_of(pool, slab)->buf_offset +
	       mdlpool_block_index(pool, slab, blk) * pool->block_size;
}

static inline void *mdlpool_block_buf(const struct mdlpool *pool,
				      struct mdlpool_slab *slab,
				      struct mdlpool_block *blk)
{
	return (void *)slab + mdlpool_block_offset(pool, slab, blk);
}

static inline unsigned int mdlpool_slab_in_use(struct mdlpool_slab *slab)
{
	/* Acquire: a remote free's push and reads come before its count. */
	return slab->nr_out - (unsigned int)atomic_read_acquire(&slab->remote_frees);
}

static inline bool mdlpool_slab_exhausted(const struct mdlpool *pool,
					  struct mdlpool_slab *slab)
{
	return slab->built == mdlpool_layout_of(pool, slab)->blocks &&
	       !slab->owner_free &&
	       llist_empty(&slab->free);
}

/*
 * Whether the owner may give the slab back.  A slab still queued as an
 * orphan must wait for the scavenge that takes it off the queue; the
 * acquire in mdlpool_slab_in_use() makes the queuing free's mark visible.
 */
static inline bool mdlpool_slab_idle(struct mdlpool_slab *slab, unsigned long now,
				     unsigned long lifetime)
{
	if (mdlpool_slab_in_use(slab) || READ_ONCE(slab->orphaned))
		return false;
	return time_after_eq(now, READ_ONCE(slab->last_free) + lifetime);
}

static inline unsigned int mdlpool_tail_size(const struct mdlpool *pool)
{
	return pool->block_size - pool->buffer_size;
}

/* Where a CPU's new slab came from: trace events say so. */
enum mdlpool_slab_source {
	MDLPOOL_SLAB_PREFERRED,		/* the page allocator, preferred order */
	MDLPOOL_SLAB_FALLBACK,		/* the page allocator, fallback order */
	MDLPOOL_SLAB_RESERVE,		/* the pool's reserve */
};

/* Which reclaim gives slabs back, or scavenged: trace events say so. */
enum mdlpool_reclaim {
	MDLPOOL_RECLAIM_PERIOD,		/* the scavenge period passed */
	MDLPOOL_RECLAIM_THRESHOLD,	/* a missed move, a long used list */
	MDLPOOL_RECLAIM_CALL,		/* mdlpool_scavenge() */
	MDLPOOL_RECLAIM_IDLE,		/* the idle timer's work */
	MDLPOOL_RECLAIM_SHRINK,		/* the shrinker */
	MDLPOOL_RECLAIM_OFFLINE,	/* the owner CPU went offline */
	MDLPOOL_RECLAIM_DESTROY,	/* mdlpool_destroy() */
	MDLPOOL_RECLAIM_CORRUPT,	/* every block left was overwritten */
};

/* Why a free was refused. */
enum mdlpool_refusal {
	MDLPOOL_REFUSED_FOREIGN,	/* no pool's descriptor */
	MDLPOOL_REFUSED_ALTERED,	/* repointed, or not a block's start */
	MDLPOOL_REFUSED_TWICE,		/* the block is free already */
};

/* What an allocation or free on the owner CPU should scavenge now. */
enum mdlpool_scavenge {
	MDLPOOL_SCAVENGE_NONE,
	/* take the orphans back to the slab list */
	MDLPOOL_SCAVENGE_ORPHANS,
	/* that, and give back the slabs idle for the minimum lifetime */
	MDLPOOL_SCAVENGE_FULL,
};

/*
 * NT's two triggers: the scavenge period is over, or a move was missed and
 * the used list is longer than @threshold.  NT runs a whole scavenge for
 * either.  The second exists to get used slabs back, and it can fire at
 * every allocation while many buffers are out, so it only takes the
 * orphans back: walking the slab list for idle slabs each time would make
 * every allocation cost as much as the slabs held.  Idle slabs still go at
 * the next timed scavenge or idle reclaim.
 */
static inline enum mdlpool_scavenge mdlpool_scavenge_due(struct mdlpool_share *c,
							 unsigned long now,
							 unsigned int threshold)
{
	if (time_after(now, c->next_scavenge))
		return MDLPOOL_SCAVENGE_FULL;
	if (READ_ONCE(c->missed_move) && c->nr_used_slabs > threshold)
		return MDLPOOL_SCAVENGE_ORPHANS;
	return MDLPOOL_SCAVENGE_NONE;
}

/* ---- shared by the library's files, see mdlpool.c ---- */

/* mdlpool_create.c: every pool, and the secret of the slab marks. */
extern struct mutex mdlpool_mutex;
extern struct list_head mdlpool_list;
extern unsigned long mdlpool_cookie;

/* The tunables (mdlpool_reclaim.c), read with READ_ONCE() once a decision. */
extern unsigned int mdlpool_scavenge_period_ms;
extern unsigned int mdlpool_min_page_lifetime_ms;
extern unsigned int mdlpool_used_pages_threshold;

/* Module-wide counts for the debugfs summary. */
extern atomic_long_t mdlpool_slabs_total;
extern atomic_long_t mdlpool_reserve_total;
extern atomic_long_t mdlpool_foreign_frees;
extern atomic_long_t mdlpool_injected_failures;
extern atomic_long_t mdlpool_shrinker_freed;

/* Rule 7's owner of offline CPUs' shares, for mdlpool_assert_owner(). */
extern struct task_struct *mdlpool_offline_owner;
/* Rule 10: the slab each CPU last allocated from, per context. */
DECLARE_PER_CPU(struct mdlpool_slab *, mdlpool_hot[MDLPOOL_NR_CTX]);

/*
 * The owner updates its counters without atomics; a reader on another CPU
 * takes what it sees, a snapshot as context rule 6 allows.
 */
#define mdlpool_peek(field)	data_race(field)

static inline unsigned long mdlpool_slab_mark(const struct mdlpool_slab *slab)
{
	return (unsigned long)slab ^ mdlpool_cookie;
}

/*
 * Rules 3 and 7: the caller may act as the owner of @c.  This runs on every
 * allocation and free, so, like the kernel's own checks of this_cpu
 * operations, only kernels built to debug preemption or locking make it
 * (the debug test tiers do): elsewhere it cost a twentieth of an
 * allocation and free pair (BENCHMARKS.md).
 */
static __always_inline void mdlpool_assert_owner(struct mdlpool_share *c)
{
	if (!IS_ENABLED(CONFIG_DEBUG_PREEMPT) &&
	    !IS_ENABLED(CONFIG_PROVE_LOCKING))
		return;
	if (!cpu_online(c->cpu)) {
		WARN_ON_ONCE(READ_ONCE(mdlpool_offline_owner) != current);
		return;
	}
	lockdep_assert_held(&c->lock);
	WARN_ON_ONCE(c->cpu != raw_smp_processor_id());
	/* A softirq may have interrupted the task share's section. */
	if (!IS_ENABLED(CONFIG_PREEMPT_RT))
		WARN_ON_ONCE((c->ctx == MDLPOOL_CTX_BH) != !!softirq_count());
}

/*
 * Rules 2 and 9: the contexts in which the pool may be entered at all.  A
 * call from a hardirq or NMI could land inside the section it interrupted,
 * so it is refused on every kernel, at the cost of one read of
 * preempt_count; on PREEMPT_RT so is any caller that cannot sleep.
 * A caller with interrupts off is asserted against only, as
 * local_bh_enable() itself does: lockdep kernels catch it.
 */
static __always_inline bool mdlpool_context_ok(void)
{
	lockdep_assert_irqs_enabled();
	if (WARN_ON_ONCE(in_hardirq() || in_nmi()))
		return false;
	/* Rule 9: on PREEMPT_RT the section's locks sleep. */
	return !(IS_ENABLED(CONFIG_PREEMPT_RT) && WARN_ON_ONCE(!preemptible()));
}

/*
 * Enter this CPU's section for the calling context and return the share it
 * owns (rule 3).
 *
 * Without PREEMPT_RT nothing can preempt or interrupt a softirq, or a task
 * with bottom halves off, but a hardirq (which the pool refuses), so their
 * share needs no more than what they already have: the lock is lockdep's
 * record only, as local_lock_nested_bh() does in later kernels.  A task with
 * bottom halves on takes the task share with preemption off, a plain
 * local_lock(); a softirq that interrupts it runs on the other share.  So
 * neither path toggles bottom halves, which cost about a fifth of an
 * allocation and free (BENCHMARKS.md).
 *
 * On PREEMPT_RT softirqs run in preemptible tasks, and so does a section
 * with bottom halves off: every caller takes the task share under its local
 * lock, which is a real per-CPU lock there, and nothing more.  Disabling
 * bottom halves as well would take the CPU's softirq lock inside whatever
 * the caller holds: a caller under spin_lock(X) would then order X before
 * it, against every task that takes spin_lock_bh(X), an AB-BA between two
 * tasks of one CPU.  The local lock alone is enough, because on PREEMPT_RT
 * no softirq runs inside a task's section unless the task enables bottom
 * halves there, which the pool never does; nothing in the section takes
 * the softirq lock either (see mdlpool_reserve_lock()).
 */
#ifdef CONFIG_PREEMPT_RT
static inline struct mdlpool_share *mdlpool_enter(struct mdlpool *pool)
{
	local_lock(&pool->pcpu->ctx[MDLPOOL_CTX_TASK].lock);
	return this_cpu_ptr(&pool->pcpu->ctx[MDLPOOL_CTX_TASK]);
}

static inline void mdlpool_leave(struct mdlpool_share *c)
{
	local_unlock(&c->pool->pcpu->ctx[MDLPOOL_CTX_TASK].lock);
}
#else
static inline struct mdlpool_share *mdlpool_enter(struct mdlpool *pool)
{
	struct mdlpool_pcpu __percpu *p = pool->pcpu;

	if (softirq_count()) {
		local_lock_acquire(this_cpu_ptr(&p->ctx[MDLPOOL_CTX_BH].lock));
		return this_cpu_ptr(&p->ctx[MDLPOOL_CTX_BH]);
	}
	local_lock(&p->ctx[MDLPOOL_CTX_TASK].lock);
	return this_cpu_ptr(&p->ctx[MDLPOOL_CTX_TASK]);
}

static inline void mdlpool_leave(struct mdlpool_share *c)
{
	if (c->ctx == MDLPOOL_CTX_BH)
		local_lock_release(&c->lock);
	else
		local_unlock(&c->pool->pcpu->ctx[MDLPOOL_CTX_TASK].lock);
}
#endif

/*
 * From process context, enter the section of this CPU's share for @ctx, as
 * a caller of that context would; returns the share entered, which is not
 * of @ctx on PREEMPT_RT for MDLPOOL_CTX_BH (that share stays empty there).
 * For reclaim and scavenges that look after both shares.
 */
static inline struct mdlpool_share *mdlpool_enter_ctx(struct mdlpool *pool,
						      unsigned int ctx)
{
	if (!IS_ENABLED(CONFIG_PREEMPT_RT) && ctx == MDLPOOL_CTX_BH)
		local_bh_disable();
	return mdlpool_enter(pool);
}

static inline void mdlpool_leave_ctx(struct mdlpool_share *c, unsigned int ctx)
{
	mdlpool_leave(c);
	if (!IS_ENABLED(CONFIG_PREEMPT_RT) && ctx == MDLPOOL_CTX_BH)
		local_bh_enable();
}

/* Exact for the owner; a snapshot for anyone else (rule 6). */
static inline unsigned long mdlpool_share_in_use(struct mdlpool_share *c)
{
	return mdlpool_peek(c->allocs) - mdlpool_peek(c->local_frees) -
	       atomic_long_read(&c->remote_frees);
}

/*
 * The built block a descriptor address names, or NULL: from the address
 * alone, so nothing is read before the address is known to be a header.
 */
static __always_inline struct mdlpool_block *
mdlpool_block_of(const struct mdlpool *pool, struct mdlpool_slab *slab,
		 const struct scatterlist *sg)
{
	unsigned long off = (unsigned long)sg - (unsigned long)slab->blocks;
	unsigned long idx = off / sizeof(struct mdlpool_block);

	/* A free on any CPU may race with the owner building blocks. */
	if ((unsigned long)sg < (unsigned long)slab->blocks ||
	    off % sizeof(struct mdlpool_block) ||
	    idx >= READ_ONCE(slab->built))
		return NULL;
	return mdlpool_block_at(pool, slab, idx);
}

/*
 * The slab an address lies in, judged from its struct pages alone, so that
 * a descriptor pointing anywhere in the direct map can be checked without
 * reading memory the pool does not own.  The head page of a slab carries
 * the mark; a tail page leads to it.  mdlpool_slab_of_mapped() is for an
 * address virt_addr_valid() has accepted.
 */
static __always_inline struct mdlpool_slab *
mdlpool_slab_of_mapped(const void *addr, struct page **headp)
{
	struct page *head = virt_to_head_page(addr);
	struct mdlpool_slab *slab = page_address(head);

	/*
	 * Another page's owner may write its private word meanwhile: any
	 * value but our mark, torn or not, says "not a pool slab".
	 */
	if (data_race(page_private(head)) != mdlpool_slab_mark(slab))
		return NULL;
	*headp = head;
	return slab;
}

static __always_inline struct mdlpool_slab *mdlpool_slab_of(const void *addr)
{
	struct page *head;

	return virt_addr_valid(addr) ? mdlpool_slab_of_mapped(addr, &head) :
				       NULL;
}

/* mdlpool.c */
void mdlpool_hot_forget(struct mdlpool_share *c, struct mdlpool_slab *slab);
bool mdlpool_slab_release(struct mdlpool_share *c, struct mdlpool_slab *slab,
			  enum mdlpool_reclaim why);
void mdlpool_slab_restore(struct mdlpool_share *c, struct mdlpool_slab *slab);
void mdlpool_slab_release_dead(struct mdlpool_share *c, struct mdlpool_slab *slab);

/* mdlpool_checks.c */
void mdlpool_check_poison(const struct mdlpool *pool, struct mdlpool_slab *slab,
			  struct mdlpool_block *blk);
void mdlpool_check_redzone(const struct mdlpool *pool, struct mdlpool_slab *slab,
			   struct mdlpool_block *blk);
struct llist_node *mdlpool_drop_overwritten(const struct mdlpool *pool,
					    struct mdlpool_slab *slab,
					    struct mdlpool_block *blk);
int mdlpool_reject(struct mdlpool_share *c, const struct scatterlist *sg,
		   enum mdlpool_refusal why);

/* mdlpool_reserve.c */
void mdlpool_reserve_lock(struct mdlpool *pool);
void mdlpool_reserve_unlock(struct mdlpool *pool);
void mdlpool_reserve_add(struct mdlpool *pool, struct mdlpool_slab *slab);
bool mdlpool_reserve_put(struct mdlpool *pool, struct mdlpool_slab *slab);
struct page *mdlpool_reserve_take(struct mdlpool *pool, u8 *layout);
int mdlpool_reserve_fill(struct mdlpool *pool, unsigned int buffers);
void mdlpool_reserve_free(struct mdlpool *pool);
void mdlpool_slab_discard(struct mdlpool *pool, struct page *page,
			  bool from_reserve);

/* mdlpool_dma.c */
bool mdlpool_slab_map(struct mdlpool_share *c, struct page *page,
		      struct mdlpool_slab *slab);
void mdlpool_slab_unmap(struct mdlpool_share *c, struct mdlpool_slab *slab);

/* mdlpool_fault.c */
bool mdlpool_inject_page_failure(unsigned int order);
void mdlpool_fault_init(struct dentry *dir);
void mdlpool_fault_exit(void);

/* mdlpool_reclaim.c */
unsigned long mdlpool_adopt_orphans(struct mdlpool_share *c);
void mdlpool_scavenge_timed(struct mdlpool_share *c, enum mdlpool_reclaim why);
void mdlpool_scavenge_orphans(struct mdlpool_share *c);
void mdlpool_reclaim_work(struct work_struct *work);
void mdlpool_idle_start(void);
int mdlpool_reclaim_init(void);
void mdlpool_reclaim_exit(void);
extern enum cpuhp_state mdlpool_cpuhp_state;

/* mdlpool_stats.c */
void mdlpool_debugfs_add(struct mdlpool *pool);
void mdlpool_debugfs_remove(struct mdlpool *pool);
struct dentry *mdlpool_debugfs_init(void);
void mdlpool_debugfs_exit(void);

#endif /* _MDLPOOL_INTERNAL_H */
