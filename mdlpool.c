// SPDX-License-Identifier: GPL-2.0
/*
 * mdlpool - per-CPU pools of fixed-size buffers described by scatterlists
 */

/**
 * DOC: Design
 *
 * A port of the Windows NT MDL buffer pool.  A pool hands out buffers of
 * one size, each described by a struct scatterlist (the stand-in for NT's
 * MDL).  Every CPU has its own set of pages.  A "page" is a slab: one
 * allocation of 2^order pages (order 0 to 5, chosen per buffer size within
 * a waste bound, see mdlpool_slab_order(); a pool whose order is costly
 * falls back to one of at most PAGE_ALLOC_COSTLY_ORDER when the page
 * allocator has none), laid out with the block headers apart from the
 * buffers:
 *
 *   [ mdlpool_page | hdr 0 | ... | hdr n-1 | pad | buf 0 | ... | buf n-1 ]
 *   hdr = struct mdlpool_block (scatterlist, llist node, state, offset)
 *
 * Each buffer starts on a cache line (and ARCH_DMA_MINALIGN) and fills whole
 * cache lines, so the headers the CPU writes at every allocation and free
 * never share a line with a buffer.  Unlike NT's, a buffer may cross a page
 * boundary inside its slab: the slab is contiguous, the buffer one segment.
 *
 * Blocks are built lazily, one per allocation, until the page is cut up.
 * Blocks freed by other CPUs go on the page's llist, blocks freed by the
 * owner on a plain list beside it.  A page whose blocks are all handed out
 * moves to the CPU's used list, when an allocation finds it full, so that
 * allocation never walks it; the owner moves it back when it frees into
 * it.  A free on another CPU cannot touch the owner's lists, so it only
 * marks the move as missed; the owner picks such pages up when it
 * scavenges, either because the used list grew past
 * used_pages_threshold after a missed move or because the scavenge period
 * passed.  NT finds those pages by walking the whole used list; here the
 * remote free that finds its page there queues it for the owner, so a
 * scavenge costs what it recovers, not what is in use.  A timed scavenge
 * also returns pages that have been completely free for at least
 * min_page_lifetime_ms; one forced by the threshold only takes the queued
 * pages back (see mdlpool_scavenge_due()).
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
 * 3. Each CPU has two shares of a pool (struct mdlpool_cpu): one for task
 *    context, one for softirq context and sections with bottom halves off.
 *    A share and the lists, block counts and used flags of its pages are
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
 *    page's free llist (llist_add()).  Only the owner takes blocks off it,
 *    all at once (llist_del_all()), inside its section, so the list has one
 *    consumer.  The owner's own frees go on a plain list in the page that
 *    no other CPU touches, so the owner's allocations take no atomic
 *    operation and its frees only the one that marks the block free
 *    (mdlpool_free_mark()), which any free must take against a racing one.
 *
 * 5. A free on another CPU, or in the other context of the owner's CPU,
 *    is remote: it runs outside the owner's section.  It touches the page
 *    only until it has counted itself in page->remote_frees: until then the
 *    block it returns is still counted as out, so the owner cannot release
 *    the page under it.  In that window, if the page is on the used list,
 *    it also queues the page on the owner's orphans llist (once: the page's
 *    orphaned flag says it is queued), and the owner never releases a
 *    queued page.  Afterwards it touches only the owner's cross-CPU fields
 *    (missed_move, orphans and the atomic counters), which live as long as
 *    the pool.
 *
 * 6. Statistics are read without locks by the debugfs file: they are a
 *    snapshot, not an invariant.
 *
 * 7. An offline CPU has no section.  While it is offline, whoever holds the
 *    CPU hotplug lock may act as its owner: the hotplug "dead" callback and
 *    the work that later reclaims its pages do.  Frees into its pages from
 *    other CPUs go on as under rule 5.
 *
 * 8. NT returns pages only while their owner allocates or frees, so an idle
 *    pool would keep them for ever.  A timer-driven work queues each share's
 *    reclaim_work on its CPU every half min_page_lifetime_ms; it runs in
 *    process context there and enters the share's section as a caller of
 *    its context would (bottom halves off for the softirq share), so an
 *    idle page goes back within 1.5 times the lifetime.  Under memory pressure
 *    the shrinker queues the same works to give back every free page and
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
 *    it is cleared when its slab goes back (mdlpool_page_release()), by
 *    the owner in the same section, or by another CPU only while the
 *    owner is offline (rule 7) or after the pool's destroy has waited for
 *    an RCU grace period (every section is a reader), so no reader sees a
 *    slab that is gone.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bottom_half.h>
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/ctype.h>
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/fault-inject.h>
#include <linux/gfp.h>
#include <linux/jiffies.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/local_lock.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/random.h>
#include <linux/rcupdate.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/topology.h>
#include <linux/workqueue.h>

#include "mdlpool.h"
#include "mdlpool_compat.h"
#include "mdlpool_internal.h"

#define CREATE_TRACE_POINTS
#include "mdlpool_trace.h"

/*
 * The tunables change through sysfs while pools run: each is read with
 * READ_ONCE(), once per decision, so a decision sees one whole value.
 */
static unsigned int scavenge_period_ms = 30000;
module_param(scavenge_period_ms, uint, 0644);
MODULE_PARM_DESC(scavenge_period_ms,
		 "Milliseconds between timed scavenges of a CPU's pool (NT: 30 s)");

static unsigned int min_page_lifetime_ms = 20000;
module_param(min_page_lifetime_ms, uint, 0644);
MODULE_PARM_DESC(min_page_lifetime_ms,
		 "Milliseconds a page must have been completely free before a scavenge returns it (NT: 20 s)");

static unsigned int used_pages_threshold = 64;
module_param(used_pages_threshold, uint, 0644);
MODULE_PARM_DESC(used_pages_threshold,
		 "Used-list length that forces a scavenge after a missed page move (NT: 64)");

static unsigned int fail_page_percent;
module_param(fail_page_percent, uint, 0644);
MODULE_PARM_DESC(fail_page_percent,
		 "Fault injection: percent of pool page allocations to fail on purpose");

static unsigned int fail_page_min_order;
module_param(fail_page_min_order, uint, 0644);
MODULE_PARM_DESC(fail_page_min_order,
		 "Fault injection: only slab allocations of at least this order fail (4: a pool's preferred costly order, never its fallback)");

static bool debug_checks;
module_param(debug_checks, bool, 0644);
MODULE_PARM_DESC(debug_checks,
		 "Default of the per-pool check flag: pools created while set (and without MDLPOOL_F_NO_CHECKS) guard each buffer with a redzone and poison freed buffers (NT special pool style)");

/*
 * Page refills inside the section cannot sleep; but they need not take the
 * reserves GFP_ATOMIC opens (__GFP_HIGH), which exist for interrupt
 * handlers and reclaim itself.  Like NT's NormalPoolPriority, such a refill
 * fails once free memory is at the min watermark, wakes kswapd on its way,
 * and the caller sees NULL, counted in alloc_failures.  A pool created with
 * flags that may sleep (mdlpool_create_params()) also waits, outside the
 * section, where its caller can.  The flags a pool may be given: the ways
 * to wait and to fail, and the zones that keep slabs in the direct map.
 */
#define MDLPOOL_DEFAULT_GFP	GFP_NOWAIT
/* The largest reserve a pool may ask for, in buffers. */
#define MDLPOOL_RESERVE_MAX	BIT(20)
#define MDLPOOL_GFP_ALLOWED	(GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY | \
				 __GFP_RETRY_MAYFAIL | __GFP_NOMEMALLOC | \
				 __GFP_DMA | __GFP_DMA32 | __GFP_THISNODE)

enum mdlpool_stat {
	MDLPOOL_STAT_ALLOCS,
	MDLPOOL_STAT_FREES,
	MDLPOOL_STAT_IN_USE,
	MDLPOOL_STAT_PEAK_IN_USE,
	MDLPOOL_STAT_PAGES_ALLOC,
	MDLPOOL_STAT_PAGES_FREED,
	MDLPOOL_STAT_PAGES_IN_USE,
	MDLPOOL_STAT_PEAK_PAGES,
	MDLPOOL_STAT_USED_LIST_PAGES,
	MDLPOOL_STAT_BLOCKS_BUILT,
	MDLPOOL_STAT_REMOTE_FREES,
	MDLPOOL_STAT_MISSED_MOVES,
	MDLPOOL_STAT_SCAVENGES,
	MDLPOOL_STAT_REJECTED_FREES,
	MDLPOOL_STAT_ALLOC_FAILURES,
	MDLPOOL_STAT_OVERRUNS,
	MDLPOOL_STAT_POISON_ERRORS,
	MDLPOOL_STAT_CORRUPT_FREE_BLOCKS,
	MDLPOOL_STAT_DMA_MAPPED_PAGES,
	MDLPOOL_STAT_DMA_MAP_FAILURES,
	MDLPOOL_STAT_SLAB_FALLBACKS,
	MDLPOOL_STAT_WAITED_SLABS,
	MDLPOOL_STAT_RESERVE_TAKEN,
	MDLPOOL_NR_STATS
};

static const char * const mdlpool_stat_names[MDLPOOL_NR_STATS] = {
	[MDLPOOL_STAT_ALLOCS]		= "allocs",
	[MDLPOOL_STAT_FREES]		= "frees",
	[MDLPOOL_STAT_IN_USE]		= "in_use",
	[MDLPOOL_STAT_PEAK_IN_USE]	= "peak_in_use",
	[MDLPOOL_STAT_PAGES_ALLOC]	= "pages_alloc",
	[MDLPOOL_STAT_PAGES_FREED]	= "pages_freed",
	[MDLPOOL_STAT_PAGES_IN_USE]	= "pages_in_use",
	[MDLPOOL_STAT_PEAK_PAGES]	= "peak_pages",
	[MDLPOOL_STAT_USED_LIST_PAGES]	= "used_list_pages",
	[MDLPOOL_STAT_BLOCKS_BUILT]	= "blocks_built",
	[MDLPOOL_STAT_REMOTE_FREES]	= "remote_frees",
	[MDLPOOL_STAT_MISSED_MOVES]	= "missed_moves",
	[MDLPOOL_STAT_SCAVENGES]	= "scavenges",
	[MDLPOOL_STAT_REJECTED_FREES]	= "rejected_frees",
	[MDLPOOL_STAT_ALLOC_FAILURES]	= "alloc_failures",
	[MDLPOOL_STAT_OVERRUNS]		= "overruns",
	[MDLPOOL_STAT_POISON_ERRORS]	= "poison_errors",
	[MDLPOOL_STAT_CORRUPT_FREE_BLOCKS] = "corrupt_free_blocks",
	[MDLPOOL_STAT_DMA_MAPPED_PAGES]	= "dma_mapped_pages",
	[MDLPOOL_STAT_DMA_MAP_FAILURES]	= "dma_map_failures",
	[MDLPOOL_STAT_SLAB_FALLBACKS]	= "slab_fallbacks",
	[MDLPOOL_STAT_WAITED_SLABS]	= "waited_slabs",
	[MDLPOOL_STAT_RESERVE_TAKEN]	= "reserve_taken",
};

/* Guards mdlpool_list.  Taken before the CPU hotplug lock, never after. */
static DEFINE_MUTEX(mdlpool_mutex);
/* Rule 10: the slab each CPU last allocated from, per context. */
static DEFINE_PER_CPU(struct mdlpool_page *, mdlpool_hot[MDLPOOL_NR_CTX]);
static LIST_HEAD(mdlpool_list);
static struct dentry *mdlpool_debugfs;
static enum cpuhp_state mdlpool_cpuhp_state;

static void mdlpool_offline_reclaim(struct work_struct *work);
static DECLARE_DELAYED_WORK(mdlpool_offline_work, mdlpool_offline_reclaim);
static void mdlpool_idle_tick(struct work_struct *work);
static void mdlpool_reclaim_work(struct work_struct *work);
static unsigned long mdlpool_idle_delay(void);
static DECLARE_DELAYED_WORK(mdlpool_idle_work, mdlpool_idle_tick);
/*
 * The reclaim works and nothing else: they run when memory is short, so the
 * queue has a rescuer, and the shrinker waits for them, so no work on it
 * may take a lock the shrinker holds (the idle tick runs on system_wq).
 */
