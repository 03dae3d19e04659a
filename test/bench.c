// SPDX-License-Identifier: GPL-2.0
/*
 * mdlpool_bench - mdlpool against what a Linux driver would use without it,
 * side by side in one run.  A write of "run [size=S] [scenario=K] [ops=N]
 * [reps=R]" to /sys/kernel/debug/mdlpool_bench/control runs it and leaves
 * the table in .../results.
 *
 * Contenders, each handing out a buffer of the size under test together
 * with a scatterlist entry describing it:
 *   mdlpool    mdlpool_alloc() / mdlpool_free()
 *   slub       kmem_cache_alloc() of [scatterlist | buffer] + sg_init_one()
 *   mempool    mempool_alloc() over that cache + sg_init_one()
 *   page_pool  page_pool_alloc_frag() + sg_set_page(), BH off around each
 *              call as a process-context caller needs
 *   s:...      one step of mdlpool's pair each, same-CPU pairs only (below)
 *
 * Scenarios: same-CPU alloc/free pairs; bursts of N allocations then N
 * frees; cross-CPU (one CPU allocates, another frees); and every CPU of a
 * set doing pairs at once.  Each is run once to warm up, then `reps` times;
 * the median is quoted with its spread ((max - min) / median).  Times come
 * from the guest clock: under emulation compare ratios, not nanoseconds.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/local_lock.h>
#include <linux/mempool.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/preempt.h>
#include <linux/scatterlist.h>
#include <linux/seq_buf.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/vmalloc.h>

#include "mdlpool.h"
#define MDLPOOL_COMPAT_PAGE_POOL
#include "mdlpool_compat.h"
#include "options.h"

#define MDLB_MAX_REPS		15
#define MDLB_RING		1024		/* cross-CPU ring slots */
#define MDLB_HELD		4096		/* buffers held to measure memory */
#define MDLB_OUT_SIZE		(64 * 1024)

struct mdlb_buf {
	struct scatterlist *sg;
	void *buf;
	struct page *page;
	struct scatterlist sg_store;	/* for contenders without their own */
};

struct mdlb_ctx {
	const char *name;
	unsigned int size;
	struct mdlpool *pool;
	struct kmem_cache *cache;
	mempool_t *mempool;
	struct page_pool **pp;	/* one per CPU, as drivers keep one per queue */
	struct mdlb_buf held;	/* steps: the one buffer they work on */
	u32 state;		/* steps: stands in for a block's state */
};

struct mdlb_contender {
	const char *name;
	int (*init)(struct mdlb_ctx *x);
	void (*exit)(struct mdlb_ctx *x);
	bool (*get)(struct mdlb_ctx *x, struct mdlb_buf *b);
	/* @here: freed on the CPU that allocated, in the same task */
	void (*put)(struct mdlb_ctx *x, struct mdlb_buf *b, bool here);
	/* Bytes of memory held for the @n live buffers @b, or -1. */
	long (*bytes_held)(struct mdlb_ctx *x, struct mdlb_buf *b, unsigned int n);
	/* Optional: @n buffers in one call, how many it got; all back in one. */
	unsigned int (*get_bulk)(struct mdlb_ctx *x, struct scatterlist **sgs,
				 void **bufs, unsigned int n);
	void (*put_bulk)(struct mdlb_ctx *x, struct scatterlist **sgs,
			 unsigned int n);
	/* Runs the same-CPU pairs scenario only, and holds no memory. */
	bool pairs_only;
};

/* ---- mdlpool ---- */

static int mdlb_pool_init(struct mdlb_ctx *x)
{
	x->pool = mdlpool_create("bench", x->size, MDLPOOL_TAG('B', 'n', 'c', 'h'));
	return PTR_ERR_OR_ZERO(x->pool);
}

static void mdlb_pool_exit(struct mdlb_ctx *x)
{
	WARN_ON(mdlpool_destroy(x->pool));
}

static bool mdlb_pool_get(struct mdlb_ctx *x, struct mdlb_buf *b)
{
	b->sg = mdlpool_alloc(x->pool, &b->buf);
	return b->sg;
}

static void mdlb_pool_put(struct mdlb_ctx *x, struct mdlb_buf *b, bool here)
{
	mdlpool_free(b->sg);
}

static unsigned int mdlb_pool_get_bulk(struct mdlb_ctx *x,
				       struct scatterlist **sgs, void **bufs,
				       unsigned int n)
{
	return mdlpool_alloc_bulk(x->pool, n, sgs, bufs);
}

static void mdlb_pool_put_bulk(struct mdlb_ctx *x, struct scatterlist **sgs,
			       unsigned int n)
{
	mdlpool_free_bulk(n, sgs);
}

/* ---- SLUB: one object holds the scatterlist and the buffer ---- */

static int mdlb_slab_init(struct mdlb_ctx *x)
{
	/* A usercopy region keeps SLUB from merging the cache with others. */
	x->cache = kmem_cache_create_usercopy(x->name,
					      sizeof(struct scatterlist) + x->size,
					      0, 0, sizeof(struct scatterlist),
					      x->size, NULL);
	return x->cache ? 0 : -ENOMEM;
}

