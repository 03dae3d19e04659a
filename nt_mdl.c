// SPDX-License-Identifier: GPL-2.0
/*
 * nt_compat: MDLs for memory that is not the MDL pool's: their fields as
 * NT code reads and writes them, IoAllocateMdl(), building for kernel
 * memory, locking user pages, mapping, partial MDLs, IoFreeMdl().
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/export.h>
#include <linux/llist.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "nt_compat_internal.h"

/* ---------------------------------------------------------------------
 * MDLs.
 */

/* MdlFlags as nt_compat.ko leaves them: what nt_mdl_follow() compares with. */
void nt_mdl_set_flags(MDL *mdl, CSHORT flags)
{
	WRITE_ONCE(mdl->nt_flags_seen, flags);
	WRITE_ONCE(mdl->MdlFlags, flags);
}

void nt_mdl_add_flags(MDL *mdl, CSHORT flags)
{
	nt_mdl_set_flags(mdl, READ_ONCE(mdl->MdlFlags) | flags);
}

void nt_mdl_drop_flags(MDL *mdl, CSHORT flags)
{
	nt_mdl_set_flags(mdl, READ_ONCE(mdl->MdlFlags) & ~flags);
}

void nt_mdl_set_va(MDL *mdl, PVOID va)
{
	mdl->StartVa = (PVOID)((ULONG_PTR)va & PAGE_MASK);
	mdl->ByteOffset = BYTE_OFFSET(va);
	mdl->nt_va_seen = va;
}

/*
 * Lay the scatterlist table out over the PFN array for the current byte
 * count: one entry per page in use, the last of them marked as the end.
 * Entries past it are left alone: a partial MDL fills only the PFNs of
 * the pages it uses.
 */
void nt_mdl_layout(MDL *mdl)
{
	ULONG used = nt_mdl_pages_used(mdl, mdl->ByteCount);
	ULONG left = mdl->ByteCount;
	ULONG off = mdl->ByteOffset;
	ULONG i;

	mdl->nt_sg_count = mdl->ByteCount;
	if (mdl->nt_magic == NT_MDL_MAGIC_POOL) {
		mdl->nt_sgl->length = mdl->ByteCount;
		return;
	}

	for (i = 0; i < used; i++) {
		struct scatterlist *sg = &mdl->nt_sgl[i];
		ULONG len = min_t(ULONG, left, PAGE_SIZE - off);

		sg_unmark_end(sg);
		sg_set_page(sg, pfn_to_page(mdl->nt_pfns[i]), len, off);
		left -= len;
		off = 0;
	}
	sg_mark_end(&mdl->nt_sgl[used - 1]);
}

/**
 * NdisAdjustMdlLength - set an MDL's byte count
 * @Mdl: a pool MDL or one from IoAllocateMdl()
 * @Length: the new byte count
 *
 * What NDIS drivers do to trim a buffer they fill: the same as a write of
 * Mdl->ByteCount, followed at once.  The scatterlist follows.  An MDL
 * cannot grow past what it was made for (the pool's buffer size,
 * IoAllocateMdl()'s Length), nor past what its pages describe once built
 * or locked: that is refused with a warning.
 *
 * Context: any context.
 * Return: nothing (VOID).
 */
VOID NdisAdjustMdlLength(PMDL Mdl, ULONG Length)
{
	nt_mdl_follow(Mdl, __func__);
	if (WARN_ONCE(Length > Mdl->nt_max_byte_count,
		      "nt_compat: MDL %p cannot grow to %u bytes (at most %u)\n",
		      Mdl, Length, Mdl->nt_max_byte_count))
		return;
	Mdl->ByteCount = Length;
	if (nt_mdl_described(Mdl))
		nt_mdl_layout(Mdl);
}
EXPORT_SYMBOL_GPL(NdisAdjustMdlLength);

/*
 * A page mapped in vmalloc space.  I/O mappings (ioremap()) live there too,
 * and their page frames have no struct page: vmalloc_to_page() turns such
 * a frame into a pointer all the same, and with classic SPARSEMEM even
 * page_to_pfn() of that pointer reads memory that does not exist.  So the
 * frame number is checked before it becomes a page.
 */
static struct page *nt_vmalloc_page(const void *addr)
{
#ifdef CONFIG_X86
	unsigned long va = (unsigned long)addr, pfn;
	unsigned int level;
	pte_t *pte = lookup_address(va, &level);

	if (!pte || !pte_present(*pte))
		return NULL;
	pfn = pte_pfn(*pte) + ((va & ~page_level_mask(level)) >> PAGE_SHIFT);
	return pfn_valid(pfn) ? pfn_to_page(pfn) : NULL;
#else
	/* Safe where page_to_pfn() is arithmetic (VMEMMAP, FLATMEM). */
	struct page *page = vmalloc_to_page(addr);

	if (!page || !pfn_valid(page_to_pfn(page)))
		return NULL;
	return page;
#endif
}

/* A kernel address's page, or NULL if it is not kernel memory. */
static struct page *nt_kernel_page(const void *addr)
{
	if (is_vmalloc_addr(addr))
		return nt_vmalloc_page(addr);
#if defined(CONFIG_MODULES) && defined(MODULES_VADDR)
	/* Module data (a driver's static buffer) is mapped like vmalloc. */
	if ((unsigned long)addr >= MODULES_VADDR &&
	    (unsigned long)addr < MODULES_END)
		return nt_vmalloc_page(addr);
#endif
	if (virt_addr_valid(addr))
		return virt_to_page(addr);
	return NULL;
}

/**
 * MmGetPhysicalAddress - the physical address behind a kernel address
 * @BaseAddress: a direct-map, vmalloc or module address
 *
 * Context: any context.
 * Return: page_to_phys() of the page plus the offset in it; 0 if there is
 * none (user addresses included), as NT answers for an invalid address.
 */
PHYSICAL_ADDRESS MmGetPhysicalAddress(PVOID BaseAddress)
{
	struct page *page = nt_kernel_page(BaseAddress);
	PHYSICAL_ADDRESS pa;

	pa.QuadPart = page ? (LONGLONG)page_to_phys(page) +
			     offset_in_page(BaseAddress) : 0;
	return pa;
}
EXPORT_SYMBOL_GPL(MmGetPhysicalAddress);

