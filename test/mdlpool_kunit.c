// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of mdlpool's internals: the block layout for every buffer
 * size, the slab-header invariants, the agreement of a slab's free list
 * with its counts, and the scavenge decisions with made-up times.
 *
 * Built only against kernels with CONFIG_KUNIT; the tests run when the
 * module loads and their results are in /sys/kernel/debug/kunit/mdlpool/.
 */

#include <kunit/test.h>
#include <linux/cpumask.h>
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/llist.h>
#include <linux/preempt.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "mdlpool.h"
#include "mdlpool_internal.h"

#define KT_TAG	MDLPOOL_TAG('K', 'U', 'n', 't')

static struct mdlpool_slab *kt_page_of(struct scatterlist *sg)
{
	return page_address(virt_to_head_page(sg));
}

static unsigned int kt_free_list_length(struct mdlpool_slab *slab)
{
	struct llist_node *node;
	unsigned int n = 0;

	llist_for_each(node, slab->owner_free)
		n++;
	llist_for_each(node, slab->free.first)
		n++;
	return n;
}

/* Slab bytes per buffer of @order for @bs-byte blocks, times 2^10. */
static unsigned long kt_cost(unsigned int order, unsigned int bs)
{
	unsigned int n = mdlpool_slab_blocks(order, bs);

	return n ? ((PAGE_SIZE << order) << 10) / n : ULONG_MAX;
}

/*
 * The slab order a size gets with orders up to @max_order, checked: every
 * buffer on the boundary, after every header, inside the slab, no room for
 * one more; the policy of mdlpool_slab_order() (MDLPOOL_MIN_BLOCKS, cheap
 * orders first) or, where no order is within the waste bound, no order
 * spending fewer bytes per buffer.
 */
static int kt_layout_order(struct kunit *test, unsigned int size, bool checked,
			   unsigned int max_order)
{
	unsigned int bs = mdlpool_block_size(size, checked);
	unsigned long bound = (unsigned long)mdlpool_waste_bound(size) << 10;
	int order = mdlpool_slab_order(bs, size, max_order);
	unsigned int slab, n, off, o;

	KUNIT_ASSERT_GE_MSG(test, order, 0, "size %u", size);
	KUNIT_ASSERT_LE_MSG(test, order, max_order, "size %u", size);
	slab = PAGE_SIZE << order;
	n = mdlpool_slab_blocks(order, bs);
	off = mdlpool_buf_offset(n);
	KUNIT_ASSERT_GE_MSG(test, n, 1U, "size %u", size);
	KUNIT_ASSERT_EQ_MSG(test, off % MDLPOOL_BUF_ALIGN, 0, "size %u", size);
	KUNIT_ASSERT_GE_MSG(test, off,
			    (unsigned int)struct_size((struct mdlpool_slab *)NULL,
						      blocks, n),
			    "size %u", size);
	KUNIT_ASSERT_LE_MSG(test, off + n * bs, slab, "size %u", size);
	KUNIT_ASSERT_GT_MSG(test, mdlpool_buf_offset(n + 1) + (n + 1) * bs, slab,
			    "size %u", size);
	for (o = 0; o <= max_order; o++) {
		bool within = kt_cost(o, bs) <= bound;
		bool cheap = o <= MDLPOOL_FALLBACK_MAX_ORDER;

		/* A smaller order within the bound has too few blocks. */
		if (o < order && within)
			KUNIT_ASSERT_TRUE_MSG(test, cheap &&
					      mdlpool_slab_blocks(o, bs) <
					      MDLPOOL_MIN_BLOCKS,
					      "size %u order %u", size, o);
		/* With too few blocks, no larger cheap order is within it. */
		if (o > order && cheap && n < MDLPOOL_MIN_BLOCKS &&
		    kt_cost(order, bs) <= bound)
			KUNIT_ASSERT_FALSE_MSG(test, within, "size %u order %u",
					       size, o);
		/* A costly order only where no cheap one is within it. */
		if (order > MDLPOOL_FALLBACK_MAX_ORDER && cheap)
			KUNIT_ASSERT_FALSE_MSG(test, within, "size %u order %u",
					       size, o);
		if (kt_cost(order, bs) > bound)
			KUNIT_ASSERT_LE_MSG(test, kt_cost(order, bs),
					    kt_cost(o, bs), "size %u order %u",
					    size, o);
	}
	return order;
}