static struct workqueue_struct *mdlpool_wq;
/* Pages the reclaim works gave back for the shrinker's pass under way. */
static atomic_long_t mdlpool_shrunk = ATOMIC_LONG_INIT(0);
/* Pages every shrinker pass so far told reclaim it freed. */
static atomic_long_t mdlpool_shrinker_freed = ATOMIC_LONG_INIT(0);

/*
 * page_private() of a pool page holds its address mixed with this secret,
 * so a free can tell a pool page from any other page by looking only at its
 * struct page, before it reads a byte of the page itself.
 */
static unsigned long mdlpool_cookie __read_mostly;

/* Pages held by every pool together, and frees no pool could claim. */
static atomic_long_t mdlpool_pages_total = ATOMIC_LONG_INIT(0);
/* Slabs every pool's reserve holds, apart from the pages above. */
static atomic_long_t mdlpool_reserve_total = ATOMIC_LONG_INIT(0);
static atomic_long_t mdlpool_foreign_frees = ATOMIC_LONG_INIT(0);

/* Fault injection: page allocations still to fail, and those failed. */
static atomic_t mdlpool_fail_next_pages = ATOMIC_INIT(0);
static atomic_long_t mdlpool_injected_failures = ATOMIC_LONG_INIT(0);

/*
 * The owner updates its counters without atomics; a reader on another CPU
 * takes what it sees, a snapshot as context rule 6 allows.
 */
#define mdlpool_peek(field)	data_race(field)

static unsigned long mdlpool_page_mark(const struct mdlpool_page *pg)
{
	return (unsigned long)pg ^ mdlpool_cookie;
}

/*
 * Rule 7: the one task acting as owner of offline CPUs' shares, either the
 * hotplug callback or the reclaim work, which the hotplug lock serialises.
 * Kept only to be asserted: the hotplug lock itself is not visible to
 * modules.  That task writes it; assertions on any CPU read it.
 */
static struct task_struct *mdlpool_offline_owner;

/*
 * Rules 3 and 7: the caller may act as the owner of @c.  This runs on every
 * allocation and free, so, like the kernel's own checks of this_cpu
 * operations, only kernels built to debug preemption or locking make it
 * (the debug test tiers do): elsewhere it cost a twentieth of an
 * allocation and free pair (BENCHMARKS.md).
 */
static __always_inline void mdlpool_assert_owner(struct mdlpool_cpu *c)
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
static struct mdlpool_cpu *mdlpool_enter(struct mdlpool *pool)
{
	local_lock(&pool->pcpu->ctx[MDLPOOL_CTX_TASK].lock);
	return this_cpu_ptr(&pool->pcpu->ctx[MDLPOOL_CTX_TASK]);
}

static void mdlpool_leave(struct mdlpool_cpu *c)
{
	local_unlock(&c->pool->pcpu->ctx[MDLPOOL_CTX_TASK].lock);
}
#else
static struct mdlpool_cpu *mdlpool_enter(struct mdlpool *pool)
{
	struct mdlpool_pcpu __percpu *p = pool->pcpu;

	if (softirq_count()) {
		local_lock_acquire(this_cpu_ptr(&p->ctx[MDLPOOL_CTX_BH].lock));
		return this_cpu_ptr(&p->ctx[MDLPOOL_CTX_BH]);
	}
	local_lock(&p->ctx[MDLPOOL_CTX_TASK].lock);
	return this_cpu_ptr(&p->ctx[MDLPOOL_CTX_TASK]);
}

static void mdlpool_leave(struct mdlpool_cpu *c)
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
static struct mdlpool_cpu *mdlpool_enter_ctx(struct mdlpool *pool,
					     unsigned int ctx)
{
	if (!IS_ENABLED(CONFIG_PREEMPT_RT) && ctx == MDLPOOL_CTX_BH)
		local_bh_disable();
	return mdlpool_enter(pool);
}

static void mdlpool_leave_ctx(struct mdlpool_cpu *c, unsigned int ctx)
{
	mdlpool_leave(c);
	if (!IS_ENABLED(CONFIG_PREEMPT_RT) && ctx == MDLPOOL_CTX_BH)
		local_bh_enable();
}

/* Exact for the owner; a snapshot for anyone else (rule 6). */
static unsigned long mdlpool_cpu_in_use(struct mdlpool_cpu *c)
{
	return mdlpool_peek(c->allocs) - mdlpool_peek(c->local_frees) -
	       atomic_long_read(&c->remote_frees);
}

#ifdef CONFIG_FAULT_INJECTION
/*
 * The kernel's own fault injection, as failslab and fail_page_alloc have it:
 * /sys/kernel/debug/fail_mdlpool/ with probability, interval, times and the
 * rest (Documentation/fault-injection/).  The module parameters stay for
 * kernels without it.
 */
static DECLARE_FAULT_ATTR(fail_mdlpool);
static struct dentry *mdlpool_fail_dir;

static bool mdlpool_fault_attr_fails(unsigned int order)
{
	return should_fail(&fail_mdlpool, PAGE_SIZE << order);
}

static void mdlpool_fault_attr_init(void)
{
	mdlpool_fail_dir = fault_create_debugfs_attr("fail_mdlpool", NULL,
						     &fail_mdlpool);
	if (IS_ERR(mdlpool_fail_dir))
		mdlpool_fail_dir = NULL;
}

static void mdlpool_fault_attr_exit(void)
{
	debugfs_remove_recursive(mdlpool_fail_dir);
}
#else
static bool mdlpool_fault_attr_fails(unsigned int order)
{
	return false;
}

static void mdlpool_fault_attr_init(void)
{
}

static void mdlpool_fault_attr_exit(void)
{
}
#endif

static bool mdlpool_inject_page_failure(unsigned int order)
{
	unsigned int percent = READ_ONCE(fail_page_percent);

	if (order < READ_ONCE(fail_page_min_order))
		return false;
	if (!atomic_add_unless(&mdlpool_fail_next_pages, -1, 0) &&
	    (!percent || get_random_u32_below(100) >= percent) &&
	    !mdlpool_fault_attr_fails(order))
		return false;
	atomic_long_inc(&mdlpool_injected_failures);
	return true;
}

/*
 * A device-bound pool maps each slab once, whole, when it gets it: the
 * buffers are then only synced, never mapped one by one.  The CPU sync is
 * skipped here because no buffer holds data yet; the caller syncs each
 * buffer for the device before the device uses it.  A slab that cannot be
 * mapped goes back where it came from, and the allocation fails.
 */
static bool mdlpool_slab_map(struct mdlpool_cpu *c, struct page *page,
			     struct mdlpool_page *pg)
{
	struct mdlpool *pool = c->pool;
	const struct mdlpool_layout *l = mdlpool_layout_of(pool, pg);

	if (!pool->dma_dev)
		return true;
	pg->dma = dma_map_page_attrs(pool->dma_dev, page, 0,
				     mdlpool_layout_bytes(l), pool->dma_dir,
				     DMA_ATTR_SKIP_CPU_SYNC);
	if (dma_mapping_error(pool->dma_dev, pg->dma)) {
		c->dma_map_failures++;
		return false;
	}
	/*
	 * A coherent device whose mapping is not bounced needs no sync: the
	 * sync helpers then return at once, as page_pool skips its syncs.
	 */
	pg->dma_sync = dma_need_sync(pool->dma_dev, pg->dma);
	c->dma_mapped_pages++;
	return true;
}

/* Buffers go back to the page allocator, not to the device: no sync. */
static void mdlpool_slab_unmap(struct mdlpool_cpu *c, struct mdlpool_page *pg)
{
	struct mdlpool *pool = c->pool;

	if (!pool->dma_dev)
		return;
	dma_unmap_page_attrs(pool->dma_dev, pg->dma,
			     mdlpool_layout_bytes(mdlpool_layout_of(pool, pg)),
			     pool->dma_dir, DMA_ATTR_SKIP_CPU_SYNC);
	c->dma_mapped_pages--;
}

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
 * The reserve: slabs a pool keeps back so that its creator's number of
 * allocations succeed while the page allocator has nothing, as a mempool's
 * minimum does.  A refill takes one when it finds no page without waiting
 * (mempool_alloc() too tries the allocator, then its reserve, then waits),
 * and a slab given back refills the reserve before the page allocator gets
 * it.  Any share may take or give back, in task or softirq context: see
 * mdlpool_reserve_lock().  Reserve slabs are neither mapped for a device nor
 * marked as pool pages while they wait.
 */

/*
 * Without PREEMPT_RT a softirq may interrupt a task that holds the lock on
 * the same CPU, so the lock is taken with bottom halves off.  On PREEMPT_RT
 * softirqs are tasks that cannot interrupt the holder, and the sections
 * that take this lock do not disable bottom halves (see mdlpool_enter()):
 * taking the CPU's softirq lock here, inside a section's local lock, would
 * order the two locks against softirq callers, which hold the softirq lock
 * when they enter.
 */
static void mdlpool_reserve_lock(struct mdlpool *pool)
{
	if (IS_ENABLED(CONFIG_PREEMPT_RT))
		spin_lock(&pool->reserve_lock);
	else
		spin_lock_bh(&pool->reserve_lock);
}

static void mdlpool_reserve_unlock(struct mdlpool *pool)
{
	if (IS_ENABLED(CONFIG_PREEMPT_RT))
		spin_unlock(&pool->reserve_lock);
	else
		spin_unlock_bh(&pool->reserve_lock);
}

/* Under reserve_lock, or before the pool is seen by anyone. */
static void mdlpool_reserve_add(struct mdlpool *pool, struct mdlpool_page *pg)
{
	list_add(&pg->link, &pool->reserve);
	pool->reserve_nr++;
	atomic_long_inc(&mdlpool_reserve_total);
}

static bool mdlpool_reserve_put(struct mdlpool *pool, struct mdlpool_page *pg)
{
	bool kept = false;

	/* A racy look first: most releases find the reserve full. */
	if (data_race(pool->reserve_nr) >= pool->reserve_target)
		return false;
	mdlpool_reserve_lock(pool);
	if (pool->reserve_nr < pool->reserve_target) {
		mdlpool_reserve_add(pool, pg);
		kept = true;
	}
	mdlpool_reserve_unlock(pool);
	return kept;
}

static struct page *mdlpool_reserve_take(struct mdlpool *pool, u8 *layout)
{
	struct mdlpool_page *pg;

	/* A racy look first: most pools have no reserve. */
	if (!data_race(pool->reserve_nr))
		return NULL;
	mdlpool_reserve_lock(pool);
	pg = list_first_entry_or_null(&pool->reserve, struct mdlpool_page, link);
	if (pg) {
		list_del(&pg->link);
		pool->reserve_nr--;
		atomic_long_dec(&mdlpool_reserve_total);
	}
	mdlpool_reserve_unlock(pool);
	if (!pg)
		return NULL;
	*layout = pg->layout;
	return virt_to_page(pg);
}

/*
 * Reserve slabs enough that @n allocations succeed with no page to be had,
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
static int mdlpool_reserve_fill(struct mdlpool *pool, unsigned int buffers)
{
	unsigned int order = pool->layouts[MDLPOOL_FALLBACK].order;
	int nid = pool->nid == NUMA_NO_NODE ? numa_mem_id() : pool->nid;
	struct mdlpool_page *pg;
	struct page *page;

	pool->reserve_buffers = buffers;
	pool->reserve_target = buffers ? mdlpool_reserve_slabs(pool, buffers) : 0;
	while (pool->reserve_nr < pool->reserve_target) {
		page = alloc_pages_node(nid, GFP_KERNEL |
					(pool->gfp & (__GFP_DMA | __GFP_DMA32)) |
					(order ? __GFP_COMP : 0), order);
		if (!page)
			return -ENOMEM;
		pg = page_address(page);
		pg->layout = MDLPOOL_FALLBACK;
		mdlpool_reserve_add(pool, pg);
	}
	return 0;
}

/* At destruction, or when creation fails. */
static void mdlpool_reserve_free(struct mdlpool *pool)
{
	struct mdlpool_page *pg, *tmp;

	list_for_each_entry_safe(pg, tmp, &pool->reserve, link) {
		__free_pages(virt_to_page(pg), mdlpool_layout_of(pool, pg)->order);
		atomic_long_dec(&mdlpool_reserve_total);
	}
	INIT_LIST_HEAD(&pool->reserve);
	pool->reserve_nr = 0;
}

