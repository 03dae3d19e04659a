// SPDX-License-Identifier: GPL-2.0
/*
 * Giving blocks and slabs back: scavenges (NT's, timed or forced by the
 * used list, and mdlpool_scavenge()), the idle return of rule 8, the
 * shrinker, and the slabs of CPUs that went offline (rule 7).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/export.h>
#include <linux/jiffies.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/shrinker.h>
#include <linux/workqueue.h>

#include "mdlpool.h"
#include "mdlpool_compat.h"
#include "mdlpool_internal.h"
#include "mdlpool_trace.h"

/*
 * The tunables change through sysfs while pools run: each is read with
 * READ_ONCE(), once per decision, so a decision sees one whole value.
 */
unsigned int mdlpool_scavenge_period_ms = 30000;
module_param_named(scavenge_period_ms, mdlpool_scavenge_period_ms, uint, 0644);
MODULE_PARM_DESC(scavenge_period_ms,
		 "Milliseconds between timed scavenges of a CPU's pool (NT: 30 s)");

unsigned int mdlpool_min_page_lifetime_ms = 20000;
module_param_named(min_page_lifetime_ms, mdlpool_min_page_lifetime_ms, uint, 0644);
MODULE_PARM_DESC(min_page_lifetime_ms,
		 "Milliseconds a page must have been completely free before a scavenge returns it (NT: 20 s)");

unsigned int mdlpool_used_pages_threshold = 64;
module_param_named(used_pages_threshold, mdlpool_used_pages_threshold, uint, 0644);
MODULE_PARM_DESC(used_pages_threshold,
		 "Used-list length that forces a scavenge after a missed page move (NT: 64)");

enum cpuhp_state mdlpool_cpuhp_state;

/*
 * Rule 7: the one task acting as owner of offline CPUs' shares, either the
 * hotplug callback or the reclaim work, which the hotplug lock serialises.
 * Kept only to be asserted: the hotplug lock itself is not visible to
 * modules.  That task writes it; assertions on any CPU read it.
 */
struct task_struct *mdlpool_offline_owner;

static void mdlpool_offline_reclaim(struct work_struct *work);
static DECLARE_DELAYED_WORK(mdlpool_offline_work, mdlpool_offline_reclaim);
static void mdlpool_idle_tick(struct work_struct *work);
static unsigned long mdlpool_idle_delay(void);
static DECLARE_DELAYED_WORK(mdlpool_idle_work, mdlpool_idle_tick);

/*
 * The reclaim works and nothing else: they run when memory is short, so the
 * queue has a rescuer, and the shrinker waits for them, so no work on it
 * may take a lock the shrinker holds (the idle tick runs on system_wq).
 */
static struct workqueue_struct *mdlpool_wq;

/* Slabs the reclaim works gave back for the shrinker's pass under way. */
static atomic_long_t mdlpool_shrunk = ATOMIC_LONG_INIT(0);

/* Slabs every shrinker pass so far told reclaim it freed. */
atomic_long_t mdlpool_shrinker_freed = ATOMIC_LONG_INIT(0);

/* ---- scavenges ---- */

/*
 * Put the used slabs that remote frees queued back on the slab list, and
 * return how many went there: the missed moves are made up.
 *
 * The share's missed_move flag is cleared before the orphans are taken: a
 * remote free that queues a slab after we took them sets it again after
 * it, so no missed move is forgotten.  Each slab's orphaned flag is
 * cleared before its free list is looked at, with a full barrier between:
 * a remote free whose xchg still found the flag set had pushed its block
 * before, so we see the block; one that finds it clear queues the slab
 * again.  That may happen as soon as the flag is clear and rewrites the
 * slab's link, hence the _safe walk, which reads the link first.
 */
unsigned long mdlpool_adopt_orphans(struct mdlpool_share *c)
{
	struct llist_node *orphans;
	struct mdlpool_slab *slab, *tmp;
	unsigned long restored = 0;

	mdlpool_assert_owner(c);
	WRITE_ONCE(c->missed_move, false);
	/* Fully ordered: after the clear of missed_move. */
	orphans = llist_del_all(&c->orphans);
	llist_for_each_entry_safe(slab, tmp, orphans, orphan_node) {
		/* Pairs with the xchg in mdlpool_free_remote(). */
		smp_store_mb(slab->orphaned, 0);
		if (!slab->on_used)
			continue;
		if (!llist_empty(&slab->free)) {
			mdlpool_slab_restore(c, slab);
			restored++;
		} else if (!mdlpool_slab_in_use(slab)) {
			mdlpool_slab_release_dead(c, slab);
		}
	}
	return restored;
}