static void kt_layout_one(struct kunit *test, unsigned int size, bool checked)
{
	unsigned int need = size + (checked ? MDLPOOL_REDZONE : 0);
	unsigned int bs = mdlpool_block_size(size, checked);
	int order, fallback;

	KUNIT_ASSERT_EQ_MSG(test, bs % MDLPOOL_BUF_ALIGN, 0, "size %u", size);
	KUNIT_ASSERT_GE_MSG(test, bs, need, "size %u", size);
	KUNIT_ASSERT_LT_MSG(test, bs, need + MDLPOOL_BUF_ALIGN, "size %u", size);
	order = kt_layout_order(test, size, checked, MDLPOOL_MAX_ORDER);
	fallback = kt_layout_order(test, size, checked,
				   MDLPOOL_FALLBACK_MAX_ORDER);
	/* A pool needs no fallback when its order is not costly. */
	if (order <= MDLPOOL_FALLBACK_MAX_ORDER)
		KUNIT_ASSERT_EQ_MSG(test, fallback, order, "size %u", size);
	/* The promise of the design: 256 bytes to 16 KiB within the bound. */
	if (!checked && size >= 256 && size <= SZ_16K)
		KUNIT_ASSERT_LE_MSG(test, kt_cost(order, bs),
				    (unsigned long)mdlpool_waste_bound(size) << 10,
				    "size %u order %d", size, order);
}

