// SPDX-License-Identifier: GPL-2.0
/*
 * mdlpool_example - the smallest native user of mdlpool
 *
 * At load: create a pool of 1500-byte buffers, take @count buffers, fill
 * each through its address and check it through its descriptor, as a
 * driver would hand the descriptor to a device, then free them.  The pool
 * lives until unload.  Loading fails with the errno of the first step that
 * fails, so `insmod` itself says whether the pool worked.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "mdlpool.h"

static unsigned int count = 64;
module_param(count, uint, 0444);
MODULE_PARM_DESC(count, "Buffers to allocate, check and free at load (1 to 4096)");

static struct mdlpool *pool;

/* Fill through the buffer address, check through the descriptor. */
static int example_use(struct scatterlist *sg, void *buf, unsigned int i)
{
	memset(buf, i & 0xff, sg->length);
	return memchr_inv(sg_virt(sg), i & 0xff, sg->length) ? -EIO : 0;
}

static int example_run(void)
{
	struct scatterlist **sgs;
	unsigned int i, n;
	void *buf;
	int err = 0;

	sgs = kcalloc(count, sizeof(*sgs), GFP_KERNEL);
	if (!sgs)
		return -ENOMEM;
	for (n = 0; n < count && !err; n++) {
		sgs[n] = mdlpool_alloc(pool, &buf);
		err = sgs[n] ? example_use(sgs[n], buf, n) : -ENOMEM;
	}
	for (i = 0; i < n; i++)
		if (sgs[i])
			err = mdlpool_free(sgs[i]) ?: err;
	kfree(sgs);
	return err;
}

static int __init example_init(void)
{
	int err;

	if (!count || count > 4096)
		return -EINVAL;
	pool = mdlpool_create("example", 1500, MDLPOOL_TAG('E', 'x', 'm', 'p'));
	if (IS_ERR(pool))
		return PTR_ERR(pool);
	err = example_run();
	if (err) {
		mdlpool_destroy(pool);
		return err;
	}
	pr_info("%u buffers of %u bytes allocated, checked and freed; %lu pages held\n",
		count, mdlpool_buffer_size(pool), mdlpool_pages_held(pool));
	return 0;
}

static void __exit example_exit(void)
{
	mdlpool_destroy(pool);
}

module_init(example_init);
module_exit(example_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("The smallest native user of mdlpool");
