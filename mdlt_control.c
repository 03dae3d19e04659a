// SPDX-License-Identifier: GPL-2.0
/*
 * mdlpool_test - drives mdlpool through /sys/kernel/debug/mdlpool/control
 *
 * Uses only mdlpool's public API.  Each write is one command; a malformed
 * or impossible command fails with an errno and changes nothing.  Reading
 * the file shows the buffers this module holds per pool and the result of
 * the last stress run.  See README.md for the command reference.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/ctype.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/irq_work.h>
#include <linux/kthread.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/prandom.h>
#include <linux/random.h>
#include <linux/scatterlist.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timer.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include "mdlpool.h"
#include "mdlt.h"

#define MDLT_CMD_MAX		256
#define MDLT_ARGS_MAX		8
#define MDLT_COUNT_MAX		1000000
#define MDLT_DEFAULT_TAG		MDLPOOL_TAG('M', 'd', 'l', 'T')

struct mdlt_stress_result {
	unsigned int threads;
	unsigned long ops;
	unsigned long softirq_ops;
	unsigned long allocs;
	unsigned long frees;
	unsigned long remote_frees;
	unsigned long mismatches;
	unsigned long alloc_failures;
	unsigned long free_errors;
};

/* A pool created through the control file, with the buffers it holds. */
struct mdlt_pool {
	struct list_head node;
	struct mdlpool *pool;
	char name[MDLPOOL_NAME_MAX + 1];
	struct list_head held;
	unsigned long nr_held;
	unsigned long pattern_errors;
	bool stressed;
	struct mdlt_stress_result stress;
};

struct mdlt_held {
	struct list_head node;
	struct scatterlist *sg;
	void *buf;
	u32 seq;
};

static DEFINE_MUTEX(mdlt_mutex);	/* serialises commands; guards mdlt_pools */
static LIST_HEAD(mdlt_pools);
static u32 mdlt_seq;
static struct dentry *mdlt_control;

/* Every buffer carries a pattern derived from who filled it and when. */
static u8 mdlt_pattern_byte(u32 owner, u32 seq, unsigned int i)
{
	return (u8)(owner * 131 + seq * 7 + i);
}

static void mdlt_fill(void *buf, unsigned int len, u32 owner, u32 seq)
{
	u8 *b = buf;
	unsigned int i;

	for (i = 0; i < len; i++)
		b[i] = mdlt_pattern_byte(owner, seq, i);
}

static bool mdlt_intact(const void *buf, unsigned int len, u32 owner, u32 seq)
{
	const u8 *b = buf;
	unsigned int i;

	for (i = 0; i < len; i++) {
		if (b[i] != mdlt_pattern_byte(owner, seq, i))
			return false;
	}
	return true;
}

static struct mdlt_pool *mdlt_find(const char *name)
{
	struct mdlt_pool *mp;

	list_for_each_entry(mp, &mdlt_pools, node) {
		if (!strcmp(mp->name, name))
			return mp;
	}
	return NULL;
}

/* ---- options: trailing key=value words ---- */

int mdlt_parse_opts(char **argv, int argc, struct mdlt_opt *opts, int nr)
{
	int i, j, err;

	for (i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (!eq)
			return -EINVAL;
		*eq = '\0';
		for (j = 0; j < nr; j++) {
			if (!strcmp(argv[i], opts[j].key))
				break;
		}
		if (j == nr || opts[j].seen)
			return -EINVAL;
		err = kstrtouint(eq + 1, 0, opts[j].val);
		if (err)
			return -EINVAL;
		if (*opts[j].val < opts[j].min || *opts[j].val > opts[j].max)
			return -EINVAL;
		opts[j].seen = true;
	}
	return 0;
}

/* Parse an optional cpu=N; -1 means "wherever the writer runs". */
static int mdlt_parse_cpu(char **argv, int argc, int *cpu)
{
	unsigned int val;
	struct mdlt_opt opt = { "cpu", 0, nr_cpu_ids - 1, &val };
	int err = mdlt_parse_opts(argv, argc, &opt, 1);

	if (err)
		return err;
	if (!opt.seen) {
		*cpu = -1;
		return 0;
	}
	if (!cpu_online(val))
		return -EINVAL;
	*cpu = val;
	return 0;
}

static long mdlt_on_cpu(int cpu, long (*fn)(void *), void *arg)
{
	if (cpu < 0)
		return fn(arg);
	/* -ENODEV if the CPU went offline since the command was parsed. */
	return work_on_cpu_safe(cpu, fn, arg);
}

/* ---- create, destroy ---- */

static int mdlt_parse_tag(const char *s, u32 *tag)
{
	size_t len = strlen(s);
	size_t i;

	if (!len || len > 4)
		return -EINVAL;
	*tag = 0;
	for (i = 0; i < 4; i++) {
		char ch = i < len ? s[i] : ' ';

		if (!isgraph(ch) && ch != ' ')
			return -EINVAL;
		*tag |= (u32)(u8)ch << (8 * i);
	}
	return 0;
}