/*
 * Put used slabs with free blocks back on the slab list, then give back
 * the slabs completely free for @lifetime jiffies.  Returns how many went
 * back to the page allocator: the reserve may keep some, and reclaim must
 * not be told those were freed.
 */
static unsigned long mdlpool_scavenge_share(struct mdlpool_share *c,
					    unsigned long lifetime,
					    enum mdlpool_reclaim why)
{
	unsigned long now = jiffies, recovered, released = 0, freed = 0;
	struct mdlpool_slab *slab, *tmp;

	recovered = mdlpool_adopt_orphans(c);
	list_for_each_entry_safe(slab, tmp, &c->slabs, link) {
		if (mdlpool_slab_idle(slab, now, lifetime)) {
			freed += mdlpool_slab_release(c, slab, why);
			released++;
		}
	}
	c->scavenges++;
	trace_mdlpool_scavenge(c, why, recovered, released);
	return freed;
}

/* NT's scavenge: slabs free for the minimum lifetime; the next period starts. */
void mdlpool_scavenge_timed(struct mdlpool_share *c, enum mdlpool_reclaim why)
{
	unsigned int lifetime_ms = READ_ONCE(mdlpool_min_page_lifetime_ms);

	c->next_scavenge = jiffies +
			   msecs_to_jiffies(READ_ONCE(mdlpool_scavenge_period_ms));
	mdlpool_scavenge_share(c, msecs_to_jiffies(lifetime_ms), why);
}

/* The threshold's scavenge: the orphans only (see mdlpool_scavenge_due()). */
void mdlpool_scavenge_orphans(struct mdlpool_share *c)
{
	trace_mdlpool_scavenge(c, MDLPOOL_RECLAIM_THRESHOLD,
			       mdlpool_adopt_orphans(c), 0);
	c->scavenges++;
}

/**
 * mdlpool_scavenge - scavenge the current CPU's shares of a pool now
 * @pool: the pool
 *
 * Runs the scavenge that allocations and frees otherwise run when it is
 * due: slabs completely free for at least min_page_lifetime_ms go back to
 * the page allocator and used slabs with free blocks return to the slab
 * list.  Only the calling CPU's slabs are touched: from process context
 * those of both its shares, from softirq context (or with bottom halves
 * off) those of the softirq share; on PREEMPT_RT, where every caller uses
 * the task share, that share from any context.
 *
 * Context: process or softirq context.
 */
void mdlpool_scavenge(struct mdlpool *pool)
{
	struct mdlpool_share *c;
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
			mdlpool_scavenge_timed(c, MDLPOOL_RECLAIM_CALL);
		mdlpool_leave_ctx(c, ctx);
	}
}
EXPORT_SYMBOL_GPL(mdlpool_scavenge);

/* ---- CPUs going offline (rule 7) ---- */

static bool mdlpool_share_holds_slabs(struct mdlpool_share *c)
{
	return mdlpool_peek(c->pages_alloc) != mdlpool_peek(c->pages_freed);
}

static unsigned long mdlpool_offline_delay(void)
{
	return msecs_to_jiffies(max(READ_ONCE(mdlpool_scavenge_period_ms), 10U));
}

