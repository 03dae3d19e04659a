// SPDX-License-Identifier: GPL-2.0
/*
 * mdlpool_test - drives mdlpool through /sys/kernel/debug/mdlpool/control
 *
 * Uses only mdlpool's public API.  Each write is one command; a malformed
 * or impossible command fails with an errno and changes nothing.  Reading
 * the file shows the buffers this module holds per pool and the result of
 * the last stress run.  Documentation/debugfs.rst lists the commands.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ctype.h>
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "mdlt.h"

#define MDLT_CMD_MAX		256
#define MDLT_ARGS_MAX		8

DEFINE_MUTEX(mdlt_mutex);	/* serialises commands; guards mdlt_pools */
LIST_HEAD(mdlt_pools);
static struct dentry *mdlt_control;

/* ---- the control file ---- */

struct mdlt_cmd {
	const char *name;
	int (*run)(char **argv, int argc);
};

static const struct mdlt_cmd mdlt_cmds[] = {
	{ "create", mdlt_cmd_create },
	{ "destroy", mdlt_cmd_destroy },
	{ "alloc", mdlt_cmd_alloc },
	{ "free", mdlt_cmd_free },
	{ "scavenge", mdlt_cmd_scavenge },
	{ "badfree", mdlt_cmd_badfree },
	{ "badcontext", mdlt_cmd_badcontext },
	{ "corrupt", mdlt_cmd_corrupt },
	{ "dmasync", mdlt_cmd_dmasync },
	{ "stress", mdlt_cmd_stress },
	{ "racefree", mdlt_cmd_racefree },
	{ "rtabba", mdlt_cmd_rtabba },
};

static int mdlt_run(char *line)
{
	char **argv;
	int argc, i, err = -EINVAL;

	argv = argv_split(GFP_KERNEL, line, &argc);
	if (!argv)
		return -ENOMEM;
	if (argc < 1 || argc > MDLT_ARGS_MAX)
		goto out;
	for (i = 0; i < ARRAY_SIZE(mdlt_cmds); i++) {
		if (!strcmp(argv[0], mdlt_cmds[i].name)) {
			mutex_lock(&mdlt_mutex);
			err = mdlt_cmds[i].run(argv, argc);
			mutex_unlock(&mdlt_mutex);
			break;
		}
	}
out:
	argv_free(argv);
	return err;
}

static bool mdlt_line_printable(const char *s)
{
	for (; *s; s++) {
		if (!isprint(*s) && !isspace(*s))
			return false;
	}
	return true;
}

static ssize_t mdlt_control_write(struct file *file,
				  const char __user *ubuf, size_t count,
				  loff_t *ppos)
{
	char *line;
	int err;

	if (!count || count > MDLT_CMD_MAX)
		return -EINVAL;
	line = memdup_user_nul(ubuf, count);
	if (IS_ERR(line))
		return PTR_ERR(line);
	err = -EINVAL;
	if (strlen(line) == count && mdlt_line_printable(line))
		err = mdlt_run(line);
	kfree(line);
	return err ?: count;
}

/* What mdlpool_get_stats() gives a driver, in the debugfs keys' order. */
static void mdlt_show_stats(struct seq_file *m, struct mdlt_pool *mp)
{
	struct mdlpool_stats st = {};

	if (!mdlpool_get_stats(mp->pool, &st))
		return;
	seq_printf(m, "getstats %s", mp->name);
#define MDLPOOL_STAT(key, how)	seq_printf(m, " " #key "=%ld", (long)st.key)
#include "mdlpool_stats.h"
#undef MDLPOOL_STAT
	seq_putc(m, '\n');
}

static int mdlt_control_show(struct seq_file *m, void *unused)
{
	struct mdlt_pool *mp;
	struct mdlt_held *h;

	mutex_lock(&mdlt_mutex);
	list_for_each_entry(mp, &mdlt_pools, node) {
		unsigned int size = mdlpool_buffer_size(mp->pool);
		unsigned long full = 0;

		list_for_each_entry(h, &mp->held, node)
			full += h->sg->length == size;
		seq_printf(m, "pool %s held=%lu held_full_length=%lu pattern_errors=%lu",
			   mp->name, mp->nr_held, full, mp->pattern_errors);
		/* Lets a script find the newest buffer's page in a page trace. */
		if (!list_empty(&mp->held)) {
			nodemask_t nodes = NODE_MASK_NONE;

			h = list_last_entry(&mp->held, struct mdlt_held, node);
			seq_printf(m, " newest_pfn=0x%lx",
				   page_to_pfn(sg_page(h->sg)));
			/* Where the pool's node choice put the buffers. */
			list_for_each_entry(h, &mp->held, node)
				node_set(page_to_nid(sg_page(h->sg)), nodes);
			seq_printf(m, " held_nodes=%*pbl", nodemask_pr_args(&nodes));
		}
		if (mp->dma_dev)
			seq_printf(m, " dma_dev=%s dma_bounced=%d", dev_name(mp->dma_dev),
				   mp->dma_bounced);
		seq_putc(m, '\n');
		mdlt_show_stats(m, mp);
		if (!mp->stressed)
			continue;
		seq_printf(m, "stress %s threads=%u ops=%lu softirq_ops=%lu allocs=%lu frees=%lu remote_frees=%lu mismatches=%lu alloc_failures=%lu free_errors=%lu\n",
			   mp->name, mp->stress.threads, mp->stress.ops,
			   mp->stress.softirq_ops,
			   mp->stress.allocs, mp->stress.frees,
			   mp->stress.remote_frees, mp->stress.mismatches,
			   mp->stress.alloc_failures, mp->stress.free_errors);
	}
	mutex_unlock(&mdlt_mutex);
	return 0;
}

static int mdlt_control_open(struct inode *inode, struct file *file)
{
	return single_open(file, mdlt_control_show, NULL);
}

static const struct file_operations mdlt_control_fops = {
	.owner		= THIS_MODULE,
	.open		= mdlt_control_open,
	.read		= seq_read,
	.llseek		= seq_lseek,
	.release	= single_release,
	.write		= mdlt_control_write,
};

static int __init mdlt_init(void)
{
	struct dentry *root = debugfs_lookup("mdlpool", NULL);

	if (IS_ERR_OR_NULL(root)) {
		pr_err("mdlpool's debugfs directory is missing\n");
		return -ENODEV;
	}
	mdlt_control = debugfs_create_file("control", 0600, root, NULL,
					   &mdlt_control_fops);
	dput(root);
	return 0;
}

static void __exit mdlt_exit(void)
{
	debugfs_remove(mdlt_control);
	mdlt_release_all();
}

module_init(mdlt_init);
module_exit(mdlt_exit);

MODULE_LICENSE("GPL");
MODULE_INFO(test, "Y");
MODULE_DESCRIPTION("debugfs driver and stress test for mdlpool");