static int mdlt_cmd_create(char **argv, int argc)
{
	u32 tag = MDLT_DEFAULT_TAG;
	struct mdlpool *pool;
	unsigned int size;
	struct mdlt_pool *mp;

	if (argc < 3 || argc > 4 || kstrtouint(argv[2], 0, &size))
		return -EINVAL;
	if (argc == 4 && mdlt_parse_tag(argv[3], &tag))
		return -EINVAL;
	if (mdlt_find(argv[1]))
		return -EEXIST;

	mp = kzalloc(sizeof(*mp), GFP_KERNEL);
	if (!mp)
		return -ENOMEM;
	pool = mdlpool_create(argv[1], size, tag);
	if (IS_ERR(pool)) {
		kfree(mp);
		return PTR_ERR(pool);
	}
	mp->pool = pool;
	strscpy(mp->name, argv[1], sizeof(mp->name));
	INIT_LIST_HEAD(&mp->held);
	list_add_tail(&mp->node, &mdlt_pools);
	return 0;
}

static int mdlt_cmd_destroy(char **argv, int argc)
{
	struct mdlt_pool *mp;
	int err;

	if (argc != 2)
		return -EINVAL;
	mp = mdlt_find(argv[1]);
	if (!mp)
		return -ENOENT;
	/* Buffers still held are left out on purpose: the pool must refuse. */
	err = mdlpool_destroy(mp->pool);
	if (err)
		return err;
	list_del(&mp->node);
	kfree(mp);
	return 0;
}

/* ---- alloc, free: buffers held by this module ---- */

struct mdlt_batch {
	struct mdlt_pool *mp;
	unsigned int count;
	unsigned int len;	/* 0: leave the descriptor's length alone */
	struct list_head list;	/* alloc: the new buffers; free: the victims */
	int err;
};

static long mdlt_alloc_batch(void *arg)
{
	struct mdlt_batch *b = arg;
	unsigned int size = mdlpool_buffer_size(b->mp->pool);
	struct mdlt_held *h;
	unsigned int i;

	for (i = 0; i < b->count; i++) {
		h = kmalloc(sizeof(*h), GFP_KERNEL);
		if (!h)
			return -ENOMEM;
		h->sg = mdlpool_alloc(b->mp->pool, &h->buf);
		if (!h->sg) {
			kfree(h);
			return -ENOMEM;
		}
		h->seq = ++mdlt_seq;
		mdlt_fill(h->buf, size, 0, h->seq);
		if (b->len)
			h->sg->length = b->len;
		list_add_tail(&h->node, &b->list);
	}
	return 0;
}

static int mdlt_release(struct mdlt_pool *mp, struct mdlt_held *h)
{
	int err;

	if (!mdlt_intact(h->buf, mdlpool_buffer_size(mp->pool), 0, h->seq))
		mp->pattern_errors++;
	err = mdlpool_free(h->sg);
	kfree(h);
	return err;
}

static long mdlt_free_batch(void *arg)
{
	struct mdlt_batch *b = arg;
	struct mdlt_held *h, *tmp;
	int err = 0;

	list_for_each_entry_safe(h, tmp, &b->list, node) {
		list_del(&h->node);
		err = mdlt_release(b->mp, h) ?: err;
	}
	return err;
}

static int mdlt_cmd_alloc(char **argv, int argc)
{
	struct mdlt_batch b = { .list = LIST_HEAD_INIT(b.list) };
	unsigned int cpu_val = 0;
	struct mdlt_opt opts[] = {
		{ "cpu", 0, nr_cpu_ids - 1, &cpu_val },
		{ "len", 1, UINT_MAX, &b.len },
	};
	int cpu = -1;
	long err;

	if (argc < 3 || kstrtouint(argv[2], 0, &b.count) ||
	    !b.count || b.count > MDLT_COUNT_MAX)
		return -EINVAL;
	if (mdlt_parse_opts(argv + 3, argc - 3, opts, ARRAY_SIZE(opts)))
		return -EINVAL;
	b.mp = mdlt_find(argv[1]);
	if (!b.mp)
		return -ENOENT;
	if (b.len > mdlpool_buffer_size(b.mp->pool))
		return -EINVAL;
	if (opts[0].seen) {
		if (!cpu_online(cpu_val))
			return -EINVAL;
		cpu = cpu_val;
	}

	err = mdlt_on_cpu(cpu, mdlt_alloc_batch, &b);
	if (err) {
		/* All or nothing: give back what this command got. */
		mdlt_free_batch(&b);
		return err;
	}
	b.mp->nr_held += b.count;
	list_splice_tail(&b.list, &b.mp->held);
	return 0;
}

static int mdlt_cmd_free(char **argv, int argc)
{
	struct mdlt_batch b = { .list = LIST_HEAD_INIT(b.list) };
	unsigned int i;
	int cpu, err;

	if (argc < 3)
		return -EINVAL;
	b.mp = mdlt_find(argv[1]);
	if (!strcmp(argv[2], "all"))
		b.count = b.mp ? b.mp->nr_held : 0;
	else if (kstrtouint(argv[2], 0, &b.count) || !b.count)
		return -EINVAL;
	err = mdlt_parse_cpu(argv + 3, argc - 3, &cpu);
	if (err)
		return err;
	if (!b.mp)
		return -ENOENT;
	if (b.count > b.mp->nr_held)
		return -EINVAL;

	/* Newest first, so a free on the allocating CPU undoes an alloc. */
	for (i = 0; i < b.count; i++)
		list_move(b.mp->held.prev, &b.list);
	b.mp->nr_held -= b.count;
	return mdlt_on_cpu(cpu, mdlt_free_batch, &b);
}

