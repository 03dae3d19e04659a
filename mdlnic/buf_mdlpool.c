// SPDX-License-Identifier: GPL-2.0
/*
 * The mdlpool back end: both rings' buffers come from device-bound pools,
 * mapped for the NIC once per slab, so no buffer is mapped or unmapped per
 * frame; the descriptor takes sg_dma_address() as it is.  The pools live as
 * long as the device, as an NDIS miniport allocates its pools when it
 * initializes.
 *
 * A received frame is copied into an skb and its buffers go back to the
 * pool at once, in the poll that took them.  The stack may keep an skb for
 * as long as a socket does not read it; an skb's head and fragments are
 * freed with the page allocator's or slab's calls, with no hook for the
 * driver that lent them, so a pool buffer lent to the stack could not come
 * back until a copy was made anyway (skb_orphan_frags_rx() copies lent
 * pages when the frame reaches a socket or a tap).  Copying in the driver
 * keeps each buffer's life to one poll on one CPU, where the pool is
 * cheapest, and the ring never waits for the stack.  BENCHMARKS.md has the
 * cost per frame against page_pool's zero-copy build_skb().
 *
 * A frame to send is copied into pool buffers (a chain, like an MDL chain,
 * for jumbo frames), the skb is freed at once, and each buffer goes back
 * when the device has sent it: in NAPI poll on the CPU the interrupt came
 * to, often not the CPU that sent.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/netdevice.h>
#include <linux/scatterlist.h>
#include <linux/skbuff.h>

#include "mdlpool.h"
#include "mdlnic.h"

#define MDLNIC_TX_BUF_LEN	2048

static int mdlnic_pool_probe(struct mdlnic *nic)
{
	char name[MDLPOOL_NAME_MAX + 1];

	snprintf(name, sizeof(name), "mdlnic-%s-rx", pci_name(nic->pdev));
	nic->rx_pool = mdlpool_create_dma(name, MDLNIC_RX_BUF_LEN,
					  MDLPOOL_TAG('N', 'i', 'c', 'R'),
					  nic->dev, DMA_FROM_DEVICE);
	if (!nic->rx_pool)
		return -ENOMEM;
	snprintf(name, sizeof(name), "mdlnic-%s-tx", pci_name(nic->pdev));
	nic->tx_pool = mdlpool_create_dma(name, MDLNIC_TX_BUF_LEN,
					  MDLPOOL_TAG('N', 'i', 'c', 'T'),
					  nic->dev, DMA_TO_DEVICE);
	if (!nic->tx_pool) {
		mdlpool_destroy(nic->rx_pool);
		nic->rx_pool = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Every buffer is back: the rings are empty and no skb holds one. */
static void mdlnic_pool_remove(struct mdlnic *nic)
{
	WARN_ON(mdlpool_destroy(nic->tx_pool));
	WARN_ON(mdlpool_destroy(nic->rx_pool));
	nic->tx_pool = NULL;
	nic->rx_pool = NULL;
}

/*
 * Buffers whose frames are copied go back in batches, for the price of one
 * section per batch: at the next refill, which then finds them on the
 * CPU's free lists, or when a batch is full.
 */
static void mdlnic_pool_rx_flush(struct mdlnic *nic)
{
	struct mdlnic_rx *rx = &nic->rx;

	if (rx->nr_done)
		WARN_ON_ONCE(mdlpool_free_bulk(rx->nr_done, rx->done));
	rx->nr_done = 0;
}

static void mdlnic_pool_rx_done(struct mdlnic *nic, struct scatterlist *sg)
{
	struct mdlnic_rx *rx = &nic->rx;

	rx->done[rx->nr_done++] = sg;
	if (rx->nr_done == MDLNIC_RX_BATCH)
		mdlnic_pool_rx_flush(nic);
}

