// SPDX-License-Identifier: GPL-2.0
/*
 * mdlpool's checks off the fast path: the special-pool checks of pools
 * created with them (redzones, poison), free blocks found overwritten, and
 * refused frees.  Each reports what it found and counts it.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bug.h>
#include <linux/printk.h>
#include <linux/scatterlist.h>
#include <linux/string.h>

#include "mdlpool.h"
#include "mdlpool_internal.h"
#include "mdlpool_trace.h"

/* Frees no pool could claim. */
atomic_long_t mdlpool_foreign_frees = ATOMIC_LONG_INIT(0);

/*
 * Special-pool checks, in pools created with debug_checks.  A free checks
 * the redzone behind the buffer and poisons the buffer; the next allocation
 * of the block checks the poison and lays a fresh redzone.
 */
static void mdlpool_report(const struct mdlpool *pool, struct mdlpool_slab *slab,
			   struct mdlpool_block *blk, const char *what)
{
	unsigned int cpu = slab->owner->cpu;
	unsigned int idx = mdlpool_block_index(pool, slab, blk);

	WARN_ONCE(1, "%s: cpu %u slab %p block %u: %s\n",
		  pool->name, cpu, slab, idx, what);
	pr_err_ratelimited("%s: cpu %u slab %p block %u: %s\n",
			   pool->name, cpu, slab, idx, what);
}

void mdlpool_check_poison(const struct mdlpool *pool,
			  struct mdlpool_slab *slab,
			  struct mdlpool_block *blk)
{
	u8 *buf = mdlpool_block_buf(pool, slab, blk);

	if (memchr_inv(buf, MDLPOOL_POISON_BYTE, pool->buffer_size)) {
		atomic_long_inc(&slab->owner->poison_errors);
		mdlpool_report(pool, slab, blk, "buffer written to while free");
	}
	memset(buf + pool->buffer_size, MDLPOOL_REDZONE_BYTE,
	       mdlpool_tail_size(pool));
}

void mdlpool_check_redzone(const struct mdlpool *pool,
			   struct mdlpool_slab *slab,
			   struct mdlpool_block *blk)
{
	u8 *buf = mdlpool_block_buf(pool, slab, blk);

	if (memchr_inv(buf + pool->buffer_size, MDLPOOL_REDZONE_BYTE,
		       mdlpool_tail_size(pool))) {
		atomic_long_inc(&slab->owner->overruns);
		mdlpool_report(pool, slab, blk, "written past the end of the buffer");
	}
	memset(buf, MDLPOOL_POISON_BYTE, pool->buffer_size);
}

/* Whether a free-list link points at a built block of @slab. */
static bool mdlpool_node_in_slab(const struct mdlpool *pool,
				 struct mdlpool_slab *slab,
				 struct llist_node *node)
{
	struct mdlpool_block *blk = container_of(node, struct mdlpool_block,
						 free_node);

	return mdlpool_block_of(pool, slab, &blk->sg) == blk;
}

/*
 * A block on a free list whose state is not "free" was written to after it
 * was freed.  Handing it out would give a caller memory someone else still
 * writes, so it is left out of the slab's lists for good (the slab still
 * goes back once its other blocks are free), counted and reported.  Its link
 * lies in the same header, so it is followed only into a free block of this
 * slab: a link into a block that is out would hand that block out twice.
 * Otherwise the rest of that list is left out too.
 */
struct llist_node *mdlpool_drop_overwritten(const struct mdlpool *pool,
					    struct mdlpool_slab *slab,
					    struct mdlpool_block *blk)
{
	struct llist_node *next = blk->free_node.next;

	slab->owner->corrupt_free_blocks++;
	mdlpool_report(pool, slab, blk, "free block overwritten, left out");
	if (!next || !mdlpool_node_in_slab(pool, slab, next))
		return NULL;
	blk = container_of(next, struct mdlpool_block, free_node);
	return blk->state == MDLPOOL_BLOCK_FREE ? next : NULL;
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
int mdlpool_reject(struct mdlpool_share *c,
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