/* A slab that did not become a page of @c goes back where it came from. */
static void mdlpool_slab_discard(struct mdlpool *pool, struct page *page,
				 bool from_reserve)
{
	struct mdlpool_page *pg = page_address(page);

	if (from_reserve) {
		mdlpool_reserve_lock(pool);
		mdlpool_reserve_add(pool, pg);
		mdlpool_reserve_unlock(pool);
		return;
	}
	__free_pages(page, mdlpool_layout_of(pool, pg)->order);
}

/*
 * Makes a new slab one of @c's pages; false if it could not be mapped (the
 * caller then discards it).
 */
static bool mdlpool_page_attach(struct mdlpool_cpu *c, struct page *page,
				u8 layout, bool from_reserve)
{
	struct mdlpool_page *pg = page_address(page);
	enum mdlpool_slab_source source;
	unsigned long held;

	mdlpool_assert_owner(c);
	pg->layout = layout;
	if (!mdlpool_slab_map(c, page, pg))
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
	pg->owner = c;
	init_llist_head(&pg->free);
	pg->owner_free = NULL;
	pg->built = 0;
	pg->nr_out = 0;
	atomic_set(&pg->remote_frees, 0);
	pg->on_used = false;
	pg->orphaned = 0;
	pg->last_free = jiffies;
	set_page_private(page, mdlpool_page_mark(pg));

	list_add(&pg->link, &c->pages);
	trace_mdlpool_slab_alloc(c, mdlpool_layout_of(c->pool, pg)->order,
				 mdlpool_layout_of(c->pool, pg)->blocks, source);
	c->pages_alloc++;
	held = c->pages_alloc - c->pages_freed;
	if (held > c->peak_pages)
		c->peak_pages = held;
	atomic_long_inc(&mdlpool_pages_total);
	return true;
}

/* A slab taken without waiting, inside @c's section: else the reserve's. */
static struct mdlpool_page *mdlpool_page_add(struct mdlpool_cpu *c)
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
	if (!mdlpool_page_attach(c, page, layout, from_reserve)) {
		mdlpool_slab_discard(pool, page, from_reserve);
		return NULL;
	}
	return page_address(page);
}

/*
 * Rule 10: @pg goes back, so its CPU must not take it for its hot slab any
 * more.  A cmpxchg(), because the destroy of a pool may clear the hot
 * slabs of CPUs that allocate from other pools meanwhile.
 */
static void mdlpool_hot_forget(struct mdlpool_cpu *c, struct mdlpool_page *pg)
{
	if (!IS_ENABLED(CONFIG_PREEMPT_RT))
		cmpxchg(per_cpu_ptr(&mdlpool_hot[c->ctx], c->cpu), pg, NULL);
}

/* Returns true if the slab went back to the page allocator, not the reserve. */
static bool mdlpool_page_release(struct mdlpool_cpu *c, struct mdlpool_page *pg,
				 enum mdlpool_reclaim why)
{
	struct page *page = virt_to_page(pg);
	unsigned int order = mdlpool_layout_of(c->pool, pg)->order;
	bool kept;

	trace_mdlpool_slab_release(c, order, why);

	list_del(&pg->link);
	if (pg->on_used)
		c->nr_used_pages--;
	c->blocks_built -= pg->built;
	mdlpool_slab_unmap(c, pg);
	/* Later frees of stale descriptors must not recognise the page. */
	set_page_private(page, 0);
	mdlpool_hot_forget(c, pg);
	kept = mdlpool_reserve_put(c->pool, pg);
	if (!kept)
		__free_pages(page, order);
	c->pages_freed++;
	atomic_long_dec(&mdlpool_pages_total);
	return !kept;
}

static void mdlpool_page_restore(struct mdlpool_cpu *c, struct mdlpool_page *pg)
{
	list_move_tail(&pg->link, &c->pages);
	WRITE_ONCE(pg->on_used, false);
	c->nr_used_pages--;
}

/*
 * A slab on the used list with no block out and none free: every block it
 * had left was found overwritten and left out (mdlpool_drop_overwritten()).
 * No free will ever move it back to the page list, where scavenges look,
 * so it goes back now; unless it still waits on the orphan queue, whose
 * scavenge (mdlpool_adopt_orphans()) comes here again.
 */
static noinline void mdlpool_page_release_dead(struct mdlpool_cpu *c,
					       struct mdlpool_page *pg)
{
	if (mdlpool_page_idle(pg, jiffies, 0))
		mdlpool_page_release(c, pg, MDLPOOL_RECLAIM_CORRUPT);
}

static void mdlpool_page_retire(struct mdlpool_cpu *c, struct mdlpool_page *pg)
{
	list_move_tail(&pg->link, &c->used_pages);
	WRITE_ONCE(pg->on_used, true);
	c->nr_used_pages++;
	/*
	 * A remote free pushes its block (a full barrier) and then reads
	 * on_used.  With this barrier between our store of on_used and our
	 * look at the list, either we see its block and keep the page where
	 * allocation finds it, or it sees on_used, records a missed move and
	 * queues the page as an orphan.
	 */
	smp_mb();
	if (!llist_empty(&pg->free))
		mdlpool_page_restore(c, pg);
	else if (unlikely(!mdlpool_page_in_use(pg)))
		mdlpool_page_release_dead(c, pg);
}

/*
 * Put the used pages that remote frees queued back on the page list.
 *
 * Each page's orphaned flag is cleared before its free list is looked at,
 * with a full barrier between: a remote free whose xchg still found the
 * flag set had pushed its block before, so we see the block; one that
 * finds it clear queues the page again.  That may happen as soon as the
 * flag is clear and rewrites the page's link, hence the _safe walk, which
 * reads the link first.
 */
static unsigned long mdlpool_adopt_orphans(struct mdlpool_cpu *c)
{
	struct llist_node *orphans;
	struct mdlpool_page *pg, *tmp;
	unsigned long restored = 0;

	mdlpool_assert_owner(c);
	/* Fully ordered: also after our caller's clear of missed_move. */
	orphans = llist_del_all(&c->orphans);
	llist_for_each_entry_safe(pg, tmp, orphans, orphan_node) {
		/* Pairs with the xchg in mdlpool_free_remote(). */
		smp_store_mb(pg->orphaned, 0);
		if (!pg->on_used)
			continue;
		if (!llist_empty(&pg->free)) {
			mdlpool_page_restore(c, pg);
			restored++;
		} else if (!mdlpool_page_in_use(pg)) {
			mdlpool_page_release_dead(c, pg);
		}
	}
	return restored;
}

/*
 * The used-list half of a scavenge: the missed moves are made up.  Returns
 * how many pages went back to the page list.
 */
static unsigned long mdlpool_cpu_recover_orphans(struct mdlpool_cpu *c)
{
	/*
	 * Clear the flag before taking the orphans: a remote free that
	 * queues a page after we took them sets the flag again after it,
	 * so no missed move is forgotten.
	 */
	WRITE_ONCE(c->missed_move, false);
	return mdlpool_adopt_orphans(c);
}

/*
 * Put used pages with free blocks back on the page list, then give back
 * the pages completely free for @lifetime jiffies.  Returns how many went
 * back to the page allocator: the reserve may keep some, and reclaim must
 * not be told those were freed.
 */
static unsigned long mdlpool_cpu_reclaim(struct mdlpool_cpu *c,
					 unsigned long lifetime,
					 enum mdlpool_reclaim why)
{
	unsigned long now = jiffies, recovered, released = 0, freed = 0;
	struct mdlpool_page *pg, *tmp;

	recovered = mdlpool_cpu_recover_orphans(c);
	list_for_each_entry_safe(pg, tmp, &c->pages, link) {
		if (mdlpool_page_idle(pg, now, lifetime)) {
			freed += mdlpool_page_release(c, pg, why);
			released++;
		}
	}
	c->scavenges++;
	trace_mdlpool_scavenge(c, why, recovered, released);
	return freed;
}

static void mdlpool_cpu_scavenge(struct mdlpool_cpu *c, enum mdlpool_reclaim why)
{
	c->next_scavenge = jiffies +
			   msecs_to_jiffies(READ_ONCE(scavenge_period_ms));
	mdlpool_cpu_reclaim(c, msecs_to_jiffies(READ_ONCE(min_page_lifetime_ms)),
			    why);
}

/* The threshold's scavenge: the orphans only (see mdlpool_scavenge_due()). */
static noinline void mdlpool_cpu_threshold_scavenge(struct mdlpool_cpu *c)
{
	trace_mdlpool_scavenge(c, MDLPOOL_RECLAIM_THRESHOLD,
			       mdlpool_cpu_recover_orphans(c), 0);
	c->scavenges++;
}

static __always_inline void mdlpool_cpu_scavenge_if_due(struct mdlpool_cpu *c)
{
	switch (mdlpool_scavenge_due(c, jiffies, READ_ONCE(used_pages_threshold))) {
	case MDLPOOL_SCAVENGE_FULL:
		mdlpool_cpu_scavenge(c, MDLPOOL_RECLAIM_PERIOD);
		break;
	case MDLPOOL_SCAVENGE_ORPHANS:
		mdlpool_cpu_threshold_scavenge(c);
		break;
	case MDLPOOL_SCAVENGE_NONE:
		break;
	}
}

/*
 * Special-pool checks, in pools created with debug_checks.  A free checks
 * the redzone behind the buffer and poisons the buffer; the next allocation
 * of the block checks the poison and lays a fresh redzone.
 */
static void mdlpool_report(const struct mdlpool *pool, struct mdlpool_page *pg,
			   struct mdlpool_block *blk, const char *what)
{
	unsigned int cpu = pg->owner->cpu;
	unsigned int idx = mdlpool_block_index(pool, pg, blk);

	WARN_ONCE(1, "%s: cpu %u page %p block %u: %s\n",
		  pool->name, cpu, pg, idx, what);
	pr_err_ratelimited("%s: cpu %u page %p block %u: %s\n",
			   pool->name, cpu, pg, idx, what);
}

static void mdlpool_check_poison(const struct mdlpool *pool,
				 struct mdlpool_page *pg,
				 struct mdlpool_block *blk)
{
	u8 *buf = mdlpool_block_buf(pool, pg, blk);

	if (memchr_inv(buf, MDLPOOL_POISON_BYTE, pool->buffer_size)) {
		atomic_long_inc(&pg->owner->poison_errors);
		mdlpool_report(pool, pg, blk, "buffer written to while free");
	}
	memset(buf + pool->buffer_size, MDLPOOL_REDZONE_BYTE,
	       mdlpool_tail_size(pool));
}

static void mdlpool_check_redzone(const struct mdlpool *pool,
				  struct mdlpool_page *pg,
				  struct mdlpool_block *blk)
{
	u8 *buf = mdlpool_block_buf(pool, pg, blk);

	if (memchr_inv(buf + pool->buffer_size, MDLPOOL_REDZONE_BYTE,
		       mdlpool_tail_size(pool))) {
		atomic_long_inc(&pg->owner->overruns);
		mdlpool_report(pool, pg, blk, "written past the end of the buffer");
	}
	memset(buf, MDLPOOL_POISON_BYTE, pool->buffer_size);
}

static struct mdlpool_block *mdlpool_block_build(const struct mdlpool *pool,
						 struct mdlpool_page *pg)
{
	struct mdlpool_block *blk = mdlpool_block_at(pool, pg, pg->built);
	void *buf = mdlpool_block_buf(pool, pg, blk);

	/* One segment, even where the buffer crosses into the next page. */
	sg_init_one(&blk->sg, buf, pool->buffer_size);
	blk->buf_offset = buf - (void *)pg;
	if (pool->dma_dev) {
		sg_dma_address(&blk->sg) = pg->dma +
					   mdlpool_block_offset(pool, pg, blk);
		sg_dma_len(&blk->sg) = pool->buffer_size;
	}
	blk->state = MDLPOOL_BLOCK_FREE;
	if (pool->checked)
		memset(buf, MDLPOOL_POISON_BYTE, pool->buffer_size);
	pg->built++;
	pg->owner->blocks_built++;
	return blk;
}

