/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mdlpool's statistics, one line each, in the order the debugfs files print
 * them; Documentation/debugfs.rst describes each key.  Not a header of its
 * own: each includer defines MDLPOOL_STAT(key, how) and includes this to
 * make struct mdlpool_stats, the debugfs keys and the sums from one list.
 * "how" says how mdlpool_stats.c reads one CPU share's value: own(f) a
 * counter its CPU keeps, shared(f) one other CPUs add to, key(k) from a
 * key read before it.  A new statistic is its line here, its counter and
 * its documentation; the build checks the documentation (make modules).
 */
MDLPOOL_STAT(allocs,			own(allocs));
MDLPOOL_STAT(frees,			own(local_frees) + shared(remote_frees));
MDLPOOL_STAT(in_use,			key(allocs) - key(frees));
MDLPOOL_STAT(peak_in_use,		own(peak_in_use));
MDLPOOL_STAT(pages_alloc,		own(pages_alloc));
MDLPOOL_STAT(pages_freed,		own(pages_freed));
MDLPOOL_STAT(pages_in_use,		key(pages_alloc) - key(pages_freed));
MDLPOOL_STAT(peak_pages,		own(peak_pages));
MDLPOOL_STAT(used_list_pages,		own(nr_used_slabs));
MDLPOOL_STAT(blocks_built,		own(blocks_built));
MDLPOOL_STAT(remote_frees,		shared(remote_frees));
MDLPOOL_STAT(missed_moves,		shared(missed_moves));
MDLPOOL_STAT(scavenges,			own(scavenges));
MDLPOOL_STAT(rejected_frees,		shared(rejected_frees));
MDLPOOL_STAT(alloc_failures,		own(alloc_failures));
MDLPOOL_STAT(overruns,			shared(overruns));
MDLPOOL_STAT(poison_errors,		shared(poison_errors));
MDLPOOL_STAT(corrupt_free_blocks,	own(corrupt_free_blocks));
MDLPOOL_STAT(dma_mapped_pages,		own(dma_mapped_pages));
MDLPOOL_STAT(dma_map_failures,		own(dma_map_failures));
MDLPOOL_STAT(slab_fallbacks,		own(slab_fallbacks));
MDLPOOL_STAT(waited_slabs,		own(waited_slabs));
MDLPOOL_STAT(reserve_taken,		own(reserve_taken));
