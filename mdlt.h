/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared between the parts of mdlpool_test.ko: the control file
 * (mdlt_control.c) and the benchmark (mdlt_bench.c).
 */
#ifndef _MDLT_H
#define _MDLT_H

#include <linux/types.h>

struct dentry;

/* One key=value option of a control command, with its accepted range. */
struct mdlt_opt {
	const char *key;
	unsigned int min, max;
	unsigned int *val;
	bool seen;
};

int mdlt_parse_opts(char **argv, int argc, struct mdlt_opt *opts, int nr);

int mdlt_cmd_bench(char **argv, int argc);
void mdlt_bench_init(struct dentry *root);
void mdlt_bench_exit(void);

#endif /* _MDLT_H */