/*
 * The built block a descriptor address names, or NULL: from the address
 * alone, so nothing is read before the address is known to be a header.
 */
static __always_inline struct mdlpool_block *
mdlpool_block_of(const struct mdlpool *pool, struct mdlpool_page *pg,
		 const struct scatterlist *sg)
{
	unsigned long off = (unsigned long)sg - (unsigned long)pg->blocks;
	unsigned long idx = off / sizeof(struct mdlpool_block);

	/* A free on any CPU may race with the owner building blocks. */
	if ((unsigned long)sg < (unsigned long)pg->blocks ||
	    off % sizeof(struct mdlpool_block) ||
	    idx >= READ_ONCE(pg->built))
		return NULL;
	return mdlpool_block_at(pool, pg, idx);
}

/* Whether a free-list link points at a built block of @pg. */
static bool mdlpool_node_in_page(const struct mdlpool *pool,
				 struct mdlpool_page *pg,
				 struct llist_node *node)
{
	struct mdlpool_block *blk = container_of(node, struct mdlpool_block,
						 free_node);

	return mdlpool_block_of(pool, pg, &blk->sg) == blk;
}

/*
 * A block on a free list whose state is not "free" was written to after it
 * was freed.  Handing it out would give a caller memory someone else still
 * writes, so it is left out of the page's lists for good (the page still
 * goes back once its other blocks are free), counted and reported.  Its link
 * lies in the same header, so it is followed only into a free block of this
 * page: a link into a block that is out would hand that block out twice.
 * Otherwise the rest of that list is left out too.
 */
static struct llist_node *mdlpool_drop_overwritten(const struct mdlpool *pool,
						   struct mdlpool_page *pg,
						   struct mdlpool_block *blk)
{
	struct llist_node *next = blk->free_node.next;

	pg->owner->corrupt_free_blocks++;
	mdlpool_report(pool, pg, blk, "free block overwritten, left out");
	if (!next || !mdlpool_node_in_page(pool, pg, next))
		return NULL;
	blk = container_of(next, struct mdlpool_block, free_node);
	return blk->state == MDLPOOL_BLOCK_FREE ? next : NULL;
}

/*
 * The next block of @pg to hand out: one freed before, else a new one.
 * NULL only if overwritten free blocks were all the page had left; the page
 * is exhausted then and the caller moves on.
 */
static __always_inline struct mdlpool_block *
mdlpool_block_take(const struct mdlpool *pool, struct mdlpool_page *pg)
{
	struct llist_node *node = pg->owner_free;
	struct mdlpool_block *blk;

	/* One exchange takes every block other CPUs have freed so far. */
	if (!node)
		node = llist_del_all(&pg->free);
	while (node) {
		blk = container_of(node, struct mdlpool_block, free_node);
		if (likely(blk->state == MDLPOOL_BLOCK_FREE)) {
			pg->owner_free = node->next;
			return blk;
		}
		node = mdlpool_drop_overwritten(pool, pg, blk);
		if (!node)
			node = llist_del_all(&pg->free);
	}
	pg->owner_free = NULL;
	if (pg->built < mdlpool_layout_of(pool, pg)->blocks)
		return mdlpool_block_build(pool, pg);
	return NULL;
}

/* The block leaves the pool: its descriptor as a new buffer's should be. */
static __always_inline struct scatterlist *
mdlpool_block_give(const struct mdlpool *pool, struct mdlpool_page *pg,
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
	*buf = (void *)pg + blk->buf_offset;
	return sg;
}

static __always_inline struct scatterlist *
mdlpool_block_hand_out(const struct mdlpool *pool, struct mdlpool_page *pg,
		       struct mdlpool_block *blk, void **buf)
{
	if (pool->checked)
		mdlpool_check_poison(pool, pg, blk);
	return mdlpool_block_give(pool, pg, blk, buf);
}

/* After one allocation or a bulk of them: the high-water mark. */
static __always_inline void mdlpool_note_peak(struct mdlpool_cpu *c)
{
	unsigned long in_use = mdlpool_cpu_in_use(c);

	if ((long)in_use > (long)c->peak_in_use)
		c->peak_in_use = in_use;
}

/*
 * The first page with a block to give, after moving the full pages in
 * front of it to the used list.  NT moves a page when it hands out its last
 * block; moving it when an allocation finds it full instead spares the
 * moves (and their barrier) when the block comes straight back, as it does
 * when a caller allocates and frees in turn.
 */
static __always_inline struct mdlpool_page *
mdlpool_first_usable_page(struct mdlpool *pool, struct mdlpool_cpu *c)
{
	struct mdlpool_page *pg;

	while ((pg = list_first_entry_or_null(&c->pages, struct mdlpool_page,
					      link))) {
		if (!mdlpool_page_exhausted(pool, pg))
			return pg;
		mdlpool_page_retire(c, pg);
	}
	return NULL;
}

/* A page to allocate from: a usable one, an orphan, else a new one. */
static __always_inline struct mdlpool_page *
mdlpool_page_to_use(struct mdlpool *pool, struct mdlpool_cpu *c)
{
	struct mdlpool_page *pg;

	pg = mdlpool_first_usable_page(pool, c);
	if (!pg && !llist_empty(&c->orphans)) {
		/*
		 * NT grows the pool here and leaves orphans to the next
		 * scavenge; pages other CPUs have freed into are cheaper.
		 */
		mdlpool_adopt_orphans(c);
		pg = mdlpool_first_usable_page(pool, c);
	}
	if (!pg)
		pg = mdlpool_page_add(c);
	return pg;
}

/*
 * Up to @nr buffers in the section of @c, without waiting; how many it got.
 * Each page gives what it has before the next is looked for, so a bulk pays
 * for the page lists once per page rather than once per buffer.
 */
static __always_inline unsigned int
mdlpool_alloc_many(struct mdlpool_cpu *c, unsigned int nr,
		   struct scatterlist **sgs, void **bufs)
{
	struct mdlpool *pool = c->pool;
	struct mdlpool_block *blk;
	struct mdlpool_page *pg;
	unsigned int i = 0;

