/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mdlpool_test: what its parts share.  control.c owns the control file and
 * the command table; commands.c the pools and buffers the module holds and
 * the commands on them; stress.c the stress engine.  Commands run one at a
 * time, under mdlt_mutex.
 */
#ifndef _MDLT_H
#define _MDLT_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/types.h>

#include "mdlpool.h"

struct mdlt_stress_result {
	unsigned int threads;
	unsigned long ops;
	unsigned long softirq_ops;
	unsigned long allocs;
	unsigned long frees;
	unsigned long remote_frees;
	unsigned long mismatches;
	unsigned long alloc_failures;
	unsigned long free_errors;
};

/* A pool created through the control file, with the buffers it holds. */
struct mdlt_pool {
	struct list_head node;
	struct mdlpool *pool;
	struct device *dma_dev;
	enum dma_data_direction dma_dir;
	bool dma_bounced;
	char name[MDLPOOL_NAME_MAX + 1];
	struct list_head held;
	unsigned long nr_held;
	unsigned long pattern_errors;
	bool stressed;
	struct mdlt_stress_result stress;
};

struct mdlt_held {
	struct list_head node;
	struct scatterlist *sg;
	void *buf;
	u32 seq;
};

/* Serialises commands; guards mdlt_pools and everything on it. */
extern struct mutex mdlt_mutex;
extern struct list_head mdlt_pools;

struct mdlt_pool *mdlt_find(const char *name);
void mdlt_fill(void *buf, unsigned int len, u32 owner, u32 seq);
bool mdlt_intact(const void *buf, unsigned int len, u32 owner, u32 seq);
void mdlt_release_all(void);

int mdlt_cmd_create(char **argv, int argc);
int mdlt_cmd_destroy(char **argv, int argc);
int mdlt_cmd_alloc(char **argv, int argc);
int mdlt_cmd_free(char **argv, int argc);
int mdlt_cmd_scavenge(char **argv, int argc);
int mdlt_cmd_badfree(char **argv, int argc);
int mdlt_cmd_badcontext(char **argv, int argc);
int mdlt_cmd_corrupt(char **argv, int argc);
int mdlt_cmd_dmasync(char **argv, int argc);
int mdlt_cmd_stress(char **argv, int argc);
int mdlt_cmd_racefree(char **argv, int argc);
int mdlt_cmd_rtabba(char **argv, int argc);

#endif /* _MDLT_H */