static unsigned int mdlnic_pool_rx_fill(struct mdlnic *nic,
					unsigned int first, unsigned int nr)
{
	struct scatterlist *sgs[MDLNIC_RX_BATCH];
	void *bufs[MDLNIC_RX_BATCH];
	unsigned int filled = 0;

	mdlnic_pool_rx_flush(nic);
	while (filled < nr) {
		unsigned int want = min_t(unsigned int, nr - filled,
					  MDLNIC_RX_BATCH);
		unsigned int got, k;

		got = mdlpool_alloc_bulk(nic->rx_pool, want, sgs, bufs);
		for (k = 0; k < got; k++) {
			unsigned int n = (first + filled + k) &
					 (MDLNIC_RX_RING - 1);
			struct mdlnic_rx_slot *slot = &nic->rx.slot[n];

			mdlpool_dma_sync_for_device(sgs[k]);
			slot->sg = sgs[k];
			slot->buf = bufs[k];
			slot->dma = sg_dma_address(sgs[k]);
		}
		filled += got;
		if (got < want)
			break;
	}
	return filled;
}

static void mdlnic_pool_rx_drop(struct mdlnic *nic, unsigned int first,
				unsigned int pieces)
{
	while (pieces--) {
		mdlnic_pool_rx_done(nic, nic->rx.slot[first].sg);
		nic->rx.slot[first].sg = NULL;
		first = mdlnic_rx_next(first);
	}
	mdlnic_pool_rx_flush(nic);
}

static struct sk_buff *mdlnic_pool_rx_frame(struct mdlnic *nic,
					    unsigned int first,
					    unsigned int pieces,
					    unsigned int len)
{
	struct sk_buff *skb = napi_alloc_skb(&nic->napi, len);
	unsigned int i, n = first;

	for (i = 0; i < pieces; i++, n = mdlnic_rx_next(n)) {
		struct mdlnic_rx_slot *slot = &nic->rx.slot[n];

		if (skb) {
			slot->sg->length = slot->len;
			mdlpool_dma_sync_for_cpu(slot->sg);
			skb_put_data(skb, slot->buf, slot->len);
		}
		mdlnic_pool_rx_done(nic, slot->sg);
		slot->sg = NULL;
	}
	return skb;
}

static unsigned int mdlnic_pool_tx_pieces(unsigned int len)
{
	return DIV_ROUND_UP(len, MDLNIC_TX_BUF_LEN);
}

static int mdlnic_pool_tx_frame(struct mdlnic *nic, struct sk_buff *skb,
				unsigned int first)
{
	struct scatterlist *sgs[MDLNIC_MAX_PIECES];
	void *bufs[MDLNIC_MAX_PIECES];
	unsigned int pieces = mdlnic_pool_tx_pieces(skb->len);
	unsigned int got, i, off = 0, n = first;

	if (WARN_ON_ONCE(pieces > MDLNIC_MAX_PIECES))
		return -EMSGSIZE;
	got = mdlpool_alloc_bulk(nic->tx_pool, pieces, sgs, bufs);
	if (got < pieces) {
		if (got)
			WARN_ON_ONCE(mdlpool_free_bulk(got, sgs));
		return -ENOMEM;
	}
	for (i = 0; i < pieces; i++, n = mdlnic_tx_next(n)) {
		struct mdlnic_tx_slot *slot = &nic->tx.slot[n];
		unsigned int len = min_t(unsigned int, skb->len - off,
					 MDLNIC_TX_BUF_LEN);

		/* skb_copy_bits() cannot fail inside the frame. */
		WARN_ON_ONCE(skb_copy_bits(skb, off, bufs[i], len));
		sgs[i]->length = len;
		mdlpool_dma_sync_for_device(sgs[i]);
		slot->sg = sgs[i];
		slot->dma = sg_dma_address(sgs[i]);
		slot->len = len;
		off += len;
	}
	nic->tx.slot[(first + pieces - 1) & (MDLNIC_TX_RING - 1)].frame_len =
		skb->len;
	dev_consume_skb_any(skb);
	return pieces;
}

static void mdlnic_pool_tx_done(struct mdlnic *nic,
				struct mdlnic_tx_slot *slot, int budget)
{
	WARN_ON_ONCE(mdlpool_free(slot->sg));
}

const struct mdlnic_backend_ops mdlnic_mdlpool_ops = {
	.name = "mdlpool",
	.probe = mdlnic_pool_probe,
	.remove = mdlnic_pool_remove,
	.rx_fill = mdlnic_pool_rx_fill,
	.rx_frame = mdlnic_pool_rx_frame,
	.rx_drop = mdlnic_pool_rx_drop,
	.tx_pieces = mdlnic_pool_tx_pieces,
	.tx_frame = mdlnic_pool_tx_frame,
	.tx_done = mdlnic_pool_tx_done,
};