static void mdlb_slab_exit(struct mdlb_ctx *x)
{
	kmem_cache_destroy(x->cache);
}

static void mdlb_slab_describe(struct mdlb_ctx *x, struct mdlb_buf *b,
			       struct scatterlist *obj)
{
	b->sg = obj;
	b->buf = obj + 1;
	sg_init_one(b->sg, b->buf, x->size);
}

static bool mdlb_slab_get(struct mdlb_ctx *x, struct mdlb_buf *b)
{
	struct scatterlist *obj = kmem_cache_alloc(x->cache, GFP_ATOMIC);

	if (!obj)
		return false;
	mdlb_slab_describe(x, b, obj);
	return true;
}

static void mdlb_slab_put(struct mdlb_ctx *x, struct mdlb_buf *b, bool here)
{
	kmem_cache_free(x->cache, b->sg);
}

/* kmem_cache_alloc_bulk() gives all or nothing; each object is described. */
static unsigned int mdlb_slab_get_bulk(struct mdlb_ctx *x,
				       struct scatterlist **sgs, void **bufs,
				       unsigned int n)
{
	unsigned int i;

	if (!kmem_cache_alloc_bulk(x->cache, GFP_ATOMIC, n, (void **)sgs))
		return 0;
	for (i = 0; i < n; i++) {
		bufs[i] = sgs[i] + 1;
		sg_init_one(sgs[i], bufs[i], x->size);
	}
	return n;
}

static void mdlb_slab_put_bulk(struct mdlb_ctx *x, struct scatterlist **sgs,
			       unsigned int n)
{
	kmem_cache_free_bulk(x->cache, n, (void **)sgs);
}

static int mdlb_cmp_ptr(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/*
 * Memory is measured the same way for every contender: the distinct pages
 * (slabs, for SLUB) under the live buffers and @extra objects more, added
 * up.  Pages a contender keeps idle on the side are not counted.
 */
static long mdlb_page_bytes(struct mdlb_buf *b, unsigned int n,
			    void **extra, unsigned int n_extra)
{
	unsigned long *pages = kvmalloc_array(n + n_extra, sizeof(*pages),
					      GFP_KERNEL);
	unsigned int i, total = n + n_extra;
	long bytes = 0;

	if (!pages)
		return -1;
	for (i = 0; i < total; i++)
		pages[i] = (unsigned long)virt_to_head_page(i < n ? b[i].buf :
							    extra[i - n]);
	sort(pages, total, sizeof(*pages), mdlb_cmp_ptr, NULL);
	for (i = 0; i < total; i++) {
		if (!i || pages[i] != pages[i - 1])
			bytes += page_size((struct page *)pages[i]);
	}
	kvfree(pages);
	return bytes;
}

static long mdlb_live_bytes(struct mdlb_ctx *x, struct mdlb_buf *b,
			    unsigned int n)
{
	return mdlb_page_bytes(b, n, NULL, 0);
}

/* ---- mempool over the same cache ---- */

#define MDLB_MEMPOOL_MIN	16

static int mdlb_mempool_init(struct mdlb_ctx *x)
{
	int err = mdlb_slab_init(x);

	if (err)
		return err;
	x->mempool = mempool_create_slab_pool(MDLB_MEMPOOL_MIN, x->cache);
	if (x->mempool)
		return 0;
	kmem_cache_destroy(x->cache);
	return -ENOMEM;
}

static void mdlb_mempool_exit(struct mdlb_ctx *x)
{
	mempool_destroy(x->mempool);
	kmem_cache_destroy(x->cache);
}

static bool mdlb_mempool_get(struct mdlb_ctx *x, struct mdlb_buf *b)
{
	struct scatterlist *obj = mempool_alloc(x->mempool, GFP_ATOMIC);

	if (!obj)
		return false;
	mdlb_slab_describe(x, b, obj);
	return true;
}

static void mdlb_mempool_put(struct mdlb_ctx *x, struct mdlb_buf *b, bool here)
{
	mempool_free(b->sg, x->mempool);
}

/* The reserve is held on top of the live objects. */
static long mdlb_mempool_bytes(struct mdlb_ctx *x, struct mdlb_buf *b,
			       unsigned int n)
{
	return mdlb_page_bytes(b, n, x->mempool->elements,
			       x->mempool->curr_nr);
}

/* ---- page_pool fragments, on kernels that have page_pool ---- */

#ifdef CONFIG_PAGE_POOL

/*
 * A page_pool allocates from one context only (a NAPI instance in a
 * driver), so each CPU gets its own, and frees go back to the page's pool.
 */
static void mdlb_pp_exit(struct mdlb_ctx *x)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		if (!IS_ERR_OR_NULL(x->pp[cpu]))
			page_pool_destroy(x->pp[cpu]);
	}
	kfree(x->pp);
}

