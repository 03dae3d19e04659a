/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Trailing key=value words of a control command, each with its accepted
 * range.  Shared by mdlpool_test and mdlpool_bench, which are separate
 * modules, so the parser is inline rather than exported by either.
 */
#ifndef _MDLT_OPTIONS_H
#define _MDLT_OPTIONS_H

#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/types.h>

struct mdlt_opt {
	const char *key;
	unsigned int min, max;
	unsigned int *val;
	bool seen;
};

/* Each word must name an option once and give it a value in range. */
static inline int mdlt_parse_opts(char **argv, int argc, struct mdlt_opt *opts, int nr)
{
	int i, j, err;

	for (i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (!eq)
			return -EINVAL;
		*eq = '\0';
		for (j = 0; j < nr; j++) {
			if (!strcmp(argv[i], opts[j].key))
				break;
		}
		if (j == nr || opts[j].seen)
			return -EINVAL;
		err = kstrtouint(eq + 1, 0, opts[j].val);
		if (err)
			return -EINVAL;
		if (*opts[j].val < opts[j].min || *opts[j].val > opts[j].max)
			return -EINVAL;
		opts[j].seen = true;
	}
	return 0;
}

#endif /* _MDLT_OPTIONS_H */