/* ---------------------------------------------------------------------
 * MDLs for memory that is not the pool's.
 */

void nt_mdl_pin_release(struct nt_mdl_pin *pin)
{
	unsigned int i;

	if (pin->vaddr)
		vunmap(pin->vaddr);
	if (pin->kind == NT_PIN_OWNED) {
		for (i = 0; i < pin->nr_pages; i++)
			__free_page(pin->pages[i]);
	} else if (pin->kind == NT_PIN_USER) {
		unpin_user_pages_dirty_lock(pin->pages, pin->nr_pages,
					    pin->dirty);
	}
	kvfree(pin);
}

/*
 * Locked user pages get their kernel mapping at lock time, at
 * PASSIVE_LEVEL, because NT maps them later at any level up to
 * DISPATCH_LEVEL (in completion and receive paths), where vmap() cannot
 * run.  One page locked for writing needs no mapping of its own: the
 * direct map is it.  Pages locked for IoReadAccess may be ones the caller
 * cannot write (the zero page, page cache, pages shared copy-on-write with
 * another process): the direct map would let the driver write them, so
 * they always get a read-only mapping of their own.
 */
static bool nt_pin_needs_vmap(const struct nt_mdl_pin *pin)
{
	return !pin->dirty || pin->nr_pages > 1 || PageHighMem(pin->pages[0]);
}

int nt_pin_map(struct nt_mdl_pin *pin)
{
	might_sleep();
	if (!nt_pin_needs_vmap(pin))
		return 0;
	pin->vaddr = vmap(pin->pages, pin->nr_pages, VM_MAP,
			  pin->dirty ? PAGE_KERNEL : PAGE_KERNEL_RO);
	return pin->vaddr ? 0 : -ENOMEM;
}

/* The kernel address of the first locked page. */
void *nt_pin_address(const struct nt_mdl_pin *pin)
{
	return pin->vaddr ?: page_address(pin->pages[0]);
}

/*
 * Deferred unlocks.
 *
 * Dirtying pages and vunmap() sleep, but NT unlocks MDLs at DISPATCH_LEVEL
 * (in completion routines).  MmUnlockPages() there puts the pin on one
 * list, for all users of this module, and a work item empties it.
 *
 * A client module may unload while a release of its MDL is still on the
 * list (it unlocked at DISPATCH_LEVEL, freed the MDL and left).  That is
 * safe, so a client has nothing to flush at its exit:
 *
 * - MmUnlockPages() detaches the pin from the MDL before queueing it, and
 *   the MDL is unlocked when it returns.  The worker touches only the pin:
 *   never the MDL (which the client may free or unload at once), never a
 *   callback or anything else in the client's text or data.
 *
 * - Everything the worker releases belongs to this module: the pin was
 *   allocated here, the vmap() was made here, and the pages are held by
 *   FOLL_PIN references taken here, which need no client state to drop.
 *   The pages are unpinned, and dirtied for write locks, as soon as the
 *   worker runs, whether or not the client is still loaded.  The vmalloc()
 *   blocks nt_kvfree() queues on the same worker are the same: allocated
 *   here, and no one's but the worker's once queued.
 *
 * - The worker's code is this module's.  This module cannot unload while
 *   a client is loaded (the client uses its symbols), so once its exit
 *   runs no client is left to queue a release, and nt_compat_exit()'s
 *   flush runs whatever is still queued before this code goes away.  No
 *   pinned page outlives the module.
 */
static LLIST_HEAD(nt_deferred_pins);

/* The worker's part here: release the pins queued. */
void nt_mdl_release_deferred(void)
{
	struct llist_node *list = llist_del_all(&nt_deferred_pins);
	struct nt_mdl_pin *pin, *tmp;

	llist_for_each_entry_safe(pin, tmp, list, node)
		nt_mdl_pin_release(pin);
}

bool nt_mdl_deferred_idle(void)
{
	return llist_empty(&nt_deferred_pins);
}

/* Release @pin now at PASSIVE_LEVEL; above it, in the worker. */
void nt_mdl_pin_drop(struct nt_mdl_pin *pin)
{
	if (KeGetCurrentIrql() == PASSIVE_LEVEL) {
		nt_mdl_pin_release(pin);
		return;
	}
	if (llist_add(&pin->node, &nt_deferred_pins))
		nt_deferred_schedule();
}

/* An MDL with room for @pages pages, from pool memory (ExFreePool() frees it). */
MDL *nt_mdl_alloc(PVOID va, ULONG length, ULONG pages)
{
	MDL *mdl;

	mdl = nt_pool_alloc(false, size_add(struct_size(mdl, nt_pfns, pages),
					    array_size(pages,
						       sizeof(struct scatterlist))),
			    true);
	if (!mdl)
		return NULL;
	mdl->nt_magic = NT_MDL_MAGIC_IO;
	mdl->Size = struct_size(mdl, nt_pfns, pages);
	mdl->ByteCount = length;
	mdl->nt_sg_count = length;
	mdl->nt_max_byte_count = length;
	mdl->nt_alloc_byte_count = length;
	mdl->nt_nr_pages = pages;
	nt_mdl_set_va(mdl, va);
	mdl->nt_sgl = (struct scatterlist *)&mdl->nt_pfns[pages];
	sg_init_table(mdl->nt_sgl, pages);
	return mdl;
}

/**
 * IoAllocateMdl - allocate an MDL for a range of memory
 * @VirtualAddress: start of the range, a user or kernel address
 * @Length: bytes in the range, 1 to 4 GiB less a page
 * @SecondaryBuffer: ignored (matters only with an IRP)
 * @ChargeQuota: ignored (matters only with an IRP)
 * @Irp: must be NULL: there are no IRPs
 *
 * The range may span many pages.  Its pages are not described until
 * MmBuildMdlForNonPagedPool() or MmProbeAndLockPages().  A range that
 * wraps past the top of the address space is refused: its page count and
 * every address computed from it would be wrong.
 *
 * Context: PASSIVE_LEVEL or DISPATCH_LEVEL.
 * Return: the MDL, free it with IoFreeMdl(); NULL for an @Irp, a @Length
 * out of range, a wrapping range, above DISPATCH_LEVEL or without memory.
 */
