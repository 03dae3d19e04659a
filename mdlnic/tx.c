// SPDX-License-Identifier: GPL-2.0
/*
 * mdlnic's transmit ring.  ndo_start_xmit runs on any CPU, under the
 * queue's xmit lock, and is the only writer of next_to_use; the completion
 * runs in NAPI poll, on the CPU the interrupt came to, and is the only writer
 * of next_to_clean.  So a buffer sent from one CPU is often released on
 * another, as NT's design expects of its pools.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/netdevice.h>

#include "mdlnic.h"

static unsigned int mdlnic_tx_room(const struct mdlnic_tx *tx)
{
	unsigned int used = tx->next_to_use - READ_ONCE(tx->next_to_clean);

	return MDLNIC_TX_RING - 1 - (used & (MDLNIC_TX_RING - 1));
}

static void mdlnic_tx_count(struct mdlnic_tx *tx, unsigned int packets,
			    unsigned int bytes, unsigned int dropped)
{
	u64_stats_update_begin(&tx->stats.syncp);
	tx->stats.packets += packets;
	tx->stats.bytes += bytes;
	tx->stats.dropped += dropped;
	u64_stats_update_end(&tx->stats.syncp);
}

/* Write the descriptors of the @pieces slots from @first on. */
static void mdlnic_tx_post(struct mdlnic_tx *tx, unsigned int first,
			   unsigned int pieces)
{
	unsigned int i, n = first;

	for (i = 0; i < pieces; i++, n = mdlnic_tx_next(n)) {
		struct mdlnic_tx_desc *d = &tx->desc[n];

		d->addr = cpu_to_le64(tx->slot[n].dma);
		d->length = cpu_to_le16(tx->slot[n].len);
		d->cso = 0;
		d->css = 0;
		d->special = 0;
		d->status = 0;
		/* RS on every piece: each slot's completion is its own DD. */
		d->cmd = MDLNIC_TXD_IFCS | MDLNIC_TXD_RS |
			 (i == pieces - 1 ? MDLNIC_TXD_EOP : 0);
	}
}

/**
 * mdlnic_xmit - ndo_start_xmit: put one frame on the transmit ring
 * @skb: the frame
 * @netdev: the device
 *
 * Context: softirq or process context with bottom halves disabled, under
 * the queue's xmit lock.
 * Return: NETDEV_TX_OK (the frame is sent or dropped and counted), or
 * NETDEV_TX_BUSY if the ring was full, which the queue stop prevents.
 */
netdev_tx_t mdlnic_xmit(struct sk_buff *skb, struct net_device *netdev)
{
	struct mdlnic *nic = netdev_priv(netdev);
	struct mdlnic_tx *tx = &nic->tx;
	unsigned int first = tx->next_to_use;
	u64 t = mdlnic_time_start();
	int pieces;

	/* The only writer of next_to_use: the queue's lock says so. */
	lockdep_assert_held(&netdev_get_tx_queue(netdev, 0)->_xmit_lock);
	if (WARN_ON_ONCE(mdlnic_tx_room(tx) < nic->ops->tx_pieces(skb->len))) {
		netif_stop_queue(netdev);
		return NETDEV_TX_BUSY;
	}
	pieces = nic->ops->tx_frame(nic, skb, first);
	if (pieces < 0) {
		dev_kfree_skb_any(skb);
		mdlnic_tx_count(tx, 0, 0, 1);
		return NETDEV_TX_OK;
	}
	mdlnic_tx_post(tx, first, pieces);
	mdlnic_time_add(&nic->timing.tx_xmit_ns, t);
	/* Pairs with mdlnic_tx_clean()'s acquire: the slots are filled. */
	smp_store_release(&tx->next_to_use,
			  (first + pieces) & (MDLNIC_TX_RING - 1));
	/* writel() orders the descriptor writes before the tail. */
	mdlnic_wr(nic, MDLNIC_TDT, tx->next_to_use);

	if (mdlnic_tx_room(tx) < MDLNIC_MAX_PIECES) {
		netif_stop_queue(netdev);
		/*
		 * Pairs with the barrier in mdlnic_tx_clean(): either it sees
		 * the queue stopped and wakes it, or this sees the room it
		 * made.
		 */
		smp_mb();
		if (mdlnic_tx_room(tx) >= MDLNIC_MAX_PIECES)
			netif_start_queue(netdev);
	}
	return NETDEV_TX_OK;
}

