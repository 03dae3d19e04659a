// SPDX-License-Identifier: GPL-2.0
/*
 * Device-bound pools: each slab mapped once for the pool's device, and
 * the syncs of one buffer's bytes for the device or the CPU.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/export.h>
#include <linux/scatterlist.h>

#include "mdlpool.h"
#include "mdlpool_internal.h"
#include "mdlpool_trace.h"

/*
 * A device-bound pool maps each slab once, whole, when it gets it: the
 * buffers are then only synced, never mapped one by one.  The CPU sync is
 * skipped here because no buffer holds data yet; the caller syncs each
 * buffer for the device before the device uses it.  A slab that cannot be
 * mapped goes back where it came from, and the allocation fails.
 */
bool mdlpool_slab_map(struct mdlpool_share *c, struct page *page,
		      struct mdlpool_slab *slab)
{
	struct mdlpool *pool = c->pool;
	const struct mdlpool_layout *l = mdlpool_layout_of(pool, slab);

	if (!pool->dma_dev)
		return true;
	slab->dma = dma_map_page_attrs(pool->dma_dev, page, 0,
				       mdlpool_layout_bytes(l), pool->dma_dir,
				       DMA_ATTR_SKIP_CPU_SYNC);
	if (dma_mapping_error(pool->dma_dev, slab->dma)) {
		c->dma_map_failures++;
		return false;
	}
	/*
	 * A coherent device whose mapping is not bounced needs no sync: the
	 * sync helpers then return at once, as page_pool skips its syncs.
	 */
	slab->dma_sync = dma_need_sync(pool->dma_dev, slab->dma);
	c->dma_mapped_pages++;
	return true;
}

/* Buffers go back to the page allocator, not to the device: no sync. */
void mdlpool_slab_unmap(struct mdlpool_share *c, struct mdlpool_slab *slab)
{
	struct mdlpool *pool = c->pool;

	if (!pool->dma_dev)
		return;
	dma_unmap_page_attrs(pool->dma_dev, slab->dma,
			     mdlpool_layout_bytes(mdlpool_layout_of(pool, slab)),
			     pool->dma_dir, DMA_ATTR_SKIP_CPU_SYNC);
	c->dma_mapped_pages--;
}

/* The device-bound pool's slab a descriptor belongs to, or NULL. */
static struct mdlpool_slab *mdlpool_dma_slab_of(const struct scatterlist *sg)
{
	struct mdlpool_slab *slab = mdlpool_slab_of(sg);

	if (WARN_ON_ONCE(!slab || !slab->owner->pool->dma_dev))
		return NULL;
	return slab;
}

/**
 * mdlpool_dma_sync_for_device - hand a buffer's bytes to the device
 * @sg: a descriptor of a device-bound pool, out to the caller
 *
 * Makes the first @sg->length bytes of the buffer, as the CPU wrote them,
 * visible to the device (for DMA_TO_DEVICE and DMA_BIDIRECTIONAL pools),
 * and for DMA_FROM_DEVICE pools gives the device the buffer to write.
 *
 * Context: any context the DMA API allows for syncs (no sleeping).
 */
void mdlpool_dma_sync_for_device(const struct scatterlist *sg)
{
	struct mdlpool_slab *slab = mdlpool_dma_slab_of(sg);
	struct mdlpool *pool;

	if (!slab || !slab->dma_sync)
		return;
	pool = slab->owner->pool;
	dma_sync_single_range_for_device(pool->dma_dev, slab->dma,
					 sg_dma_address(sg) - slab->dma,
					 sg->length, pool->dma_dir);
}
EXPORT_SYMBOL_GPL(mdlpool_dma_sync_for_device);

/**
 * mdlpool_dma_sync_for_cpu - give a buffer's bytes back to the CPU
 * @sg: a descriptor of a device-bound pool, out to the caller
 *
 * Makes the first @sg->length bytes of the buffer, as the device wrote
 * them, visible to the CPU.  Bytes in that range the device did not write
 * are undefined afterwards: under swiotlb they are copied from the bounce
 * buffer, which holds what an earlier transfer left there.  Set @sg->length
 * to what the device wrote first.
 *
 * Context: any context the DMA API allows for syncs (no sleeping).
 */
void mdlpool_dma_sync_for_cpu(const struct scatterlist *sg)
{
	struct mdlpool_slab *slab = mdlpool_dma_slab_of(sg);
	struct mdlpool *pool;

	if (!slab || !slab->dma_sync)
		return;
	pool = slab->owner->pool;
	dma_sync_single_range_for_cpu(pool->dma_dev, slab->dma,
				      sg_dma_address(sg) - slab->dma,
				      sg->length, pool->dma_dir);
}
EXPORT_SYMBOL_GPL(mdlpool_dma_sync_for_cpu);
