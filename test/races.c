// SPDX-License-Identifier: GPL-2.0
/*
 * mdlpool_test commands that make two callers meet inside the pool on
 * purpose: two frees of one block at the same moment, and, on PREEMPT_RT,
 * an allocation under a spinlock that another task of the same CPU takes
 * with bottom halves off.  Each reports what it saw in the kernel log and
 * fails with an errno when the pool did not keep its promise.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bottom_half.h>
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "mdlt.h"
#include "options.h"

/* ---- racefree: an owner free and a remote free of one block at once ---- */

struct mdlt_race {
	struct mdlpool *pool;
	unsigned int rounds;
	struct scatterlist *victim;
	/* The round both sides free in; odd while it runs. */
	atomic_t go;
	/* Rounds the peer has finished. */
	atomic_t peer_done;
	unsigned long accepted[2];	/* [0] owner, [1] peer */
	unsigned long refused[2];
	unsigned long allocs;
	bool keeper_intact;
	struct work_struct peer;
};

/* A delay that differs from round to round, so the two frees meet. */
static void mdlt_race_skew(unsigned int round)
{
	unsigned int i;

	for (i = 0; i < round % 61; i++)
		cpu_relax();
}

static void mdlt_race_count(struct mdlt_race *r, int side, int err)
{
	if (!err)
		r->accepted[side]++;
	else
		r->refused[side]++;
}

static void mdlt_race_peer(struct work_struct *work)
{
	struct mdlt_race *r = container_of(work, struct mdlt_race, peer);
	unsigned int round;

	for (round = 0; round < r->rounds; round++) {
		while (atomic_read_acquire(&r->go) != 2 * round + 1)
			cpu_relax();
		if (round & 1)
			mdlt_race_skew(round / 2);
		mdlt_race_count(r, 1, mdlpool_free(READ_ONCE(r->victim)));
		atomic_set_release(&r->peer_done, round + 1);
	}
}

/*
 * On the owner CPU, in task context: a keeper buffer stays out of the
 * slab the victims come from; each round allocates a victim there and
 * frees it while the peer frees it too.  Then a scavenge, which gives back
 * every slab the pool counts as idle: the keeper's must not be one.
 */
static long mdlt_race_owner(void *arg)
{
	unsigned int size = mdlpool_buffer_size(((struct mdlt_race *)arg)->pool);
	struct mdlt_race *r = arg;
	struct scatterlist *keeper, *sg;
	void *kbuf, *buf;
	unsigned int round;
	int err = 0;

	keeper = mdlpool_alloc(r->pool, &kbuf);
	if (!keeper)
		return -ENOMEM;
	mdlt_fill(kbuf, size, 1, 0);
	for (round = 0; round < r->rounds; round++) {
		sg = mdlpool_alloc(r->pool, &buf);
		if (!sg) {
			err = -ENOMEM;
			break;
		}
		r->allocs++;
		WRITE_ONCE(r->victim, sg);
		atomic_set_release(&r->go, 2 * round + 1);
		if (!(round & 1))
			mdlt_race_skew(round / 2);
		mdlt_race_count(r, 0, mdlpool_free(sg));
		while (atomic_read_acquire(&r->peer_done) != round + 1)
			cpu_relax();
		/* A double free accepted twice sits on two lists: stop there. */
		if (r->accepted[0] + r->accepted[1] != r->allocs)
			break;
	}
	/* Release the peer from any round it still waits for. */
	for (; round < r->rounds; round++) {
		atomic_set_release(&r->go, 2 * round + 1);
		while (atomic_read_acquire(&r->peer_done) != round + 1)
			cpu_relax();
	}
	mdlpool_scavenge(r->pool);
	r->keeper_intact = mdlt_intact(kbuf, size, 1, 0);
	if (mdlpool_free(keeper))
		err = err ?: -EUCLEAN;
	return err;
}

/*
 * racefree POOL ROUNDS [cpu=A] [peer=B]: ROUNDS buffers, each freed at once
 * by its owner (CPU A, task context) and by CPU B.  Exactly one free of
 * each must be accepted, and the scavenge afterwards (with the lifetime
 * the script set) must not take the keeper's slab: -EUCLEAN otherwise.
 */
