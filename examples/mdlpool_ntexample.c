// SPDX-License-Identifier: GPL-2.0
/*
 * mdlpool_ntexample - what NT driver code using the MDL pool looks like here
 *
 * The first part is written as an NT driver writes it, with NT types and
 * calls only (nt_compat.h): a receive path takes MDLs from a pool at
 * DISPATCH_LEVEL, fills each buffer through its system address, links the
 * MDLs into a chain as a packet would be, walks the chain, and gives each
 * MDL back.  The second part is the Linux glue: load and unload.  Loading
 * fails unless every step did what NT does, so `insmod` itself reports.
 * test/mdlpool_ntclient.c is the long form, every name checked.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

#include "nt_compat.h"

#define EXAMPLE_POOL_TAG	0x6d784e45UL	/* 'mxNE': "ENxm" in memory */
#define EXAMPLE_BUFFER_SIZE	1514
#define EXAMPLE_CHAIN_LENGTH	8

static HANDLE ExamplePool;

/* Fill a pool buffer the way a receive path copies a frame into it. */
static NTSTATUS ExampleFill(PMDL Mdl, UCHAR Pattern)
{
	PUCHAR Va = MmGetSystemAddressForMdlSafe(Mdl, NormalPagePriority);

	if (!Va)
		return STATUS_INSUFFICIENT_RESOURCES;
	RtlFillMemory(Va, MmGetMdlByteCount(Mdl), Pattern);
	return STATUS_SUCCESS;
}

/* Walk a chain through Next and check every byte each MDL describes. */
static NTSTATUS ExampleCheckChain(PMDL Chain, PULONG TotalBytes)
{
	PMDL Mdl;
	PUCHAR Va;
	ULONG Index = 0, Offset;

	*TotalBytes = 0;
	for (Mdl = Chain; Mdl; Mdl = Mdl->Next, Index++) {
		Va = MmGetSystemAddressForMdlSafe(Mdl, NormalPagePriority);
		if (!Va)
			return STATUS_INSUFFICIENT_RESOURCES;
		for (Offset = 0; Offset < MmGetMdlByteCount(Mdl); Offset++) {
			if (Va[Offset] != (UCHAR)Index)
				return STATUS_DATA_ERROR;
		}
		*TotalBytes += MmGetMdlByteCount(Mdl);
	}
	return STATUS_SUCCESS;
}

/* What a receive DPC does with a batch: allocate, fill, chain, free. */
static NTSTATUS ExampleReceiveBatch(VOID)
{
	PMDL Chain = NULL, Tail = NULL, Mdl, Next;
	NTSTATUS Status = STATUS_SUCCESS;
	PVOID Buffer;
	KIRQL OldIrql;
	ULONG Index, TotalBytes = 0;

	KeRaiseIrql(DISPATCH_LEVEL, &OldIrql);
	for (Index = 0; Index < EXAMPLE_CHAIN_LENGTH; Index++) {
		Mdl = MdpAllocateAtDpcLevel(ExamplePool, &Buffer);
		if (!Mdl) {
			Status = STATUS_INSUFFICIENT_RESOURCES;
			break;
		}
		/* Each buffer comes with its MDL describing all of it. */
		ASSERT(MmGetMdlByteCount(Mdl) == EXAMPLE_BUFFER_SIZE);
		ASSERT(MmGetMdlVirtualAddress(Mdl) == Buffer);
		Status = ExampleFill(Mdl, (UCHAR)Index);
		if (!Tail)
			Chain = Mdl;
		else
			Tail->Next = Mdl;
		Tail = Mdl;
		if (!NT_SUCCESS(Status))
			break;
	}
	if (NT_SUCCESS(Status))
		Status = ExampleCheckChain(Chain, &TotalBytes);
	for (Mdl = Chain; Mdl; Mdl = Next) {
		Next = Mdl->Next;
		Mdl->Next = NULL;
		MdpFree(Mdl);
	}
	KeLowerIrql(OldIrql);

	if (NT_SUCCESS(Status) && TotalBytes != EXAMPLE_CHAIN_LENGTH *
						 EXAMPLE_BUFFER_SIZE)
		Status = STATUS_DATA_ERROR;
	if (NT_SUCCESS(Status))
		DbgPrint("a chain of %u MDLs, %u bytes, filled, walked and freed\n",
			 EXAMPLE_CHAIN_LENGTH, TotalBytes);
	return Status;
}

static NTSTATUS ExampleStart(VOID)
{
	NTSTATUS Status;

	ExamplePool = MdpCreatePool(EXAMPLE_BUFFER_SIZE, EXAMPLE_POOL_TAG);
	if (!ExamplePool)
		return STATUS_INSUFFICIENT_RESOURCES;
	Status = ExampleReceiveBatch();
	if (!NT_SUCCESS(Status)) {
		MdpDestroyPool(ExamplePool);
		ExamplePool = NULL;
	}
	return Status;
}

/* ---- Linux glue ---- */

static int __init ntexample_init(void)
{
	NTSTATUS Status = ExampleStart();

	if (NT_SUCCESS(Status))
		return 0;
	pr_err("failed with NTSTATUS 0x%08x\n", (unsigned int)Status);
	return Status == STATUS_INSUFFICIENT_RESOURCES ? -ENOMEM : -EIO;
}

static void __exit ntexample_exit(void)
{
	MdpDestroyPool(ExamplePool);
}

module_init(ntexample_init);
module_exit(ntexample_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("NT driver code using the MDL pool, as a porter writes it");
