// SPDX-License-Identifier: GPL-2.0
/*
 * nt_compat: pages allocated for an MDL (MmAllocatePagesForMdlEx() and
 * MmFreePagesFromMdl()), mapped at once like locked pages.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/export.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "nt_compat_internal.h"

/* What MmAllocatePagesForMdlEx() accepts: others are refused. */
#define NT_PAGES_FLAGS_KNOWN	(MM_DONT_ZERO_ALLOCATION | \
				 MM_ALLOCATE_FROM_LOCAL_NODE_ONLY | \
				 MM_ALLOCATE_FULLY_REQUIRED | \
				 MM_ALLOCATE_PREFER_CONTIGUOUS | \
				 MM_ALLOCATE_REQUIRE_CONTIGUOUS_CHUNKS)

/*
 * The zone whose pages all lie at or below @high, or ~0 if none does.  A
 * bound from 4 GiB up has no zone of its own: any zone is tried, and pages
 * above the bound are refused one by one (nt_page_in()).
 */
static gfp_t nt_gfp_below(ULONGLONG high)
{
	if (high >= SZ_4G)
		return 0;
#ifdef CONFIG_ZONE_DMA32
	if (high == SZ_4G - 1)
		return GFP_DMA32;
#endif
#ifdef CONFIG_ZONE_DMA
	if (high >= SZ_16M - 1)
		return GFP_DMA;
#endif
	return (gfp_t)~0U;
}

static bool nt_page_in(struct page *page, ULONGLONG low, ULONGLONG high)
{
	ULONGLONG phys = PFN_PHYS(page_to_pfn(page));

	return phys >= low && phys + PAGE_SIZE - 1 <= high;
}

/*
 * @nr physically contiguous pages, each freeable alone (as
 * alloc_pages_exact() leaves them), from the local node (there is no
 * exported call for another); the run is refused, as a whole, if it is not
 * all inside [@low, @high].
 */
static unsigned int nt_alloc_contiguous(struct page **pages, unsigned int nr,
					gfp_t gfp, ULONGLONG low, ULONGLONG high)
{
	size_t size = (size_t)nr << PAGE_SHIFT;
	struct page *head;
	void *va;
	unsigned int i;

	va = alloc_pages_exact(size, gfp);
	if (!va)
		return 0;
	head = virt_to_page(va);
	if (!nt_page_in(head, low, high) ||
	    !nt_page_in(head + nr - 1, low, high)) {
		free_pages_exact(va, size);
		return 0;
	}
	for (i = 0; i < nr; i++)
		pages[i] = head + i;
	return nr;
}

/* Up to @nr pages one by one, stopping at the first that cannot be had. */
static unsigned int nt_alloc_scattered(struct page **pages, unsigned int nr,
				       gfp_t gfp, int nid, ULONGLONG low,
				       ULONGLONG high)
{
	unsigned int got = 0;
	struct page *page;

	while (got < nr) {
		page = alloc_pages_node(nid, gfp, 0);
		if (!page)
			break;
		if (!nt_page_in(page, low, high)) {
			__free_page(page);
			break;
		}
		pages[got++] = page;
	}
	return got;
}

/* Pages for MmAllocatePagesForMdlEx(), held as a pin of its own pages. */
static struct nt_mdl_pin *nt_pages_alloc(ULONGLONG low, ULONGLONG high,
					 unsigned int nr, ULONG flags)
{
	gfp_t zone = nt_gfp_below(high);
	gfp_t gfp = GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN;
	int nid = NUMA_NO_NODE;
	struct nt_mdl_pin *pin;
	unsigned int got;

	if (zone == (gfp_t)~0U || low > high)
		return NULL;
	gfp |= zone;
	if (!(flags & MM_DONT_ZERO_ALLOCATION))
		gfp |= __GFP_ZERO;
	if (flags & MM_ALLOCATE_FROM_LOCAL_NODE_ONLY) {
		gfp |= __GFP_THISNODE;
		nid = numa_mem_id();
	}
	pin = kvzalloc(struct_size(pin, pages, nr), GFP_KERNEL);
	if (!pin)
		return NULL;
	if (flags & MM_ALLOCATE_REQUIRE_CONTIGUOUS_CHUNKS)
		got = nt_alloc_contiguous(pin->pages, nr, gfp, low, high);
	else
		got = nt_alloc_scattered(pin->pages, nr, gfp, nid, low, high);
	pin->nr_pages = got;
	pin->dirty = true;
	pin->kind = NT_PIN_OWNED;
	if (!got || (got < nr && (flags & MM_ALLOCATE_FULLY_REQUIRED)) ||
	    nt_pin_map(pin)) {
		nt_mdl_pin_release(pin);
		return NULL;
	}
	return pin;
}