static int mdlb_pp_init(struct mdlb_ctx *x)
{
	struct page_pool_params pp = {
		.flags = MDLPOOL_PP_FLAG_PAGE_FRAG,
		/* Fragments of one page, or of a compound page for jumbo sizes. */
		.order = get_order(x->size),
		.pool_size = MDLB_RING,
		.nid = NUMA_NO_NODE,
	};
	int cpu;

	x->pp = kcalloc(nr_cpu_ids, sizeof(*x->pp), GFP_KERNEL);
	if (!x->pp)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		x->pp[cpu] = page_pool_create(&pp);
		if (IS_ERR(x->pp[cpu])) {
			mdlb_pp_exit(x);
			return -ENOMEM;
		}
	}
	return 0;
}

static bool mdlb_pp_get(struct mdlb_ctx *x, struct mdlb_buf *b)
{
	unsigned int offset;

	/* The allocation cache is lockless on the condition of BH off. */
	local_bh_disable();
	b->page = page_pool_dev_alloc_frag(x->pp[smp_processor_id()], &offset,
					   x->size);
	local_bh_enable();
	if (!b->page)
		return false;
	b->sg = &b->sg_store;
	sg_init_table(b->sg, 1);
	sg_set_page(b->sg, b->page, x->size, offset);
	b->buf = page_address(b->page) + offset;
	return true;
}

static void mdlb_pp_put(struct mdlb_ctx *x, struct mdlb_buf *b, bool here)
{
	/* Direct recycling only where the page's pool allocates. */
	local_bh_disable();
	page_pool_put_page(b->page->pp, b->page, -1, here);
	local_bh_enable();
}

#endif /* CONFIG_PAGE_POOL */

/* ---- mdlpool's pair, step by step ---- */

/*
 * Each step contender repeats one step of an mdlpool_alloc() and
 * mdlpool_free() pair with the kernel primitives the library uses for it,
 * on a buffer of a real pool, in the same-CPU pairs scenario only.  Timed
 * beside the whole pair in the same boot, they show where its time goes,
 * and which step costs more on one kernel than on another (BENCHMARKS.md).
 * "s:call" is the benchmark's own loop and calls, which every pair pays.
 */
struct mdlb_step_lock {
	local_lock_t lock;
};

static DEFINE_PER_CPU(struct mdlb_step_lock, mdlb_step_lock) = {
	.lock = INIT_LOCAL_LOCK(lock),
};

static int mdlb_step_init(struct mdlb_ctx *x)
{
	/* Pool names are unique: each step has a pool of its own. */
	x->pool = mdlpool_create(x->name, x->size,
				 MDLPOOL_TAG('B', 'n', 'c', 'h'));
	if (IS_ERR(x->pool))
		return PTR_ERR(x->pool);
	x->held.sg = mdlpool_alloc(x->pool, &x->held.buf);
	if (x->held.sg)
		return 0;
	mdlb_pool_exit(x);
	return -ENOMEM;
}

static void mdlb_step_exit(struct mdlb_ctx *x)
{
	mdlpool_free(x->held.sg);
	mdlb_pool_exit(x);
}

static bool mdlb_step_call(struct mdlb_ctx *x, struct mdlb_buf *b)
{
	*b = x->held;
	return true;
}

static void mdlb_step_none(struct mdlb_ctx *x, struct mdlb_buf *b, bool here)
{
}

/* mdlpool_enter() and mdlpool_leave() for a task: once per call. */
static void mdlb_step_enter_leave(void)
{
	struct mdlb_step_lock *l;

	if (WARN_ON_ONCE(softirq_count()))
		return;
	local_lock(&mdlb_step_lock.lock);
	l = this_cpu_ptr(&mdlb_step_lock);
	OPTIMIZER_HIDE_VAR(l);
	local_unlock(&mdlb_step_lock.lock);
}

static bool mdlb_step_section(struct mdlb_ctx *x, struct mdlb_buf *b)
{
	mdlb_step_enter_leave();
	*b = x->held;
	return true;
}

static void mdlb_step_section_put(struct mdlb_ctx *x, struct mdlb_buf *b,
				  bool here)
{
	mdlb_step_enter_leave();
}

/*
 * mdlpool_free()'s look at a descriptor before it trusts it: a direct-map
 * address whose head page carries a mark, and a scatterlist still naming
 * the buffer's page.
 */
static void mdlb_step_check(struct mdlb_ctx *x, struct mdlb_buf *b, bool here)
{
	struct page *head;

	if (WARN_ON_ONCE(!virt_addr_valid(b->sg)))
		return;
	head = virt_to_head_page(b->sg);
	WARN_ON_ONCE(!page_private(head) ||
		     sg_page(b->sg) != virt_to_page(b->buf));
}

/* The block's state: a plain store at allocation, a swap at free. */
static bool mdlb_step_mark(struct mdlb_ctx *x, struct mdlb_buf *b)
{
	WRITE_ONCE(x->state, 1);
	*b = x->held;
	return true;
}

static void mdlb_step_mark_put(struct mdlb_ctx *x, struct mdlb_buf *b,
			       bool here)
{
	u32 out = 1;

	WARN_ON_ONCE(!try_cmpxchg(&x->state, &out, 0));
}

/* What the page_pool contender wraps each of its calls in. */
static bool mdlb_step_bh(struct mdlb_ctx *x, struct mdlb_buf *b)
{
	local_bh_disable();
	local_bh_enable();
	*b = x->held;
	return true;
}