/* ---- scavenge on every CPU ---- */

static long mdlt_scavenge_here(void *pool)
{
	mdlpool_scavenge(pool);
	return 0;
}

static int mdlt_cmd_scavenge(char **argv, int argc)
{
	struct mdlt_pool *mp;
	int cpu;

	if (argc != 2)
		return -EINVAL;
	mp = mdlt_find(argv[1]);
	if (!mp)
		return -ENOENT;
	cpus_read_lock();
	for_each_online_cpu(cpu)
		work_on_cpu(cpu, mdlt_scavenge_here, mp->pool);
	cpus_read_unlock();
	return 0;
}

/* ---- bad frees the pool must refuse ---- */

static int mdlt_badfree_foreign(struct mdlt_pool *mp)
{
	struct scatterlist *sg = kmalloc(sizeof(*sg), GFP_KERNEL);
	void *buf = kmalloc(64, GFP_KERNEL);
	int err = -ENOMEM;

	if (sg && buf) {
		sg_init_one(sg, buf, 64);
		err = mdlpool_free(sg);
	}
	kfree(buf);
	kfree(sg);
	return err;
}

/*
 * Allocate one buffer, hand the pool a damaged or stale descriptor for it,
 * then free it properly so that nothing stays out.  Returns what the pool
 * said to the bad free.
 */
static int mdlt_badfree_block(struct mdlt_pool *mp, const char *kind)
{
	struct scatterlist *sg, saved;
	void *buf;
	int err;

	sg = mdlpool_alloc(mp->pool, &buf);
	if (!sg)
		return -ENOMEM;
	saved = *sg;

	if (!strcmp(kind, "double")) {
		err = mdlpool_free(sg);
		if (err)
			return err;
		return mdlpool_free(sg);
	}
	if (!strcmp(kind, "altered")) {
		sg->offset += 8;
		err = mdlpool_free(sg);
	} else if (!strcmp(kind, "repointed")) {
		void *other = kmalloc(64, GFP_KERNEL);

		err = -ENOMEM;
		if (other) {
			sg_set_buf(sg, other, 64);
			err = mdlpool_free(sg);
		}
		kfree(other);
	} else {	/* "misaligned": a pointer into the middle of the block */
		err = mdlpool_free((void *)sg + sizeof(void *));
	}
	if (!err)	/* The pool took it: do not free the block twice. */
		return 0;
	*sg = saved;
	return mdlpool_free(sg) ?: err;
}

static int mdlt_cmd_badfree(char **argv, int argc)
{
	static const char * const kinds[] = {
		"foreign", "double", "altered", "repointed", "misaligned",
	};
	struct mdlt_pool *mp;

	if (argc != 3 || match_string(kinds, ARRAY_SIZE(kinds), argv[2]) < 0)
		return -EINVAL;
	mp = mdlt_find(argv[1]);
	if (!mp)
		return -ENOENT;
	if (!strcmp(argv[2], "foreign"))
		return mdlt_badfree_foreign(mp);
	return mdlt_badfree_block(mp, argv[2]);
}

/* ---- badcontext: calls from hardirq context must be refused ---- */

struct mdlt_hardirq {
	struct irq_work work;
	struct mdlpool *pool;
	struct scatterlist *live;	/* a buffer held in process context */
	bool in_hardirq;
	/* what the calls returned, kept so that nothing leaks if they worked */
	struct scatterlist *sg;
	struct scatterlist *sg_bh;
	void *buf;
	void *buf_bh;
	int free_err;
};

static void mdlt_hardirq_calls(struct irq_work *work)
{
	struct mdlt_hardirq *h = container_of(work, struct mdlt_hardirq, work);

	h->in_hardirq = in_hardirq();
	/* Not NULL, so that a refusal is seen to clear them. */
	h->buf = h;
	h->buf_bh = h;
	h->sg = mdlpool_alloc(h->pool, &h->buf);
	h->sg_bh = mdlpool_alloc_bh(h->pool, &h->buf_bh);
	h->free_err = mdlpool_free(h->live);
}

/*
 * From a hardirq (an irq_work, raised as a self-interrupt), allocate with
 * both entry points and free a live buffer: each must be refused, and the
 * buffer must still be ours to free afterwards.
 */
static int mdlt_badcontext_hardirq(struct mdlt_pool *mp)
{
	struct mdlt_hardirq h = {};
	void *buf;
	int err;

	h.pool = mp->pool;
	h.live = mdlpool_alloc(mp->pool, &buf);
	if (!h.live)
		return -ENOMEM;
	/* Hard: on PREEMPT_RT other irq_work runs in a thread. */
	h.work = IRQ_WORK_INIT_HARD(mdlt_hardirq_calls);
	irq_work_queue(&h.work);
	irq_work_sync(&h.work);
	/* Whatever the calls did, give back what they handed out. */
	err = h.free_err ? mdlpool_free(h.live) : 0;
	if (h.sg)
		err = mdlpool_free(h.sg) ?: err;
	if (h.sg_bh)
		err = mdlpool_free(h.sg_bh) ?: err;
	pr_info("badcontext %s: in_hardirq=%d alloc=%s alloc_bh=%s free=%d, cleanup=%d\n",
		mp->name, h.in_hardirq, h.sg ? "handed out" : "refused",
		h.sg_bh ? "handed out" : "refused", h.free_err, err);
	if (!h.in_hardirq)
		return -EOPNOTSUPP;	/* no self-interrupt: could not test */
	if (err || h.sg || h.buf || h.sg_bh || h.buf_bh || h.free_err != -EPERM)
		return -EIO;
	return 0;
}