PMDL IoAllocateMdl(PVOID VirtualAddress, ULONG Length, BOOLEAN SecondaryBuffer,
		   BOOLEAN ChargeQuota, PIRP Irp)
{
	ULONG_PTR last;
	ULONG pages;

	if (Irp) {
		pr_warn_once("%s() with an IRP refused: there are no IRPs\n",
			     __func__);
		return NULL;
	}
	if (!Length || Length > NT_MDL_MAX_BYTES ||
	    check_add_overflow((ULONG_PTR)VirtualAddress, (ULONG_PTR)Length - 1,
			       &last))
		return NULL;
	pages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(VirtualAddress, Length);
	return nt_mdl_alloc(VirtualAddress, Length, pages);
}
EXPORT_SYMBOL_GPL(IoAllocateMdl);

bool nt_mdl_check_io(const MDL *mdl, const char *what)
{
	return !WARN_ONCE(mdl->nt_magic != NT_MDL_MAGIC_IO,
			  "nt_compat: %s(%p): not an MDL from IoAllocateMdl()\n",
			  what, mdl);
}

/* Values of nt_lock_failed. */
#define NT_LOCK_FAILED		1	/* MmProbeAndLockPages() failed */
#define NT_LOCK_FAILED_SAID	2	/* ... and a use of the MDL was told so */

/*
 * NT code calls MmProbeAndLockPages() inside __try and reaches the next
 * line only if the pages were locked.  Ported code that ignores the status
 * instead goes on with an MDL that describes nothing: its first use says
 * why, once per MDL, and every use is refused quietly (no warning, no
 * bugcheck).  True if @mdl is such an MDL.
 */
static bool nt_mdl_lock_failed(MDL *mdl, const char *what)
{
	if (mdl->nt_magic != NT_MDL_MAGIC_IO || nt_mdl_described(mdl) ||
	    !mdl->nt_lock_failed)
		return false;
	if (mdl->nt_lock_failed == NT_LOCK_FAILED) {
		mdl->nt_lock_failed = NT_LOCK_FAILED_SAID;
		pr_err_ratelimited("%s(%p): refused: MmProbeAndLockPages() failed on this MDL and its status was not checked: it describes nothing\n",
				   what, mdl);
	}
	return true;
}

/*
 * MDL fields.
 *
 * NT code reads the MDL's fields, and writes some that NT calls private:
 * it cuts ByteCount, sets and clears MdlFlags bits, fills a PFN array
 * itself.  The fields are plain memory here as there, so nt_compat.ko
 * cannot see a write when it happens.  Each call that takes an MDL first
 * compares the fields with what it last left in them (nt_mdl_follow())
 * and follows the change, or refuses it with an error line and puts the
 * field back:
 *
 * - ByteCount: cut, or grown back within what the pages describe, it is
 *   what the MDL describes from then on (the scatterlist is laid out
 *   again; chain walks and mappings read the field).  Past that: refused.
 * - StartVa, ByteOffset: moved: refused (the pages and their mapping were
 *   taken for the old address).
 * - MdlFlags: hint bits (MDL_MAPPING_CAN_FAIL, MDL_NETWORK_HEADER, ...) are
 *   kept and change nothing.  The bits nt_compat.ko keeps are the
 *   driver's to flip: what the MDL describes and how it maps follow its
 *   own state (nt_state), so a driver that sets MDL_PAGES_LOCKED and
 *   clears MDL_SOURCE_IS_NONPAGED_POOL to get a mapping call to map a
 *   built MDL gets the mapping there is.  MDL_PAGES_LOCKED set on an MDL
 *   that describes nothing adopts the PFN array the driver wrote, and
 *   cleared again drops it (nt_mdl_adopt_pfns()).  Other bits (MDL_IO_SPACE
 *   and NT's internal ones) cannot be followed: refused.
 * - MappedSystemVa: the mapping calls write it; a mapping call that finds
 *   another value there puts its own back, with an error line.
 *
 * Threads that map one MDL at once run this too.  They write nothing
 * unless a driver changed a field, which it may not do while the MDL is in
 * use elsewhere (on NT as here), so the loads are marked and need no lock.
 */
static void nt_mdl_follow_count(MDL *mdl, const char *what)
{
	ULONG count = READ_ONCE(mdl->ByteCount);

	if (!nt_mdl_described(mdl))
		return;		/* describing it will take the new count */
	if (count > mdl->nt_max_byte_count ||
	    (mdl->nt_magic == NT_MDL_MAGIC_POOL && !count)) {
		pr_err_ratelimited("%s(%p): ByteCount %u refused: the MDL describes %u bytes; %u put back\n",
				   what, mdl, count, mdl->nt_max_byte_count,
				   mdl->nt_sg_count);
		mdl->ByteCount = mdl->nt_sg_count;
		return;
	}
	nt_mdl_layout(mdl);
}

/* Keep @mdl's PFN array, which the driver wrote, as what it describes. */
static bool nt_mdl_adopt_pfns(MDL *mdl, const char *what)
{
	ULONG pages = nt_mdl_pages_used(mdl, mdl->ByteCount), i;
	struct nt_mdl_pin *pin;
	const char *refused = NULL;

	if (mdl->nt_magic != NT_MDL_MAGIC_IO)
		refused = "not an MDL from IoAllocateMdl()";
	else if (pages > mdl->nt_nr_pages)
		refused = "ByteCount runs past the PFN array";
	else if (KeGetCurrentIrql() != PASSIVE_LEVEL)
		refused = "its mapping needs PASSIVE_LEVEL";
	for (i = 0; !refused && i < pages; i++) {
		if (!pfn_valid(mdl->nt_pfns[i]))
			refused = "a PFN is not RAM with a struct page";
	}
	if (refused) {
		pr_err_ratelimited("%s(%p): MDL_PAGES_LOCKED set on an MDL that describes nothing: refused, %s\n",
				   what, mdl, refused);
		return false;
	}
	pin = kvzalloc(struct_size(pin, pages, pages), GFP_KERNEL);
	if (!pin) {
		refused = "no memory for its page list";
		goto out_nomem;
	}
	for (i = 0; i < pages; i++)
		pin->pages[i] = pfn_to_page(mdl->nt_pfns[i]);
	pin->nr_pages = pages;
	pin->dirty = true;
	pin->kind = NT_PIN_ADOPTED;
	if (nt_pin_map(pin)) {
		kvfree(pin);
		refused = "no memory to map it";
		goto out_nomem;
	}
	mdl->nt_pin = pin;
	mdl->nt_kva = nt_pin_address(pin) + mdl->ByteOffset;
	mdl->nt_max_byte_count = mdl->ByteCount;
	nt_mdl_layout(mdl);
	mdl->nt_state = NT_STATE_ADOPTED;
	return true;

out_nomem:
	/* Apart from the refusals above: a rate limit of its own keeps it seen. */
	pr_err_ratelimited("%s(%p): MDL_PAGES_LOCKED set on an MDL that describes nothing: refused, %s\n",
			   what, mdl, refused);
	return false;
}

