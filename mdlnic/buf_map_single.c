// SPDX-License-Identifier: GPL-2.0
/*
 * The map_single back end, as Debian's e1000 driver works: each receive
 * slot gets a page fragment mapped with dma_map_single() and unmapped when
 * the frame arrives, and the frame is built around the fragment; each frame
 * sent is mapped where the skb holds it and unmapped at completion.  The
 * page_pool back end sends the same way.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/netdevice.h>
#include <linux/skbuff.h>

#include "mdlnic.h"

#define MDLNIC_FRAG_TRUESIZE						\
	(SKB_DATA_ALIGN(MDLNIC_RX_HEADROOM + MDLNIC_RX_BUF_LEN) +	\
	 SKB_DATA_ALIGN(sizeof(struct skb_shared_info)))

/* Bottom halves are off here (NAPI, or ndo_open's first fill). */
static unsigned int mdlnic_map_rx_fill(struct mdlnic *nic,
				       unsigned int first, unsigned int nr)
{
	unsigned int filled;

	for (filled = 0; filled < nr; filled++) {
		unsigned int n = (first + filled) & (MDLNIC_RX_RING - 1);
		struct mdlnic_rx_slot *slot = &nic->rx.slot[n];
		void *frag = napi_alloc_frag(MDLNIC_FRAG_TRUESIZE);
		dma_addr_t dma;

		if (!frag)
			break;
		dma = dma_map_single(nic->dev, frag + MDLNIC_RX_HEADROOM,
				     MDLNIC_RX_BUF_LEN, DMA_FROM_DEVICE);
		if (dma_mapping_error(nic->dev, dma)) {
			skb_free_frag(frag);
			break;
		}
		slot->frag = frag;
		slot->buf = frag + MDLNIC_RX_HEADROOM;
		slot->dma = dma;
	}
	return filled;
}

static void mdlnic_map_rx_unmap(struct mdlnic *nic,
				struct mdlnic_rx_slot *slot)
{
	dma_unmap_single(nic->dev, slot->dma, MDLNIC_RX_BUF_LEN,
			 DMA_FROM_DEVICE);
}

static void mdlnic_map_rx_drop(struct mdlnic *nic, unsigned int first,
			       unsigned int pieces)
{
	while (pieces--) {
		struct mdlnic_rx_slot *slot = &nic->rx.slot[first];

		mdlnic_map_rx_unmap(nic, slot);
		skb_free_frag(slot->frag);
		slot->frag = NULL;
		first = mdlnic_rx_next(first);
	}
}

static struct sk_buff *mdlnic_map_rx_frame(struct mdlnic *nic,
					   unsigned int first,
					   unsigned int pieces,
					   unsigned int len)
{
	struct mdlnic_rx_slot *slot = &nic->rx.slot[first];
	struct sk_buff *skb;
	unsigned int i, n;

	skb = napi_build_skb(slot->frag, MDLNIC_FRAG_TRUESIZE);
	if (!skb) {
		mdlnic_map_rx_drop(nic, first, pieces);
		return NULL;
	}
	mdlnic_map_rx_unmap(nic, slot);
	skb_reserve(skb, MDLNIC_RX_HEADROOM);
	skb_put(skb, slot->len);
	slot->frag = NULL;
	n = mdlnic_rx_next(first);
	for (i = 1; i < pieces; i++, n = mdlnic_rx_next(n)) {
		struct page *page;

		slot = &nic->rx.slot[n];
		mdlnic_map_rx_unmap(nic, slot);
		page = virt_to_head_page(slot->frag);
		skb_add_rx_frag(skb, skb_shinfo(skb)->nr_frags, page,
				slot->buf - page_address(page), slot->len,
				MDLNIC_FRAG_TRUESIZE);
		slot->frag = NULL;
	}
	return skb;
}

/**
 * mdlnic_map_tx_pieces - slots a frame takes when its skb is mapped
 * @len: the frame's length
 *
 * The device is not given NETIF_F_SG, so every frame is linear: one slot.
 *
 * Return: 1.
 */
unsigned int mdlnic_map_tx_pieces(unsigned int len)
{
	return 1;
}

/**
 * mdlnic_map_tx_frame - map a frame where its skb holds it
 * @nic: the device
 * @skb: the frame, linear
 * @first: its slot
 *
 * Context: ndo_start_xmit.
 * Return: 1, or -ENOMEM if the frame could not be mapped.
 */
int mdlnic_map_tx_frame(struct mdlnic *nic, struct sk_buff *skb,
			unsigned int first)
{
	struct mdlnic_tx_slot *slot = &nic->tx.slot[first];
	dma_addr_t dma;

	if (skb_linearize(skb))
		return -ENOMEM;
	dma = dma_map_single(nic->dev, skb->data, skb->len, DMA_TO_DEVICE);
	if (dma_mapping_error(nic->dev, dma))
		return -ENOMEM;
	slot->skb = skb;
	slot->dma = dma;
	slot->len = skb->len;
	slot->frame_len = skb->len;
	return 1;
}

/**
 * mdlnic_map_tx_done - unmap a sent frame and free its skb
 * @nic: the device
 * @slot: the frame's slot
 * @budget: NAPI's budget, or 0 outside NAPI
 *
 * Context: NAPI poll, or ndo_stop.
 */
void mdlnic_map_tx_done(struct mdlnic *nic, struct mdlnic_tx_slot *slot,
			int budget)
{
	dma_unmap_single(nic->dev, slot->dma, slot->len, DMA_TO_DEVICE);
	napi_consume_skb(slot->skb, budget);
}

const struct mdlnic_backend_ops mdlnic_map_single_ops = {
	.name = "map_single",
	.rx_fill = mdlnic_map_rx_fill,
	.rx_frame = mdlnic_map_rx_frame,
	.rx_drop = mdlnic_map_rx_drop,
	.tx_pieces = mdlnic_map_tx_pieces,
	.tx_frame = mdlnic_map_tx_frame,
	.tx_done = mdlnic_map_tx_done,
};