/* What an allocation and a free made where sleeping is not allowed got. */
struct mdlt_atomic_calls {
	struct scatterlist *sg;
	void *buf;
	int free_err;
};

static DEFINE_RAW_SPINLOCK(mdlt_raw_lock);

static void mdlt_atomic_calls(struct mdlpool *pool, struct scatterlist *live,
			      struct mdlt_atomic_calls *r)
{
	r->buf = r;	/* not NULL, so that a refusal is seen to clear it */
	r->sg = mdlpool_alloc(pool, &r->buf);
	r->free_err = mdlpool_free(live);
}

/* Undo what the calls did; 1 if they were refused, 0 if they worked. */
static int mdlt_atomic_settle(struct scatterlist *live,
			      struct mdlt_atomic_calls *r)
{
	int err = 0;

	if (r->sg)
		err = mdlpool_free(r->sg);
	if (r->free_err)
		err = mdlpool_free(live) ?: err;
	if (err)
		return err;
	if (r->sg && r->buf && !r->free_err)
		return 0;
	if (!r->sg && !r->buf && r->free_err == -EPERM)
		return 1;
	return -EIO;
}

/*
 * Allocate and free with preemption off, and on PREEMPT_RT also under a raw
 * spinlock (elsewhere lockdep's raw-lock nesting check would object to the
 * section's lock inside one, which is the RT rule it stands for).  On
 * PREEMPT_RT the pool's sections sleep, so the calls must be refused
 * (-EPERM); elsewhere they must work (0).  Anything in between is -EIO.
 * The script judges which answer this kernel owes.
 */
static int mdlt_badcontext_atomic(struct mdlt_pool *mp)
{
	struct mdlt_atomic_calls r[2] = {};
	int nr = IS_ENABLED(CONFIG_PREEMPT_RT) ? 2 : 1;
	struct scatterlist *live[2];
	int refused[2], i;
	void *buf;

	for (i = 0; i < nr; i++) {
		live[i] = mdlpool_alloc(mp->pool, &buf);
		if (!live[i]) {
			while (i--)
				mdlpool_free(live[i]);
			return -ENOMEM;
		}
	}
	preempt_disable();
	mdlt_atomic_calls(mp->pool, live[0], &r[0]);
	preempt_enable();
	if (nr == 2) {
		raw_spin_lock(&mdlt_raw_lock);
		mdlt_atomic_calls(mp->pool, live[1], &r[1]);
		raw_spin_unlock(&mdlt_raw_lock);
	}
	for (i = 0; i < nr; i++) {
		refused[i] = mdlt_atomic_settle(live[i], &r[i]);
		pr_info("badcontext %s %s: alloc=%s free=%d\n", mp->name,
			i ? "raw_spin_lock" : "preempt_disable",
			r[i].sg ? "handed out" : "refused", r[i].free_err);
	}
	if (refused[0] < 0 || (nr == 2 && refused[1] != refused[0]))
		return -EIO;
	return refused[0] ? -EPERM : 0;
}

static int mdlt_cmd_badcontext(char **argv, int argc)
{
	static const char * const modes[] = { "hardirq", "atomic" };
	struct mdlt_pool *mp;
	int mode = 0;

	if (argc < 2 || argc > 3)
		return -EINVAL;
	if (argc == 3) {
		mode = match_string(modes, ARRAY_SIZE(modes), argv[2]);
		if (mode < 0)
			return -EINVAL;
	}
	mp = mdlt_find(argv[1]);
	if (!mp)
		return -ENOENT;
	if (mode == 1)
		return mdlt_badcontext_atomic(mp);
	return mdlt_badcontext_hardirq(mp);
}

/*
 * Damage a buffer the way a buggy caller would, for pools created with
 * mdlpool's debug_checks: one byte past its end, or a write after its
 * free.  Runs on one CPU so that the write after free lands in the block
 * the next allocation there hands out again.
 */
static long mdlt_corrupt_here(void *arg)
{
	struct mdlt_batch *b = arg;
	unsigned int size = mdlpool_buffer_size(b->mp->pool);
	struct scatterlist *sg, *again;
	void *buf, *buf2;
	int err;

	sg = mdlpool_alloc(b->mp->pool, &buf);
	if (!sg)
		return -ENOMEM;
	if (b->len) {		/* overrun */
		((u8 *)buf)[size] ^= 0xff;
		return mdlpool_free(sg);
	}
	err = mdlpool_free(sg);
	if (err)
		return err;
	((u8 *)buf)[0] ^= 0xff;
	again = mdlpool_alloc(b->mp->pool, &buf2);
	if (!again)
		return -ENOMEM;
	err = buf2 == buf ? 0 : -EAGAIN;
	return mdlpool_free(again) ?: err;
}

