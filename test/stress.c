// SPDX-License-Identifier: GPL-2.0
/*
 * mdlpool_test stress: kthreads on every online CPU allocate, hold and free
 * buffers of one pool, handing some frees to a kthread on another CPU, and
 * optionally a timer softirq per kthread doing the same under it.  Every
 * buffer carries a pattern naming its owner, checked before each free; the
 * workers' own counts are compared with the pool's afterwards.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/llist.h>
#include <linux/prandom.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/timer.h>

#include "mdlt.h"
#include "options.h"

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

int mdlt_cmd_stress(char **argv, int argc)
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
