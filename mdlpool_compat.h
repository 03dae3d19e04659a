/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel APIs mdlpool and its test modules use that changed between
 * the kernels they build on (6.1 and later), in one place, so that the code
 * itself reads as for one kernel.  Each entry names the release that made
 * the change.
 */
#ifndef _MDLPOOL_COMPAT_H
#define _MDLPOOL_COMPAT_H

#include <linux/fs.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/version.h>

/* 6.7: shrinkers are allocated by the core (shrinker_alloc()). */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
static inline struct shrinker *
mdlpool_shrinker_alloc(const char *name,
		       unsigned long (*count)(struct shrinker *,
					      struct shrink_control *),
		       unsigned long (*scan)(struct shrinker *,
					     struct shrink_control *))
{
	struct shrinker *s = shrinker_alloc(0, "%s", name);

	if (!s)
		return NULL;
	s->count_objects = count;
	s->scan_objects = scan;
	s->seeks = DEFAULT_SEEKS;
	shrinker_register(s);
	return s;
}

static inline void mdlpool_shrinker_free(struct shrinker *s)
{
	shrinker_free(s);
}
#else
static inline struct shrinker *
mdlpool_shrinker_alloc(const char *name,
		       unsigned long (*count)(struct shrinker *,
					      struct shrink_control *),
		       unsigned long (*scan)(struct shrinker *,
					     struct shrink_control *))
{
	struct shrinker *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s)
		return NULL;
	s->count_objects = count;
	s->scan_objects = scan;
	s->seeks = DEFAULT_SEEKS;
	if (register_shrinker(s, "%s", name)) {
		kfree(s);
		return NULL;
	}
	return s;
}

static inline void mdlpool_shrinker_free(struct shrinker *s)
{
	unregister_shrinker(s);
	kfree(s);
}
#endif

/*
 * 6.6: <net/page_pool.h> split into types and helpers.  The benchmark and
 * mdlnic's page_pool back end define MDLPOOL_COMPAT_PAGE_POOL to get it.
 */
#ifdef MDLPOOL_COMPAT_PAGE_POOL
#include <linux/netdevice.h>
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
#include <net/page_pool/helpers.h>
#else
#include <net/page_pool.h>
#endif

/*
 * 6.5: a page_pool may name the NAPI context that allocates from it, so
 * that pages freed in that context's poll go straight back to its cache.
 */
static inline void mdlpool_page_pool_set_napi(struct page_pool_params *pp,
					      struct napi_struct *napi)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	pp->napi = napi;
#endif
}
#endif

/* 6.7: page_pool fragments need no flag of their own. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
#define MDLPOOL_PP_FLAG_PAGE_FRAG	0
#else
#define MDLPOOL_PP_FLAG_PAGE_FRAG	PP_FLAG_PAGE_FRAG
#endif

/* 6.12: no_llseek is gone; a file without .llseek cannot seek. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0)
#define MDLPOOL_NO_LLSEEK	no_llseek
#else
#define MDLPOOL_NO_LLSEEK	NULL
#endif

/*
 * 6.12: is_swiotlb_buffer() gave way to swiotlb_find_pool().  Only the test
 * module asks (does a mapping bounce?); it defines MDLPOOL_COMPAT_SWIOTLB.
 */
#ifdef MDLPOOL_COMPAT_SWIOTLB
#include <linux/swiotlb.h>
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#define mdlpool_is_swiotlb_buffer(dev, paddr)	(!!swiotlb_find_pool(dev, paddr))
#else
#define mdlpool_is_swiotlb_buffer(dev, paddr)	is_swiotlb_buffer(dev, paddr)
#endif
#endif

#endif /* _MDLPOOL_COMPAT_H */