/*
 * Free two buffers, then write the byte before the one freed last, as a
 * caller writing just before its buffer after the free would: that lands
 * in the block's header while the block is on the free list.  The next
 * allocation must not hand that block out, and must not fail either: the
 * other block is there.
 */
static long mdlt_underrun_here(void *arg)
{
	struct mdlt_batch *b = arg;
	struct scatterlist *first, *second, *again;
	void *buf, *buf2, *buf3;
	int err;

	first = mdlpool_alloc(b->mp->pool, &buf);
	if (!first)
		return -ENOMEM;
	second = mdlpool_alloc(b->mp->pool, &buf2);
	if (!second) {
		mdlpool_free(first);
		return -ENOMEM;
	}
	err = mdlpool_free(second) ?: mdlpool_free(first);
	if (err)
		return err;
	((u8 *)buf)[-1] ^= 0xff;
	again = mdlpool_alloc(b->mp->pool, &buf3);
	if (!again)
		return -ENOMEM;
	err = buf3 == buf ? -EIO : 0;
	return mdlpool_free(again) ?: err;
}

static int mdlt_cmd_corrupt(char **argv, int argc)
{
	static const char * const kinds[] = { "overrun", "uaf", "underrun" };
	struct mdlt_batch b = {};
	int kind;

	if (argc != 3)
		return -EINVAL;
	kind = match_string(kinds, ARRAY_SIZE(kinds), argv[2]);
	if (kind < 0)
		return -EINVAL;
	b.mp = mdlt_find(argv[1]);
	if (!b.mp)
		return -ENOENT;
	if (kind == 2)
		return mdlt_on_cpu(cpumask_first(cpu_online_mask),
				   mdlt_underrun_here, &b);
	/* Without a redzone, the byte past the end belongs to another block. */
	if (!mdlpool_debug_checks(b.mp->pool))
		return -EINVAL;
	b.len = kind == 0;
	return mdlt_on_cpu(cpumask_first(cpu_online_mask), mdlt_corrupt_here, &b);
}

/* ---- stress: kthreads on every online CPU, some frees handed across ---- */

struct mdlt_stress;

struct mdlt_item {
	struct llist_node node;
	struct scatterlist *sg;
	void *buf;
	u32 owner;
	u32 seq;
};

/* A buffer the softirq side of a worker holds in one of its slots. */
struct mdlt_slot {
	struct scatterlist *sg;
	void *buf;
	u32 seq;
};

#define MDLT_TICK_SLOTS		8

/*
 * The softirq side of a worker: a timer on the worker's CPU that, every
 * jiffy, frees what other workers handed over and then allocates or frees
 * in its own slots, so that softirqs use the same CPU's share of the pool
 * as the worker task they interrupt.  Its state is its own: a timer
 * callback never runs twice at once, even if hotplug moves the timer.
 */
struct mdlt_ticker {
	struct timer_list timer;
	struct mdlt_worker *w;
	bool stop;
	u32 seq;
	struct rnd_state rnd;
	struct mdlt_slot slots[MDLT_TICK_SLOTS];
	struct mdlt_stress_result res;
};

struct mdlt_worker {
	struct mdlt_stress *st;
	struct task_struct *task;
	unsigned int id;
	int cpu;
	struct llist_head inbox;	/* buffers other workers want freed here */
	struct rnd_state rnd;
	struct mdlt_stress_result res;
	struct mdlt_ticker tick;
};

struct mdlt_stress {
	struct mdlpool *pool;
	unsigned int nr_workers;
	unsigned int ops;
	unsigned int remote_pct;
	unsigned int hold;
	unsigned int softirq_ops;	/* per tick and worker; 0: no ticker */
	bool timed;
	unsigned long deadline;
	atomic_t running;
	atomic_t unfinished;
	struct completion done;
	struct mdlt_worker *w;
};

/* Checks a buffer's pattern and frees it, counting in @res. */
static void mdlt_buf_free(struct mdlt_stress *st, struct mdlt_stress_result *res,
			  struct scatterlist *sg, void *buf, u32 owner, u32 seq)
{
	if (!mdlt_intact(buf, mdlpool_buffer_size(st->pool), owner, seq))
		res->mismatches++;
	if (mdlpool_free(sg))
		res->free_errors++;
	res->frees++;
}

static void mdlt_item_free(struct mdlt_stress *st, struct mdlt_stress_result *res,
			   struct mdlt_item *it)
{
	mdlt_buf_free(st, res, it->sg, it->buf, it->owner, it->seq);
	kfree(it);
}

/*
 * Both the worker and its ticker empty the inbox; llist_del_all() takes
 * the whole list at once, so two consumers are safe.
 */
static void mdlt_drain_inbox(struct mdlt_worker *w, struct mdlt_stress_result *res)
{
	struct llist_node *list = llist_del_all(&w->inbox);
	struct mdlt_item *it, *tmp;

	llist_for_each_entry_safe(it, tmp, list, node) {
		mdlt_item_free(w->st, res, it);
		res->remote_frees++;
	}
}

