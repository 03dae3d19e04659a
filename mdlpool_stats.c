// SPDX-License-Identifier: GPL-2.0
/*
 * Statistics: summed over a pool's shares from the one table in mdlpool.h
 * (MDLPOOL_STATS), for mdlpool_get_stats() and the debugfs files.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/ctype.h>
#include <linux/debugfs.h>
#include <linux/export.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/string.h>

#include "mdlpool.h"
#include "mdlpool_internal.h"
#include "mdlpool_trace.h"

static struct dentry *mdlpool_debugfs;

/*
 * How mdlpool_stats.h reads share @c into @v: each reader names a field of
 * @c or @v, found by offsetof(), whose bare argument checkpatch accepts
 * where "c->f" would not do.  The static_asserts below check each field's
 * size against its reader's.
 */
#define mdlpool_member(type, p, ptype, f)				\
	((const type *)((const void *)(p) + offsetof(ptype, f)))
/* A counter the owner keeps without atomics: a snapshot (rule 6). */
#define own(f)								\
	mdlpool_peek(*mdlpool_member(unsigned long, c, struct mdlpool_share, f))
#define shared(f)							\
	atomic_long_read(mdlpool_member(atomic_long_t, c, struct mdlpool_share, f))
#define key(k)		(*mdlpool_member(unsigned long, v, struct mdlpool_stats, k))

static void mdlpool_share_stats(const struct mdlpool_share *c,
				struct mdlpool_stats *v)
{
#define MDLPOOL_STAT(k, how)						\
	(*(unsigned long *)mdlpool_member(unsigned long, v, struct mdlpool_stats, k) = (how))
#include "mdlpool_stats.h"
#undef MDLPOOL_STAT
}

#undef own
#undef shared
#undef key

#define own(f)								\
	BUILD_BUG_ON_ZERO(sizeof_field(struct mdlpool_share, f) != sizeof(long))
#define shared(f)							\
	BUILD_BUG_ON_ZERO(sizeof_field(struct mdlpool_share, f) !=		\
			  sizeof(atomic_long_t))
#define key(k)		0
#define MDLPOOL_STAT(k, how)	static_assert(!(how))
#include "mdlpool_stats.h"
#undef MDLPOOL_STAT
#undef own
#undef shared
#undef key

static void mdlpool_stats_add(struct mdlpool_stats *sum,
			      const struct mdlpool_stats *s)
{
	unsigned long *to = (unsigned long *)sum;
	const unsigned long *from = (const unsigned long *)s;
	unsigned int i;

	for (i = 0; i < sizeof(*s) / sizeof(*from); i++)
		to[i] += from[i];
}

/**
 * mdlpool_get_stats - add a pool's statistics to a driver's
 * @pool: the pool
 * @stats: what to add them to; zeroed by the caller before the first pool
 *
 * As page_pool_get_stats(): a driver with several pools sums them into one
 * struct mdlpool_stats.  The figures are the debugfs file's "total" line
 * (Documentation/debugfs.rst), read without locks: a snapshot.  Peaks add
 * up over shares, as there: upper bounds.
 *
 * Context: any.
 * Return: false if @pool or @stats is NULL, else true.
 */
bool mdlpool_get_stats(const struct mdlpool *pool, struct mdlpool_stats *stats)
{
	struct mdlpool_stats s;
	struct mdlpool_share *c;

	if (!pool || !stats)
		return false;
	for_each_mdlpool_share(c, pool) {
		mdlpool_share_stats(c, &s);
		mdlpool_stats_add(stats, &s);
	}
	return true;
}
EXPORT_SYMBOL_GPL(mdlpool_get_stats);

static void mdlpool_stats_print(struct seq_file *m,
				const struct mdlpool_stats *s)
{
#define MDLPOOL_STAT(k, how)						\
	seq_printf(m, " " #k "=%ld",					\
		   *mdlpool_member(long, s, struct mdlpool_stats, k))
#include "mdlpool_stats.h"
#undef MDLPOOL_STAT
	seq_putc(m, '\n');
}