/**
 * MmAllocatePagesForMdlEx - allocate pages and an MDL that describes them
 * @LowAddress: lowest physical address a page may have
 * @HighAddress: highest physical address a page may have
 * @SkipBytes: accepted and ignored (NT's stride for a second try)
 * @TotalBytes: bytes wanted; up to 4 GiB less a page are described
 * @CacheType: MmCached only
 * @Flags: MM_DONT_ZERO_ALLOCATION, MM_ALLOCATE_FROM_LOCAL_NODE_ONLY,
 *	MM_ALLOCATE_FULLY_REQUIRED, MM_ALLOCATE_PREFER_CONTIGUOUS (a hint,
 *	ignored), MM_ALLOCATE_REQUIRE_CONTIGUOUS_CHUNKS (here: one
 *	physically contiguous run)
 *
 * Pages come from the zone that keeps them at or below @HighAddress
 * (ZONE_DMA32 for 4 GiB, say), zeroed unless MM_DONT_ZERO_ALLOCATION, and
 * get their kernel mapping now, so that mapping calls work up to
 * DISPATCH_LEVEL.  Without MM_ALLOCATE_FULLY_REQUIRED the MDL may describe
 * fewer bytes than asked for, as on NT: check MmGetMdlByteCount().  The
 * MDL's virtual address is 0 (its StartVa on NT) and it is marked
 * MDL_PAGES_LOCKED; MmUnlockPages() refuses it.  Other cache types and
 * flags (MM_ALLOCATE_NO_WAIT among them: the mapping sleeps) are refused
 * with an error line.
 *
 * Context: PASSIVE_LEVEL (NT: up to APC_LEVEL).
 * Return: the MDL; release the pages with MmFreePagesFromMdl(), then the
 * MDL with ExFreePool() or IoFreeMdl().  NULL if no page could be had, if
 * not all could with MM_ALLOCATE_FULLY_REQUIRED, for a range no zone
 * keeps, above PASSIVE_LEVEL, and for what is refused.
 */
PMDL MmAllocatePagesForMdlEx(PHYSICAL_ADDRESS LowAddress,
			     PHYSICAL_ADDRESS HighAddress,
			     PHYSICAL_ADDRESS SkipBytes, SIZE_T TotalBytes,
			     MEMORY_CACHING_TYPE CacheType, ULONG Flags)
{
	ULONGLONG bytes = min_t(ULONGLONG, TotalBytes, NT_MDL_MAX_BYTES);
	struct nt_mdl_pin *pin;
	ULONG i;
	MDL *mdl;

	if (CacheType != MmCached || (Flags & ~NT_PAGES_FLAGS_KNOWN)) {
		pr_err_ratelimited("%s(cache type %d, flags %#x): refused: only MmCached, and flags %#x\n",
				   __func__, CacheType, Flags,
				   NT_PAGES_FLAGS_KNOWN);
		return NULL;
	}
	if (!bytes || KeGetCurrentIrql() != PASSIVE_LEVEL)
		return NULL;
	pin = nt_pages_alloc(LowAddress.QuadPart, HighAddress.QuadPart,
			     DIV_ROUND_UP(bytes, PAGE_SIZE), Flags);
	if (!pin)
		return NULL;
	bytes = min_t(ULONGLONG, bytes, (ULONGLONG)pin->nr_pages << PAGE_SHIFT);
	mdl = nt_mdl_alloc(NULL, bytes, pin->nr_pages);
	if (!mdl) {
		nt_mdl_pin_release(pin);
		return NULL;
	}
	for (i = 0; i < pin->nr_pages; i++)
		mdl->nt_pfns[i] = page_to_pfn(pin->pages[i]);
	nt_mdl_layout(mdl);
	mdl->nt_pin = pin;
	mdl->nt_kva = nt_pin_address(pin);
	mdl->nt_state = NT_STATE_PAGES;
	nt_mdl_set_flags(mdl, MDL_PAGES_LOCKED);
	return mdl;
}
EXPORT_SYMBOL_GPL(MmAllocatePagesForMdlEx);

/**
 * MmAllocatePagesForMdl - MmAllocatePagesForMdlEx() of zeroed cached pages
 * @LowAddress: lowest physical address a page may have
 * @HighAddress: highest physical address a page may have
 * @SkipBytes: accepted and ignored
 * @TotalBytes: bytes wanted
 *
 * Context: PASSIVE_LEVEL.
 * Return: as MmAllocatePagesForMdlEx().
 */
PMDL MmAllocatePagesForMdl(PHYSICAL_ADDRESS LowAddress,
			   PHYSICAL_ADDRESS HighAddress,
			   PHYSICAL_ADDRESS SkipBytes, SIZE_T TotalBytes)
{
	return MmAllocatePagesForMdlEx(LowAddress, HighAddress, SkipBytes,
				       TotalBytes, MmCached, 0);
}
EXPORT_SYMBOL_GPL(MmAllocatePagesForMdl);

/**
 * MmFreePagesFromMdl - free the pages of an MDL from MmAllocatePagesForMdl()
 * @MemoryDescriptorList: the MDL
 *
 * The pages and their mapping go; the MDL stays, describing nothing, for
 * the caller to free with ExFreePool() or IoFreeMdl().  At DISPATCH_LEVEL
 * (which NT does not allow) the release is deferred as MmUnlockPages()'s.
 * Any other MDL is refused with a warning.
 *
 * Context: PASSIVE_LEVEL (NT: up to APC_LEVEL).
 * Return: nothing (VOID).
 */
VOID MmFreePagesFromMdl(PMDL MemoryDescriptorList)
{
	MDL *mdl = MemoryDescriptorList;
	struct nt_mdl_pin *pin = mdl->nt_pin;

	if (!nt_mdl_check_io(mdl, __func__))
		return;
	nt_mdl_follow(mdl, __func__);
	if (WARN_ONCE(!(mdl->nt_state & NT_STATE_PAGES),
		      "nt_compat: %s(%p): not from MmAllocatePagesForMdl()\n",
		      __func__, mdl))
		return;
	mdl->nt_pin = NULL;
	mdl->MappedSystemVa = NULL;
	mdl->nt_kva = NULL;
	mdl->nt_state = 0;
	mdl->ByteCount = 0;
	mdl->nt_sg_count = 0;
	mdl->nt_max_byte_count = 0;
	nt_mdl_drop_flags(mdl, NT_FLAGS_KEPT);
	nt_mdl_pin_drop(pin);
}
EXPORT_SYMBOL_GPL(MmFreePagesFromMdl);