static struct mdlt_item *mdlt_item_alloc(struct mdlt_worker *w, u32 seq)
{
	struct mdlt_item *it = kmalloc(sizeof(*it), GFP_KERNEL);

	if (!it)
		return NULL;
	it->sg = mdlpool_alloc(w->st->pool, &it->buf);
	if (!it->sg) {
		w->res.alloc_failures++;
		kfree(it);
		return NULL;
	}
	it->owner = w->id;
	it->seq = seq;
	mdlt_fill(it->buf, mdlpool_buffer_size(w->st->pool), w->id, seq);
	w->res.allocs++;
	return it;
}

/* A worker on another CPU to hand a free to, or NULL if there is none. */
static struct mdlt_worker *mdlt_pick_peer(struct mdlt_worker *w)
{
	struct mdlt_stress *st = w->st;
	unsigned int i, start = prandom_u32_state(&w->rnd) % st->nr_workers;

	for (i = 0; i < st->nr_workers; i++) {
		struct mdlt_worker *peer = &st->w[(start + i) % st->nr_workers];

		if (peer->cpu != w->cpu)
			return peer;
	}
	return NULL;
}

static void mdlt_item_release(struct mdlt_worker *w, struct mdlt_item *it)
{
	struct mdlt_worker *peer = NULL;

	if (prandom_u32_state(&w->rnd) % 100 < w->st->remote_pct)
		peer = mdlt_pick_peer(w);
	if (peer)
		llist_add(&it->node, &peer->inbox);
	else
		mdlt_item_free(w->st, &w->res, it);
}

/* Ticker pattern owners follow the workers' ids, so no two fills match. */
static u32 mdlt_ticker_owner(struct mdlt_ticker *t)
{
	return t->w->st->nr_workers + t->w->id;
}

static void mdlt_ticker_step(struct mdlt_ticker *t)
{
	struct mdlt_stress *st = t->w->st;
	unsigned int size = mdlpool_buffer_size(st->pool);
	struct mdlt_slot *s;

	s = &t->slots[prandom_u32_state(&t->rnd) % MDLT_TICK_SLOTS];
	if (s->sg) {
		mdlt_buf_free(st, &t->res, s->sg, s->buf, mdlt_ticker_owner(t),
			      s->seq);
		s->sg = NULL;
	} else {
		/* Both entry points: softirq is where _bh callers live. */
		s->seq = t->seq++;
		s->sg = s->seq & 1 ? mdlpool_alloc_bh(st->pool, &s->buf) :
				     mdlpool_alloc(st->pool, &s->buf);
		if (!s->sg) {
			t->res.alloc_failures++;
			return;
		}
		mdlt_fill(s->buf, size, mdlt_ticker_owner(t), s->seq);
		t->res.allocs++;
	}
	t->res.softirq_ops++;
}

static void mdlt_ticker_fn(struct timer_list *timer)
{
	struct mdlt_ticker *t = from_timer(t, timer, timer);
	unsigned int i;

	mdlt_drain_inbox(t->w, &t->res);
	for (i = 0; i < t->w->st->softirq_ops; i++)
		mdlt_ticker_step(t);
	if (!READ_ONCE(t->stop))
		mod_timer(&t->timer, jiffies + 1);
}

/* From the worker task: a pinned timer starts on the worker's CPU. */
static void mdlt_ticker_start(struct mdlt_worker *w)
{
	struct mdlt_ticker *t = &w->tick;

	t->w = w;
	prandom_seed_state(&t->rnd, get_random_u64());
	timer_setup(&t->timer, mdlt_ticker_fn, TIMER_PINNED);
	mod_timer(&t->timer, jiffies + 1);
}

/*
 * After del_timer_sync() the callback is neither running nor queued, and
 * with stop set it cannot queue itself again, so the slots are ours.
 */
static void mdlt_ticker_stop(struct mdlt_ticker *t)
{
	unsigned int i;

	WRITE_ONCE(t->stop, true);
	del_timer_sync(&t->timer);
	for (i = 0; i < MDLT_TICK_SLOTS; i++) {
		struct mdlt_slot *s = &t->slots[i];

		if (s->sg)
			mdlt_buf_free(t->w->st, &t->res, s->sg, s->buf,
				      mdlt_ticker_owner(t), s->seq);
	}
}