static void mdlb_step_bh_put(struct mdlb_ctx *x, struct mdlb_buf *b, bool here)
{
	local_bh_disable();
	local_bh_enable();
}

#define MDLB_STEP(name, get, put) \
	{ name, mdlb_step_init, mdlb_step_exit, get, put, .pairs_only = true }

static const struct mdlb_contender mdlb_contenders[] = {
	{ "mdlpool", mdlb_pool_init, mdlb_pool_exit, mdlb_pool_get,
	  mdlb_pool_put, mdlb_live_bytes, mdlb_pool_get_bulk,
	  mdlb_pool_put_bulk },
	{ "slub+sg", mdlb_slab_init, mdlb_slab_exit, mdlb_slab_get,
	  mdlb_slab_put, mdlb_live_bytes, mdlb_slab_get_bulk,
	  mdlb_slab_put_bulk },
	{ "mempool", mdlb_mempool_init, mdlb_mempool_exit, mdlb_mempool_get,
	  mdlb_mempool_put, mdlb_mempool_bytes },
#ifdef CONFIG_PAGE_POOL
	{ "page_pool", mdlb_pp_init, mdlb_pp_exit, mdlb_pp_get, mdlb_pp_put,
	  mdlb_live_bytes },
#endif
	MDLB_STEP("s:call", mdlb_step_call, mdlb_step_none),
	MDLB_STEP("s:section", mdlb_step_section, mdlb_step_section_put),
	MDLB_STEP("s:check", mdlb_step_call, mdlb_step_check),
	MDLB_STEP("s:mark", mdlb_step_mark, mdlb_step_mark_put),
	MDLB_STEP("s:bh", mdlb_step_bh, mdlb_step_bh_put),
};

#define MDLB_SLUB	1	/* index of the reference contender */

/* ---- scenarios ---- */

struct mdlb_run {
	const struct mdlb_contender *c;
	struct mdlb_ctx *x;
	unsigned int ops;	/* alloc/free pairs per run (per CPU) */
	unsigned int burst;
	unsigned int cpus;	/* allcpu: CPUs taking part */
	unsigned long failures;
};

/* ns per alloc/free pair on this CPU, pairs back to back */
static u64 mdlb_pairs(struct mdlb_run *r)
{
	struct mdlb_buf b;
	unsigned int i;
	u64 t0, t1;

	migrate_disable();
	t0 = ktime_get_ns();
	for (i = 0; i < r->ops; i++) {
		if (!r->c->get(r->x, &b)) {
			r->failures++;
			continue;
		}
		r->c->put(r->x, &b, true);
	}
	t1 = ktime_get_ns();
	migrate_enable();
	return t1 - t0;
}

/* ns per pair when allocating r->burst buffers, then freeing them all */
static u64 mdlb_burst(struct mdlb_run *r)
{
	struct mdlb_buf *b = kvmalloc_array(r->burst, sizeof(*b), GFP_KERNEL);
	unsigned int i, n, rounds = max(r->ops / r->burst, 1U);
	u64 t0, t1;

	if (!b)
		return 0;
	migrate_disable();
	t0 = ktime_get_ns();
	while (rounds--) {
		for (n = 0; n < r->burst; n++) {
			if (!r->c->get(r->x, &b[n])) {
				r->failures++;
				break;
			}
		}
		for (i = 0; i < n; i++)
			r->c->put(r->x, &b[i], true);
	}
	t1 = ktime_get_ns();
	migrate_enable();
	kvfree(b);
	return t1 - t0;
}

#define MDLB_BULK_MAX		64

/* ns per buffer when allocating r->burst in one call, then freeing them */
static u64 mdlb_bulk(struct mdlb_run *r)
{
	unsigned int got, rounds = max(r->ops / r->burst, 1U);
	struct scatterlist *sgs[MDLB_BULK_MAX];
	void *bufs[MDLB_BULK_MAX];
	u64 t0, t1;

	if (!r->c->get_bulk || r->burst > MDLB_BULK_MAX)
		return 0;
	migrate_disable();
	t0 = ktime_get_ns();
	while (rounds--) {
		got = r->c->get_bulk(r->x, sgs, bufs, r->burst);
		if (got < r->burst)
			r->failures++;
		r->c->put_bulk(r->x, sgs, got);
	}
	t1 = ktime_get_ns();
	migrate_enable();
	return t1 - t0;
}

/* A single-producer, single-consumer ring between two bound kthreads. */
struct mdlb_cross {
	struct mdlb_run *r;
	struct mdlb_buf *slot;
	unsigned long head ____cacheline_aligned_in_smp;	/* producer */
	unsigned long tail ____cacheline_aligned_in_smp;	/* consumer */
	struct completion done;
	atomic_t started;
	u64 t0, t1;
};

/* Start together; the last to arrive notes the time in @t0. */
static void mdlb_wait_all(atomic_t *started, int n, u64 *t0)
{
	if (atomic_inc_return(started) == n)
		*t0 = ktime_get_ns();
	while (atomic_read(started) < n)
		cpu_relax();
}

