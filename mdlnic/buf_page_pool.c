// SPDX-License-Identifier: GPL-2.0
/*
 * The page_pool back end, as current in-tree drivers receive: one page per
 * receive slot from a page_pool that maps it once and syncs it for the
 * device when it is recycled (PP_FLAG_DMA_MAP | PP_FLAG_DMA_SYNC_DEV); the
 * frame is built around the page (build_skb()) and the page goes back to the
 * pool when the stack frees the skb (skb_mark_for_recycle()).  The pool
 * lives as long as the ring.  Frames are sent as map_single sends them.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/netdevice.h>
#include <linux/skbuff.h>

#define MDLPOOL_COMPAT_PAGE_POOL
#include "mdlpool_compat.h"
#include "mdlnic.h"

#define MDLNIC_PP_TRUESIZE	PAGE_SIZE

static int mdlnic_pp_rx_open(struct mdlnic *nic)
{
	struct page_pool_params pp = {
		.flags = PP_FLAG_DMA_MAP | PP_FLAG_DMA_SYNC_DEV,
		.order = 0,
		.pool_size = MDLNIC_RX_RING,
		.nid = dev_to_node(nic->dev),
		.dev = nic->dev,
		.dma_dir = DMA_FROM_DEVICE,
		.offset = MDLNIC_RX_HEADROOM,
		.max_len = MDLNIC_RX_BUF_LEN,
	};
	struct page_pool *pool;

	/* A frame's first piece and the skb's tail fit in one page. */
	BUILD_BUG_ON(MDLNIC_RX_HEADROOM + MDLNIC_RX_BUF_LEN +
		     SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) >
		     MDLNIC_PP_TRUESIZE);
	/* Frees in this NAPI's poll recycle without the pool's ring. */
	mdlpool_page_pool_set_napi(&pp, &nic->napi);
	pool = page_pool_create(&pp);
	if (IS_ERR(pool))
		return PTR_ERR(pool);
	nic->rx.page_pool = pool;
	return 0;
}

static void mdlnic_pp_rx_close(struct mdlnic *nic)
{
	page_pool_destroy(nic->rx.page_pool);
	nic->rx.page_pool = NULL;
}

static unsigned int mdlnic_pp_rx_fill(struct mdlnic *nic, unsigned int first,
				      unsigned int nr)
{
	unsigned int filled;

	for (filled = 0; filled < nr; filled++) {
		unsigned int n = (first + filled) & (MDLNIC_RX_RING - 1);
		struct mdlnic_rx_slot *slot = &nic->rx.slot[n];
		struct page *page = page_pool_dev_alloc_pages(nic->rx.page_pool);

		if (!page)
			break;
		slot->page = page;
		slot->buf = page_address(page) + MDLNIC_RX_HEADROOM;
		slot->dma = page_pool_get_dma_addr(page) + MDLNIC_RX_HEADROOM;
	}
	return filled;
}

static void mdlnic_pp_rx_drop(struct mdlnic *nic, unsigned int first,
			      unsigned int pieces)
{
	while (pieces--) {
		struct mdlnic_rx_slot *slot = &nic->rx.slot[first];

		page_pool_put_full_page(nic->rx.page_pool, slot->page, false);
		slot->page = NULL;
		first = mdlnic_rx_next(first);
	}
}

static struct sk_buff *mdlnic_pp_rx_frame(struct mdlnic *nic,
					  unsigned int first,
					  unsigned int pieces,
					  unsigned int len)
{
	struct mdlnic_rx_slot *slot = &nic->rx.slot[first];
	struct sk_buff *skb;
	unsigned int i, n;

	dma_sync_single_for_cpu(nic->dev, slot->dma, slot->len,
				DMA_FROM_DEVICE);
	skb = napi_build_skb(page_address(slot->page), MDLNIC_PP_TRUESIZE);
	if (!skb) {
		mdlnic_pp_rx_drop(nic, first, pieces);
		return NULL;
	}
	skb_mark_for_recycle(skb);
	skb_reserve(skb, MDLNIC_RX_HEADROOM);
	skb_put(skb, slot->len);
	slot->page = NULL;
	n = mdlnic_rx_next(first);
	for (i = 1; i < pieces; i++, n = mdlnic_rx_next(n)) {
		slot = &nic->rx.slot[n];
		dma_sync_single_for_cpu(nic->dev, slot->dma, slot->len,
					DMA_FROM_DEVICE);
		skb_add_rx_frag(skb, skb_shinfo(skb)->nr_frags, slot->page,
				MDLNIC_RX_HEADROOM, slot->len,
				MDLNIC_PP_TRUESIZE);
		slot->page = NULL;
	}
	return skb;
}

const struct mdlnic_backend_ops mdlnic_page_pool_ops = {
	.name = "page_pool",
	.rx_open = mdlnic_pp_rx_open,
	.rx_close = mdlnic_pp_rx_close,
	.rx_fill = mdlnic_pp_rx_fill,
	.rx_frame = mdlnic_pp_rx_frame,
	.rx_drop = mdlnic_pp_rx_drop,
	.tx_pieces = mdlnic_map_tx_pieces,
	.tx_frame = mdlnic_map_tx_frame,
	.tx_done = mdlnic_map_tx_done,
};
