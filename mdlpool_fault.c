// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection for slab allocations: the kernel's fail_mdlpool
 * fault_attr where the kernel has it, the fail_page_* parameters and the
 * fail_next_pages debugfs count everywhere (Documentation/testing.rst).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/fault-inject.h>
#include <linux/moduleparam.h>
#include <linux/random.h>

#include "mdlpool.h"
#include "mdlpool_internal.h"
#include "mdlpool_trace.h"

static unsigned int fail_page_percent;
module_param(fail_page_percent, uint, 0644);
MODULE_PARM_DESC(fail_page_percent,
		 "Fault injection: percent of pool page allocations to fail on purpose");

static unsigned int fail_page_min_order;
module_param(fail_page_min_order, uint, 0644);
MODULE_PARM_DESC(fail_page_min_order,
		 "Fault injection: only slab allocations of at least this order fail (4: a pool's preferred costly order, never its fallback)");

/* Fault injection: page allocations still to fail, and those failed. */
static atomic_t mdlpool_fail_next_pages = ATOMIC_INIT(0);
atomic_long_t mdlpool_injected_failures = ATOMIC_LONG_INIT(0);

#ifdef CONFIG_FAULT_INJECTION
/*
 * The kernel's own fault injection, as failslab and fail_page_alloc have it:
 * /sys/kernel/debug/fail_mdlpool/ with probability, interval, times and the
 * rest (Documentation/fault-injection/).  The module parameters stay for
 * kernels without it.
 */
static DECLARE_FAULT_ATTR(fail_mdlpool);
static struct dentry *mdlpool_fail_dir;

static bool mdlpool_fault_attr_fails(unsigned int order)
{
	return should_fail(&fail_mdlpool, PAGE_SIZE << order);
}

static void mdlpool_fault_attr_init(void)
{
	mdlpool_fail_dir = fault_create_debugfs_attr("fail_mdlpool", NULL,
						     &fail_mdlpool);
	if (IS_ERR(mdlpool_fail_dir))
		mdlpool_fail_dir = NULL;
}

static void mdlpool_fault_attr_exit(void)
{
	debugfs_remove_recursive(mdlpool_fail_dir);
}
#else
static bool mdlpool_fault_attr_fails(unsigned int order)
{
	return false;
}

static void mdlpool_fault_attr_init(void)
{
}

static void mdlpool_fault_attr_exit(void)
{
}
#endif

bool mdlpool_inject_page_failure(unsigned int order)
{
	unsigned int percent = READ_ONCE(fail_page_percent);

	if (order < READ_ONCE(fail_page_min_order))
		return false;
	if (!atomic_add_unless(&mdlpool_fail_next_pages, -1, 0) &&
	    (!percent || get_random_u32_below(100) >= percent) &&
	    !mdlpool_fault_attr_fails(order))
		return false;
	atomic_long_inc(&mdlpool_injected_failures);
	return true;
}

static int mdlpool_fail_next_get(void *data, u64 *val)
{
	*val = atomic_read(&mdlpool_fail_next_pages);
	return 0;
}

/*
 * A count, so 0 to INT_MAX: a negative one would never run down to zero
 * and would fail every page allocation from then on.
 */
static int mdlpool_fail_next_set(void *data, u64 val)
{
	if (val > INT_MAX)
		return -EINVAL;
	atomic_set(&mdlpool_fail_next_pages, val);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(mdlpool_fail_next_fops, mdlpool_fail_next_get,
			 mdlpool_fail_next_set, "%llu\n");

/* At module load, under mdlpool's debugfs directory @dir. */
void mdlpool_fault_init(struct dentry *dir)
{
	debugfs_create_file_unsafe("fail_next_pages", 0600, dir, NULL,
				   &mdlpool_fail_next_fops);
	mdlpool_fault_attr_init();
}

void mdlpool_fault_exit(void)
{
	mdlpool_fault_attr_exit();
}