static int mdlb_producer(void *arg)
{
	struct mdlb_cross *cr = arg;
	struct mdlb_run *r = cr->r;
	unsigned long i;

	mdlb_wait_all(&cr->started, 2, &cr->t0);
	for (i = 0; i < r->ops; i++) {
		struct mdlb_buf *b = &cr->slot[i % MDLB_RING];

		/* Acquire: the consumer is done with the slot we reuse. */
		while (i - smp_load_acquire(&cr->tail) >= MDLB_RING)
			cpu_relax();
		while (!r->c->get(r->x, b)) {
			r->failures++;
			cond_resched();
		}
		/* Release: the slot is filled before the consumer sees it. */
		smp_store_release(&cr->head, i + 1);
		if (!(i % 1024))
			cond_resched();
	}
	return 0;
}

static int mdlb_consumer(void *arg)
{
	struct mdlb_cross *cr = arg;
	struct mdlb_run *r = cr->r;
	unsigned long i;

	mdlb_wait_all(&cr->started, 2, &cr->t0);
	for (i = 0; i < r->ops; i++) {
		/* Acquire: pairs with the producer's release of head. */
		while (smp_load_acquire(&cr->head) == i)
			cpu_relax();
		r->c->put(r->x, &cr->slot[i % MDLB_RING], false);
		/* Release: we are done with the slot before it is reused. */
		smp_store_release(&cr->tail, i + 1);
		if (!(i % 1024))
			cond_resched();
	}
	cr->t1 = ktime_get_ns();
	complete(&cr->done);
	return 0;
}

/* A kthread bound to @cpu, with a reference so it can be stopped late. */
static struct task_struct *mdlb_thread_on(int (*fn)(void *), void *arg,
					  int cpu)
{
	struct task_struct *t = kthread_create(fn, arg, "mdlbench/%d", cpu);

	if (!IS_ERR(t)) {
		kthread_bind(t, cpu);
		get_task_struct(t);
	}
	return t;
}

static void mdlb_thread_end(struct task_struct *t)
{
	if (IS_ERR(t))
		return;
	kthread_stop(t);
	put_task_struct(t);
}

/* ns per buffer allocated on one CPU and freed on another */
static u64 mdlb_cross(struct mdlb_run *r)
{
	struct task_struct *prod, *cons;
	struct mdlb_cross *cr;
	int a, b;
	u64 ns = 0;

	a = cpumask_first(cpu_online_mask);
	b = cpumask_next(a, cpu_online_mask);
	if (b >= nr_cpu_ids)
		return 0;
	cr = kzalloc(sizeof(*cr), GFP_KERNEL);
	if (!cr)
		return 0;
	cr->slot = kvcalloc(MDLB_RING, sizeof(*cr->slot), GFP_KERNEL);
	cr->r = r;
	init_completion(&cr->done);
	if (!cr->slot)
		goto out;
	prod = mdlb_thread_on(mdlb_producer, cr, a);
	cons = mdlb_thread_on(mdlb_consumer, cr, b);
	if (!IS_ERR(prod) && !IS_ERR(cons)) {
		wake_up_process(prod);
		wake_up_process(cons);
		wait_for_completion(&cr->done);
		ns = cr->t1 - cr->t0;
	}
	/* Threads never woken just exit when stopped. */
	mdlb_thread_end(prod);
	mdlb_thread_end(cons);
out:
	kvfree(cr->slot);
	kfree(cr);
	return ns;
}

struct mdlb_allcpu {
	struct mdlb_run *r;
	atomic_t started;
	atomic_t running;
	struct completion done;
	u64 t0, t1;
};

static int mdlb_allcpu_worker(void *arg)
{
	struct mdlb_allcpu *ac = arg;
	struct mdlb_run mine = *ac->r;

	mdlb_wait_all(&ac->started, ac->r->cpus, &ac->t0);
	mdlb_pairs(&mine);
	if (atomic_dec_and_test(&ac->running)) {
		ac->t1 = ktime_get_ns();
		complete(&ac->done);
	}
	return 0;
}

/*
 * Wall-clock ns for r->cpus CPUs each doing r->ops pairs at once, divided
 * by r->ops: the time of one pair when that many CPUs work together.
 */
static u64 mdlb_allcpu(struct mdlb_run *r)
{
	struct task_struct *t[8];
	struct mdlb_allcpu ac = { .r = r };
	unsigned int i = 0, n;
	int cpu;

	if (r->cpus > num_online_cpus() || r->cpus > ARRAY_SIZE(t))
		return 0;
	atomic_set(&ac.running, r->cpus);
	init_completion(&ac.done);
	for_each_online_cpu(cpu) {
		if (i == r->cpus)
			break;
		t[i] = mdlb_thread_on(mdlb_allcpu_worker, &ac, cpu);
		if (IS_ERR(t[i]))
			break;
		i++;
	}
	n = i;
	if (n == r->cpus) {
		for (i = 0; i < n; i++)
			wake_up_process(t[i]);
		wait_for_completion(&ac.done);
	}
	for (i = 0; i < n; i++)
		mdlb_thread_end(t[i]);
	return n == r->cpus ? ac.t1 - ac.t0 : 0;
}

/* ---- running and reporting ---- */

