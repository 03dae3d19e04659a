// SPDX-License-Identifier: GPL-2.0
/*
 * Creating and destroying pools, and the module's own start and end.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/cpuhotplug.h>
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/export.h>
#include <linux/gfp.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/numa.h>
#include <linux/random.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "mdlpool.h"
#include "mdlpool_internal.h"
#include "mdlpool_trace.h"

static bool debug_checks;
module_param(debug_checks, bool, 0644);
MODULE_PARM_DESC(debug_checks,
		 "Default of the per-pool check flag: pools created while set (and without MDLPOOL_F_NO_CHECKS) guard each buffer with a redzone and poison freed buffers (NT special pool style)");

/*
 * Slab refills inside the section cannot sleep; but they need not take the
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

/* Guards mdlpool_list.  Taken before the CPU hotplug lock, never after. */
DEFINE_MUTEX(mdlpool_mutex);
/* Every pool, for debugfs, the idle passes, the shrinker and hotplug. */
LIST_HEAD(mdlpool_list);

/*
 * page_private() of a pool slab holds its address mixed with this secret,
 * so a free can tell a pool slab from any other page by looking only at its
 * struct page, before it reads a byte of the slab itself.
 */
unsigned long mdlpool_cookie __read_mostly;

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
 * slabs) after its header and one block header, in whole cache lines, so
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

static struct lock_class_key mdlpool_share_class[MDLPOOL_NR_CTX];

static void mdlpool_share_init(struct mdlpool *pool, int cpu, unsigned int ctx)
{
	struct mdlpool_share *c = mdlpool_share(pool, cpu, ctx);

	local_lock_init(&c->lock);
	/*
	 * A lockdep class per context: a softirq takes the softirq share
	 * while the task it interrupted holds the task share.
	 */
	lockdep_set_class(&c->lock, &mdlpool_share_class[ctx]);
	c->pool = pool;
	c->cpu = cpu;
	c->ctx = ctx;
	INIT_LIST_HEAD(&c->slabs);
	INIT_LIST_HEAD(&c->used_slabs);
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
			mdlpool_share_init(pool, cpu, ctx);
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
	mdlpool_debugfs_add(pool);
	list_add_tail(&pool->node, &mdlpool_list);
	if (list_is_singular(&mdlpool_list))
		mdlpool_idle_start();
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
 * allocations succeed when the page allocator has no slab at all (at most
 * MDLPOOL_RESERVE_MAX).  An allocation takes a reserve slab when it finds no
 * slab without waiting; slabs given back refill the reserve first.  Enough
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

static long mdlpool_in_use(struct mdlpool *pool)
{
	struct mdlpool_share *c;
	long out = 0;

	for_each_mdlpool_share(c, pool)
		out += mdlpool_share_in_use(c);
	return out;
}

/* Rule 10: before a destroy gives back the slabs of @c. */
static void mdlpool_share_forget_hot(struct mdlpool_share *c)
{
	struct mdlpool_slab *slab;

	list_for_each_entry(slab, &c->slabs, link)
		mdlpool_hot_forget(c, slab);
	list_for_each_entry(slab, &c->used_slabs, link)
		mdlpool_hot_forget(c, slab);
}

static void mdlpool_share_drain(struct mdlpool_share *c)
{
	struct mdlpool_slab *slab, *tmp;

	list_splice_init(&c->used_slabs, &c->slabs);
	list_for_each_entry_safe(slab, tmp, &c->slabs, link) {
		WARN_ONCE(mdlpool_slab_in_use(slab),
			  "%s: cpu %u slab %p still has %u blocks out\n",
			  c->pool->name, c->cpu, slab, mdlpool_slab_in_use(slab));
		slab->on_used = false;
		mdlpool_slab_release(c, slab, MDLPOOL_RECLAIM_DESTROY);
	}
	c->nr_used_slabs = 0;
	WARN_ONCE(c->pages_alloc != c->pages_freed,
		  "%s: cpu %u allocated %lu slabs but freed %lu\n",
		  c->pool->name, c->cpu, c->pages_alloc, c->pages_freed);
}

/**
 * mdlpool_destroy - destroy a pool and give its slabs back
 * @pool: the pool, or NULL
 *
 * NT's MdpDestroyPool().  NT only asserts that no buffer is out; freeing
 * slabs under live buffers would corrupt memory, so a pool with buffers out
 * is left intact and the call fails with a warning.
 *
 * Context: process context; sleeps.  No allocation from or free to the pool
 * may run concurrently (context rule 1).
 * Return: 0, or -EBUSY if buffers are still out.
 */
int mdlpool_destroy(struct mdlpool *pool)
{
	struct mdlpool_share *c;
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
	mdlpool_debugfs_remove(pool);
	cpuhp_state_remove_instance_nocalls(mdlpool_cpuhp_state,
					    &pool->cpuhp_node);
	mutex_unlock(&mdlpool_mutex);

	for_each_mdlpool_share(c, pool) {
		/* Off the list, so no new reclaim work; wait out the last. */
		cancel_work_sync(&c->reclaim_work);
		mdlpool_share_forget_hot(c);
	}
	/* Rule 10: frees of other pools' buffers may still look at them. */
	if (!IS_ENABLED(CONFIG_PREEMPT_RT))
		synchronize_rcu();
	for_each_mdlpool_share(c, pool)
		mdlpool_share_drain(c);
	mdlpool_reserve_free(pool);
	put_device(pool->dma_dev);
	free_percpu(pool->pcpu);
	kfree(pool);
	return 0;
}
EXPORT_SYMBOL_GPL(mdlpool_destroy);

static int __init mdlpool_init(void)
{
	int err;

	mdlpool_cookie = get_random_long();
	err = mdlpool_reclaim_init();
	if (err)
		return err;
	mdlpool_fault_init(mdlpool_debugfs_init());
	return 0;
}

static void __exit mdlpool_exit(void)
{
	/* Every user holds a module reference for as long as it has pools. */
	WARN_ON(!list_empty(&mdlpool_list));
	mdlpool_fault_exit();
	mdlpool_debugfs_exit();
	mdlpool_reclaim_exit();
}

module_init(mdlpool_init);
module_exit(mdlpool_exit);
