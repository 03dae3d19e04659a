/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mdlpool - per-CPU pools of fixed-size buffers, each described by a
 * scatterlist entry, after the Windows NT MDL buffer pool.
 *
 * See mdlpool.c for the design and the context rules.
 */
#ifndef _MDLPOOL_H
#define _MDLPOOL_H

#include <linux/dma-direction.h>
#include <linux/gfp.h>
#include <linux/numa.h>
#include <linux/types.h>

struct device;
struct mdlpool;
struct scatterlist;

/* Longest pool name: it is also the pool's debugfs directory name. */
#define MDLPOOL_NAME_MAX	31

/* Pack a four-character tag the way NT multi-character constants read. */
#define MDLPOOL_TAG(a, b, c, d)					\
	((u32)(u8)(a) | (u32)(u8)(b) << 8 |			\
	 (u32)(u8)(c) << 16 | (u32)(u8)(d) << 24)

/* mdlpool_params.flags: the special-pool checks on or off for this pool. */
#define MDLPOOL_F_CHECKS	BIT(0)
#define MDLPOOL_F_NO_CHECKS	BIT(1)

/**
 * struct mdlpool_stats - a pool's statistics, see mdlpool_get_stats()
 *
 * One unsigned long per line of mdlpool_stats.h, named for its debugfs key.
 */
struct mdlpool_stats {
#define MDLPOOL_STAT(key, how)	unsigned long key
#include "mdlpool_stats.h"
#undef MDLPOOL_STAT
};

/**
 * struct mdlpool_params - what mdlpool_create_params() makes
 * @name: unique name, at most MDLPOOL_NAME_MAX characters and no '/'
 * @buffer_size: bytes per buffer, 1 to mdlpool_max_buffer_size()
 * @tag: four characters naming the pool's user (MDLPOOL_TAG()), or 0
 * @gfp: page allocation flags for refills in process context: 0 for
 *	GFP_NOWAIT, or flags that may sleep, such as GFP_KERNEL or GFP_NOIO;
 *	see mdlpool_create_params() for when they apply
 * @node: the NUMA node every slab comes from, or NUMA_NO_NODE for the
 *	memory node of the CPU that owns it
 * @dev: the device that reads or writes the buffers, or NULL
 * @dir: the DMA direction, for a pool with @dev
 * @flags: MDLPOOL_F_CHECKS or MDLPOOL_F_NO_CHECKS; neither for the
 *	debug_checks module parameter's setting
 * @reserve: buffers that must still be had when the page allocator has no
 *	page at all, as a mempool's minimum; 0 for none
 */
struct mdlpool_params {
	const char *name;
	unsigned int buffer_size;
	u32 tag;
	gfp_t gfp;
	int node;
	struct device *dev;
	enum dma_data_direction dir;
	unsigned int flags;
	unsigned int reserve;
};

struct mdlpool *mdlpool_create_params(const struct mdlpool_params *params);
struct mdlpool *mdlpool_create(const char *name, unsigned int buffer_size,
			       u32 tag);
struct mdlpool *mdlpool_create_dma(const char *name, unsigned int buffer_size,
				   u32 tag, struct device *dev,
				   enum dma_data_direction dir);
int mdlpool_destroy(struct mdlpool *pool);

struct scatterlist *mdlpool_alloc(struct mdlpool *pool, void **buf);
struct scatterlist *mdlpool_alloc_bh(struct mdlpool *pool, void **buf);
int mdlpool_free(struct scatterlist *sg);
unsigned int mdlpool_alloc_bulk(struct mdlpool *pool, unsigned int nr,
				struct scatterlist **sgs, void **bufs);
int mdlpool_free_bulk(unsigned int nr, struct scatterlist **sgs);

void mdlpool_dma_sync_for_device(const struct scatterlist *sg);
void mdlpool_dma_sync_for_cpu(const struct scatterlist *sg);

void mdlpool_scavenge(struct mdlpool *pool);

unsigned int mdlpool_buffer_size(const struct mdlpool *pool);
unsigned int mdlpool_max_buffer_size(void);
bool mdlpool_debug_checks(const struct mdlpool *pool);
unsigned long mdlpool_pages_held(const struct mdlpool *pool);
bool mdlpool_get_stats(const struct mdlpool *pool, struct mdlpool_stats *stats);

#endif /* _MDLPOOL_H */