/* The driver cleared MDL_PAGES_LOCKED of an adopted array: drop it. */
static void nt_mdl_drop_adopted(MDL *mdl)
{
	struct nt_mdl_pin *pin = mdl->nt_pin;

	mdl->nt_pin = NULL;
	mdl->nt_kva = NULL;
	mdl->MappedSystemVa = NULL;	/* its mapping goes with the pages */
	mdl->nt_state = 0;
	mdl->nt_max_byte_count = mdl->nt_alloc_byte_count;
	nt_mdl_pin_drop(pin);
}

static void nt_mdl_follow_flags(MDL *mdl, CSHORT flags, const char *what)
{
	CSHORT seen = READ_ONCE(mdl->nt_flags_seen);
	CSHORT refused = (flags ^ seen) & ~(NT_FLAGS_HINTS | NT_FLAGS_KEPT);
	bool put_back = false;

	if (refused) {
		pr_err_ratelimited("%s(%p): MdlFlags %#x cannot be followed: refused, cleared\n",
				   what, mdl, (u16)refused);
		flags ^= refused;
		put_back = true;
	}
	if ((flags & MDL_PAGES_LOCKED) && !(seen & MDL_PAGES_LOCKED) &&
	    !nt_mdl_described(mdl)) {
		if (!nt_mdl_adopt_pfns(mdl, what)) {
			flags &= ~MDL_PAGES_LOCKED;
			put_back = true;
		}
	} else if (!(flags & MDL_PAGES_LOCKED) &&
		   (mdl->nt_state & NT_STATE_ADOPTED)) {
		nt_mdl_drop_adopted(mdl);
		if (flags & MDL_MAPPED_TO_SYSTEM_VA) {
			flags &= ~MDL_MAPPED_TO_SYSTEM_VA;
			put_back = true;
		}
	}
	/*
	 * Only a refusal writes MdlFlags: a thread mapping the MDL meanwhile
	 * may have set MDL_MAPPED_TO_SYSTEM_VA since @flags was read.
	 */
	if (put_back)
		nt_mdl_set_flags(mdl, flags);
	else
		WRITE_ONCE(mdl->nt_flags_seen, flags);
}

/*
 * Follow what the driver wrote into @mdl's fields since nt_compat.ko last
 * did (see "MDL fields" above).  @what names the caller in messages.
 */
void nt_mdl_follow(MDL *mdl, const char *what)
{
	CSHORT flags = READ_ONCE(mdl->MdlFlags);
	PVOID va = MmGetMdlVirtualAddress(mdl), mva;

	if (unlikely(va != mdl->nt_va_seen)) {
		pr_err_ratelimited("%s(%p): StartVa/ByteOffset moved to %p: refused, put back\n",
				   what, mdl, va);
		nt_mdl_set_va(mdl, mdl->nt_va_seen);
	}
	if (unlikely(flags != READ_ONCE(mdl->nt_flags_seen)))
		nt_mdl_follow_flags(mdl, flags, what);
	if (unlikely(READ_ONCE(mdl->ByteCount) != mdl->nt_sg_count))
		nt_mdl_follow_count(mdl, what);
	/* MappedSystemVa is NULL or the mapping there is. */
	mva = READ_ONCE(mdl->MappedSystemVa);
	if (unlikely(mva && mva != mdl->nt_kva)) {
		pr_err_ratelimited("%s(%p): MappedSystemVa %p is not the MDL's mapping: refused, put back\n",
				   what, mdl, mva);
		WRITE_ONCE(mdl->MappedSystemVa, mdl->nt_kva);
	}
}

/**
 * nt_mdl_sg_follow - nt_mdl_sg() after a driver wrote the MDL's ByteCount
 * @mdl: a described MDL
 *
 * Linux glue, called by nt_mdl_sg().  Follows the write as the NT calls
 * do (see "MDL fields" above).
 *
 * Context: any context.
 * Return: the first entry of the scatterlist laid out for the new count,
 * or for the old one if the new count was refused.
 */
struct scatterlist *nt_mdl_sg_follow(MDL *mdl)
{
	nt_mdl_follow(mdl, __func__);
	return nt_mdl_described(mdl) ? mdl->nt_sgl : NULL;
}
EXPORT_SYMBOL_GPL(nt_mdl_sg_follow);

/*
 * Fill the PFN array for the MDL's current byte count (NT describes
 * ByteCount, which the driver may have cut since IoAllocateMdl()) from
 * kernel memory; false if a page is not kernel memory.
 */
static bool nt_mdl_describe_kernel(MDL *mdl)
{
	ULONG_PTR base = (ULONG_PTR)MmGetMdlBaseVa(mdl);
	ULONG pages = nt_mdl_pages_used(mdl, mdl->ByteCount);
	ULONG i;

	if (pages > mdl->nt_nr_pages)
		return false;	/* ByteCount written past what it was made for */
	for (i = 0; i < pages; i++) {
		struct page *page = nt_kernel_page((void *)(base + i * PAGE_SIZE));

		if (!page)
			return false;
		mdl->nt_pfns[i] = page_to_pfn(page);
	}
	nt_mdl_layout(mdl);
	mdl->nt_max_byte_count = mdl->ByteCount;
	mdl->MappedSystemVa = MmGetMdlVirtualAddress(mdl);
	mdl->nt_kva = MmGetMdlVirtualAddress(mdl);
	return true;
}