static int mdlt_worker_fn(void *arg)
{
	struct mdlt_worker *w = arg;
	struct mdlt_stress *st = w->st;
	struct mdlt_item **slots;
	unsigned int i, slot;

	slots = kcalloc(st->hold, sizeof(*slots), GFP_KERNEL);
	if (st->softirq_ops)
		mdlt_ticker_start(w);
	for (i = 0; slots && i < st->ops; i++) {
		if (st->timed && time_after(jiffies, st->deadline))
			break;
		mdlt_drain_inbox(w, &w->res);
		slot = prandom_u32_state(&w->rnd) % st->hold;
		if (slots[slot]) {
			mdlt_item_release(w, slots[slot]);
			slots[slot] = NULL;
		} else {
			slots[slot] = mdlt_item_alloc(w, i);
		}
		w->res.ops++;
		if (!(i % 64))
			cond_resched();
	}
	for (i = 0; slots && i < st->hold; i++) {
		if (slots[i])
			mdlt_item_free(st, &w->res, slots[i]);
	}
	kfree(slots);
	if (!slots)
		w->res.alloc_failures++;
	if (st->softirq_ops)
		mdlt_ticker_stop(&w->tick);

	/* Release: our last hand-off is visible before we count ourselves out. */
	smp_mb__before_atomic();
	atomic_dec(&st->running);
	while (atomic_read_acquire(&st->running)) {
		mdlt_drain_inbox(w, &w->res);
		usleep_range(100, 200);
	}
	mdlt_drain_inbox(w, &w->res);

	if (atomic_dec_and_test(&st->unfinished))
		complete(&st->done);
	/* Stay alive until kthread_stop() so the stopper's task ref is valid. */
	while (!kthread_should_stop()) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (!kthread_should_stop())
			schedule();
		__set_current_state(TASK_RUNNING);
	}
	return 0;
}

static void mdlt_stress_add(struct mdlt_stress_result *r,
			    const struct mdlt_stress_result *w)
{
	r->ops += w->ops;
	r->softirq_ops += w->softirq_ops;
	r->allocs += w->allocs;
	r->frees += w->frees;
	r->remote_frees += w->remote_frees;
	r->mismatches += w->mismatches;
	r->alloc_failures += w->alloc_failures;
	r->free_errors += w->free_errors;
}

static void mdlt_stress_sum(struct mdlt_stress *st, struct mdlt_stress_result *r)
{
	unsigned int i;

	memset(r, 0, sizeof(*r));
	r->threads = st->nr_workers;
	for (i = 0; i < st->nr_workers; i++) {
		mdlt_stress_add(r, &st->w[i].res);
		mdlt_stress_add(r, &st->w[i].tick.res);
	}
}

static int mdlt_stress_start(struct mdlt_stress *st)
{
	unsigned int i = 0, t;
	int cpu;

	for_each_online_cpu(cpu) {
		for (t = 0; t < st->nr_workers / num_online_cpus(); t++, i++) {
			struct mdlt_worker *w = &st->w[i];

			w->st = st;
			w->id = i;
			w->cpu = cpu;
			init_llist_head(&w->inbox);
			prandom_seed_state(&w->rnd, get_random_u64());
			w->task = kthread_create(mdlt_worker_fn, w, "mdlstress/%u", i);
			if (IS_ERR(w->task))
				return PTR_ERR(w->task);
			kthread_bind(w->task, cpu);
		}
	}
	return 0;
}

static int mdlt_cmd_stress(char **argv, int argc)
{
	unsigned int threads = 1, ops = 20000, remote = 50, hold = 16, secs = 0;
	unsigned int softirq = 0;
	struct mdlt_opt opts[] = {
		{ "threads", 1, 8, &threads },
		{ "ops", 1, 100000000, &ops },
		{ "remote", 0, 100, &remote },
		{ "hold", 1, 4096, &hold },
		{ "secs", 1, 86400, &secs },
		{ "softirq", 0, 64, &softirq },
	};
	struct mdlt_stress st = {};
	struct mdlt_pool *mp;
	unsigned int i;
	int err;

	if (argc < 2 || mdlt_parse_opts(argv + 2, argc - 2, opts, ARRAY_SIZE(opts)))
		return -EINVAL;
	mp = mdlt_find(argv[1]);
	if (!mp)
		return -ENOENT;

	st.pool = mp->pool;
	/* With secs= alone, time is the only limit. */
	st.ops = secs && !opts[1].seen ? UINT_MAX : ops;
	st.deadline = jiffies + secs * HZ;
	st.timed = secs;
	st.remote_pct = remote;
	st.hold = hold;
	st.softirq_ops = softirq;
	init_completion(&st.done);
	/*
	 * Hold the online set still only while the workers are created and
	 * bound; CPUs may go offline and online while they run.
	 */
	cpus_read_lock();
	st.nr_workers = threads * num_online_cpus();
	atomic_set(&st.running, st.nr_workers);
	atomic_set(&st.unfinished, st.nr_workers);
	st.w = kcalloc(st.nr_workers, sizeof(*st.w), GFP_KERNEL);
	err = st.w ? mdlt_stress_start(&st) : -ENOMEM;
	cpus_read_unlock();
	if (err) {
		for (i = 0; st.w && i < st.nr_workers; i++) {
			if (!IS_ERR_OR_NULL(st.w[i].task))
				kthread_stop(st.w[i].task);
		}
		goto out;
	}
	for (i = 0; i < st.nr_workers; i++)
		wake_up_process(st.w[i].task);
	wait_for_completion(&st.done);
	for (i = 0; i < st.nr_workers; i++)
		kthread_stop(st.w[i].task);

	mdlt_stress_sum(&st, &mp->stress);
	mp->stressed = true;
	pr_info("stress %s: threads=%u ops=%lu allocs=%lu frees=%lu remote_frees=%lu mismatches=%lu alloc_failures=%lu\n",
		mp->name, mp->stress.threads, mp->stress.ops, mp->stress.allocs,
		mp->stress.frees, mp->stress.remote_frees,
		mp->stress.mismatches, mp->stress.alloc_failures);
out:
	kfree(st.w);
	return err;
}