static void mdlpool_layout_every_size(struct kunit *test)
{
	unsigned int max = mdlpool_max_buffer_size();
	unsigned int bs = mdlpool_block_size(max, false);
	unsigned int size;

	for (size = 1; size <= max; size++)
		kt_layout_one(test, size, false);
	for (size = 1; size <= max - MDLPOOL_REDZONE; size++)
		kt_layout_one(test, size, true);
	/* The largest size is exactly one block per largest fallback slab. */
	KUNIT_EXPECT_EQ(test, mdlpool_slab_order(bs, max,
						 MDLPOOL_FALLBACK_MAX_ORDER),
			MDLPOOL_FALLBACK_MAX_ORDER);
	KUNIT_EXPECT_EQ(test,
			mdlpool_slab_blocks(MDLPOOL_FALLBACK_MAX_ORDER, bs), 1U);
	KUNIT_EXPECT_LT(test,
			mdlpool_slab_order(mdlpool_block_size(max + 1, false),
					   max + 1, MDLPOOL_FALLBACK_MAX_ORDER),
			0);
	KUNIT_EXPECT_EQ(test, PTR_ERR(mdlpool_create("kunit-big", max + 1,
						     KT_TAG)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(mdlpool_create("kunit-zero", 0, KT_TAG)),
			-EINVAL);
}

/* Buffers of one test, allocated on one CPU. */
struct kt_bufs {
	struct mdlpool *pool;
	unsigned int n;
	struct scatterlist **sg;
	void **buf;
};

static void kt_bufs_alloc(struct kunit *test, struct kt_bufs *b,
			  unsigned int size, unsigned int pages)
{
	unsigned int i;

	b->pool = mdlpool_create("kunit", size, KT_TAG);
	KUNIT_ASSERT_FALSE(test, IS_ERR(b->pool));
	b->n = pages * b->pool->blocks_per_page;
	b->sg = kunit_kcalloc(test, b->n, sizeof(*b->sg), GFP_KERNEL);
	b->buf = kunit_kcalloc(test, b->n, sizeof(*b->buf), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, b->sg);
	KUNIT_ASSERT_NOT_NULL(test, b->buf);
	for (i = 0; i < b->n; i++) {
		b->sg[i] = mdlpool_alloc(b->pool, &b->buf[i]);
		KUNIT_ASSERT_NOT_NULL(test, b->sg[i]);
	}
}

/*
 * Frees @b's buffers from the newest down to index @from and destroys the
 * pool; ends the migrate_disable() the test began with.
 */
static void kt_bufs_release(struct kunit *test, struct kt_bufs *b,
			    unsigned int from)
{
	while (b->n > from)
		KUNIT_EXPECT_EQ(test, mdlpool_free(b->sg[--b->n]), 0);
	migrate_enable();
	KUNIT_EXPECT_EQ(test, mdlpool_destroy(b->pool), 0);
}

static void mdlpool_page_header_invariants(struct kunit *test)
{
	struct mdlpool_slab *first, *slab;
	struct mdlpool_share *c;
	struct kt_bufs b;
	unsigned int i, idx, bpp;

	/* One CPU for the whole test, so every buffer comes from its share. */
	migrate_disable();
	kt_bufs_alloc(test, &b, 200, 2);
	c = this_cpu_ptr(&b.pool->pcpu->ctx[MDLPOOL_CTX_TASK]);
	bpp = b.pool->blocks_per_page;
	first = kt_page_of(b.sg[0]);

	for (i = 0; i < b.n; i++) {
		struct scatterlist *sg = b.sg[i];
		struct mdlpool_block *blk = (void *)sg;

		slab = kt_page_of(sg);
		idx = mdlpool_block_index(b.pool, slab, blk);
		KUNIT_EXPECT_PTR_EQ(test, slab->owner, c);
		KUNIT_EXPECT_LT(test, idx, slab->built);
		KUNIT_EXPECT_PTR_EQ(test, mdlpool_block_at(b.pool, slab, idx), blk);
		KUNIT_EXPECT_PTR_EQ(test, sg_virt(sg), b.buf[i]);
		KUNIT_EXPECT_EQ(test, sg->length, 200U);
		KUNIT_EXPECT_TRUE(test, sg_is_last(sg));
		KUNIT_EXPECT_EQ(test, blk->state, MDLPOOL_BLOCK_OUT);
		KUNIT_EXPECT_NE(test, page_private(virt_to_page(slab)), 0UL);
	}
	/*
	 * Both slabs are cut up completely.  The first went to the used list
	 * when the allocation after its last block found it full; the second
	 * is still first on the slab list.
	 */
	slab = kt_page_of(b.sg[b.n - 1]);
	KUNIT_EXPECT_EQ(test, first->built, bpp);
	KUNIT_EXPECT_EQ(test, slab->built, bpp);
	KUNIT_EXPECT_TRUE(test, first->on_used);
	KUNIT_EXPECT_FALSE(test, slab->on_used);
	KUNIT_EXPECT_EQ(test, mdlpool_slab_in_use(first), bpp);
	KUNIT_EXPECT_EQ(test, c->nr_used_slabs, 1UL);
	KUNIT_EXPECT_PTR_EQ(test, list_first_entry(&c->slabs,
						   struct mdlpool_slab, link),
			    slab);
	KUNIT_EXPECT_EQ(test, c->pages_alloc - c->pages_freed, 2UL);

	/* One free on the owner brings the first slab back to the slab list. */
	KUNIT_EXPECT_EQ(test, mdlpool_free(b.sg[0]), 0);
	KUNIT_EXPECT_FALSE(test, first->on_used);
	KUNIT_EXPECT_EQ(test, c->nr_used_slabs, 0UL);
	KUNIT_EXPECT_PTR_EQ(test, list_last_entry(&c->slabs,
						  struct mdlpool_slab, link),
			    first);
	for (i = 1; i < b.n; i++)
		KUNIT_EXPECT_EQ(test, mdlpool_free(b.sg[i]), 0);
	migrate_enable();
	KUNIT_EXPECT_EQ(test, mdlpool_destroy(b.pool), 0);
}

/*
 * For sizes across the slab orders: every buffer of two slabs starts on
 * the boundary, after the slab's block array, and ends inside its slab; its
 * descriptor is one segment that maps it.
 */
static void mdlpool_buffers_aligned_in_slab(struct kunit *test)
{
	static const unsigned int sizes[] = {
		1, 64, 256, 1500, 2048, 4000, 4096, 9000, 16384,
	};
	unsigned int s, i;

	for (s = 0; s < ARRAY_SIZE(sizes); s++) {
		struct kt_bufs b;

		migrate_disable();
		kt_bufs_alloc(test, &b, sizes[s], 2);
		for (i = 0; i < b.n; i++) {
			struct mdlpool_slab *slab = kt_page_of(b.sg[i]);
			const struct mdlpool_layout *l =
				mdlpool_layout_of(b.pool, slab);
			void *start = (void *)slab + l->buf_offset;
			void *end = (void *)slab + mdlpool_layout_bytes(l);

			KUNIT_EXPECT_EQ_MSG(test,
					    (unsigned long)b.buf[i] % MDLPOOL_BUF_ALIGN,
					    0UL, "size %u", sizes[s]);
			KUNIT_EXPECT_TRUE_MSG(test, b.buf[i] >= start &&
					      b.buf[i] + sizes[s] <= end,
					      "size %u", sizes[s]);
			KUNIT_EXPECT_PTR_EQ(test, sg_virt(b.sg[i]), b.buf[i]);
			KUNIT_EXPECT_EQ(test, b.sg[i]->length, sizes[s]);
			KUNIT_EXPECT_PTR_EQ(test, slab, kt_page_of((void *)b.buf[i]));
		}
		for (i = 0; i < b.n; i++)
			KUNIT_EXPECT_EQ(test, mdlpool_free(b.sg[i]), 0);
		migrate_enable();
		KUNIT_EXPECT_EQ(test, mdlpool_destroy(b.pool), 0);
	}
}

/*
 * A stray write into a free block's header (its state) is found when the
 * block would be handed out: the block is left out, counted, and the
 * allocation goes on with the next one.
 */
static void mdlpool_overwritten_header_left_out(struct kunit *test)
{
	struct mdlpool_block *blk;
	struct mdlpool_share *c;
	struct scatterlist *sg;
	struct kt_bufs b;
	void *buf;

	migrate_disable();
	kt_bufs_alloc(test, &b, 200, 1);
	c = this_cpu_ptr(&b.pool->pcpu->ctx[MDLPOOL_CTX_TASK]);
	KUNIT_ASSERT_GE(test, b.n, 2U);
	KUNIT_EXPECT_EQ(test, mdlpool_free(b.sg[1]), 0);
	KUNIT_EXPECT_EQ(test, mdlpool_free(b.sg[0]), 0);
	blk = (void *)b.sg[0];
	blk->state = 0x5a5a5a5a;
	sg = mdlpool_alloc(b.pool, &buf);
	KUNIT_EXPECT_PTR_EQ(test, sg, b.sg[1]);
	KUNIT_EXPECT_EQ(test, c->corrupt_free_blocks, 1UL);
	KUNIT_EXPECT_EQ(test, mdlpool_free(sg), 0);
	kt_bufs_release(test, &b, 2);
}

/*
 * A free block with its state and its link overwritten, the link pointing
 * at a block that is out: the free block is left out, and the live block is
 * neither followed into, reported nor handed out.
 */
static void mdlpool_overwritten_link_not_followed(struct kunit *test)
{
	struct mdlpool_block *blk, *live;
	struct mdlpool_share *c;
	struct scatterlist *sg;
	struct kt_bufs b;
	void *buf;

	migrate_disable();
	kt_bufs_alloc(test, &b, 200, 1);
	c = this_cpu_ptr(&b.pool->pcpu->ctx[MDLPOOL_CTX_TASK]);
	KUNIT_ASSERT_GE(test, b.n, 3U);
	KUNIT_EXPECT_EQ(test, mdlpool_free(b.sg[0]), 0);
	blk = (void *)b.sg[0];
	live = (void *)b.sg[2];
	blk->state = 0x5a5a5a5a;
	blk->free_node.next = &live->free_node;
	sg = mdlpool_alloc(b.pool, &buf);
	KUNIT_EXPECT_PTR_NE(test, sg, b.sg[2]);
	KUNIT_EXPECT_EQ(test, live->state, MDLPOOL_BLOCK_OUT);
	KUNIT_EXPECT_EQ(test, c->corrupt_free_blocks, 1UL);
	if (sg)
		KUNIT_EXPECT_EQ(test, mdlpool_free(sg), 0);
	kt_bufs_release(test, &b, 1);
}

/*
 * A slab whose only free block was overwritten, with nothing out: no free
 * will ever bring it back from the used list, so it must go back to the
 * page allocator when an allocation finds it so, not stay held until the
 * pool is destroyed.  With one block per slab one stray write does it.
 */
static void mdlpool_dead_slab_released(struct kunit *test)
{
	struct mdlpool_block *blk;
	struct scatterlist *sg, *sg2;
	struct mdlpool_share *c;
	struct mdlpool *pool;
	void *buf;

	pool = mdlpool_create("kunit", mdlpool_max_buffer_size(), KT_TAG);
	KUNIT_ASSERT_FALSE(test, IS_ERR(pool));
	KUNIT_ASSERT_EQ(test, pool->layouts[MDLPOOL_FALLBACK].blocks, 1U);
	migrate_disable();
	c = this_cpu_ptr(&pool->pcpu->ctx[MDLPOOL_CTX_TASK]);
	sg = mdlpool_alloc(pool, &buf);
	KUNIT_ASSERT_NOT_NULL(test, sg);
	KUNIT_EXPECT_EQ(test, mdlpool_free(sg), 0);
	blk = (void *)sg;
	blk->state = 0x5a5a5a5a;
	sg2 = mdlpool_alloc(pool, &buf);
	KUNIT_EXPECT_NOT_NULL(test, sg2);
	KUNIT_EXPECT_EQ(test, c->corrupt_free_blocks, 1UL);
	KUNIT_EXPECT_EQ(test, c->nr_used_slabs, 0UL);
	KUNIT_EXPECT_EQ(test, c->pages_alloc - c->pages_freed, 1UL);
	if (sg2)
		KUNIT_EXPECT_EQ(test, mdlpool_free(sg2), 0);
	migrate_enable();
	KUNIT_EXPECT_EQ(test, mdlpool_pages_held(pool), 1UL);
	KUNIT_EXPECT_EQ(test, mdlpool_destroy(pool), 0);
}

static long kt_free_on_cpu(void *sg)
{
	return mdlpool_free(sg);
}

static void kt_expect_lists_agree(struct kunit *test, struct kt_bufs *b)
{
	unsigned int p, bpp = b->pool->blocks_per_page;

	for (p = 0; p < b->n; p += bpp) {
		struct mdlpool_slab *slab = kt_page_of(b->sg[p]);

		KUNIT_EXPECT_EQ(test, kt_free_list_length(slab),
				slab->built - mdlpool_slab_in_use(slab));
	}
}

static void mdlpool_free_list_agrees_with_counts(struct kunit *test)
{
	unsigned int i, freed = 0, other;
	struct kt_bufs b;
	int cpu;

	/* Allocate on one CPU, then free on it and on another. */
	migrate_disable();
	cpu = smp_processor_id();
	other = cpumask_any_but(cpu_online_mask, cpu);
	if (other >= nr_cpu_ids) {
		migrate_enable();
		kunit_skip(test, "needs a second online CPU");
	}
	kt_bufs_alloc(test, &b, 64, 3);
	kt_expect_lists_agree(test, &b);
	for (i = 0; i < b.n; i += 3, freed++)
		KUNIT_EXPECT_EQ(test, mdlpool_free(b.sg[i]), 0);
	kt_expect_lists_agree(test, &b);
	for (i = 1; i < b.n; i += 3, freed++)
		KUNIT_EXPECT_EQ(test, work_on_cpu(other, kt_free_on_cpu,
						  b.sg[i]), 0);
	kt_expect_lists_agree(test, &b);
	/* A double free is refused and changes neither list nor counts. */
	KUNIT_EXPECT_EQ(test, mdlpool_free(b.sg[1]), -EINVAL);
	kt_expect_lists_agree(test, &b);
	for (i = 2; i < b.n; i += 3, freed++)
		KUNIT_EXPECT_EQ(test, mdlpool_free(b.sg[i]), 0);
	kt_expect_lists_agree(test, &b);
	migrate_enable();
	KUNIT_EXPECT_EQ(test, freed, b.n);
	KUNIT_EXPECT_EQ(test, mdlpool_destroy(b.pool), 0);
}

static void mdlpool_scavenge_decisions(struct kunit *test)
{
	const unsigned long life = 5000;
	struct mdlpool_share *c;
	struct mdlpool_slab *slab;
	unsigned long t;
	int i;

	slab = kunit_kzalloc(test, sizeof(*slab), GFP_KERNEL);
	c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, slab);
	KUNIT_ASSERT_NOT_NULL(test, c);

	/* Around an ordinary time and across the jiffies wrap. */
	for (i = 0; i < 2; i++) {
		t = i ? ULONG_MAX - life / 2 : 1000000;
		slab->last_free = t;
		slab->nr_out = 0;
		atomic_set(&slab->remote_frees, 0);
		KUNIT_EXPECT_FALSE(test, mdlpool_slab_idle(slab, t + life - 1, life));
		KUNIT_EXPECT_TRUE(test, mdlpool_slab_idle(slab, t + life, life));
		KUNIT_EXPECT_TRUE(test, mdlpool_slab_idle(slab, t, 0));
		/* A block out keeps the slab, however old. */
		slab->nr_out = 3;
		atomic_set(&slab->remote_frees, 2);
		KUNIT_EXPECT_FALSE(test, mdlpool_slab_idle(slab, t + 10 * life, life));
		atomic_set(&slab->remote_frees, 3);
		KUNIT_EXPECT_TRUE(test, mdlpool_slab_idle(slab, t + 10 * life, life));

		/* A slab a remote free queued waits for its adoption. */
		slab->orphaned = true;
		KUNIT_EXPECT_FALSE(test, mdlpool_slab_idle(slab, t + 10 * life, life));
		slab->orphaned = false;

		c->next_scavenge = t;
		c->missed_move = false;
		c->nr_used_slabs = 1000;
		KUNIT_EXPECT_EQ(test, mdlpool_scavenge_due(c, t, 64),
				MDLPOOL_SCAVENGE_NONE);
		KUNIT_EXPECT_EQ(test, mdlpool_scavenge_due(c, t + 1, 64),
				MDLPOOL_SCAVENGE_FULL);
		/* A missed move counts only past the threshold... */
		c->missed_move = true;
		c->nr_used_slabs = 64;
		KUNIT_EXPECT_EQ(test, mdlpool_scavenge_due(c, t - 100, 64),
				MDLPOOL_SCAVENGE_NONE);
		c->nr_used_slabs = 65;
		KUNIT_EXPECT_EQ(test, mdlpool_scavenge_due(c, t - 100, 64),
				MDLPOOL_SCAVENGE_ORPHANS);
		/* ... and the period, when it is over, asks for the whole. */
		KUNIT_EXPECT_EQ(test, mdlpool_scavenge_due(c, t + 1, 64),
				MDLPOOL_SCAVENGE_FULL);
	}
}

static struct kunit_case mdlpool_kunit_cases[] = {
	KUNIT_CASE(mdlpool_layout_every_size),
	KUNIT_CASE(mdlpool_page_header_invariants),
	KUNIT_CASE(mdlpool_buffers_aligned_in_slab),
	KUNIT_CASE(mdlpool_overwritten_header_left_out),
	KUNIT_CASE(mdlpool_overwritten_link_not_followed),
	KUNIT_CASE(mdlpool_dead_slab_released),
	KUNIT_CASE(mdlpool_free_list_agrees_with_counts),
	KUNIT_CASE(mdlpool_scavenge_decisions),
	{}
};

static struct kunit_suite mdlpool_kunit_suite = {
	.name = "mdlpool",
	.test_cases = mdlpool_kunit_cases,
};

kunit_test_suite(mdlpool_kunit_suite);

MODULE_LICENSE("GPL");
MODULE_INFO(test, "Y");
MODULE_DESCRIPTION("KUnit tests of mdlpool's internals");