/*
 * A dead CPU will not reuse its slabs, so they go back as soon as they are
 * free, without waiting out the minimum lifetime.  Slabs that still have
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
		struct mdlpool_share *c = mdlpool_share(pool, cpu, ctx);

		mdlpool_scavenge_share(c, 0, MDLPOOL_RECLAIM_OFFLINE);
		pending |= mdlpool_share_holds_slabs(c);
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
	struct mdlpool_share *c;
	struct mdlpool *pool;

	mutex_lock(&mdlpool_mutex);
	/* Rule 7: no CPU can come online, and so own its slabs, meanwhile. */
	cpus_read_lock();
	WRITE_ONCE(mdlpool_offline_owner, current);
	list_for_each_entry(pool, &mdlpool_list, node) {
		for_each_mdlpool_share(c, pool) {
			if (cpu_online(c->cpu) || !mdlpool_share_holds_slabs(c))
				continue;
			mdlpool_scavenge_share(c, 0, MDLPOOL_RECLAIM_OFFLINE);
			pending |= mdlpool_share_holds_slabs(c);
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
 * Half the lifetime: a slab that turns idle just after a pass is old enough
 * at the pass after next, within 1.5 lifetimes.
 */
static unsigned long mdlpool_idle_delay(void)
{
	return msecs_to_jiffies(max(READ_ONCE(mdlpool_min_page_lifetime_ms) / 2, 10U));
}

void mdlpool_reclaim_work(struct work_struct *work)
{
	struct mdlpool_share *c = container_of(work, struct mdlpool_share,
					     reclaim_work);
	struct mdlpool_share *here = mdlpool_enter_ctx(c->pool, c->ctx);

	/*
	 * The work was queued on c's CPU; if that CPU went offline since, it
	 * ran elsewhere, and the hotplug path owns c's slabs (rule 7).
	 */
	if (c != here) {
		/* Not for the next idle pass once the CPU is back. */
		WRITE_ONCE(c->reclaim_all, 0);
	} else {
		unsigned long lifetime;

		if (xchg(&c->reclaim_all, 0)) {
			atomic_long_add(mdlpool_scavenge_share(c, 0, MDLPOOL_RECLAIM_SHRINK),
					&mdlpool_shrunk);
		} else {
			lifetime = msecs_to_jiffies(READ_ONCE(mdlpool_min_page_lifetime_ms));
			mdlpool_scavenge_share(c, lifetime, MDLPOOL_RECLAIM_IDLE);
		}
	}
	mdlpool_leave_ctx(here, c->ctx);
}

/*
 * Queue reclaim on every online CPU that holds slabs of some pool.
 *
 * The shrinker calls this, so it must not take the CPU hotplug lock: CPU
 * bring-up allocates under that lock, and a bring-up that entered reclaim
 * would wait for us while we waited for it.  Without the lock a CPU may go
 * offline between the cpu_online() test and the queueing.  Its work then
 * runs on another CPU, where mdlpool_reclaim_work() sees that it is not on
 * the owner and does nothing; the hotplug "dead" callback gives back that
 * CPU's free slabs itself (rule 7).  A CPU that comes online after the test
 * is left for the next pass, as if it had come up after us.
 */
static void mdlpool_queue_reclaim(bool all)
{
	struct mdlpool_share *c;
	struct mdlpool *pool;

	lockdep_assert_held(&mdlpool_mutex);
	list_for_each_entry(pool, &mdlpool_list, node) {
		for_each_mdlpool_share(c, pool) {
			if (!cpu_online(c->cpu) || !mdlpool_share_holds_slabs(c))
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

/* Slabs held that have no buffer out, by the counters: an estimate. */
static unsigned long mdlpool_shrink_count(struct shrinker *s,
					  struct shrink_control *sc)
{
	unsigned long spare = 0;
	struct mdlpool_share *c;
	struct mdlpool *pool;

	/* Never wait here: the pool's own mutex holders may allocate. */
	if (!mutex_trylock(&mdlpool_mutex))
		return 0;
	list_for_each_entry(pool, &mdlpool_list, node) {
		for_each_mdlpool_share(c, pool) {
			long held = mdlpool_peek(c->pages_alloc) -
				    mdlpool_peek(c->pages_freed);
			long busy = DIV_ROUND_UP(max_t(long, 0L, mdlpool_share_in_use(c)),
						 pool->blocks_per_page);

			spare += max(0L, held - busy);
		}
	}
	mutex_unlock(&mdlpool_mutex);
	return spare;
}

/*
 * Every free slab goes back, however young, each on its own CPU, and what
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
	struct mdlpool_share *c;
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

/* The first pool starts the idle passes; they stop when no pool is left. */
void mdlpool_idle_start(void)
{
	mod_delayed_work(system_wq, &mdlpool_idle_work, mdlpool_idle_delay());
}

int mdlpool_reclaim_init(void)
{
	int state;

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
	return 0;

err_wq:
	destroy_workqueue(mdlpool_wq);
err_cpuhp:
	cpuhp_remove_multi_state(mdlpool_cpuhp_state);
	return -ENOMEM;
}

void mdlpool_reclaim_exit(void)
{
	mdlpool_shrinker_free(mdlpool_shrinker);
	cancel_delayed_work_sync(&mdlpool_idle_work);
	cancel_delayed_work_sync(&mdlpool_offline_work);
	destroy_workqueue(mdlpool_wq);
	cpuhp_remove_multi_state(mdlpool_cpuhp_state);
}