/* ---- the control file ---- */

struct mdlt_cmd {
	const char *name;
	int (*run)(char **argv, int argc);
};

static const struct mdlt_cmd mdlt_cmds[] = {
	{ "create", mdlt_cmd_create },
	{ "destroy", mdlt_cmd_destroy },
	{ "alloc", mdlt_cmd_alloc },
	{ "free", mdlt_cmd_free },
	{ "scavenge", mdlt_cmd_scavenge },
	{ "badfree", mdlt_cmd_badfree },
	{ "badcontext", mdlt_cmd_badcontext },
	{ "corrupt", mdlt_cmd_corrupt },
	{ "stress", mdlt_cmd_stress },
	{ "bench", mdlt_cmd_bench },
};

static int mdlt_run(char *line)
{
	char **argv;
	int argc, i, err = -EINVAL;

	argv = argv_split(GFP_KERNEL, line, &argc);
	if (!argv)
		return -ENOMEM;
	if (argc < 1 || argc > MDLT_ARGS_MAX)
		goto out;
	for (i = 0; i < ARRAY_SIZE(mdlt_cmds); i++) {
		if (!strcmp(argv[0], mdlt_cmds[i].name)) {
			mutex_lock(&mdlt_mutex);
			err = mdlt_cmds[i].run(argv, argc);
			mutex_unlock(&mdlt_mutex);
			break;
		}
	}
out:
	argv_free(argv);
	return err;
}

static bool mdlt_line_printable(const char *s)
{
	for (; *s; s++) {
		if (!isprint(*s) && !isspace(*s))
			return false;
	}
	return true;
}

static ssize_t mdlt_control_write(struct file *file,
				  const char __user *ubuf, size_t count,
				  loff_t *ppos)
{
	char *line;
	int err;

	if (!count || count > MDLT_CMD_MAX)
		return -EINVAL;
	line = memdup_user_nul(ubuf, count);
	if (IS_ERR(line))
		return PTR_ERR(line);
	err = -EINVAL;
	if (strlen(line) == count && mdlt_line_printable(line))
		err = mdlt_run(line);
	kfree(line);
	return err ?: count;
}

static int mdlt_control_show(struct seq_file *m, void *unused)
{
	struct mdlt_pool *mp;
	struct mdlt_held *h;

	mutex_lock(&mdlt_mutex);
	list_for_each_entry(mp, &mdlt_pools, node) {
		unsigned int size = mdlpool_buffer_size(mp->pool);
		unsigned long full = 0;

		list_for_each_entry(h, &mp->held, node)
			full += h->sg->length == size;
		seq_printf(m, "pool %s held=%lu held_full_length=%lu pattern_errors=%lu",
			   mp->name, mp->nr_held, full, mp->pattern_errors);
		/* Lets a script find the newest buffer's page in a page trace. */
		if (!list_empty(&mp->held)) {
			h = list_last_entry(&mp->held, struct mdlt_held, node);
			seq_printf(m, " newest_pfn=0x%lx",
				   page_to_pfn(sg_page(h->sg)));
		}
		seq_putc(m, '\n');
		if (!mp->stressed)
			continue;
		seq_printf(m, "stress %s threads=%u ops=%lu softirq_ops=%lu allocs=%lu frees=%lu remote_frees=%lu mismatches=%lu alloc_failures=%lu free_errors=%lu\n",
			   mp->name, mp->stress.threads, mp->stress.ops,
			   mp->stress.softirq_ops,
			   mp->stress.allocs, mp->stress.frees,
			   mp->stress.remote_frees, mp->stress.mismatches,
			   mp->stress.alloc_failures, mp->stress.free_errors);
	}
	mutex_unlock(&mdlt_mutex);
	return 0;
}

static int mdlt_control_open(struct inode *inode, struct file *file)
{
	return single_open(file, mdlt_control_show, NULL);
}

static const struct file_operations mdlt_control_fops = {
	.owner		= THIS_MODULE,
	.open		= mdlt_control_open,
	.read		= seq_read,
	.llseek		= seq_lseek,
	.release	= single_release,
	.write		= mdlt_control_write,
};

static int __init mdlt_init(void)
{
	struct dentry *root = debugfs_lookup("mdlpool", NULL);

	if (IS_ERR_OR_NULL(root)) {
		pr_err("mdlpool's debugfs directory is missing\n");
		return -ENODEV;
	}
	mdlt_control = debugfs_create_file("control", 0600, root, NULL,
					   &mdlt_control_fops);
	mdlt_bench_init(root);
	dput(root);
	return 0;
}

static void __exit mdlt_exit(void)
{
	struct mdlt_pool *mp, *tmp;
	struct mdlt_held *h, *htmp;

	debugfs_remove(mdlt_control);
	mdlt_bench_exit();
	list_for_each_entry_safe(mp, tmp, &mdlt_pools, node) {
		list_for_each_entry_safe(h, htmp, &mp->held, node)
			mdlt_release(mp, h);
		mdlpool_destroy(mp->pool);
		kfree(mp);
	}
}

module_init(mdlt_init);
module_exit(mdlt_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("debugfs driver and stress test for mdlpool");
