/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the files of nt_compat.ko share; not for its users, which include
 * nt_compat.h.
 *
 * nt_compat.c	status codes, processors, the deferred work, the
 *		executive pool, the module
 * nt_mdp.c	the MDL pool: MdpCreatePool() and its buffers' MDLs
 * nt_mdl.c	MDLs for memory that is not the pool's: their fields,
 *		building, locking and mapping, partial MDLs
 * nt_mdl_pages.c	pages allocated for MDLs: MmAllocatePagesForMdlEx()
 */
#ifndef _NT_COMPAT_INTERNAL_H
#define _NT_COMPAT_INTERNAL_H

#include <linux/llist.h>

#include "nt_compat.h"

/* nt_compat.c */
void *nt_pool_alloc(bool paged, SIZE_T size, bool zero);
void nt_kvfree(void *p);
void nt_deferred_schedule(void);

/* nt_mdl.c */
/* NT's limit (Windows 7 on): 4 GiB less a page. */
#define NT_MDL_MAX_BYTES	((ULONG)(0x100000000ULL - PAGE_SIZE))

/* Values of nt_state: how an MDL's pages came to be described. */
#define NT_STATE_BUILT		BIT(0)	/* kernel memory (not pinned) */
#define NT_STATE_LOCKED		BIT(1)	/* MmProbeAndLockPages() */
#define NT_STATE_PARTIAL	BIT(2)	/* IoBuildPartialMdl(): borrowed */
#define NT_STATE_PAGES		BIT(3)	/* MmAllocatePagesForMdlEx() */
#define NT_STATE_ADOPTED	BIT(4)	/* a PFN array the driver wrote */

/*
 * The MdlFlags bits drivers set as hints.  They are kept and change
 * nothing: every mapping here may fail, and says so with NULL.
 */
#define NT_FLAGS_HINTS	(MDL_ALLOCATED_FIXED_SIZE | MDL_IO_PAGE_READ | \
			 MDL_NETWORK_HEADER | MDL_MAPPING_CAN_FAIL | \
			 MDL_PAGE_CONTENTS_INVARIANT)
/* The bits nt_compat.ko keeps, which the driver may read and flip. */
#define NT_FLAGS_KEPT	(MDL_MAPPED_TO_SYSTEM_VA | MDL_PAGES_LOCKED | \
			 MDL_SOURCE_IS_NONPAGED_POOL | MDL_PARTIAL | \
			 MDL_PARTIAL_HAS_BEEN_MAPPED | MDL_WRITE_OPERATION)

/**
 * struct nt_mdl_pin - user pages pinned by MmProbeAndLockPages()
 * @node: entry on the deferred-release list
 * @vaddr: vmap() of @pages, or NULL
 * @nr_pages: entries in @pages
 * @dirty: the pages were locked for writing: dirty them on release, and
 *	only then may a kernel mapping of them be writable
 * @kind: NT_PIN_USER (pinned: unpinned on release), NT_PIN_OWNED
 *	(allocated by MmAllocatePagesForMdlEx(): freed) or NT_PIN_ADOPTED (a
 *	PFN array the driver wrote: only the mapping is ours)
 * @pages: the pages
 */
struct nt_mdl_pin {
	struct llist_node node;
	void *vaddr;
	unsigned int nr_pages;
	bool dirty;
	u8 kind;
	struct page *pages[];
};

#define NT_PIN_USER	0
#define NT_PIN_OWNED	1
#define NT_PIN_ADOPTED	2

void nt_mdl_pin_release(struct nt_mdl_pin *pin);
void nt_mdl_pin_drop(struct nt_mdl_pin *pin);
void nt_mdl_release_deferred(void);
bool nt_mdl_deferred_idle(void);
int nt_pin_map(struct nt_mdl_pin *pin);
void *nt_pin_address(const struct nt_mdl_pin *pin);

void nt_mdl_set_flags(MDL *mdl, CSHORT flags);
void nt_mdl_add_flags(MDL *mdl, CSHORT flags);
void nt_mdl_drop_flags(MDL *mdl, CSHORT flags);
void nt_mdl_set_va(MDL *mdl, PVOID va);
void nt_mdl_layout(MDL *mdl);
MDL *nt_mdl_alloc(PVOID va, ULONG length, ULONG pages);
bool nt_mdl_check_io(const MDL *mdl, const char *what);
void nt_mdl_follow(MDL *mdl, const char *what);

#endif /* _NT_COMPAT_INTERNAL_H */