/**
 * MmBuildMdlForNonPagedPool - describe driver-owned kernel memory
 * @MemoryDescriptorList: an MDL from IoAllocateMdl(), not built or locked
 *
 * Fills the PFN array and scatterlist for kmalloc(), vmalloc(),
 * ExAllocatePoolWithTag() memory, module data or a vmapped stack.  An
 * address that is not kernel memory with a struct page (device memory
 * from ioremap(), say) is refused with an error line where NT would
 * bugcheck, and leaves the MDL undescribed: MmGetSystemAddressForMdlSafe()
 * then returns NULL.  A pool MDL is already built: nothing happens.
 *
 * Context: any IRQL up to DISPATCH_LEVEL.
 * Return: nothing (VOID).
 */
VOID MmBuildMdlForNonPagedPool(PMDL MemoryDescriptorList)
{
	MDL *mdl = MemoryDescriptorList;

	if (mdl->nt_magic == NT_MDL_MAGIC_POOL)
		return;		/* the pool built it so already */
	if (!nt_mdl_check_io(mdl, __func__))
		return;
	nt_mdl_follow(mdl, __func__);
	if (WARN_ONCE(nt_mdl_described(mdl),
		      "nt_compat: %s(%p): already built or locked\n",
		      __func__, mdl))
		return;
	if (!nt_mdl_describe_kernel(mdl)) {
		pr_err_ratelimited("%s(%p): refused: %p..+%u is not kernel memory with a struct page (device memory?)\n",
				   __func__, mdl, MmGetMdlVirtualAddress(mdl),
				   mdl->ByteCount);
		return;
	}
	mdl->nt_state = NT_STATE_BUILT;
	nt_mdl_add_flags(mdl, MDL_SOURCE_IS_NONPAGED_POOL);
}
EXPORT_SYMBOL_GPL(MmBuildMdlForNonPagedPool);

/* MmProbeAndLockPages() of an MDL from IoAllocateMdl() that describes nothing. */
static NTSTATUS nt_probe_and_lock(MDL *mdl, KPROCESSOR_MODE AccessMode,
				  LOCK_OPERATION Operation)
{
	ULONG pages = nt_mdl_pages_used(mdl, mdl->ByteCount);
	ULONG_PTR start = (ULONG_PTR)MmGetMdlBaseVa(mdl);
	struct nt_mdl_pin *pin;
	unsigned int gup = FOLL_LONGTERM;
	ULONG i;
	int got;

	if (pages > mdl->nt_nr_pages)
		return STATUS_INVALID_PARAMETER;	/* ByteCount written too big */
	if (!access_ok(MmGetMdlVirtualAddress(mdl), mdl->ByteCount)) {
		if (AccessMode != KernelMode || !nt_mdl_describe_kernel(mdl))
			return STATUS_ACCESS_VIOLATION;
		mdl->nt_state = NT_STATE_LOCKED;
		nt_mdl_add_flags(mdl, MDL_PAGES_LOCKED);
		return STATUS_SUCCESS;
	}
	/* pin_user_pages_fast() looks the address up in current->mm. */
	if (!current->mm)
		return STATUS_ACCESS_VIOLATION;
	if (KeGetCurrentIrql() != PASSIVE_LEVEL)
		return STATUS_INVALID_DEVICE_STATE;

	pin = kvzalloc(struct_size(pin, pages, pages), GFP_KERNEL);
	if (!pin)
		return STATUS_INSUFFICIENT_RESOURCES;
	pin->dirty = Operation != IoReadAccess;
	if (pin->dirty)
		gup |= FOLL_WRITE;
	got = pin_user_pages_fast(start, pages, gup, pin->pages);
	if (got != (int)pages) {
		if (got > 0)
			unpin_user_pages(pin->pages, got);
		kvfree(pin);
		return got == -ENOMEM ? STATUS_INSUFFICIENT_RESOURCES :
					STATUS_ACCESS_VIOLATION;
	}
	pin->nr_pages = got;
	if (nt_pin_map(pin)) {
		unpin_user_pages(pin->pages, got);
		kvfree(pin);
		return STATUS_INSUFFICIENT_RESOURCES;
	}
	for (i = 0; i < pages; i++)
		mdl->nt_pfns[i] = page_to_pfn(pin->pages[i]);
	mdl->nt_max_byte_count = mdl->ByteCount;
	nt_mdl_layout(mdl);
	mdl->nt_pin = pin;
	mdl->nt_kva = nt_pin_address(pin) + MmGetMdlByteOffset(mdl);
	mdl->Process = current;
	mdl->nt_state = NT_STATE_LOCKED;
	nt_mdl_add_flags(mdl, MDL_PAGES_LOCKED);
	if (pin->dirty)
		nt_mdl_add_flags(mdl, MDL_WRITE_OPERATION);
	return STATUS_SUCCESS;
}

