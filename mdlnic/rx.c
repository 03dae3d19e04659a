// SPDX-License-Identifier: GPL-2.0
/*
 * mdlnic's receive ring.  The device writes each frame into the buffers of
 * the descriptors from RDH on, 2048 bytes per descriptor, and marks the last
 * one EOP; a jumbo frame (long packet enable) spans up to five.  NAPI poll
 * takes whole frames, hands them to the stack, and refills the slots it
 * emptied through the buffer back end.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>

#include "mdlnic.h"

static unsigned int mdlnic_rx_posted(const struct mdlnic_rx *rx)
{
	return (rx->next_to_fill - rx->next_to_clean) & (MDLNIC_RX_RING - 1);
}

/*
 * Give the device every empty slot the back end can fill.  One slot stays
 * empty, so that RDT == RDH means an empty ring, not a full one.  A ring the
 * back end left short (its allocations failed) would never be polled again
 * once the device has no buffer left to raise an interrupt with, so the
 * timer polls it until the buffers come back.
 */
static void mdlnic_rx_fill(struct mdlnic *nic)
{
	struct mdlnic_rx *rx = &nic->rx;
	unsigned int room = MDLNIC_RX_RING - 1 - mdlnic_rx_posted(rx);
	unsigned int first = rx->next_to_fill, filled, i;
	u64 t;

	/* The back ends allocate as in NAPI: with bottom halves off. */
	WARN_ON_ONCE(!in_softirq());
	if (room < MDLNIC_RX_BATCH && mdlnic_rx_posted(rx))
		return;
	t = mdlnic_time_start();
	filled = nic->ops->rx_fill(nic, first, room);
	for (i = 0; i < filled; i++) {
		unsigned int n = (first + i) & (MDLNIC_RX_RING - 1);
		struct mdlnic_rx_desc *d = &rx->desc[n];

		d->addr = cpu_to_le64(rx->slot[n].dma);
		WRITE_ONCE(d->status, 0);
	}
	mdlnic_time_add(&nic->timing.rx_ns, t);
	if (filled) {
		rx->next_to_fill = (first + filled) & (MDLNIC_RX_RING - 1);
		t = mdlnic_time_start();
		/* writel() orders the descriptor writes before the tail. */
		mdlnic_wr(nic, MDLNIC_RDT, rx->next_to_fill);
		mdlnic_time_add(&nic->timing.mmio_ns, t);
	}
	if (filled < room && mdlnic_rx_posted(rx) < MDLNIC_RX_RING / 4)
		mod_timer(&rx->refill_timer, jiffies + 1);
}

static void mdlnic_rx_refill_timer(struct timer_list *t)
{
	struct mdlnic *nic = from_timer(nic, t, rx.refill_timer);

	napi_schedule(&nic->napi);
}

static void mdlnic_rx_count(struct mdlnic_rx *rx, unsigned int packets,
			    unsigned int bytes, unsigned int dropped,
			    unsigned int length_errors,
			    unsigned int frame_errors)
{
	u64_stats_update_begin(&rx->stats.syncp);
	rx->stats.packets += packets;
	rx->stats.bytes += bytes;
	rx->stats.dropped += dropped;
	rx->stats.length_errors += length_errors;
	rx->stats.frame_errors += frame_errors;
	u64_stats_update_end(&rx->stats.syncp);
}

/*
 * Find the frame that starts at next_to_clean: its pieces, its length, and
 * its error bits (they are valid in the EOP descriptor).  False while the
 * device has not finished it.
 */
static bool mdlnic_rx_frame_done(struct mdlnic_rx *rx, unsigned int *pieces,
				 unsigned int *len, u8 *errors)
{
	unsigned int i = rx->next_to_clean;

	*pieces = 0;
	*len = 0;
	while (i != rx->next_to_fill) {
		struct mdlnic_rx_desc *d = &rx->desc[i];
		u8 status = READ_ONCE(d->status);

		if (!(status & MDLNIC_RXD_DD))
			return false;
		/* The length and errors were written before DD. */
		dma_rmb();
		rx->slot[i].len = le16_to_cpu(d->length);
		*len += rx->slot[i].len;
		++*pieces;
		if (status & MDLNIC_RXD_EOP) {
			*errors = d->errors;
			return true;
		}
		i = mdlnic_rx_next(i);
	}
	return false;
}

/**
 * mdlnic_rx_poll - hand received frames to the stack and refill the ring
 * @nic: the device
 * @budget: at most this many frames
 *
 * Context: NAPI poll.
 * Return: the frames taken, dropped ones included.
 */
