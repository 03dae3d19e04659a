// SPDX-License-Identifier: GPL-2.0
/*
 * mdlpool_test commands on pools: create and destroy them, allocate and free
 * buffers the module holds, and provoke the misuse the pool must refuse
 * (bad frees, calls from contexts it does not support, damaged buffers).
 * Each command either does all it says or fails with an errno and changes
 * nothing, bar the misuse it reports on.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/ctype.h>
#include <linux/dma-direct.h>
#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <linux/irq_work.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/preempt.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#define MDLPOOL_COMPAT_SWIOTLB
#include "mdlpool_compat.h"
#include "mdlt.h"
#include "options.h"

#define MDLT_COUNT_MAX		1000000
#define MDLT_DEFAULT_TAG	MDLPOOL_TAG('M', 'd', 'l', 'T')

static u32 mdlt_seq;

/* Every buffer carries a pattern derived from who filled it and when. */
static u8 mdlt_pattern_byte(u32 owner, u32 seq, unsigned int i)
{
	return (u8)(owner * 131 + seq * 7 + i);
}

void mdlt_fill(void *buf, unsigned int len, u32 owner, u32 seq)
{
	u8 *b = buf;
	unsigned int i;

	for (i = 0; i < len; i++)
		b[i] = mdlt_pattern_byte(owner, seq, i);
}

bool mdlt_intact(const void *buf, unsigned int len, u32 owner, u32 seq)
{
	const u8 *b = buf;
	unsigned int i;

	for (i = 0; i < len; i++) {
		if (b[i] != mdlt_pattern_byte(owner, seq, i))
			return false;
	}
	return true;
}

struct mdlt_pool *mdlt_find(const char *name)
{
	struct mdlt_pool *mp;

	list_for_each_entry(mp, &mdlt_pools, node) {
		if (!strcmp(mp->name, name))
			return mp;
	}
	return NULL;
}

