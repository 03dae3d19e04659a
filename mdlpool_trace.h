/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mdlpool's trace events, under events/mdlpool/ in tracefs: slabs taken
 * from and given back to the page allocator, scavenges, refused frees and
 * failed allocations.  None is on the fast path: each marks something that
 * costs a page allocation or a report anyway.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM mdlpool

#if !defined(_MDLPOOL_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _MDLPOOL_TRACE_H

#include <linux/string.h>
#include <linux/tracepoint.h>

#include "mdlpool_internal.h"

/* Each enum's values and names, exported so that tools can decode them. */
#define MDLPOOL_TRACE_CTX				\
	EM(MDLPOOL_CTX_TASK, "task")			\
	EMe(MDLPOOL_CTX_BH, "softirq")

#define MDLPOOL_TRACE_SOURCE				\
	EM(MDLPOOL_SLAB_PREFERRED, "preferred")		\
	EM(MDLPOOL_SLAB_FALLBACK, "fallback")		\
	EMe(MDLPOOL_SLAB_RESERVE, "reserve")

#define MDLPOOL_TRACE_RECLAIM				\
	EM(MDLPOOL_RECLAIM_PERIOD, "period")		\
	EM(MDLPOOL_RECLAIM_THRESHOLD, "threshold")	\
	EM(MDLPOOL_RECLAIM_CALL, "call")		\
	EM(MDLPOOL_RECLAIM_IDLE, "idle")		\
	EM(MDLPOOL_RECLAIM_SHRINK, "shrink")		\
	EM(MDLPOOL_RECLAIM_OFFLINE, "offline")		\
	EM(MDLPOOL_RECLAIM_DESTROY, "destroy")		\
	EMe(MDLPOOL_RECLAIM_CORRUPT, "corrupt")

#define MDLPOOL_TRACE_REFUSAL				\
	EM(MDLPOOL_REFUSED_FOREIGN, "foreign")		\
	EM(MDLPOOL_REFUSED_ALTERED, "altered")		\
	EMe(MDLPOOL_REFUSED_TWICE, "twice")

#undef EM
#undef EMe
#define EM(a, b)	TRACE_DEFINE_ENUM(a);
#define EMe(a, b)	TRACE_DEFINE_ENUM(a);

MDLPOOL_TRACE_CTX
MDLPOOL_TRACE_SOURCE
MDLPOOL_TRACE_RECLAIM
MDLPOOL_TRACE_REFUSAL

#undef EM
#undef EMe
#define EM(a, b)	{ a, b },
#define EMe(a, b)	{ a, b }

/* The share's pool, CPU and context, as every share event records them. */
#define MDLPOOL_SHARE_FIELDS				\
	__array(char, pool, MDLPOOL_NAME_MAX + 1)	\
	__field(int, cpu)				\
	__field(int, ctx)

#define MDLPOOL_SHARE_ASSIGN(c)					\
	do {							\
		strscpy(__entry->pool, (c)->pool->name,		\
			sizeof(__entry->pool));			\
		__entry->cpu = (c)->cpu;			\
		__entry->ctx = (c)->ctx;			\
	} while (0)

#define MDLPOOL_SHARE_FMT	"pool=%s cpu=%d ctx=%s"
#define MDLPOOL_SHARE_ARGS	__entry->pool, __entry->cpu,	\
	__print_symbolic(__entry->ctx, MDLPOOL_TRACE_CTX)

TRACE_EVENT(mdlpool_slab_alloc,
	TP_PROTO(const struct mdlpool_share *c, unsigned int order,
		 unsigned int blocks, int source),
	TP_ARGS(c, order, blocks, source),
	TP_STRUCT__entry(
		MDLPOOL_SHARE_FIELDS
		__field(unsigned int, order)
		__field(unsigned int, blocks)
		__field(int, source)
	),
	TP_fast_assign(
		MDLPOOL_SHARE_ASSIGN(c);
		__entry->order = order;
		__entry->blocks = blocks;
		__entry->source = source;
	),
	TP_printk(MDLPOOL_SHARE_FMT " order=%u blocks=%u reason=%s",
		  MDLPOOL_SHARE_ARGS, __entry->order, __entry->blocks,
		  __print_symbolic(__entry->source, MDLPOOL_TRACE_SOURCE))
);

TRACE_EVENT(mdlpool_slab_release,
	TP_PROTO(const struct mdlpool_share *c, unsigned int order, int reason),
	TP_ARGS(c, order, reason),
	TP_STRUCT__entry(
		MDLPOOL_SHARE_FIELDS
		__field(unsigned int, order)
		__field(int, reason)
	),
	TP_fast_assign(
		MDLPOOL_SHARE_ASSIGN(c);
		__entry->order = order;
		__entry->reason = reason;
	),
	TP_printk(MDLPOOL_SHARE_FMT " order=%u reason=%s",
		  MDLPOOL_SHARE_ARGS, __entry->order,
		  __print_symbolic(__entry->reason, MDLPOOL_TRACE_RECLAIM))
);

TRACE_EVENT(mdlpool_scavenge,
	TP_PROTO(const struct mdlpool_share *c, int kind,
		 unsigned long recovered, unsigned long released),
	TP_ARGS(c, kind, recovered, released),
	TP_STRUCT__entry(
		MDLPOOL_SHARE_FIELDS
		__field(int, kind)
		__field(unsigned long, recovered)
		__field(unsigned long, released)
	),
	TP_fast_assign(
		MDLPOOL_SHARE_ASSIGN(c);
		__entry->kind = kind;
		__entry->recovered = recovered;
		__entry->released = released;
	),
	TP_printk(MDLPOOL_SHARE_FMT " kind=%s recovered=%lu released=%lu",
		  MDLPOOL_SHARE_ARGS,
		  __print_symbolic(__entry->kind, MDLPOOL_TRACE_RECLAIM),
		  __entry->recovered, __entry->released)
);

TRACE_EVENT(mdlpool_free_refused,
	TP_PROTO(const char *pool, const void *sg, int why),
	TP_ARGS(pool, sg, why),
	TP_STRUCT__entry(
		__array(char, pool, MDLPOOL_NAME_MAX + 1)
		__field(const void *, sg)
		__field(int, why)
	),
	TP_fast_assign(
		strscpy(__entry->pool, pool, sizeof(__entry->pool));
		__entry->sg = sg;
		__entry->why = why;
	),
	TP_printk("pool=%s sg=%p why=%s", __entry->pool, __entry->sg,
		  __print_symbolic(__entry->why, MDLPOOL_TRACE_REFUSAL))
);

TRACE_EVENT(mdlpool_alloc_fail,
	TP_PROTO(const struct mdlpool_share *c, unsigned int wanted,
		 unsigned int got),
	TP_ARGS(c, wanted, got),
	TP_STRUCT__entry(
		MDLPOOL_SHARE_FIELDS
		__field(unsigned int, wanted)
		__field(unsigned int, got)
	),
	TP_fast_assign(
		MDLPOOL_SHARE_ASSIGN(c);
		__entry->wanted = wanted;
		__entry->got = got;
	),
	TP_printk(MDLPOOL_SHARE_FMT " wanted=%u got=%u",
		  MDLPOOL_SHARE_ARGS, __entry->wanted, __entry->got)
);

#endif /* _MDLPOOL_TRACE_H */

/* Out of the kernel tree: define_trace.h finds this file through -I$(src). */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE mdlpool_trace
#include <trace/define_trace.h>