int mdlnic_rx_poll(struct mdlnic *nic, int budget)
{
	struct mdlnic_rx *rx = &nic->rx;
	unsigned int longest = READ_ONCE(nic->netdev->mtu) + VLAN_ETH_HLEN;
	unsigned int packets = 0, bytes = 0, dropped = 0, length_errors = 0;
	unsigned int frame_errors = 0, pieces, len;
	int done = 0;
	u8 errors;
	u64 t;

	while (done < budget && mdlnic_rx_frame_done(rx, &pieces, &len, &errors)) {
		unsigned int first = rx->next_to_clean;
		struct sk_buff *skb;

		rx->next_to_clean = (first + pieces) & (MDLNIC_RX_RING - 1);
		done++;
		if (errors & MDLNIC_RXD_ERR_FRAME) {
			frame_errors++;
			nic->ops->rx_drop(nic, first, pieces);
			continue;
		}
		if (len > longest) {
			/* Long packets on, and the MTU lowered under them. */
			length_errors++;
			nic->ops->rx_drop(nic, first, pieces);
			continue;
		}
		t = mdlnic_time_start();
		skb = nic->ops->rx_frame(nic, first, pieces, len);
		mdlnic_time_add(&nic->timing.rx_ns, t);
		if (!skb) {
			dropped++;
			continue;
		}
		skb->protocol = eth_type_trans(skb, nic->netdev);
		napi_gro_receive(&nic->napi, skb);
		packets++;
		bytes += len;
	}
	mdlnic_rx_count(rx, packets, bytes, dropped, length_errors,
			frame_errors);
	mdlnic_rx_fill(nic);
	return done;
}

/**
 * mdlnic_rx_open - set up the receive ring and fill it
 * @nic: the device, reset, its receive unit off
 *
 * Context: process context (ndo_open), under RTNL.
 * Return: 0 or a negative errno.
 */
int mdlnic_rx_open(struct mdlnic *nic)
{
	struct mdlnic_rx *rx = &nic->rx;
	size_t size = MDLNIC_RX_RING * sizeof(*rx->desc);
	int err;

	rx->desc = dma_alloc_coherent(nic->dev, size, &rx->desc_dma,
				      GFP_KERNEL);
	if (!rx->desc)
		return -ENOMEM;
	rx->next_to_clean = 0;
	rx->next_to_fill = 0;
	timer_setup(&rx->refill_timer, mdlnic_rx_refill_timer, 0);
	if (nic->ops->rx_open) {
		err = nic->ops->rx_open(nic);
		if (err) {
			dma_free_coherent(nic->dev, size, rx->desc,
					  rx->desc_dma);
			return err;
		}
	}
	mdlnic_wr(nic, MDLNIC_RDBAL, lower_32_bits(rx->desc_dma));
	mdlnic_wr(nic, MDLNIC_RDBAH, upper_32_bits(rx->desc_dma));
	mdlnic_wr(nic, MDLNIC_RDLEN, size);
	mdlnic_wr(nic, MDLNIC_RDH, 0);
	mdlnic_wr(nic, MDLNIC_RDT, 0);
	mdlnic_wr(nic, MDLNIC_RDTR, 0);
	/*
	 * The back ends' receive sides run in softirq context (NAPI); the
	 * first fill runs as they would, before NAPI is enabled.  A ring left
	 * short is topped up by the refill timer.
	 */
	local_bh_disable();
	mdlnic_rx_fill(nic);
	local_bh_enable();
	return 0;
}

/**
 * mdlnic_rx_close - empty the receive ring and free it
 * @nic: the device, reset (no DMA), NAPI disabled
 *
 * Context: process context (ndo_stop), under RTNL.
 */
void mdlnic_rx_close(struct mdlnic *nic)
{
	struct mdlnic_rx *rx = &nic->rx;
	unsigned int posted = mdlnic_rx_posted(rx);

	del_timer_sync(&rx->refill_timer);
	/* Even with none posted: a back end may hold buffers to give back. */
	local_bh_disable();
	nic->ops->rx_drop(nic, rx->next_to_clean, posted);
	local_bh_enable();
	rx->next_to_clean = rx->next_to_fill;
	if (nic->ops->rx_close)
		nic->ops->rx_close(nic);
	dma_free_coherent(nic->dev, MDLNIC_RX_RING * sizeof(*rx->desc),
			  rx->desc, rx->desc_dma);
	rx->desc = NULL;
}