	mdlpool_assert_owner(c);
	mdlpool_cpu_scavenge_if_due(c);
	while (i < nr) {
		pg = mdlpool_page_to_use(pool, c);
		if (!pg)
			break;
		/* A page that runs dry is retired by the next lookup. */
		while (i < nr && (blk = mdlpool_block_take(pool, pg))) {
			pg->nr_out++;
			sgs[i] = mdlpool_block_hand_out(pool, pg, blk, &bufs[i]);
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
mdlpool_alloc_short(struct mdlpool_cpu *c, unsigned int nr, unsigned int got,
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
		if (!mdlpool_page_attach(c, page, layout, false)) {
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
 * mdlpool_alloc_bh(): a block the owner freed into the first page of its
 * list, with nothing to scavenge and no checks to run.  NULL, with nothing
 * changed, sends the caller to mdlpool_alloc_slow() for every other case.
 * It calls nothing and keeps few values, so that the compiler saves no
 * register for it: a path that did everything pushed and popped six of
 * them in every call (BENCHMARKS.md).
 */
static __always_inline struct scatterlist *
mdlpool_alloc_fast(struct mdlpool_cpu *c, void **buf)
{
	const struct mdlpool *pool = c->pool;
	struct mdlpool_block *blk;
	struct mdlpool_page *pg;
	struct llist_node *node;

	mdlpool_assert_owner(c);
	if (unlikely(pool->checked ||
		     mdlpool_scavenge_due(c, jiffies,
					  READ_ONCE(used_pages_threshold))))
		return NULL;
	pg = list_first_entry_or_null(&c->pages, struct mdlpool_page, link);
	if (unlikely(!pg || !pg->owner_free))
		return NULL;
	node = pg->owner_free;
	blk = container_of(node, struct mdlpool_block, free_node);
	if (unlikely(blk->state != MDLPOOL_BLOCK_FREE))
		return NULL;
	pg->owner_free = node->next;
	pg->nr_out++;
	c->allocs++;
	mdlpool_note_peak(c);
	/* Rule 10: a free of this buffer will find its slab here. */
	if (!IS_ENABLED(CONFIG_PREEMPT_RT) &&
	    unlikely(this_cpu_read(mdlpool_hot[c->ctx]) != pg))
		this_cpu_write(mdlpool_hot[c->ctx], pg);
	return mdlpool_block_give(pool, pg, blk, buf);
}

/* One buffer, when mdlpool_alloc_fast() has none; leaves the section. */
static noinline struct scatterlist *
mdlpool_alloc_slow(struct mdlpool_cpu *c, void **buf)
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
 * context.  The buffer comes from the current CPU's pages for that context.
 *
 * Context: softirq, or process context with bottom halves disabled.
 * Return: the buffer's descriptor, with ->length reset to the pool's buffer
 * size and marked as the end of its list; NULL if no page could be had or
 * if called from a context the pool does not support.
 */
struct scatterlist *mdlpool_alloc_bh(struct mdlpool *pool, void **buf)
{
	struct scatterlist *sg;
	struct mdlpool_cpu *c;

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
 * NT's MdpAllocate().  The buffer comes from the current CPU's pages; it
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
 * size and marked as the end of its list; NULL if no page could be had or
 * if called from a context the pool does not support.
 */
struct scatterlist *mdlpool_alloc(struct mdlpool *pool, void **buf)
{
	struct scatterlist *sg;
	struct mdlpool_cpu *c;

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

/*
 * The slab an address lies in, judged from its struct pages alone, so that
 * a descriptor pointing anywhere in the direct map can be checked without
 * reading memory the pool does not own.  The head page of a slab carries
 * the mark; a tail page leads to it.  mdlpool_page_of_mapped() is for an
 * address virt_addr_valid() has accepted.
 */
static __always_inline struct mdlpool_page *
mdlpool_page_of_mapped(const void *addr, struct page **headp)
{
	struct page *head = virt_to_head_page(addr);
	struct mdlpool_page *pg = page_address(head);

	/*
	 * Another page's owner may write its private word meanwhile: any
	 * value but our mark, torn or not, says "not a pool page".
	 */
	if (data_race(page_private(head)) != mdlpool_page_mark(pg))
		return NULL;
	*headp = head;
	return pg;
}

static __always_inline struct mdlpool_page *mdlpool_page_of(const void *addr)
{
	struct page *head;

	return virt_addr_valid(addr) ? mdlpool_page_of_mapped(addr, &head) :
				       NULL;
}

/* NT's check that the caller did not repoint the MDL at memory of its own. */
static __always_inline bool
mdlpool_block_intact(const struct mdlpool *pool, struct mdlpool_page *pg,
		     struct page *head, struct mdlpool_block *blk)
{
	unsigned int off = mdlpool_block_offset(pool, pg, blk);
	struct scatterlist *sg = &blk->sg;

	/* The slab's struct pages follow its head's, as for any folio. */
	return sg_page(sg) == nth_page(head, off >> PAGE_SHIFT) &&
	       sg->offset == offset_in_page(off) &&
	       (!pool->dma_dev || sg_dma_address(sg) == pg->dma + off);
}

static const char * const mdlpool_refusal_text[] = {
	[MDLPOOL_REFUSED_FOREIGN] = "not a pool descriptor",
	[MDLPOOL_REFUSED_ALTERED] = "descriptor altered or misplaced",
	[MDLPOOL_REFUSED_TWICE] = "already free",
};

/*
 * Counts and reports a refused free; @c is the share whose slab holds the
 * descriptor, or NULL if no pool's does.  Out of line, as refusals are.
 */
static noinline int mdlpool_reject(struct mdlpool_cpu *c,
				   const struct scatterlist *sg,
				   enum mdlpool_refusal why)
{
	const char *name = c ? c->pool->name : "(no pool)";

	if (c)
		atomic_long_inc(&c->rejected_frees);
	else
		atomic_long_inc(&mdlpool_foreign_frees);
	trace_mdlpool_free_refused(name, sg, why);
	WARN_ONCE(1, "%s: refused free of %p: %s\n",
		  name, sg, mdlpool_refusal_text[why]);
	pr_err_ratelimited("%s: refused free of %p: %s\n",
			   name, sg, mdlpool_refusal_text[why]);
	return -EINVAL;
}

/* The owner's free of a block marked free, into its page's own list. */
static __always_inline void
mdlpool_free_to_page(struct mdlpool_cpu *c, struct mdlpool_page *pg,
		     struct mdlpool_block *blk)
{
	mdlpool_assert_owner(c);
	WRITE_ONCE(pg->last_free, jiffies);
	blk->free_node.next = pg->owner_free;
	pg->owner_free = &blk->free_node;
	pg->nr_out--;
	c->local_frees++;
}

static __always_inline void
mdlpool_free_local(struct mdlpool_cpu *c, struct mdlpool_page *pg,
		   struct mdlpool_block *blk)
{
	mdlpool_free_to_page(c, pg, blk);
	if (pg->on_used)
		mdlpool_page_restore(c, pg);
}

/* Once per section that freed, however many blocks it freed. */
static __always_inline void
mdlpool_scavenge_if_period_over(struct mdlpool_cpu *c)
{
	if (time_after(jiffies, c->next_scavenge))
		mdlpool_cpu_scavenge(c, MDLPOOL_RECLAIM_PERIOD);
}

/* Rule 5: any CPU, any supported context, no section needed. */
static void mdlpool_free_remote(struct mdlpool_cpu *owner,
				struct mdlpool_page *pg,
				struct mdlpool_block *blk)
{
	bool on_used;

	WRITE_ONCE(pg->last_free, jiffies);
	/* Fully ordered: pairs with the barrier in mdlpool_page_retire(). */
	llist_add(&blk->free_node, &pg->free);
	on_used = READ_ONCE(pg->on_used);
	/* Fully ordered too: pairs with mdlpool_adopt_orphans(). */
	if (on_used && !xchg(&pg->orphaned, 1))
		llist_add(&pg->orphan_node, &owner->orphans);
	/* Our last touch of the page: the owner may release it after this. */
	atomic_inc_return_release(&pg->remote_frees);

	atomic_long_inc(&owner->remote_frees);
	if (on_used) {
		WRITE_ONCE(owner->missed_move, true);
		atomic_long_inc(&owner->missed_moves);
	}
}

/*
 * The checks of a free: the descriptor is one a pool handed out and
 * unaltered.  Each returns the block's share and sets @blkp (and the slab
 * and its head page, @pgp and @headp), or NULL if the free is refused
 * (-EINVAL).  mdlpool_free_check_in() is for a descriptor known to lie in
 * slab @pg; mdlpool_free_check_mapped() for one virt_addr_valid() has
 * accepted.
 */
static __always_inline struct mdlpool_cpu *
mdlpool_free_check_in(struct mdlpool_page *pg, struct page *head,
		      struct scatterlist *sg, struct mdlpool_block **blkp)
{
	struct mdlpool_cpu *c = pg->owner;
	struct mdlpool_block *blk = mdlpool_block_of(c->pool, pg, sg);

	if (unlikely(!blk || !mdlpool_block_intact(c->pool, pg, head, blk))) {
		mdlpool_reject(c, sg, MDLPOOL_REFUSED_ALTERED);
		return NULL;
	}
	*blkp = blk;
	return c;
}

static __always_inline struct mdlpool_cpu *
mdlpool_free_check_mapped(struct scatterlist *sg, struct mdlpool_page **pgp,
			  struct page **headp, struct mdlpool_block **blkp)
{
	struct mdlpool_page *pg = mdlpool_page_of_mapped(sg, headp);

	if (unlikely(!pg)) {
		mdlpool_reject(NULL, sg, MDLPOOL_REFUSED_FOREIGN);
		return NULL;
	}
	*pgp = pg;
	return mdlpool_free_check_in(pg, *headp, sg, blkp);
}

static __always_inline struct mdlpool_cpu *
mdlpool_free_check(struct scatterlist *sg, struct mdlpool_page **pgp,
		   struct page **headp, struct mdlpool_block **blkp)
{
	if (unlikely(!virt_addr_valid(sg))) {
		mdlpool_reject(NULL, sg, MDLPOOL_REFUSED_FOREIGN);
		return NULL;
	}
	return mdlpool_free_check_mapped(sg, pgp, headp, blkp);
}

/* Whether @sg lies among the built block headers of slab @pg. */
static __always_inline bool mdlpool_in_headers(struct mdlpool_page *pg,
					       const struct scatterlist *sg)
{
	return (unsigned long)sg - (unsigned long)pg->blocks <
	       (unsigned long)pg->built * sizeof(struct mdlpool_block);
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
mdlpool_free_mark(struct mdlpool_cpu *c, struct mdlpool_page *pg,
		  struct mdlpool_block *blk)
{
	struct mdlpool *pool = c->pool;
	u32 out = MDLPOOL_BLOCK_OUT;

	if (unlikely(!try_cmpxchg(&blk->state, &out, MDLPOOL_BLOCK_FREE)))
		return mdlpool_reject(c, &blk->sg, MDLPOOL_REFUSED_TWICE);
	if (pool->checked)
		mdlpool_check_redzone(pool, pg, blk);
	return 0;
}

/* Inside the section of share @here: a free to it is local (rule 3). */
static __always_inline int
mdlpool_free_in(struct mdlpool_cpu *here, struct mdlpool_cpu *c,
		struct mdlpool_page *pg, struct mdlpool_block *blk)
{
	int err = mdlpool_free_mark(c, pg, blk);

	if (err)
		return err;
	if (c == here)
		mdlpool_free_local(c, pg, blk);
	else
		mdlpool_free_remote(c, pg, blk);
	return 0;
}

/*
 * The free most calls make, in the section of the block's own share: no
 * checks to run, the page on the page list, no scavenge due.  False, with
 * nothing changed, sends the caller to mdlpool_free_slow().  Small for the
 * reason mdlpool_alloc_fast() is.
 */
static __always_inline bool
mdlpool_free_fast(struct mdlpool_cpu *c, struct mdlpool_page *pg,
		  struct mdlpool_block *blk)
{
	u32 out = MDLPOOL_BLOCK_OUT;

	if (unlikely(c->pool->checked || pg->on_used ||
		     time_after(jiffies, c->next_scavenge)))
		return false;
	/*
	 * A block that is not out stays as it is until mdlpool_free_slow()
	 * refuses it: only an allocation in this section could change it.
	 */
	if (unlikely(!try_cmpxchg(&blk->state, &out, MDLPOOL_BLOCK_FREE)))
		return false;
	mdlpool_free_to_page(c, pg, blk);
	return true;
}

/* Every free mdlpool_free_fast() leaves, in the section of @here. */
static noinline int mdlpool_free_slow(struct mdlpool_cpu *here,
				      struct mdlpool_cpu *c,
				      struct mdlpool_page *pg,
				      struct mdlpool_block *blk)
{
	int err = mdlpool_free_in(here, c, pg, blk);

	mdlpool_scavenge_if_period_over(here);
	mdlpool_leave(here);
	return err;
}

/* Rule 5: a free on another CPU than the block's, in no section. */
static noinline int mdlpool_free_elsewhere(struct mdlpool_cpu *c,
					   struct mdlpool_page *pg,
					   struct mdlpool_block *blk)
{
	int err = mdlpool_free_mark(c, pg, blk);

	if (!err)
		mdlpool_free_remote(c, pg, blk);
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
	struct mdlpool_cpu *c, *here;
	struct mdlpool_block *blk;
	struct mdlpool_page *pg;
	struct page *head;

	c = mdlpool_free_check_mapped(sg, &pg, &head, &blk);
	if (unlikely(!c))
		return -EINVAL;
	/*
	 * A free on another CPU needs no section (rule 5), so a racy look at
	 * the CPU is enough to send it there; a free that looks local is
	 * checked again inside the section, where the CPU cannot change.
	 */
	if (c->cpu != raw_smp_processor_id())
		return mdlpool_free_elsewhere(c, pg, blk);
	here = mdlpool_enter(c->pool);
	if (unlikely(here != c || !mdlpool_free_fast(c, pg, blk)))
		return mdlpool_free_slow(here, c, pg, blk);
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
	struct mdlpool_page *pg;
	struct mdlpool_cpu *c;

	if (ctx == MDLPOOL_CTX_TASK)
		preempt_disable();
	pg = this_cpu_read(mdlpool_hot[ctx]);
	if (unlikely(!pg || !mdlpool_in_headers(pg, sg))) {
		if (ctx == MDLPOOL_CTX_TASK)
			preempt_enable();
		return MDLPOOL_NOT_HOT;
	}
	c = pg->owner;
	local_lock_acquire(&c->lock);
	c = mdlpool_free_check_in(pg, virt_to_page(pg), sg, &blk);
	if (unlikely(!c)) {
		mdlpool_leave(pg->owner);
		return -EINVAL;
	}
	if (unlikely(!mdlpool_free_fast(c, pg, blk)))
		return mdlpool_free_slow(c, c, pg, blk);
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
 * is still free in a page the pool holds: once the block is handed out
 * again, or its page went back and a pool got a page at the same address,
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
 * mdlpool_alloc_bulk - allocate several buffers in one section
 * @pool: the pool to allocate from
 * @nr: how many
 * @sgs: receives the descriptors, @nr entries
 * @bufs: receives the buffers' kernel addresses, @nr entries
 *
 * As @nr calls of mdlpool_alloc(), for the price of entering the CPU's
 * section once, like kmem_cache_alloc_bulk(), and it waits for slabs where
 * mdlpool_alloc() would.  Unlike kmem_cache_alloc_bulk(), what could be
 * allocated is kept when the pool runs out of pages: a driver refilling a
 * ring uses what it got.
 *
 * Context: process or softirq context.
 * Return: how many buffers were allocated, 0 to @nr; they are the first
 * entries of @sgs and @bufs.
 */
unsigned int mdlpool_alloc_bulk(struct mdlpool *pool, unsigned int nr,
				struct scatterlist **sgs, void **bufs)
{
	struct mdlpool_cpu *c;
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
	struct mdlpool_page *pg, *near = NULL;
	struct mdlpool_cpu *c, *here = NULL;
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
			pg = near;
			head = near_head;
			c = mdlpool_free_check_in(pg, head, sgs[i], &blk);
		} else {
			c = mdlpool_free_check(sgs[i], &pg, &head, &blk);
		}
		if (!c) {
			ret = -EINVAL;
			continue;
		}
		if (!here)
			here = mdlpool_enter(c->pool);
		ret = mdlpool_free_in(here, c, pg, blk) ?: ret;
		if (c == here) {
			near = pg;
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

/**
 * mdlpool_scavenge - scavenge the current CPU's shares of a pool now
 * @pool: the pool
 *
 * Runs the scavenge that allocations and frees otherwise run when it is
 * due: pages completely free for at least min_page_lifetime_ms go back to
 * the page allocator and used pages with free blocks return to the page
 * list.  Only the calling CPU's pages are touched: from process context
 * those of both its shares, from softirq context (or with bottom halves
 * off) those of the softirq share; on PREEMPT_RT, where every caller uses
 * the task share, that share from any context.
 *
 * Context: process or softirq context.
 */
void mdlpool_scavenge(struct mdlpool *pool)
{
	struct mdlpool_cpu *c;
	unsigned int ctx;

	if (!mdlpool_context_ok())
		return;
	for (ctx = 0; ctx < MDLPOOL_NR_CTX; ctx++) {
		/*
		 * A softirq may have interrupted the task share's section;
		 * not on PREEMPT_RT, where that share is every caller's.
		 */
		if (!IS_ENABLED(CONFIG_PREEMPT_RT) && ctx == MDLPOOL_CTX_TASK &&
		    softirq_count())
			continue;
		c = mdlpool_enter_ctx(pool, ctx);
		if (c->ctx == ctx)
			mdlpool_cpu_scavenge(c, MDLPOOL_RECLAIM_CALL);
		mdlpool_leave_ctx(c, ctx);
	}
}
EXPORT_SYMBOL_GPL(mdlpool_scavenge);

/**
 * mdlpool_buffer_size - the size of a pool's buffers
 * @pool: the pool
 *
 * Context: any.
 * Return: the buffer size in bytes the pool was created with.
 */
unsigned int mdlpool_buffer_size(const struct mdlpool *pool)
{
	return pool->buffer_size;
}
EXPORT_SYMBOL_GPL(mdlpool_buffer_size);

/**
 * mdlpool_pages_held - pages a pool holds now
 * @pool: the pool
 *
 * Summed over every CPU's share without locks: a snapshot.
 *
 * Context: any.
 * Return: pages taken from the page allocator and not yet given back.
 */
unsigned long mdlpool_pages_held(const struct mdlpool *pool)
{
	unsigned long held = 0;
	struct mdlpool_cpu *c;

	for_each_mdlpool_share(c, pool)
		held += mdlpool_peek(c->pages_alloc) - mdlpool_peek(c->pages_freed);
	return held;
}
EXPORT_SYMBOL_GPL(mdlpool_pages_held);

/**
 * mdlpool_debug_checks - whether a pool guards and poisons its buffers
 * @pool: the pool
 *
 * A pool created with MDLPOOL_F_CHECKS, or without either check flag while
 * the debug_checks parameter was set, keeps a redzone after each buffer and
 * poisons freed buffers, as NT's special pool does.
 *
 * Context: any.
 * Return: true if @pool was created with those checks.
 */
bool mdlpool_debug_checks(const struct mdlpool *pool)
{
	return pool->checked;
}
EXPORT_SYMBOL_GPL(mdlpool_debug_checks);

/**
 * mdlpool_max_buffer_size - the largest buffer a pool can hand out
 *
 * What is left of the largest fallback slab (2^PAGE_ALLOC_COSTLY_ORDER
 * pages) after its header and one block header, in whole cache lines, so
 * that every pool can do without costly allocations.  Pools created with
 * debug checks take MDLPOOL_REDZONE bytes less.
 *
 * Context: any.
 * Return: the largest buffer size mdlpool_create() accepts.
 */
unsigned int mdlpool_max_buffer_size(void)
{
	return ALIGN_DOWN((PAGE_SIZE << MDLPOOL_FALLBACK_MAX_ORDER) -
			  mdlpool_buf_offset(1),
			  MDLPOOL_BUF_ALIGN);
}
EXPORT_SYMBOL_GPL(mdlpool_max_buffer_size);

/* Adds one share's statistics to @s. */
static void mdlpool_stats_add(struct mdlpool_cpu *c, unsigned long *s)
{
	unsigned long remote = atomic_long_read(&c->remote_frees);
	unsigned long allocs = mdlpool_peek(c->allocs);
	unsigned long frees = mdlpool_peek(c->local_frees) + remote;
	unsigned long pages_alloc = mdlpool_peek(c->pages_alloc);
	unsigned long pages_freed = mdlpool_peek(c->pages_freed);

	s[MDLPOOL_STAT_ALLOCS] += allocs;
	s[MDLPOOL_STAT_FREES] += frees;
	s[MDLPOOL_STAT_IN_USE] += allocs - frees;
	s[MDLPOOL_STAT_PEAK_IN_USE] += mdlpool_peek(c->peak_in_use);
	s[MDLPOOL_STAT_PAGES_ALLOC] += pages_alloc;
	s[MDLPOOL_STAT_PAGES_FREED] += pages_freed;
	s[MDLPOOL_STAT_PAGES_IN_USE] += pages_alloc - pages_freed;
	s[MDLPOOL_STAT_PEAK_PAGES] += mdlpool_peek(c->peak_pages);
	s[MDLPOOL_STAT_USED_LIST_PAGES] += mdlpool_peek(c->nr_used_pages);
	s[MDLPOOL_STAT_BLOCKS_BUILT] += mdlpool_peek(c->blocks_built);
	s[MDLPOOL_STAT_REMOTE_FREES] += remote;
	s[MDLPOOL_STAT_MISSED_MOVES] += atomic_long_read(&c->missed_moves);
	s[MDLPOOL_STAT_SCAVENGES] += mdlpool_peek(c->scavenges);
	s[MDLPOOL_STAT_REJECTED_FREES] += atomic_long_read(&c->rejected_frees);
	s[MDLPOOL_STAT_ALLOC_FAILURES] += mdlpool_peek(c->alloc_failures);
	s[MDLPOOL_STAT_OVERRUNS] += atomic_long_read(&c->overruns);
	s[MDLPOOL_STAT_POISON_ERRORS] += atomic_long_read(&c->poison_errors);
	s[MDLPOOL_STAT_CORRUPT_FREE_BLOCKS] += mdlpool_peek(c->corrupt_free_blocks);
	s[MDLPOOL_STAT_DMA_MAPPED_PAGES] += mdlpool_peek(c->dma_mapped_pages);
	s[MDLPOOL_STAT_DMA_MAP_FAILURES] += mdlpool_peek(c->dma_map_failures);
	s[MDLPOOL_STAT_SLAB_FALLBACKS] += mdlpool_peek(c->slab_fallbacks);
	s[MDLPOOL_STAT_WAITED_SLABS] += mdlpool_peek(c->waited_slabs);
	s[MDLPOOL_STAT_RESERVE_TAKEN] += mdlpool_peek(c->reserve_taken);
}

static void mdlpool_stats_print(struct seq_file *m, const unsigned long *s)
{
	int i;

	for (i = 0; i < MDLPOOL_NR_STATS; i++)
		seq_printf(m, " %s=%ld", mdlpool_stat_names[i], (long)s[i]);
	seq_putc(m, '\n');
}

static int mdlpool_stats_show(struct seq_file *m, void *unused)
{
	unsigned long total[MDLPOOL_NR_STATS] = {};
	unsigned long s[MDLPOOL_NR_STATS];
	struct mdlpool *pool = m->private;
	char tag[5];
	const struct mdlpool_layout *pref = &pool->layouts[MDLPOOL_PREFERRED];
	const struct mdlpool_layout *fallback = &pool->layouts[MDLPOOL_FALLBACK];
	unsigned int ctx;
	int cpu, i;

	for (i = 0; i < 4; i++) {
		char ch = pool->tag >> (8 * i);

		tag[i] = isgraph(ch) ? ch : '.';
	}
	tag[4] = '\0';
	seq_printf(m, "pool name=%s tag=%s buffer_size=%u block_size=%u blocks_per_page=%u slab_order=%u slab_bytes=%u fallback_order=%u fallback_blocks=%u checks=%d node=%d waits=%d reserve=%u reserve_slabs=%u reserve_target=%u\n",
		   pool->name, tag, pool->buffer_size, pool->block_size,
		   pool->blocks_per_page, pref->order,
		   mdlpool_layout_bytes(pref), fallback->order, fallback->blocks,
		   pool->checked, pool->nid,
		   gfpflags_allow_blocking(pool->gfp), pool->reserve_buffers,
		   /* A snapshot, as every figure here (rule 6). */
		   data_race(pool->reserve_nr), pool->reserve_target);

	for_each_possible_cpu(cpu) {
		memset(s, 0, sizeof(s));
		for (ctx = 0; ctx < MDLPOOL_NR_CTX; ctx++)
			mdlpool_stats_add(mdlpool_share(pool, cpu, ctx), s);
		for (i = 0; i < MDLPOOL_NR_STATS; i++)
			total[i] += s[i];
		seq_printf(m, "cpu=%d", cpu);
		mdlpool_stats_print(m, s);
	}
	/*
	 * Peaks add up over a CPU's two shares and over CPUs, as NT kept them
	 * per CPU: upper bounds.
	 */
	seq_puts(m, "total");
	mdlpool_stats_print(m, total);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mdlpool_stats);

static int mdlpool_summary_show(struct seq_file *m, void *unused)
{
	unsigned int pools = 0;
	struct mdlpool *pool;

	mutex_lock(&mdlpool_mutex);
	list_for_each_entry(pool, &mdlpool_list, node)
		pools++;
	mutex_unlock(&mdlpool_mutex);

	seq_printf(m, "pools=%u pages_held=%ld foreign_frees=%ld injected_failures=%ld max_buffer_size=%u page_size=%lu reserve_slabs=%ld shrinker_freed=%ld\n",
		   pools, atomic_long_read(&mdlpool_pages_total),
		   atomic_long_read(&mdlpool_foreign_frees),
		   atomic_long_read(&mdlpool_injected_failures),
		   mdlpool_max_buffer_size(), PAGE_SIZE,
		   atomic_long_read(&mdlpool_reserve_total),
		   atomic_long_read(&mdlpool_shrinker_freed));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mdlpool_summary);

static bool mdlpool_name_valid(const char *name)
{
	size_t len = strnlen(name, MDLPOOL_NAME_MAX + 1);

	return len && len <= MDLPOOL_NAME_MAX && !strchr(name, '/') &&
	       strcmp(name, ".") && strcmp(name, "..");
}

static struct mdlpool *mdlpool_find(const char *name)
{
	struct mdlpool *pool;

	lockdep_assert_held(&mdlpool_mutex);
	list_for_each_entry(pool, &mdlpool_list, node) {
		if (!strcmp(pool->name, name))
			return pool;
	}
	return NULL;
}

static void mdlpool_cpu_init(struct mdlpool *pool, int cpu, unsigned int ctx)
{
	struct mdlpool_cpu *c = mdlpool_share(pool, cpu, ctx);

	/*
	 * Two call sites, two lockdep classes: a softirq takes the BH share
	 * while the task it interrupted holds the task share.
	 */
	if (ctx == MDLPOOL_CTX_TASK)
		local_lock_init(&c->lock);
	else
		local_lock_init(&c->lock);
	c->pool = pool;
	c->cpu = cpu;
	c->ctx = ctx;
	INIT_LIST_HEAD(&c->pages);
	INIT_LIST_HEAD(&c->used_pages);
	init_llist_head(&c->orphans);
	INIT_WORK(&c->reclaim_work, mdlpool_reclaim_work);
	/* As in NT, the first allocation scavenges and sets the period. */
	c->next_scavenge = jiffies - 1;
}

/*
 * The preferred layout keeps within mdlpool_waste_bound() wherever an order
 * up to MDLPOOL_MAX_ORDER allows, which is every size from 256 bytes to
 * 16 KiB (see mdlpool_slab_order()); the fallback is the best of the orders
 * that are not costly, the same layout whenever the preferred order is one
 * of them.
 */
static void mdlpool_layouts_init(struct mdlpool *pool)
{
	unsigned int bs = pool->block_size, size = pool->buffer_size;

	mdlpool_layout_init(&pool->layouts[MDLPOOL_PREFERRED],
			    mdlpool_slab_order(bs, size, MDLPOOL_MAX_ORDER), bs);
	mdlpool_layout_init(&pool->layouts[MDLPOOL_FALLBACK],
			    mdlpool_slab_order(bs, size,
					       MDLPOOL_FALLBACK_MAX_ORDER), bs);
	pool->blocks_per_page = pool->layouts[MDLPOOL_PREFERRED].blocks;
}

/* The special-pool checks a creation asks for, or -EINVAL. */
static int mdlpool_params_checks(const struct mdlpool_params *p)
{
	switch (p->flags) {
	case 0:
		return READ_ONCE(debug_checks);
	case MDLPOOL_F_CHECKS:
		return 1;
	case MDLPOOL_F_NO_CHECKS:
		return 0;
	default:
		return -EINVAL;
	}
}

static bool mdlpool_params_valid(const struct mdlpool_params *p, bool checked)
{
	unsigned int max = mdlpool_max_buffer_size();

	if (checked)
		max -= MDLPOOL_REDZONE;
	if (!mdlpool_name_valid(p->name) || !p->buffer_size ||
	    p->buffer_size > max || (p->gfp & ~MDLPOOL_GFP_ALLOWED) ||
	    p->reserve > MDLPOOL_RESERVE_MAX)
		return false;
	if (p->node != NUMA_NO_NODE &&
	    (p->node < 0 || p->node >= MAX_NUMNODES ||
	     !node_state(p->node, N_MEMORY)))
		return false;
	if (!p->dev)
		return p->dir == DMA_NONE || p->dir == DMA_BIDIRECTIONAL;
	return p->dev->dma_mask && *p->dev->dma_mask &&
	       (p->dir == DMA_TO_DEVICE || p->dir == DMA_FROM_DEVICE ||
		p->dir == DMA_BIDIRECTIONAL);
}

static struct mdlpool *mdlpool_new(const struct mdlpool_params *p)
{
	/* Read once: the size check and the layout must agree. */
	int checked = mdlpool_params_checks(p);
	struct mdlpool *pool;
	unsigned int ctx;
	int cpu, err;

	might_sleep();
	if (checked < 0 || !mdlpool_params_valid(p, checked))
		return ERR_PTR(-EINVAL);

	pool = kzalloc(sizeof(*pool), GFP_KERNEL);
	if (!pool)
		return ERR_PTR(-ENOMEM);
	spin_lock_init(&pool->reserve_lock);
	INIT_LIST_HEAD(&pool->reserve);
	pool->pcpu = alloc_percpu(struct mdlpool_pcpu);
	if (!pool->pcpu) {
		err = -ENOMEM;
		goto err_free;
	}
	for_each_possible_cpu(cpu) {
		for (ctx = 0; ctx < MDLPOOL_NR_CTX; ctx++)
			mdlpool_cpu_init(pool, cpu, ctx);
	}

	strscpy(pool->name, p->name, sizeof(pool->name));
	pool->tag = p->tag;
	pool->buffer_size = p->buffer_size;
	pool->checked = checked;
	pool->gfp = p->gfp ?: MDLPOOL_DEFAULT_GFP;
	pool->nid = p->node;
	pool->block_size = mdlpool_block_size(p->buffer_size, pool->checked);
	mdlpool_layouts_init(pool);
	err = mdlpool_reserve_fill(pool, p->reserve);
	if (err)
		goto err_free;
	pool->dma_dev = get_device(p->dev);
	pool->dma_dir = p->dev ? p->dir : DMA_NONE;

	mutex_lock(&mdlpool_mutex);
	if (mdlpool_find(p->name)) {
		mutex_unlock(&mdlpool_mutex);
		err = -EEXIST;
		goto err_free;
	}
	err = cpuhp_state_add_instance_nocalls(mdlpool_cpuhp_state,
					       &pool->cpuhp_node);
	if (err) {
		mutex_unlock(&mdlpool_mutex);
		goto err_free;
	}
	pool->dir = debugfs_create_dir(p->name, mdlpool_debugfs);
	debugfs_create_file("stats", 0444, pool->dir, pool, &mdlpool_stats_fops);
	list_add_tail(&pool->node, &mdlpool_list);
	if (list_is_singular(&mdlpool_list))
		mod_delayed_work(system_wq, &mdlpool_idle_work,
				 mdlpool_idle_delay());
	mutex_unlock(&mdlpool_mutex);
	return pool;

err_free:
	mdlpool_reserve_free(pool);
	put_device(pool->dma_dev);
	free_percpu(pool->pcpu);
	kfree(pool);
	return ERR_PTR(err);
}

/**
 * mdlpool_create_params - create a pool, with every option
 * @params: what to create; see struct mdlpool_params
 *
 * The Linux form of creation, of which mdlpool_create() and
 * mdlpool_create_dma() are short forms.  No memory is taken for buffers
 * until the first allocation on each CPU.
 *
 * @params->gfp decides how refills wait.  With 0 (GFP_NOWAIT) they never
 * do: an allocation that finds no free block takes a slab only if the page
 * allocator has one at once, as for mdlpool_create().  With flags that allow
 * direct reclaim (GFP_KERNEL, GFP_NOIO, GFP_NOFS), an allocation from
 * process context that could sleep first tries without waiting, then leaves
 * its section and waits for a slab with these flags; everywhere else (in
 * softirq context, with bottom halves or preemption off, under a spinlock
 * or local_lock, PREEMPT_RT's included, in an RCU read-side section) it
 * tries without waiting only, with the same flags less direct reclaim.
 * Zone flags (__GFP_DMA, __GFP_DMA32) apply to
 * every slab; __GFP_HIGHMEM, __GFP_MOVABLE, __GFP_ZERO and __GFP_NOFAIL
 * are refused.
 *
 * @params->reserve keeps slabs back, from creation on, so that this many
 * allocations succeed when the page allocator has no page at all (at most
 * MDLPOOL_RESERVE_MAX).  An allocation takes a reserve slab when it finds no
 * page without waiting; slabs given back refill the reserve first.  Enough
 * are kept for the worst spread of the allocations over CPUs and contexts,
 * each of which takes whole slabs (see mdlpool_reserve_slabs()).
 *
 * @params->node puts every slab on one node, whichever CPU owns it; with
 * NUMA_NO_NODE each slab comes from the memory node of the CPU that takes
 * it.  With @params->dev the pool is device-bound, as with
 * mdlpool_create_dma().
 *
 * Context: process context; sleeps.
 * Return: the pool, or ERR_PTR(-EINVAL) for a bad name, size, flag, node,
 * device, direction or reserve, ERR_PTR(-EEXIST) if the name is taken,
 * ERR_PTR(-ENOMEM), also when the reserve cannot be filled.
 */
struct mdlpool *mdlpool_create_params(const struct mdlpool_params *params)
{
	return mdlpool_new(params);
}
EXPORT_SYMBOL_GPL(mdlpool_create_params);

/**
 * mdlpool_create - create a pool of buffers of one size
 * @name: unique name, at most MDLPOOL_NAME_MAX characters and no '/';
 *	the pool's statistics appear in /sys/kernel/debug/mdlpool/@name/
 * @buffer_size: bytes per buffer, 1 to mdlpool_max_buffer_size()
 * @tag: four characters identifying the pool's user (see MDLPOOL_TAG())
 *
 * NT's MdpCreatePool(): mdlpool_create_params() with refills that never
 * wait, slabs from the owner CPU's node, no device, and the special-pool
 * checks as the debug_checks parameter says.
 *
 * Context: process context; sleeps.
 * Return: the pool, or ERR_PTR(-EINVAL) for a bad name or size,
 * ERR_PTR(-EEXIST) if the name is taken, ERR_PTR(-ENOMEM).
 */
struct mdlpool *mdlpool_create(const char *name, unsigned int buffer_size,
			       u32 tag)
{
	struct mdlpool_params p = {
		.name = name, .buffer_size = buffer_size, .tag = tag,
		.node = NUMA_NO_NODE, .dir = DMA_NONE,
	};

	return mdlpool_new(&p);
}
EXPORT_SYMBOL_GPL(mdlpool_create);

/**
 * mdlpool_create_dma - create a pool whose buffers a device reads or writes
 * @name: as for mdlpool_create()
 * @buffer_size: as for mdlpool_create()
 * @tag: as for mdlpool_create()
 * @dev: the device; the pool holds a reference to it until destroyed
 * @dir: DMA_TO_DEVICE, DMA_FROM_DEVICE or DMA_BIDIRECTIONAL
 *
 * Like mdlpool_create(), and each slab is mapped for @dev once, when the
 * pool takes it, and unmapped when it goes back.  Every descriptor comes
 * with sg_dma_address() and sg_dma_len() set for its buffer; the caller
 * syncs a buffer with mdlpool_dma_sync_for_device() before the device uses
 * it and with mdlpool_dma_sync_for_cpu() before the CPU reads what the
 * device wrote.  A slab that cannot be mapped is an allocation failure,
 * counted in dma_map_failures.  Each slab stays mapped whole while the pool
 * holds it: under swiotlb it pins up to its size of bounce space, and
 * running out of that space is such a mapping failure.
 *
 * Context: process context; sleeps.
 * Return: as mdlpool_create(); ERR_PTR(-EINVAL) also for a bad direction or
 * a device that cannot do DMA.
 */
struct mdlpool *mdlpool_create_dma(const char *name, unsigned int buffer_size,
				   u32 tag, struct device *dev,
				   enum dma_data_direction dir)
{
	struct mdlpool_params p = {
		.name = name, .buffer_size = buffer_size, .tag = tag,
		.node = NUMA_NO_NODE, .dev = dev, .dir = dir,
	};

	if (!dev)
		return ERR_PTR(-EINVAL);
	return mdlpool_new(&p);
}
EXPORT_SYMBOL_GPL(mdlpool_create_dma);

/* The device-bound pool's slab a descriptor belongs to, or NULL. */
static struct mdlpool_page *mdlpool_dma_page_of(const struct scatterlist *sg)
{
	struct mdlpool_page *pg = mdlpool_page_of(sg);

	if (WARN_ON_ONCE(!pg || !pg->owner->pool->dma_dev))
		return NULL;
	return pg;
}

/**
 * mdlpool_dma_sync_for_device - hand a buffer's bytes to the device
 * @sg: a descriptor of a device-bound pool, out to the caller
 *
 * Makes the first @sg->length bytes of the buffer, as the CPU wrote them,
 * visible to the device (for DMA_TO_DEVICE and DMA_BIDIRECTIONAL pools),
 * and for DMA_FROM_DEVICE pools gives the device the buffer to write.
 *
 * Context: any context the DMA API allows for syncs (no sleeping).
 */
void mdlpool_dma_sync_for_device(const struct scatterlist *sg)
{
	struct mdlpool_page *pg = mdlpool_dma_page_of(sg);
	struct mdlpool *pool;

	if (!pg || !pg->dma_sync)
		return;
	pool = pg->owner->pool;
	dma_sync_single_range_for_device(pool->dma_dev, pg->dma,
					 sg_dma_address(sg) - pg->dma,
					 sg->length, pool->dma_dir);
}
EXPORT_SYMBOL_GPL(mdlpool_dma_sync_for_device);

/**
 * mdlpool_dma_sync_for_cpu - give a buffer's bytes back to the CPU
 * @sg: a descriptor of a device-bound pool, out to the caller
 *
 * Makes the first @sg->length bytes of the buffer, as the device wrote
 * them, visible to the CPU.  Bytes in that range the device did not write
 * are undefined afterwards: under swiotlb they are copied from the bounce
 * buffer, which holds what an earlier transfer left there.  Set @sg->length
 * to what the device wrote first.
 *
 * Context: any context the DMA API allows for syncs (no sleeping).
 */
void mdlpool_dma_sync_for_cpu(const struct scatterlist *sg)
{
	struct mdlpool_page *pg = mdlpool_dma_page_of(sg);
	struct mdlpool *pool;

	if (!pg || !pg->dma_sync)
		return;
	pool = pg->owner->pool;
	dma_sync_single_range_for_cpu(pool->dma_dev, pg->dma,
				      sg_dma_address(sg) - pg->dma,
				      sg->length, pool->dma_dir);
}
EXPORT_SYMBOL_GPL(mdlpool_dma_sync_for_cpu);

static long mdlpool_in_use(struct mdlpool *pool)
{
	struct mdlpool_cpu *c;
	long out = 0;

	for_each_mdlpool_share(c, pool)
		out += mdlpool_cpu_in_use(c);
	return out;
}

/* Rule 10: before a destroy gives back the slabs of @c. */
static void mdlpool_cpu_forget_hot(struct mdlpool_cpu *c)
{
	struct mdlpool_page *pg;

	list_for_each_entry(pg, &c->pages, link)
		mdlpool_hot_forget(c, pg);
	list_for_each_entry(pg, &c->used_pages, link)
		mdlpool_hot_forget(c, pg);
}

static void mdlpool_cpu_drain(struct mdlpool_cpu *c)
{
	struct mdlpool_page *pg, *tmp;

	list_splice_init(&c->used_pages, &c->pages);
	list_for_each_entry_safe(pg, tmp, &c->pages, link) {
		WARN_ONCE(mdlpool_page_in_use(pg),
			  "%s: cpu %u page %p still has %u blocks out\n",
			  c->pool->name, c->cpu, pg, mdlpool_page_in_use(pg));
		pg->on_used = false;
		mdlpool_page_release(c, pg, MDLPOOL_RECLAIM_DESTROY);
	}
	c->nr_used_pages = 0;
	WARN_ONCE(c->pages_alloc != c->pages_freed,
		  "%s: cpu %u allocated %lu pages but freed %lu\n",
		  c->pool->name, c->cpu, c->pages_alloc, c->pages_freed);
}

/**
 * mdlpool_destroy - destroy a pool and give its pages back
 * @pool: the pool, or NULL
 *
 * NT's MdpDestroyPool().  NT only asserts that no buffer is out; freeing
 * pages under live buffers would corrupt memory, so a pool with buffers out
 * is left intact and the call fails with a warning.
 *
 * Context: process context; sleeps.  No allocation from or free to the pool
 * may run concurrently (context rule 1).
 * Return: 0, or -EBUSY if buffers are still out.
 */
int mdlpool_destroy(struct mdlpool *pool)
{
	struct mdlpool_cpu *c;
	long out;

	might_sleep();
	if (!pool)
		return 0;

	mutex_lock(&mdlpool_mutex);
	out = mdlpool_in_use(pool);
	if (out) {
		mutex_unlock(&mdlpool_mutex);
		WARN_ONCE(1, "%s: not destroyed: %ld buffers still out\n",
			  pool->name, out);
		pr_err_ratelimited("%s: not destroyed: %ld buffers still out\n",
				   pool->name, out);
		return -EBUSY;
	}
	list_del(&pool->node);
	debugfs_remove_recursive(pool->dir);
	cpuhp_state_remove_instance_nocalls(mdlpool_cpuhp_state,
					    &pool->cpuhp_node);
	mutex_unlock(&mdlpool_mutex);

	for_each_mdlpool_share(c, pool) {
		/* Off the list, so no new reclaim work; wait out the last. */
		cancel_work_sync(&c->reclaim_work);
		mdlpool_cpu_forget_hot(c);
	}
	/* Rule 10: frees of other pools' buffers may still look at them. */
	if (!IS_ENABLED(CONFIG_PREEMPT_RT))
		synchronize_rcu();
	for_each_mdlpool_share(c, pool)
		mdlpool_cpu_drain(c);
	mdlpool_reserve_free(pool);
	put_device(pool->dma_dev);
	free_percpu(pool->pcpu);
	kfree(pool);
	return 0;
}
EXPORT_SYMBOL_GPL(mdlpool_destroy);

static bool mdlpool_cpu_holds_pages(struct mdlpool_cpu *c)
{
	return mdlpool_peek(c->pages_alloc) != mdlpool_peek(c->pages_freed);
}

static unsigned long mdlpool_offline_delay(void)
{
	return msecs_to_jiffies(max(READ_ONCE(scavenge_period_ms), 10U));
}

/*
 * A dead CPU will not reuse its pages, so they go back as soon as they are
 * free, without waiting out the minimum lifetime.  Pages that still have
 * buffers out are picked up by mdlpool_offline_reclaim() once other CPUs
 * have freed them.
 */
static int mdlpool_cpu_dead(unsigned int cpu, struct hlist_node *node)
{
	struct mdlpool *pool = hlist_entry(node, struct mdlpool, cpuhp_node);
	bool pending = false;
	unsigned int ctx;

	WRITE_ONCE(mdlpool_offline_owner, current);
	for (ctx = 0; ctx < MDLPOOL_NR_CTX; ctx++) {
		struct mdlpool_cpu *c = mdlpool_share(pool, cpu, ctx);

		mdlpool_cpu_reclaim(c, 0, MDLPOOL_RECLAIM_OFFLINE);
		pending |= mdlpool_cpu_holds_pages(c);
	}
	WRITE_ONCE(mdlpool_offline_owner, NULL);
	if (pending)
		mod_delayed_work(system_wq, &mdlpool_offline_work,
				 mdlpool_offline_delay());
	return 0;
}

static void mdlpool_offline_reclaim(struct work_struct *work)
{
	bool pending = false;
	struct mdlpool_cpu *c;
	struct mdlpool *pool;

	mutex_lock(&mdlpool_mutex);
	/* Rule 7: no CPU can come online, and so own its pages, meanwhile. */
	cpus_read_lock();
	WRITE_ONCE(mdlpool_offline_owner, current);
	list_for_each_entry(pool, &mdlpool_list, node) {
		for_each_mdlpool_share(c, pool) {
			if (cpu_online(c->cpu) || !mdlpool_cpu_holds_pages(c))
				continue;
			mdlpool_cpu_reclaim(c, 0, MDLPOOL_RECLAIM_OFFLINE);
			pending |= mdlpool_cpu_holds_pages(c);
		}
	}
	WRITE_ONCE(mdlpool_offline_owner, NULL);
	cpus_read_unlock();
	mutex_unlock(&mdlpool_mutex);
	if (pending)
		schedule_delayed_work(&mdlpool_offline_work,
				      mdlpool_offline_delay());
}

/* ---- idle pools and memory pressure (rule 8) ---- */

/*
 * Half the lifetime: a page that turns idle just after a pass is old enough
 * at the pass after next, within 1.5 lifetimes.
 */
static unsigned long mdlpool_idle_delay(void)
{
	return msecs_to_jiffies(max(READ_ONCE(min_page_lifetime_ms) / 2, 10U));
}

static void mdlpool_reclaim_work(struct work_struct *work)
{
	struct mdlpool_cpu *c = container_of(work, struct mdlpool_cpu,
					     reclaim_work);
	struct mdlpool_cpu *here = mdlpool_enter_ctx(c->pool, c->ctx);

	/*
	 * The work was queued on c's CPU; if that CPU went offline since, it
	 * ran elsewhere, and the hotplug path owns c's pages (rule 7).
	 */
	if (c != here) {
		/* Not for the next idle pass once the CPU is back. */
		WRITE_ONCE(c->reclaim_all, 0);
	} else {
		unsigned long lifetime;

		if (xchg(&c->reclaim_all, 0)) {
			atomic_long_add(mdlpool_cpu_reclaim(c, 0, MDLPOOL_RECLAIM_SHRINK),
					&mdlpool_shrunk);
		} else {
			lifetime = msecs_to_jiffies(READ_ONCE(min_page_lifetime_ms));
			mdlpool_cpu_reclaim(c, lifetime, MDLPOOL_RECLAIM_IDLE);
		}
	}
	mdlpool_leave_ctx(here, c->ctx);
}

/*
 * Queue reclaim on every online CPU that holds pages of some pool.
 *
 * The shrinker calls this, so it must not take the CPU hotplug lock: CPU
 * bring-up allocates under that lock, and a bring-up that entered reclaim
 * would wait for us while we waited for it.  Without the lock a CPU may go
 * offline between the cpu_online() test and the queueing.  Its work then
 * runs on another CPU, where mdlpool_reclaim_work() sees that it is not on
 * the owner and does nothing; the hotplug "dead" callback gives back that
 * CPU's free pages itself (rule 7).  A CPU that comes online after the test
 * is left for the next pass, as if it had come up after us.
 */
static void mdlpool_queue_reclaim(bool all)
{
	struct mdlpool_cpu *c;
	struct mdlpool *pool;

	lockdep_assert_held(&mdlpool_mutex);
	list_for_each_entry(pool, &mdlpool_list, node) {
		for_each_mdlpool_share(c, pool) {
			if (!cpu_online(c->cpu) || !mdlpool_cpu_holds_pages(c))
				continue;
			if (all)
				WRITE_ONCE(c->reclaim_all, 1);
			queue_work_on(c->cpu, mdlpool_wq, &c->reclaim_work);
		}
	}
}

static void mdlpool_idle_tick(struct work_struct *work)
{
	bool any;

	mutex_lock(&mdlpool_mutex);
	mdlpool_queue_reclaim(false);
	any = !list_empty(&mdlpool_list);
	mutex_unlock(&mdlpool_mutex);
	if (any)
		queue_delayed_work(system_wq, &mdlpool_idle_work,
				   mdlpool_idle_delay());
}

/* Pages held that have no buffer out, by the counters: an estimate. */
static unsigned long mdlpool_shrink_count(struct shrinker *s,
					  struct shrink_control *sc)
{
	unsigned long spare = 0;
	struct mdlpool_cpu *c;
	struct mdlpool *pool;

	/* Never wait here: the pool's own mutex holders may allocate. */
	if (!mutex_trylock(&mdlpool_mutex))
		return 0;
	list_for_each_entry(pool, &mdlpool_list, node) {
		for_each_mdlpool_share(c, pool) {
			long held = mdlpool_peek(c->pages_alloc) -
				    mdlpool_peek(c->pages_freed);
			long busy = DIV_ROUND_UP(max_t(long, 0L, mdlpool_cpu_in_use(c)),
						 pool->blocks_per_page);

			spare += max(0L, held - busy);
		}
	}
	mutex_unlock(&mdlpool_mutex);
	return spare;
}

/*
 * Every free page goes back, however young, each on its own CPU, and what
 * went back is reported to reclaim.  Waiting for the works is safe here:
 * they run on mdlpool_wq, which has a rescuer and runs nothing else, and
 * they take no lock but their CPU's section, inside which nothing
 * allocates with reclaim.  mdlpool_mutex, held throughout, keeps the pools
 * alive and makes this the only pass counting in mdlpool_shrunk.
 */
static unsigned long mdlpool_shrink_scan(struct shrinker *s,
					 struct shrink_control *sc)
{
	unsigned long freed;
	struct mdlpool_cpu *c;
	struct mdlpool *pool;

	/* Never wait for it: its holders may allocate. */
	if (!mutex_trylock(&mdlpool_mutex))
		return SHRINK_STOP;
	atomic_long_set(&mdlpool_shrunk, 0);
	mdlpool_queue_reclaim(true);
	list_for_each_entry(pool, &mdlpool_list, node) {
		for_each_mdlpool_share(c, pool)
			flush_work(&c->reclaim_work);
	}
	freed = atomic_long_xchg(&mdlpool_shrunk, 0);
	atomic_long_add(freed, &mdlpool_shrinker_freed);
	mutex_unlock(&mdlpool_mutex);
	return freed ?: SHRINK_STOP;
}

static struct shrinker *mdlpool_shrinker;

static int mdlpool_fail_next_get(void *data, u64 *val)
{
	*val = atomic_read(&mdlpool_fail_next_pages);
	return 0;
}

/*
 * A count, so 0 to INT_MAX: a negative one would never run down to zero
 * and would fail every page allocation from then on.
 */
static int mdlpool_fail_next_set(void *data, u64 val)
{
	if (val > INT_MAX)
		return -EINVAL;
	atomic_set(&mdlpool_fail_next_pages, val);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(mdlpool_fail_next_fops, mdlpool_fail_next_get,
			 mdlpool_fail_next_set, "%llu\n");

static int __init mdlpool_init(void)
{
	int state, err = -ENOMEM;

	mdlpool_cookie = get_random_long();
	state = cpuhp_setup_state_multi(CPUHP_BP_PREPARE_DYN, "mdlpool:dead",
					NULL, mdlpool_cpu_dead);
	if (state < 0)
		return state;
	mdlpool_cpuhp_state = state;

	mdlpool_wq = alloc_workqueue("mdlpool", WQ_MEM_RECLAIM, 0);
	if (!mdlpool_wq)
		goto err_cpuhp;
	mdlpool_shrinker = mdlpool_shrinker_alloc("mdlpool", mdlpool_shrink_count,
						  mdlpool_shrink_scan);
	if (!mdlpool_shrinker)
		goto err_wq;

	mdlpool_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("summary", 0444, mdlpool_debugfs, NULL,
			    &mdlpool_summary_fops);
	debugfs_create_file_unsafe("fail_next_pages", 0600, mdlpool_debugfs,
				   NULL, &mdlpool_fail_next_fops);
	mdlpool_fault_attr_init();
	return 0;

err_wq:
	destroy_workqueue(mdlpool_wq);
err_cpuhp:
	cpuhp_remove_multi_state(mdlpool_cpuhp_state);
	return err;
}

static void __exit mdlpool_exit(void)
{
	/* Every user holds a module reference for as long as it has pools. */
	WARN_ON(!list_empty(&mdlpool_list));
	mdlpool_fault_attr_exit();
	debugfs_remove_recursive(mdlpool_debugfs);
	mdlpool_shrinker_free(mdlpool_shrinker);
	cancel_delayed_work_sync(&mdlpool_idle_work);
	cancel_delayed_work_sync(&mdlpool_offline_work);
	destroy_workqueue(mdlpool_wq);
	cpuhp_remove_multi_state(mdlpool_cpuhp_state);
}

module_init(mdlpool_init);
module_exit(mdlpool_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The mdlpool developers");
MODULE_VERSION(MDLPOOL_VERSION);
MODULE_DESCRIPTION("Per-CPU pools of scatterlist-described buffers, after the NT MDL pool");