enum mdlb_kind { MDLB_PAIRS, MDLB_BURST, MDLB_BULK, MDLB_CROSS, MDLB_ALLCPU };

struct mdlb_scenario {
	const char *name;
	enum mdlb_kind kind;
	unsigned int arg;	/* burst size, or CPUs for allcpu */
};

static const struct mdlb_scenario mdlb_scenarios[] = {
	{ "same-CPU pairs", MDLB_PAIRS, 0 },
	{ "burst 16", MDLB_BURST, 16 },
	{ "bulk 16", MDLB_BULK, 16 },
	{ "burst 256", MDLB_BURST, 256 },
	{ "burst 4096", MDLB_BURST, 4096 },
	{ "cross-CPU", MDLB_CROSS, 0 },
	{ "all CPUs, 1 vCPU", MDLB_ALLCPU, 1 },
	{ "all CPUs, 2 vCPUs", MDLB_ALLCPU, 2 },
	{ "all CPUs, 4 vCPUs", MDLB_ALLCPU, 4 },
};

static const unsigned int mdlb_sizes[] = { 64, 256, 1500, 2048, 9000 };

/* One timed run: ns per operation, 0 if the scenario cannot run. */
static u64 mdlb_once(struct mdlb_run *r, const struct mdlb_scenario *sc)
{
	u64 ns;

	switch (sc->kind) {
	case MDLB_PAIRS:
		ns = mdlb_pairs(r);
		break;
	case MDLB_BURST:
	case MDLB_BULK:
		r->burst = sc->arg;
		ns = sc->kind == MDLB_BURST ? mdlb_burst(r) : mdlb_bulk(r);
		return ns / (max(r->ops / r->burst, 1U) * r->burst);
	case MDLB_CROSS:
		ns = mdlb_cross(r);
		break;
	default:
		r->cpus = sc->arg;
		ns = mdlb_allcpu(r);
		break;
	}
	return ns / r->ops;
}

static int mdlb_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

struct mdlb_stat {
	u64 median;
	u64 spread_pct;	/* (max - min) * 100 / median */
	u64 ratio_milli;	/* median of the per-run ratios to SLUB, x1000 */
	bool ok;
};

#define MDLB_NC		ARRAY_SIZE(mdlb_contenders)
#define MDLB_NS		ARRAY_SIZE(mdlb_scenarios)

static u64 mdlb_median(u64 *v, unsigned int n)
{
	sort(v, n, sizeof(*v), mdlb_cmp_u64, NULL);
	return v[n / 2];
}

/*
 * The contenders take turns within each run, so that whatever else the
 * machine does (an emulator's other threads, say) falls on all of them
 * alike, and each ratio to SLUB compares runs made side by side.
 */
static void mdlb_measure(struct mdlb_ctx *x, const bool *ran,
			 const struct mdlb_scenario *sc, unsigned int ops,
			 unsigned int reps, struct mdlb_stat *st)
{
	u64 t[MDLB_NC][MDLB_MAX_REPS], ratio[MDLB_MAX_REPS];
	struct mdlb_run r[MDLB_NC] = {};
	bool ok[MDLB_NC];
	unsigned int ci, i;

	for (ci = 0; ci < MDLB_NC; ci++) {
		r[ci] = (struct mdlb_run){ &mdlb_contenders[ci], &x[ci], ops };
		/* Warm-up, and can it run here at all. */
		ok[ci] = ran[ci] &&
			 (!mdlb_contenders[ci].pairs_only || sc->kind == MDLB_PAIRS) &&
			 mdlb_once(&r[ci], sc);
	}
	for (i = 0; i < reps; i++) {
		for (ci = 0; ci < MDLB_NC; ci++)
			t[ci][i] = ok[ci] ? mdlb_once(&r[ci], sc) : 0;
	}
	for (ci = 0; ci < MDLB_NC; ci++) {
		memset(&st[ci], 0, sizeof(st[ci]));
		if (!ok[ci] || r[ci].failures)
			continue;
		for (i = 0; i < reps; i++) {
			ratio[i] = ok[MDLB_SLUB] && t[MDLB_SLUB][i] ?
				   div64_u64(t[ci][i] * 1000, t[MDLB_SLUB][i]) : 0;
		}
		st[ci].ratio_milli = mdlb_median(ratio, reps);
		st[ci].median = mdlb_median(t[ci], reps);
		st[ci].spread_pct = st[ci].median ?
			div64_u64((t[ci][reps - 1] - t[ci][0]) * 100,
				  st[ci].median) : 0;
		st[ci].ok = st[ci].median;
	}
}

/* Bytes held per live buffer with MDLB_HELD buffers out on one CPU. */
static long mdlb_memory(const struct mdlb_contender *c, struct mdlb_ctx *x)
{
	struct mdlb_buf *b = kvmalloc_array(MDLB_HELD, sizeof(*b), GFP_KERNEL);
	long bytes = -1;
	unsigned int n;

	if (!b)
		return -1;
	migrate_disable();
	for (n = 0; n < MDLB_HELD; n++) {
		if (!c->get(x, &b[n]))
			break;
	}
	if (n == MDLB_HELD)
		bytes = c->bytes_held(x, b, n);
	while (n--)
		c->put(x, &b[n], true);
	migrate_enable();
	kvfree(b);
	return bytes < 0 ? -1 : bytes / MDLB_HELD;
}