/**
 * MmProbeAndLockPages - lock the pages an MDL describes
 * @MemoryDescriptorList: an MDL from IoAllocateMdl(), not built or locked
 * @AccessMode: KernelMode or UserMode
 * @Operation: IoReadAccess, IoWriteAccess or IoModifyAccess
 *
 * NT returns nothing and raises an exception on a bad address; there is no
 * SEH here, so this returns the status the exception would have carried.
 *
 * A user address (any @AccessMode) is pinned with pin_user_pages_fast():
 * FOLL_LONGTERM, as an NT lock has no time limit, and FOLL_WRITE unless
 * @Operation is IoReadAccess.  The pages get their kernel mapping now, at
 * PASSIVE_LEVEL, so that mapping calls succeed later at DISPATCH_LEVEL
 * (see nt_pin_map()).  A kernel address is accepted with KernelMode
 * only (a UserMode probe of it fails as in NT) and is described as
 * MmBuildMdlForNonPagedPool() does: kernel memory is never paged, so
 * nothing is pinned.
 *
 * The pages described are those of the MDL's byte count now, which the
 * caller may have cut (NdisAdjustMdlLength()) since IoAllocateMdl().  A
 * caller that ignores a failure and goes on with the MDL (as NT code whose
 * exception handler is gone would) gets an error line naming the failed
 * lock at its next use of it, and an MDL that describes nothing.
 *
 * A user address needs a user address space to look it up in: a kernel
 * thread has none (NT's system threads run in the system process, where
 * no user address is valid), so there it fails as a bad address does.
 *
 * Context: PASSIVE_LEVEL for a user address (a fault may sleep), in a
 * thread with a user address space; up to DISPATCH_LEVEL for a kernel
 * address.
 * Return: STATUS_SUCCESS; STATUS_ACCESS_VIOLATION if any page cannot be
 * had (nothing is left pinned), and for any user address in a thread
 * without a user address space (a kernel thread, a work item);
 * STATUS_INVALID_DEVICE_STATE for a user address above PASSIVE_LEVEL;
 * STATUS_INVALID_PARAMETER for an MDL already built or locked, or a pool
 * MDL; STATUS_INSUFFICIENT_RESOURCES without memory or vmalloc space for
 * the mapping.
 */
NTSTATUS MmProbeAndLockPages(PMDL MemoryDescriptorList,
			     KPROCESSOR_MODE AccessMode,
			     LOCK_OPERATION Operation)
{
	MDL *mdl = MemoryDescriptorList;
	NTSTATUS status;

	if (mdl->nt_magic != NT_MDL_MAGIC_IO)
		return STATUS_INVALID_PARAMETER;
	nt_mdl_follow(mdl, __func__);
	if (nt_mdl_described(mdl))
		return STATUS_INVALID_PARAMETER;
	status = nt_probe_and_lock(mdl, AccessMode, Operation);
	mdl->nt_lock_failed = NT_SUCCESS(status) ? 0 : NT_LOCK_FAILED;
	return status;
}
EXPORT_SYMBOL_GPL(MmProbeAndLockPages);

/**
 * MmUnlockPages - undo MmProbeAndLockPages()
 * @MemoryDescriptorList: a locked MDL from IoAllocateMdl()
 *
 * Unlocks the MDL, including any kernel mapping of it.  At PASSIVE_LEVEL
 * the pages are released now; at DISPATCH_LEVEL (NT allows it) the release
 * is deferred to this module's worker, because dirtying pages and vunmap()
 * sleep.  Either way the MDL is unlocked when this returns, and the caller
 * may free it and unload at once: see "Deferred unlocks" above.
 *
 * Context: PASSIVE_LEVEL or DISPATCH_LEVEL.
 * Return: nothing (VOID).
 */
VOID MmUnlockPages(PMDL MemoryDescriptorList)
{
	MDL *mdl = MemoryDescriptorList;
	struct nt_mdl_pin *pin;

	if (!nt_mdl_check_io(mdl, __func__))
		return;
	nt_mdl_follow(mdl, __func__);
	if (nt_mdl_lock_failed(mdl, __func__))
		return;
	if (mdl->nt_state & NT_STATE_PAGES) {
		pr_err_ratelimited("%s(%p): refused: its pages are from MmAllocatePagesForMdl(), MmFreePagesFromMdl() frees them\n",
				   __func__, mdl);
		return;
	}
	if (WARN_ONCE(!(mdl->nt_state & NT_STATE_LOCKED),
		      "nt_compat: %s(%p): not locked\n", __func__, mdl))
		return;
	pin = mdl->nt_pin;
	mdl->nt_pin = NULL;
	mdl->MappedSystemVa = NULL;
	mdl->Process = NULL;
	mdl->nt_kva = NULL;
	mdl->nt_state = 0;
	mdl->nt_max_byte_count = mdl->nt_alloc_byte_count;
	nt_mdl_drop_flags(mdl, MDL_PAGES_LOCKED | MDL_WRITE_OPERATION |
			   MDL_MAPPED_TO_SYSTEM_VA);
	if (pin)
		nt_mdl_pin_drop(pin);
}
EXPORT_SYMBOL_GPL(MmUnlockPages);

/*
 * The kernel address of an MDL's first byte, marking the MDL mapped.
 *
 * The mapping exists from the time the pages were described on (locked,
 * allocated, built, or borrowed by a partial MDL), so this never sleeps,
 * and threads that map one MDL at once all return the one mapping.  They
 * also store the same MappedSystemVa and flag bits, so their racing stores
 * are harmless; they are marked (WRITE_ONCE) because each may overlap
 * another's loads.  Changing other flags of the MDL (locking, unlocking)
 * while it is being mapped is a caller's bug on NT as here.
 */
static PVOID nt_mdl_map(MDL *mdl)
{
	CSHORT flags, mapped = MDL_MAPPED_TO_SYSTEM_VA;

	nt_mdl_follow(mdl, "a mapping call");
	if (!nt_mdl_described(mdl)) {
		nt_mdl_lock_failed(mdl, "a mapping call");
		return NULL;		/* NT would bugcheck: nothing to map */
	}
	/* Pool buffers and built MDLs are mapped from the start. */
	if (mdl->nt_magic == NT_MDL_MAGIC_POOL ||
	    (mdl->nt_state & NT_STATE_BUILT))
		return mdl->nt_kva;
	flags = READ_ONCE(mdl->MdlFlags);
	if (mdl->nt_state & NT_STATE_PARTIAL)
		mapped |= MDL_PARTIAL_HAS_BEEN_MAPPED;
	WRITE_ONCE(mdl->MappedSystemVa, mdl->nt_kva);
	if ((flags & mapped) != mapped)
		nt_mdl_set_flags(mdl, flags | mapped);
	return mdl->nt_kva;
}

/**
 * MmGetSystemAddressForMdlSafe - the kernel address of a described MDL
 * @Mdl: a pool MDL, or one built or locked
 * @Priority: accepted and ignored
 *
 * Pool MDLs and kernel memory are their own address.  Locked user pages
 * were mapped when MmProbeAndLockPages() locked them (one page locked for
 * writing through the direct map, pages locked for IoReadAccess read-only
 * and several pages through vmap()), so this succeeds at any level up to
 * DISPATCH_LEVEL, and threads that call it for one MDL at once all get the
 * same mapping.  It sets MappedSystemVa and MDL_MAPPED_TO_SYSTEM_VA.
 *
 * Context: up to DISPATCH_LEVEL.
 * Return: the address of the MDL's first byte; NULL for an MDL not built
 * or locked, and above DISPATCH_LEVEL.
 */