static void mdlpool_pool_line(struct seq_file *m, const struct mdlpool *pool)
{
	const struct mdlpool_layout *pref = &pool->layouts[MDLPOOL_PREFERRED];
	const struct mdlpool_layout *fallback = &pool->layouts[MDLPOOL_FALLBACK];
	char tag[5];
	int i;

	for (i = 0; i < 4; i++) {
		char ch = pool->tag >> (8 * i);

		tag[i] = isgraph(ch) ? ch : '.';
	}
	tag[4] = '\0';
	seq_printf(m, "pool name=%s tag=%s buffer_size=%u block_size=%u blocks_per_page=%u slab_order=%u slab_bytes=%u fallback_order=%u fallback_blocks=%u checks=%d node=%d waits=%d reserve=%u reserve_slabs=%u reserve_target=%u\n",
		   pool->name, tag, pool->buffer_size, pool->block_size,
		   pool->blocks_per_page, pref->order,
		   mdlpool_layout_bytes(pref), fallback->order, fallback->blocks,
		   pool->checked, pool->nid,
		   gfpflags_allow_blocking(pool->gfp), pool->reserve_buffers,
		   /* A snapshot, as every figure here (rule 6). */
		   data_race(pool->reserve_nr), pool->reserve_target);
}

static int mdlpool_stats_show(struct seq_file *m, void *unused)
{
	struct mdlpool_stats total = {}, cpu_sum, s;
	struct mdlpool *pool = m->private;
	unsigned int ctx;
	int cpu;

	mdlpool_pool_line(m, pool);
	for_each_possible_cpu(cpu) {
		memset(&cpu_sum, 0, sizeof(cpu_sum));
		for (ctx = 0; ctx < MDLPOOL_NR_CTX; ctx++) {
			mdlpool_share_stats(mdlpool_share(pool, cpu, ctx), &s);
			mdlpool_stats_add(&cpu_sum, &s);
		}
		mdlpool_stats_add(&total, &cpu_sum);
		seq_printf(m, "cpu=%d", cpu);
		mdlpool_stats_print(m, &cpu_sum);
	}
	/*
	 * Peaks add up over a CPU's two shares and over CPUs, as NT kept them
	 * per CPU: upper bounds.
	 */
	seq_puts(m, "total");
	mdlpool_stats_print(m, &total);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mdlpool_stats);

/**
 * mdlpool_pages_held - slabs a pool holds now
 * @pool: the pool
 *
 * Summed over every CPU's share without locks: a snapshot.
 *
 * Context: any.
 * Return: slabs taken from the page allocator and not yet given back.
 */
unsigned long mdlpool_pages_held(const struct mdlpool *pool)
{
	unsigned long held = 0;
	struct mdlpool_share *c;

	for_each_mdlpool_share(c, pool)
		held += mdlpool_peek(c->pages_alloc) - mdlpool_peek(c->pages_freed);
	return held;
}
EXPORT_SYMBOL_GPL(mdlpool_pages_held);

static int mdlpool_summary_show(struct seq_file *m, void *unused)
{
	unsigned int pools = 0;
	struct mdlpool *pool;

	mutex_lock(&mdlpool_mutex);
	list_for_each_entry(pool, &mdlpool_list, node)
		pools++;
	mutex_unlock(&mdlpool_mutex);

	seq_printf(m, "pools=%u pages_held=%ld foreign_frees=%ld injected_failures=%ld max_buffer_size=%u page_size=%lu reserve_slabs=%ld shrinker_freed=%ld\n",
		   pools, atomic_long_read(&mdlpool_slabs_total),
		   atomic_long_read(&mdlpool_foreign_frees),
		   atomic_long_read(&mdlpool_injected_failures),
		   mdlpool_max_buffer_size(), PAGE_SIZE,
		   atomic_long_read(&mdlpool_reserve_total),
		   atomic_long_read(&mdlpool_shrinker_freed));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mdlpool_summary);

/* A pool's directory, /sys/kernel/debug/mdlpool/<name>/. */
void mdlpool_debugfs_add(struct mdlpool *pool)
{
	pool->dir = debugfs_create_dir(pool->name, mdlpool_debugfs);
	debugfs_create_file("stats", 0444, pool->dir, pool, &mdlpool_stats_fops);
}

void mdlpool_debugfs_remove(struct mdlpool *pool)
{
	debugfs_remove_recursive(pool->dir);
}

/* At module load: mdlpool's directory, which it returns, and its summary. */
struct dentry *mdlpool_debugfs_init(void)
{
	mdlpool_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("summary", 0444, mdlpool_debugfs, NULL,
			    &mdlpool_summary_fops);
	return mdlpool_debugfs;
}

void mdlpool_debugfs_exit(void)
{
	debugfs_remove_recursive(mdlpool_debugfs);
}