static DEFINE_MUTEX(mdlb_run_mutex);	/* one run at a time */
static DEFINE_MUTEX(mdlb_mutex);	/* guards mdlb_out */
static char *mdlb_out;

struct mdlb_results {
	struct mdlb_stat t[MDLB_NS][MDLB_NC];
	long bytes[MDLB_NC];
	bool ran[MDLB_NC];
};

/* Runs every scenario, or only number @only (from 1). */
static void mdlb_run_size(unsigned int size, unsigned int ops,
			  unsigned int reps, unsigned int only,
			  struct mdlb_results *res)
{
	struct mdlb_ctx x[MDLB_NC] = {};
	unsigned int ci, si;

	for (ci = 0; ci < MDLB_NC; ci++) {
		x[ci].size = size;
		x[ci].name = mdlb_contenders[ci].name;
		res->ran[ci] = !mdlb_contenders[ci].init(&x[ci]);
	}
	for (si = 0; si < MDLB_NS; si++) {
		if (!only || si == only - 1)
			mdlb_measure(x, res->ran, &mdlb_scenarios[si], ops, reps,
				     res->t[si]);
		cond_resched();
	}
	for (ci = 0; ci < MDLB_NC; ci++) {
		if (!res->ran[ci])
			continue;
		if (!mdlb_contenders[ci].pairs_only)
			res->bytes[ci] = mdlb_memory(&mdlb_contenders[ci], &x[ci]);
		mdlb_contenders[ci].exit(&x[ci]);
	}
}

static bool mdlb_scenario_ran(struct mdlb_results *res, unsigned int si)
{
	unsigned int ci;

	for (ci = 0; ci < MDLB_NC; ci++) {
		if (res->t[si][ci].median)
			return true;
	}
	return false;
}

static void mdlb_print_ratio(struct seq_buf *s, u64 milli)
{
	if (!milli)
		seq_buf_printf(s, "  %7s", "-");
	else
		seq_buf_printf(s, "  %4llu.%02llux", milli / 1000,
			       (milli % 1000) / 10);
}

/* Throughput of all CPUs at 2 vCPUs over that at 1: 2.00 is perfect. */
static void mdlb_print_scaling(struct seq_buf *s, unsigned int size,
			       struct mdlb_results *res)
{
	unsigned int ci, one = 0, two = 0, si;

	for (si = 0; si < MDLB_NS; si++) {
		if (mdlb_scenarios[si].kind != MDLB_ALLCPU)
			continue;
		if (mdlb_scenarios[si].arg == 1)
			one = si;
		else if (mdlb_scenarios[si].arg == 2)
			two = si;
	}
	if (!mdlb_scenario_ran(res, one) || !mdlb_scenario_ran(res, two))
		return;
	seq_buf_printf(s, "\nscaling, %u bytes: throughput at 2 vCPUs / at 1 vCPU\n",
		       size);
	for (ci = 0; ci < MDLB_NC; ci++) {
		u64 t1 = res->t[one][ci].median, t2 = res->t[two][ci].median;

		if (mdlb_contenders[ci].pairs_only)
			continue;
		seq_buf_printf(s, "  %-10s", mdlb_contenders[ci].name);
		if (t1 && t2)
			seq_buf_printf(s, " %7llu.%02llux\n",
				       div64_u64(2 * t1, t2),
				       div64_u64(200 * t1, t2) % 100);
		else
			seq_buf_printf(s, " %10s\n", "n/a");
	}
}

static void mdlb_print_size(struct seq_buf *s, unsigned int size,
			    struct mdlb_results *res)
{
	unsigned int ci, si;

	for (si = 0; si < MDLB_NS; si++) {
		if (!mdlb_scenario_ran(res, si))
			continue;
		seq_buf_printf(s, "\n%s, %u bytes\n", mdlb_scenarios[si].name, size);
		seq_buf_printf(s, "  %-10s %10s %8s %9s\n", "contender",
			       "ns/op", "spread", "vs SLUB");
		for (ci = 0; ci < MDLB_NC; ci++) {
			struct mdlb_stat *st = &res->t[si][ci];

			if (mdlb_contenders[ci].pairs_only && !st->ok)
				continue;
			seq_buf_printf(s, "  %-10s", mdlb_contenders[ci].name);
			if (!res->ran[ci] || !st->ok) {
				seq_buf_printf(s, " %10s\n", "n/a");
				continue;
			}
			seq_buf_printf(s, " %10llu %7llu%%", st->median,
				       st->spread_pct);
			mdlb_print_ratio(s, st->ratio_milli);
			seq_buf_printf(s, "\n");
		}
	}
	mdlb_print_scaling(s, size, res);
	seq_buf_printf(s, "\nmemory, %u bytes: bytes held per live buffer with %u out\n",
		       size, MDLB_HELD);
	for (ci = 0; ci < MDLB_NC; ci++) {
		if (mdlb_contenders[ci].pairs_only)
			continue;
		seq_buf_printf(s, "  %-10s", mdlb_contenders[ci].name);
		if (res->ran[ci] && res->bytes[ci] > 0)
			seq_buf_printf(s, " %10ld\n", res->bytes[ci]);
		else
			seq_buf_printf(s, " %10s\n", "n/a");
	}
}