/* Parse an optional cpu=N; -1 means "wherever the writer runs". */
/* The CPU a parsed cpu= option names, or -1 (any) where none was given. */
static int mdlt_opt_cpu(const struct mdlt_opt *opt, int *cpu)
{
	*cpu = -1;
	if (!opt->seen)
		return 0;
	if (!cpu_online(*opt->val))
		return -EINVAL;
	*cpu = *opt->val;
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

/* The PCI device at DOMAIN:BUS:SLOT.FN, referenced; or an errno. */
static struct pci_dev *mdlt_pci_dev(const char *addr)
{
	unsigned int domain, bus, slot, fn;
	struct pci_dev *pdev;
	char end;

	if (sscanf(addr, "%x:%x:%x.%x%c", &domain, &bus, &slot, &fn, &end) != 4 ||
	    bus > 0xff || slot > 0x1f || fn > 7)
		return ERR_PTR(-EINVAL);
	pdev = pci_get_domain_bus_and_slot(domain, bus, PCI_DEVFN(slot, fn));
	return pdev ?: ERR_PTR(-ENODEV);
}

static int mdlt_parse_dir(const char *s, enum dma_data_direction *dir)
{
	static const char * const names[] = { "bidi", "to", "from" };
	static const enum dma_data_direction dirs[] = {
		DMA_BIDIRECTIONAL, DMA_TO_DEVICE, DMA_FROM_DEVICE,
	};
	int i = match_string(names, ARRAY_SIZE(names), s);

	if (i < 0)
		return -EINVAL;
	*dir = dirs[i];
	return 0;
}

static int mdlt_parse_gfp(const char *s, gfp_t *gfp)
{
	static const char * const names[] = { "nowait", "kernel", "noio" };
	static const gfp_t flags[] = { 0, GFP_KERNEL, GFP_NOIO };
	int i = match_string(names, ARRAY_SIZE(names), s);

	if (i < 0)
		return -EINVAL;
	*gfp = flags[i];
	return 0;
}

/* node=N, or node=any for NUMA_NO_NODE; the pool judges N itself. */
static int mdlt_parse_node(const char *s, int *node)
{
	if (!strcmp(s, "any")) {
		*node = NUMA_NO_NODE;
		return 0;
	}
	return kstrtoint(s, 0, node);
}

static int mdlt_parse_checks(const char *s, unsigned int *flags)
{
	bool on;

	if (kstrtobool(s, &on))
		return -EINVAL;
	*flags = on ? MDLPOOL_F_CHECKS : MDLPOOL_F_NO_CHECKS;
	return 0;
}

/* One create option into @p; @native is set by those only params can say. */
static int mdlt_parse_create_opt(const char *arg, struct mdlpool_params *p,
				 struct pci_dev **pdev, bool *native)
{
	if (str_has_prefix(arg, "dev=") && !*pdev) {
		*pdev = mdlt_pci_dev(arg + 4);
		if (IS_ERR(*pdev)) {
			int err = PTR_ERR(*pdev);

			*pdev = NULL;
			return err;
		}
		return 0;
	}
	if (str_has_prefix(arg, "dir="))
		return mdlt_parse_dir(arg + 4, &p->dir);
	*native = true;
	if (str_has_prefix(arg, "gfp="))
		return mdlt_parse_gfp(arg + 4, &p->gfp);
	if (str_has_prefix(arg, "node="))
		return mdlt_parse_node(arg + 5, &p->node);
	if (str_has_prefix(arg, "checks="))
		return mdlt_parse_checks(arg + 7, &p->flags);
	if (str_has_prefix(arg, "reserve="))
		return kstrtouint(arg + 8, 0, &p->reserve);
	return -EINVAL;
}

/*
 * create NAME SIZE [TAG] [dev=PCI_ADDRESS [dir=bidi|to|from]]
 *	[gfp=nowait|kernel|noio] [node=N|any] [checks=0|1] [reserve=N]
 * The short forms, mdlpool_create() and mdlpool_create_dma(), unless an
 * option only mdlpool_create_params() takes is given.
 */
static struct mdlpool *mdlt_create_pool(char **argv, int argc,
					struct mdlt_pool *mp)
{
	struct mdlpool_params p = {
		.name = argv[1], .tag = MDLT_DEFAULT_TAG, .node = NUMA_NO_NODE,
		.dir = DMA_BIDIRECTIONAL,
	};
	struct pci_dev *pdev = NULL;
	struct mdlpool *pool;
	bool native = false;
	int i, err = 0;

	if (argc < 3 || kstrtouint(argv[2], 0, &p.buffer_size))
		return ERR_PTR(-EINVAL);
	for (i = 3; i < argc && !err; i++) {
		if (i == 3 && !strchr(argv[i], '='))
			err = mdlt_parse_tag(argv[i], &p.tag);
		else
			err = mdlt_parse_create_opt(argv[i], &p, &pdev, &native);
	}
	if (!err && p.dir != DMA_BIDIRECTIONAL && !pdev)
		err = -EINVAL;
	if (err) {
		pci_dev_put(pdev);
		return ERR_PTR(err);
	}
	p.dev = pdev ? &pdev->dev : NULL;
	if (native)
		pool = mdlpool_create_params(&p);
	else if (!pdev)
		pool = mdlpool_create(p.name, p.buffer_size, p.tag);
	else
		pool = mdlpool_create_dma(p.name, p.buffer_size, p.tag, p.dev,
					  p.dir);
	/* The pool holds its own reference to the device. */
	if (!IS_ERR(pool) && pdev) {
		mp->dma_dev = &pdev->dev;
		mp->dma_dir = p.dir;
	}
	pci_dev_put(pdev);
	return pool;
}

int mdlt_cmd_create(char **argv, int argc)
{
	struct mdlpool *pool;
	struct mdlt_pool *mp;

	if (argc < 2 || mdlt_find(argv[1]))
		return argc < 2 ? -EINVAL : -EEXIST;
	mp = kzalloc(sizeof(*mp), GFP_KERNEL);
	if (!mp)
		return -ENOMEM;
	pool = mdlt_create_pool(argv, argc, mp);
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

int mdlt_cmd_destroy(char **argv, int argc)
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
	unsigned int bulk;	/* through mdlpool_alloc_bulk()/_free_bulk() */
	unsigned int locked;	/* each call under a spinlock of ours */
	unsigned int bh;	/* each call with bottom halves off (_bh) */
	struct list_head list;	/* alloc: the new buffers; free: the victims */
	int err;
};

static struct mdlt_held *mdlt_hold(struct mdlt_batch *b,
				   struct scatterlist *sg, void *buf)
{
	unsigned int size = mdlpool_buffer_size(b->mp->pool);
	struct mdlt_held *h = kmalloc(sizeof(*h), GFP_KERNEL);

	if (!h)
		return NULL;
	h->sg = sg;
	h->buf = buf;
	h->seq = ++mdlt_seq;
	mdlt_fill(h->buf, size, 0, h->seq);
	if (b->len)
		h->sg->length = b->len;
	list_add_tail(&h->node, &b->list);
	return h;
}

/* All of the batch in one mdlpool_alloc_bulk(), or nothing. */
static long mdlt_alloc_bulk(struct mdlt_batch *b)
{
	struct scatterlist **sgs = kvmalloc_array(b->count, sizeof(*sgs),
						  GFP_KERNEL);
	void **bufs = kvmalloc_array(b->count, sizeof(*bufs), GFP_KERNEL);
	unsigned int got = 0, i;
	long err = -ENOMEM;

	if (sgs && bufs)
		got = mdlpool_alloc_bulk(b->mp->pool, b->count, sgs, bufs);
	for (i = 0; got == b->count && i < got; i++) {
		if (!mdlt_hold(b, sgs[i], bufs[i]))
			break;
	}
	if (got == b->count && i == got)
		err = 0;
	else if (i < got)	/* not held yet: straight back */
		WARN_ON(mdlpool_free_bulk(got - i, sgs + i));
	kvfree(bufs);
	kvfree(sgs);
	return err;
}

/* A caller's lock: allocations under it must not wait (alloc locked=1). */
static DEFINE_SPINLOCK(mdlt_caller_lock);

/* Enter the context a batch asks its calls to be made in. */
static void mdlt_batch_enter(const struct mdlt_batch *b)
{
	if (b->locked)
		spin_lock(&mdlt_caller_lock);
	if (b->bh)
		local_bh_disable();
}

static void mdlt_batch_leave(const struct mdlt_batch *b)
{
	if (b->bh)
		local_bh_enable();
	if (b->locked)
		spin_unlock(&mdlt_caller_lock);
}

static struct scatterlist *mdlt_alloc_one(const struct mdlt_batch *b,
					  void **buf)
{
	struct scatterlist *sg;

	mdlt_batch_enter(b);
	if (b->bh)
		sg = mdlpool_alloc_bh(b->mp->pool, buf);
	else
		sg = mdlpool_alloc(b->mp->pool, buf);
	mdlt_batch_leave(b);
	return sg;
}

static long mdlt_alloc_batch(void *arg)
{
	struct mdlt_batch *b = arg;
	struct scatterlist *sg;
	unsigned int i;
	void *buf;

	if (b->bulk)
		return mdlt_alloc_bulk(b);
	for (i = 0; i < b->count; i++) {
		sg = mdlt_alloc_one(b, &buf);
		if (!sg)
			return -ENOMEM;
		if (!mdlt_hold(b, sg, buf)) {
			mdlpool_free(sg);
			return -ENOMEM;
		}
	}
	return 0;
}

static int mdlt_release(const struct mdlt_batch *b, struct mdlt_held *h)
{
	struct mdlt_pool *mp = b->mp;
	int err;

	if (!mdlt_intact(h->buf, mdlpool_buffer_size(mp->pool), 0, h->seq))
		mp->pattern_errors++;
	mdlt_batch_enter(b);
	err = mdlpool_free(h->sg);
	mdlt_batch_leave(b);
	kfree(h);
	return err;
}

/* The whole batch in one mdlpool_free_bulk(). */
static long mdlt_free_bulk(struct mdlt_batch *b)
{
	struct scatterlist **sgs = kvmalloc_array(b->count, sizeof(*sgs),
						  GFP_KERNEL);
	unsigned int size = mdlpool_buffer_size(b->mp->pool), n = 0;
	struct mdlt_held *h, *tmp;
	int err;

	if (!sgs)
		return -ENOMEM;
	list_for_each_entry_safe(h, tmp, &b->list, node) {
		if (!mdlt_intact(h->buf, size, 0, h->seq))
			b->mp->pattern_errors++;
		sgs[n++] = h->sg;
		list_del(&h->node);
		kfree(h);
	}
	err = mdlpool_free_bulk(n, sgs);
	kvfree(sgs);
	return err;
}

static long mdlt_free_batch(void *arg)
{
	struct mdlt_batch *b = arg;
	struct mdlt_held *h, *tmp;
	int err = 0;

	if (b->bulk && b->count)
		return mdlt_free_bulk(b);
	list_for_each_entry_safe(h, tmp, &b->list, node) {
		list_del(&h->node);
		err = mdlt_release(b, h) ?: err;
	}
	return err;
}

int mdlt_cmd_alloc(char **argv, int argc)
{
	struct mdlt_batch b = { .list = LIST_HEAD_INIT(b.list) };
	unsigned int cpu_val = 0;
	struct mdlt_opt opts[] = {
		{ "cpu", 0, nr_cpu_ids - 1, &cpu_val },
		{ "len", 1, UINT_MAX, &b.len },
		{ "bulk", 0, 1, &b.bulk },
		{ "locked", 0, 1, &b.locked },
		{ "bh", 0, 1, &b.bh },
	};
	long err;
	int cpu;

	if (argc < 3 || kstrtouint(argv[2], 0, &b.count) ||
	    !b.count || b.count > MDLT_COUNT_MAX)
		return -EINVAL;
	if (mdlt_parse_opts(argv + 3, argc - 3, opts, ARRAY_SIZE(opts)))
		return -EINVAL;
	b.mp = mdlt_find(argv[1]);
	if (!b.mp)
		return -ENOENT;
	if (b.len > mdlpool_buffer_size(b.mp->pool) ||
	    (b.bulk && (b.locked || b.bh)))
		return -EINVAL;
	if (mdlt_opt_cpu(&opts[0], &cpu))
		return -EINVAL;

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

int mdlt_cmd_free(char **argv, int argc)
{
	struct mdlt_batch b = { .list = LIST_HEAD_INIT(b.list) };
	unsigned int i, cpu_val = 0;
	struct mdlt_opt opts[] = {
		{ "cpu", 0, nr_cpu_ids - 1, &cpu_val },
		{ "bulk", 0, 1, &b.bulk },
		{ "bh", 0, 1, &b.bh },
	};
	int cpu;

	if (argc < 3)
		return -EINVAL;
	b.mp = mdlt_find(argv[1]);
	if (!strcmp(argv[2], "all"))
		b.count = b.mp ? b.mp->nr_held : 0;
	else if (kstrtouint(argv[2], 0, &b.count) || !b.count)
		return -EINVAL;
	if (mdlt_parse_opts(argv + 3, argc - 3, opts, ARRAY_SIZE(opts)))
		return -EINVAL;
	if (mdlt_opt_cpu(&opts[0], &cpu) || (b.bulk && b.bh))
		return -EINVAL;
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

/* As a softirq would: from there only what softirqs allocate is reached. */
static long mdlt_scavenge_here_bh(void *pool)
{
	local_bh_disable();
	mdlpool_scavenge(pool);
	local_bh_enable();
	return 0;
}

/* scavenge POOL [bh=1]: on every online CPU, with bottom halves off if asked. */
int mdlt_cmd_scavenge(char **argv, int argc)
{
	unsigned int bh = 0;
	struct mdlt_opt opts[] = {
		{ "bh", 0, 1, &bh },
	};
	struct mdlt_pool *mp;
	int cpu;

	if (argc < 2 || mdlt_parse_opts(argv + 2, argc - 2, opts, ARRAY_SIZE(opts)))
		return -EINVAL;
	mp = mdlt_find(argv[1]);
	if (!mp)
		return -ENOENT;
	cpus_read_lock();
	for_each_online_cpu(cpu)
		work_on_cpu(cpu, bh ? mdlt_scavenge_here_bh : mdlt_scavenge_here,
			    mp->pool);
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

/*
 * One mdlpool_free_bulk() of two live buffers, a foreign descriptor between
 * them and the first buffer once more: the two must go back, the other two
 * be refused.  Returns what the bulk free said, or -EBADE if a live buffer
 * did not go back.
 */
static int mdlt_badfree_bulk(struct mdlt_pool *mp)
{
	struct scatterlist *sgs[4], *foreign = kmalloc(sizeof(*foreign),
						       GFP_KERNEL);
	void *buf, *fbuf = kmalloc(64, GFP_KERNEL);
	int err = -ENOMEM;

	if (!foreign || !fbuf)
		goto out;
	sg_init_one(foreign, fbuf, 64);
	sgs[0] = mdlpool_alloc(mp->pool, &buf);
	sgs[2] = mdlpool_alloc(mp->pool, &buf);
	if (!sgs[0] || !sgs[2]) {
		if (sgs[0])
			mdlpool_free(sgs[0]);
		if (sgs[2])
			mdlpool_free(sgs[2]);
		goto out;
	}
	sgs[1] = foreign;
	sgs[3] = sgs[0];
	err = mdlpool_free_bulk(ARRAY_SIZE(sgs), sgs);
	/* Both went back if a second free of each is refused as double. */
	if (mdlpool_free(sgs[0]) != -EINVAL || mdlpool_free(sgs[2]) != -EINVAL)
		err = -EBADE;
out:
	kfree(fbuf);
	kfree(foreign);
	return err;
}

int mdlt_cmd_badfree(char **argv, int argc)
{
	static const char * const kinds[] = {
		"foreign", "double", "altered", "repointed", "misaligned",
		"bulk",
	};
	struct mdlt_pool *mp;

	if (argc != 3 || match_string(kinds, ARRAY_SIZE(kinds), argv[2]) < 0)
		return -EINVAL;
	mp = mdlt_find(argv[1]);
	if (!mp)
		return -ENOENT;
	if (!strcmp(argv[2], "foreign"))
		return mdlt_badfree_foreign(mp);
	if (!strcmp(argv[2], "bulk"))
		return mdlt_badfree_bulk(mp);
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

int mdlt_cmd_badcontext(char **argv, int argc)
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
	/* Block headers lie apart: the block freed last comes back first. */
	err = buf3 == buf ? 0 : -EIO;
	return mdlpool_free(again) ?: err;
}

int mdlt_cmd_corrupt(char **argv, int argc)
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

/*
 * The memory a bus address reaches.  Behind a translating IOMMU the bus
 * address is an I/O virtual address, which the IOMMU's page tables map.
 */
static phys_addr_t mdlt_bus_to_phys(struct device *dev, dma_addr_t dma)
{
	struct iommu_domain *domain = iommu_get_domain_for_dev(dev);

	if (domain && domain->type & __IOMMU_DOMAIN_PAGING)
		return iommu_iova_to_phys(domain, dma);
	return dma_to_phys(dev, dma);
}

/*
 * What the device sees of a buffer: the memory at its bus address.  That is
 * the buffer itself, directly or through the IOMMU, or with swiotlb=force
 * a bounce slot.
 */
static void *mdlt_device_view(struct device *dev, struct scatterlist *sg)
{
	return phys_to_virt(mdlt_bus_to_phys(dev, sg_dma_address(sg)));
}

/*
 * dmasync NAME: take a buffer of a device-bound pool and check its bus
 * address and length.  Where the mapping bounces (swiotlb=force), also check
 * that the sync helpers move the bytes in each direction the pool maps:
 * the CPU's to the device's view, and back.  -EIO if something is wrong.
 */
static int mdlt_dma_round_trip(struct mdlt_pool *mp, struct scatterlist *sg,
			       void *buf)
{
	unsigned int len = mdlpool_buffer_size(mp->pool);
	void *dev_view = mdlt_device_view(mp->dma_dev, sg);
	phys_addr_t bus_phys = mdlt_bus_to_phys(mp->dma_dev, sg_dma_address(sg));
	bool to = mp->dma_dir != DMA_FROM_DEVICE;
	bool from = mp->dma_dir != DMA_TO_DEVICE;

	if (sg_dma_len(sg) != len)
		return -EIO;
	if (!mdlpool_is_swiotlb_buffer(mp->dma_dev, bus_phys))
		return bus_phys == virt_to_phys(buf) ? 0 : -EIO;
	memset(buf, 0xa5, len);
	mdlpool_dma_sync_for_device(sg);
	if (to && memchr_inv(dev_view, 0xa5, len))
		return -EIO;
	memset(dev_view, 0x5a, len);
	mdlpool_dma_sync_for_cpu(sg);
	if (from && memchr_inv(buf, 0x5a, len))
		return -EIO;
	return 1;
}

int mdlt_cmd_dmasync(char **argv, int argc)
{
	struct scatterlist *sg;
	struct mdlt_pool *mp;
	void *buf;
	int ret;

	if (argc != 2)
		return -EINVAL;
	mp = mdlt_find(argv[1]);
	if (!mp)
		return -ENOENT;
	if (!mp->dma_dev)
		return -EINVAL;
	sg = mdlpool_alloc(mp->pool, &buf);
	if (!sg)
		return -ENOMEM;
	ret = mdlt_dma_round_trip(mp, sg, buf);
	mdlpool_free(sg);
	if (ret < 0)
		return ret;
	pr_info("dmasync %s: bus address and length right; %s\n", mp->name,
		ret ? "data moved through the bounce buffer as the direction allows"
		    : "the device sees the buffer itself (no bounce buffering)");
	mp->dma_bounced = ret;
	return 0;
}

/* At unload: give back every held buffer and destroy every pool. */
void mdlt_release_all(void)
{
	struct mdlt_pool *mp, *tmp;
	struct mdlt_held *h, *htmp;

	list_for_each_entry_safe(mp, tmp, &mdlt_pools, node) {
		struct mdlt_batch b = { .mp = mp };

		list_for_each_entry_safe(h, htmp, &mp->held, node)
			mdlt_release(&b, h);
		mdlpool_destroy(mp->pool);
		kfree(mp);
	}
}