/**
 * mdlnic_tx_clean - release what the device has sent
 * @nic: the device
 * @budget: NAPI's budget, 0 outside NAPI (the skbs are then freed as from
 *	any context)
 *
 * Context: NAPI poll, or ndo_stop once the device is reset.
 * Return: true if the ring is clean, false if work is left for a next poll.
 */
bool mdlnic_tx_clean(struct mdlnic *nic, int budget)
{
	struct mdlnic_tx *tx = &nic->tx;
	unsigned int i = tx->next_to_clean, packets = 0, bytes = 0, work = 0;
	/* Pairs with mdlnic_xmit()'s release: slots up to here are filled. */
	unsigned int end = smp_load_acquire(&tx->next_to_use);
	u64 t = mdlnic_time_start();

	while (i != end && work < MDLNIC_TX_RING / 2) {
		struct mdlnic_tx_slot *slot = &tx->slot[i];

		if (!(READ_ONCE(tx->desc[i].status) & MDLNIC_TXD_DD))
			break;
		/* Nothing of the slot is read before the device is done. */
		dma_rmb();
		if (slot->frame_len) {
			packets++;
			bytes += slot->frame_len;
		}
		nic->ops->tx_done(nic, slot, budget);
		memset(slot, 0, sizeof(*slot));
		i = mdlnic_tx_next(i);
		work++;
	}
	mdlnic_time_add(&nic->timing.tx_clean_ns, t);
	if (!work)
		return true;
	WRITE_ONCE(tx->next_to_clean, i);
	mdlnic_tx_count(tx, packets, bytes, 0);
	/* Pairs with mdlnic_xmit()'s: see the stop, or it sees the room. */
	smp_mb();
	if (netif_queue_stopped(nic->netdev) &&
	    mdlnic_tx_room(tx) >= MDLNIC_MAX_PIECES &&
	    netif_carrier_ok(nic->netdev))
		netif_wake_queue(nic->netdev);
	return i == end;
}

/**
 * mdlnic_tx_open - set up the transmit ring
 * @nic: the device, reset
 *
 * Context: process context (ndo_open), under RTNL.
 * Return: 0 or -ENOMEM.
 */
int mdlnic_tx_open(struct mdlnic *nic)
{
	struct mdlnic_tx *tx = &nic->tx;
	size_t size = MDLNIC_TX_RING * sizeof(*tx->desc);

	tx->desc = dma_alloc_coherent(nic->dev, size, &tx->desc_dma,
				      GFP_KERNEL);
	if (!tx->desc)
		return -ENOMEM;
	memset(tx->slot, 0, sizeof(tx->slot));
	tx->next_to_use = 0;
	tx->next_to_clean = 0;
	mdlnic_wr(nic, MDLNIC_TDBAL, lower_32_bits(tx->desc_dma));
	mdlnic_wr(nic, MDLNIC_TDBAH, upper_32_bits(tx->desc_dma));
	mdlnic_wr(nic, MDLNIC_TDLEN, size);
	mdlnic_wr(nic, MDLNIC_TDH, 0);
	mdlnic_wr(nic, MDLNIC_TDT, 0);
	return 0;
}

/**
 * mdlnic_tx_close - release every frame on the ring and free it
 * @nic: the device, reset (no DMA), its queue stopped, NAPI disabled
 *
 * Context: process context (ndo_stop), under RTNL.
 */
void mdlnic_tx_close(struct mdlnic *nic)
{
	struct mdlnic_tx *tx = &nic->tx;
	unsigned int i;

	for (i = tx->next_to_clean; i != tx->next_to_use;
	     i = mdlnic_tx_next(i)) {
		nic->ops->tx_done(nic, &tx->slot[i], 0);
		memset(&tx->slot[i], 0, sizeof(tx->slot[i]));
	}
	tx->next_to_clean = tx->next_to_use;
	dma_free_coherent(nic->dev, MDLNIC_TX_RING * sizeof(*tx->desc),
			  tx->desc, tx->desc_dma);
	tx->desc = NULL;
}