PVOID MmGetSystemAddressForMdlSafe(PMDL Mdl, ULONG Priority)
{
	if (KeGetCurrentIrql() > DISPATCH_LEVEL)
		return NULL;
	return nt_mdl_map(Mdl);
}
EXPORT_SYMBOL_GPL(MmGetSystemAddressForMdlSafe);

/**
 * nt_map_locked_pages - MmMapLockedPagesSpecifyCache() at run time
 * @MemoryDescriptorList: a pool MDL, or one built or locked
 * @AccessMode: KernelMode only
 * @CacheType: MmCached only
 * @RequestedAddress: must be NULL
 * @BugCheckOnFailure: warn if the mapping fails (there is no bugcheck)
 * @Priority: accepted and ignored
 *
 * Called by the MmMapLockedPagesSpecifyCache() macro, which refuses a
 * constant UserMode or cache type other than MmCached at compile time.
 * Only kernel mappings exist, only with the kernel's own cache type, and
 * only where Linux chooses the address.
 *
 * Context: as MmGetSystemAddressForMdlSafe().
 * Return: as MmGetSystemAddressForMdlSafe(); NULL for UserMode, another
 * cache type or a @RequestedAddress.
 */
PVOID nt_map_locked_pages(PMDL MemoryDescriptorList, KPROCESSOR_MODE AccessMode,
			  MEMORY_CACHING_TYPE CacheType, PVOID RequestedAddress,
			  ULONG BugCheckOnFailure, ULONG Priority)
{
	PVOID va = NULL;

	if (AccessMode == KernelMode && CacheType == MmCached &&
	    !RequestedAddress && KeGetCurrentIrql() <= DISPATCH_LEVEL)
		va = nt_mdl_map(MemoryDescriptorList);
	WARN_ONCE(!va && BugCheckOnFailure,
		  "nt_compat: MmMapLockedPagesSpecifyCache(%p) failed and cannot bugcheck\n",
		  MemoryDescriptorList);
	return va;
}
EXPORT_SYMBOL_GPL(nt_map_locked_pages);

/**
 * MmUnmapLockedPages - drop an MDL's kernel mapping
 * @BaseAddress: what MmGetSystemAddressForMdlSafe() or
 *	MmMapLockedPagesSpecifyCache() returned
 * @MemoryDescriptorList: the MDL
 *
 * Clears MappedSystemVa and MDL_MAPPED_TO_SYSTEM_VA.  The mapping of locked
 * user pages itself stays until MmUnlockPages(): it was made at lock time
 * so that mapping again works at DISPATCH_LEVEL.  Pool and kernel-memory
 * MDLs have no mapping of their own to drop.  An address that is not the
 * MDL's mapping is refused with a warning.
 *
 * Context: up to DISPATCH_LEVEL.
 * Return: nothing (VOID).
 */
VOID MmUnmapLockedPages(PVOID BaseAddress, PMDL MemoryDescriptorList)
{
	MDL *mdl = MemoryDescriptorList;

	nt_mdl_follow(mdl, __func__);
	if (mdl->nt_magic == NT_MDL_MAGIC_POOL ||
	    (mdl->nt_state & NT_STATE_BUILT))
		return;		/* their own address: nothing to undo */
	if (WARN_ONCE(!(mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA) ||
		      BaseAddress != mdl->MappedSystemVa,
		      "nt_compat: %s(%p, %p): not this MDL's mapping\n",
		      __func__, BaseAddress, mdl))
		return;
	mdl->MappedSystemVa = NULL;
	nt_mdl_drop_flags(mdl, MDL_MAPPED_TO_SYSTEM_VA |
			   MDL_PARTIAL_HAS_BEEN_MAPPED);
}
EXPORT_SYMBOL_GPL(MmUnmapLockedPages);

/* Why IoBuildPartialMdl() cannot build this target, or NULL if it can. */
static const char *nt_partial_refused(const MDL *src, const MDL *dst,
				      ULONG_PTR start, ULONG *length)
{
	ULONG_PTR src_start = (ULONG_PTR)MmGetMdlVirtualAddress(src);
	ULONG offset;

	if (src->nt_magic != NT_MDL_MAGIC_POOL &&
	    src->nt_magic != NT_MDL_MAGIC_IO)
		return "the source is not an MDL";
	if (!nt_mdl_described(src))
		return "the source is neither built nor locked";
	if (dst->nt_state && !(dst->nt_state & NT_STATE_PARTIAL))
		return "the target is built or locked itself";
	if (start < src_start || start - src_start > src->ByteCount)
		return "the address is outside the source";
	offset = start - src_start;
	if (!*length)
		*length = src->ByteCount - offset;
	if (!*length || *length > src->ByteCount - offset)
		return "the range runs past the end of the source";
	if (ADDRESS_AND_SIZE_TO_SPAN_PAGES(start, *length) > dst->nt_nr_pages)
		return "the target has room for fewer pages";
	return NULL;
}

/**
 * IoBuildPartialMdl - describe part of an MDL with another MDL
 * @SourceMdl: a pool MDL, or one built, locked, allocated or partial
 * @TargetMdl: from IoAllocateMdl(), with room for the pages of the range;
 *	not built or locked itself (a partial MDL may be built again)
 * @VirtualAddress: first byte of the range, inside the source's
 * @Length: bytes in the range; 0 for all the rest of the source
 *
 * The target describes the range with the source's pages, and its
 * mapping calls hand out the source's mapping from @VirtualAddress on, at
 * any level up to DISPATCH_LEVEL.  It inherits MDL_SOURCE_IS_NONPAGED_POOL,
 * MDL_WRITE_OPERATION and, with MappedSystemVa, MDL_MAPPED_TO_SYSTEM_VA
 * from the source, and gets MDL_PARTIAL.  It borrows, as on NT: free it
 * (IoFreeMdl()) or reuse it (MmPrepareMdlForReuse()) before the source is
 * unlocked or freed.  Where NT bugchecks (a range not inside the source, a
 * target too small), this refuses with an error line and leaves the
 * target undescribed.
 *
 * Context: any level up to DISPATCH_LEVEL.
 * Return: nothing (VOID).
 */