/*
 * Machine-readable lines, one per measurement, for scripts such as
 * scripts/bench-summary, which combines several boots.  The scenario's
 * name comes last because it has spaces.
 */
static void mdlb_print_raw(struct seq_buf *s, unsigned int size,
			   struct mdlb_results *res)
{
	unsigned int ci, si;

	for (si = 0; si < MDLB_NS; si++) {
		for (ci = 0; ci < MDLB_NC; ci++) {
			struct mdlb_stat *st = &res->t[si][ci];

			if (!res->ran[ci] || !st->ok)
				continue;
			seq_buf_printf(s, "raw size=%u scenario=%u contender=%s ",
				       size, si, mdlb_contenders[ci].name);
			seq_buf_printf(s, "ns=%llu spread_pct=%llu ratio_milli=%llu name=%s\n",
				       st->median, st->spread_pct, st->ratio_milli,
				       mdlb_scenarios[si].name);
		}
	}
	for (ci = 0; ci < MDLB_NC; ci++) {
		if (res->ran[ci] && res->bytes[ci] > 0)
			seq_buf_printf(s, "raw size=%u memory contender=%s bytes=%ld\n",
				       size, mdlb_contenders[ci].name,
				       res->bytes[ci]);
	}
}

static int mdlb_run(char **argv, int argc)
{
	unsigned int size = 0, ops = 20000, reps = 5, only = 0, i;
	struct mdlt_opt opts[] = {
		{ "size", 1, mdlpool_max_buffer_size(), &size },
		{ "scenario", 1, MDLB_NS, &only },
		{ "ops", 16, 10000000, &ops },
		{ "reps", 1, MDLB_MAX_REPS, &reps },
	};
	struct mdlb_results *res;
	struct seq_buf s;
	char *out;

	if (mdlt_parse_opts(argv + 1, argc - 1, opts, ARRAY_SIZE(opts)))
		return -EINVAL;
	res = kvzalloc(sizeof(*res), GFP_KERNEL);
	out = kvzalloc(MDLB_OUT_SIZE, GFP_KERNEL);
	if (!res || !out) {
		kvfree(res);
		kvfree(out);
		return -ENOMEM;
	}
	seq_buf_init(&s, out, MDLB_OUT_SIZE);
	seq_buf_printf(&s, "mdlpool benchmark: %u online CPUs, %u pairs per run, ",
		       num_online_cpus(), ops);
	seq_buf_printf(&s, "warm-up + %u runs, median\n", reps);
	for (i = 0; i < ARRAY_SIZE(mdlb_sizes); i++) {
		unsigned int sz = size ?: mdlb_sizes[i];

		memset(res, 0, sizeof(*res));
		mdlb_run_size(sz, ops, reps, only, res);
		mdlb_print_size(&s, sz, res);
		mdlb_print_raw(&s, sz, res);
		if (size)
			break;
	}
	kvfree(res);

	mutex_lock(&mdlb_mutex);
	kvfree(mdlb_out);
	mdlb_out = out;
	mutex_unlock(&mdlb_mutex);
	return 0;
}

static int mdlb_show(struct seq_file *m, void *unused)
{
	mutex_lock(&mdlb_mutex);
	if (mdlb_out)
		seq_puts(m, mdlb_out);
	mutex_unlock(&mdlb_mutex);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mdlb);

/* One command per write: "run" and its options. */
static ssize_t mdlb_control_write(struct file *file, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	char *line, **argv;
	int argc, err;

	if (!count || count > 256)
		return -EINVAL;
	line = memdup_user_nul(ubuf, count);
	if (IS_ERR(line))
		return PTR_ERR(line);
	argv = argv_split(GFP_KERNEL, line, &argc);
	kfree(line);
	if (!argv)
		return -ENOMEM;
	err = -EINVAL;
	if (argc >= 1 && !strcmp(argv[0], "run")) {
		mutex_lock(&mdlb_run_mutex);
		err = mdlb_run(argv, argc);
		mutex_unlock(&mdlb_run_mutex);
	}
	argv_free(argv);
	return err ?: count;
}

static const struct file_operations mdlb_control_fops = {
	.owner	= THIS_MODULE,
	.write	= mdlb_control_write,
};

static struct dentry *mdlb_dir;

static int __init mdlb_init(void)
{
	mdlb_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("control", 0200, mdlb_dir, NULL, &mdlb_control_fops);
	debugfs_create_file("results", 0400, mdlb_dir, NULL, &mdlb_fops);
	return 0;
}

static void __exit mdlb_exit(void)
{
	debugfs_remove_recursive(mdlb_dir);
	kvfree(mdlb_out);
}

module_init(mdlb_init);
module_exit(mdlb_exit);

MODULE_LICENSE("GPL");
MODULE_INFO(test, "Y");
MODULE_DESCRIPTION("mdlpool against SLUB, mempool and page_pool, side by side");