int mdlt_cmd_racefree(char **argv, int argc)
{
	unsigned int owner = 0, peer = 1;
	struct mdlt_opt opts[] = {
		{ "cpu", 0, nr_cpu_ids - 1, &owner },
		{ "peer", 0, nr_cpu_ids - 1, &peer },
	};
	struct mdlt_race *r;
	struct mdlt_pool *mp;
	long err;

	if (argc < 3 || mdlt_parse_opts(argv + 3, argc - 3, opts, ARRAY_SIZE(opts)))
		return -EINVAL;
	mp = mdlt_find(argv[1]);
	if (!mp)
		return -ENOENT;
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	if (kstrtouint(argv[2], 0, &r->rounds) || !r->rounds || owner == peer) {
		kfree(r);
		return -EINVAL;
	}
	r->pool = mp->pool;
	INIT_WORK(&r->peer, mdlt_race_peer);
	cpus_read_lock();
	if (!cpu_online(owner) || !cpu_online(peer)) {
		cpus_read_unlock();
		kfree(r);
		return -ENODEV;
	}
	/* A bound queue: the peer must run on CPU @peer, apart from the owner. */
	queue_work_on(peer, system_highpri_wq, &r->peer);
	err = work_on_cpu(owner, mdlt_race_owner, r);
	flush_work(&r->peer);
	cpus_read_unlock();
	pr_info("racefree %s: rounds=%u allocs=%lu accepted=%lu+%lu refused=%lu+%lu keeper_intact=%d\n",
		mp->name, r->rounds, r->allocs, r->accepted[0], r->accepted[1],
		r->refused[0], r->refused[1], r->keeper_intact);
	if (!err && (r->accepted[0] + r->accepted[1] != r->allocs ||
		     !r->keeper_intact))
		err = -EUCLEAN;
	kfree(r);
	return err;
}

/* ---- rtabba: PREEMPT_RT, spin_lock(X) + allocation against spin_lock_bh(X) ---- */

struct mdlt_abba {
	struct mdlpool *pool;
	spinlock_t lock;		/* X: the allocating task holds it */
	struct completion finished;
};

/*
 * The other task: bottom halves off (on PREEMPT_RT, the CPU's softirq
 * lock), then X, which the allocating task holds.
 */
static int mdlt_abba_bh_task(void *arg)
{
	struct mdlt_abba *a = arg;

	spin_lock_bh(&a->lock);
	spin_unlock_bh(&a->lock);
	complete(&a->finished);
	return 0;
}

static long mdlt_abba_alloc(void *arg)
{
	struct mdlt_abba *a = arg;
	struct task_struct *t;
	struct scatterlist *sg;
	void *buf;

	t = kthread_create(mdlt_abba_bh_task, a, "mdlt_abba");
	if (IS_ERR(t))
		return PTR_ERR(t);
	kthread_bind(t, raw_smp_processor_id());
	sched_set_fifo(t);
	spin_lock(&a->lock);
	/*
	 * The task runs first, being FIFO on our CPU, and blocks on X with
	 * bottom halves off; we go on once it waits.
	 */
	wake_up_process(t);
	while (task_is_running(t))
		cpu_relax();
	sg = mdlpool_alloc(a->pool, &buf);
	spin_unlock(&a->lock);
	wait_for_completion(&a->finished);
	if (!sg)
		return -ENOMEM;
	return mdlpool_free(sg);
}

/*
 * rtabba POOL: on PREEMPT_RT, an allocation under spin_lock(X) while a
 * task of the same CPU holds bottom halves off and waits for X.  A pool
 * whose section took the softirq lock would deadlock here.  Elsewhere the
 * spinlock keeps the other task off the CPU: -EOPNOTSUPP.
 */
int mdlt_cmd_rtabba(char **argv, int argc)
{
	struct mdlt_abba a;
	struct mdlt_pool *mp;

	if (!IS_ENABLED(CONFIG_PREEMPT_RT))
		return -EOPNOTSUPP;
	if (argc != 2)
		return -EINVAL;
	mp = mdlt_find(argv[1]);
	if (!mp)
		return -ENOENT;
	a.pool = mp->pool;
	spin_lock_init(&a.lock);
	init_completion(&a.finished);
	return work_on_cpu_safe(0, mdlt_abba_alloc, &a);
}