VOID IoBuildPartialMdl(PMDL SourceMdl, PMDL TargetMdl, PVOID VirtualAddress,
		       ULONG Length)
{
	MDL *src = SourceMdl, *dst = TargetMdl;
	ULONG_PTR start = (ULONG_PTR)VirtualAddress;
	ULONG offset, first, i;
	const char *refused;
	CSHORT inherited;

	if (!nt_mdl_check_io(dst, __func__))
		return;
	nt_mdl_follow(src, __func__);
	nt_mdl_follow(dst, __func__);
	if (nt_mdl_lock_failed(src, __func__))
		return;
	refused = nt_partial_refused(src, dst, start, &Length);
	if (refused) {
		pr_err_ratelimited("%s(%p, %p, source offset %lld, %u bytes of %u): refused: %s\n",
				   __func__, src, dst,
				   (long long)(start - (ULONG_PTR)MmGetMdlVirtualAddress(src)),
				   Length, src->ByteCount, refused);
		return;
	}
	offset = start - (ULONG_PTR)MmGetMdlVirtualAddress(src);
	first = (PAGE_ALIGN_DOWN(start) -
		 (ULONG_PTR)MmGetMdlBaseVa(src)) >> PAGE_SHIFT;
	for (i = 0; i < ADDRESS_AND_SIZE_TO_SPAN_PAGES(start, Length); i++)
		dst->nt_pfns[i] = src->nt_pfns[first + i];
	nt_mdl_set_va(dst, VirtualAddress);
	dst->ByteCount = Length;
	dst->nt_max_byte_count = Length;
	dst->nt_kva = src->nt_kva + offset;
	nt_mdl_layout(dst);

	inherited = src->MdlFlags & (MDL_SOURCE_IS_NONPAGED_POOL |
				     MDL_WRITE_OPERATION |
				     MDL_MAPPED_TO_SYSTEM_VA);
	dst->nt_state = NT_STATE_PARTIAL;
	if (src->nt_magic == NT_MDL_MAGIC_POOL ||
	    (src->nt_state & NT_STATE_BUILT)) {
		inherited |= MDL_SOURCE_IS_NONPAGED_POOL;
		dst->nt_state |= NT_STATE_BUILT;
	}
	dst->MappedSystemVa = inherited & (MDL_SOURCE_IS_NONPAGED_POOL |
					 MDL_MAPPED_TO_SYSTEM_VA) ?
			    dst->nt_kva : NULL;
	nt_mdl_set_flags(dst, (dst->MdlFlags & ~NT_FLAGS_KEPT) |
			 inherited | MDL_PARTIAL);
}
EXPORT_SYMBOL_GPL(IoBuildPartialMdl);

/**
 * MmPrepareMdlForReuse - undo IoBuildPartialMdl() before building again
 * @Mdl: a partial MDL, mapped or not
 *
 * Drops the mapped state and the description: the MDL describes nothing
 * until the next IoBuildPartialMdl().  An MDL that is not partial is left
 * alone, as on NT; a locked one draws a warning (NT asserts).
 *
 * Context: any level up to DISPATCH_LEVEL.
 * Return: nothing (VOID).
 */
VOID MmPrepareMdlForReuse(PMDL Mdl)
{
	if (!nt_mdl_check_io(Mdl, __func__))
		return;
	nt_mdl_follow(Mdl, __func__);
	if (WARN_ONCE(Mdl->nt_state & NT_STATE_LOCKED,
		      "nt_compat: %s(%p): locked, not partial\n", __func__,
		      Mdl) ||
	    !(Mdl->nt_state & NT_STATE_PARTIAL))
		return;
	nt_mdl_drop_flags(Mdl, NT_FLAGS_KEPT);
	Mdl->MappedSystemVa = NULL;
	Mdl->nt_kva = NULL;
	Mdl->nt_state = 0;
	Mdl->nt_max_byte_count = Mdl->nt_alloc_byte_count;
}
EXPORT_SYMBOL_GPL(MmPrepareMdlForReuse);

/**
 * IoFreeMdl - free an MDL from IoAllocateMdl() or MmAllocatePagesForMdl()
 * @Mdl: the MDL
 *
 * It does not follow Next, as in NT.  An MDL still locked is unlocked
 * first (NT would leave the pages locked for good), with a warning; one
 * still holding pages from MmAllocatePagesForMdl() frees them, with an
 * error line.  An
 * MDL big enough to be vmalloc() memory (a range of about 400 MiB or more)
 * freed where the caller cannot sleep, under a Linux spinlock say, is
 * freed a little later by this module's worker.
 *
 * Context: PASSIVE_LEVEL or DISPATCH_LEVEL.
 * Return: nothing (VOID).
 */
VOID IoFreeMdl(PMDL Mdl)
{
	if (!nt_mdl_check_io(Mdl, __func__))
		return;
	nt_mdl_follow(Mdl, __func__);
	if (Mdl->nt_state & NT_STATE_PAGES) {
		pr_err_ratelimited("%s(%p): its pages from MmAllocatePagesForMdl() are freed with it: call MmFreePagesFromMdl() first\n",
				   __func__, Mdl);
		MmFreePagesFromMdl(Mdl);
	}
	/* A driver frees the MDL it built over its PFN array as it is. */
	if (Mdl->nt_state & NT_STATE_ADOPTED)
		nt_mdl_drop_adopted(Mdl);
	if (WARN_ONCE(Mdl->nt_state & NT_STATE_LOCKED,
		      "nt_compat: %s(%p): still locked\n", __func__, Mdl))
		MmUnlockPages(Mdl);
	Mdl->nt_magic = NT_MDL_MAGIC_DEAD;
	nt_kvfree(Mdl);
}
EXPORT_SYMBOL_GPL(IoFreeMdl);
