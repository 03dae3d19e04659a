/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mdlnic: a driver for Intel's 82540EM (the e1000 QEMU emulates), written
 * from the 8254x developer's manual as mdlpool's reference consumer.  What
 * its files share: the device's registers and descriptors, the rings, and
 * the buffer back ends (mdlpool, page_pool, map_single) the rings call.
 */
#ifndef _MDLNIC_H
#define _MDLNIC_H

#include <linux/dma-mapping.h>
#include <linux/if_vlan.h>
#include <linux/netdevice.h>
#include <linux/pci.h>
#include <linux/sched/clock.h>
#include <linux/timer.h>
#include <linux/u64_stats_sync.h>

/* --- Registers (8254x manual, section 13), byte offsets into BAR 0 ------ */
#define MDLNIC_CTRL	0x0000
#define MDLNIC_STATUS	0x0008
#define MDLNIC_EERD	0x0014
#define MDLNIC_ICR	0x00c0	/* read clears */
#define MDLNIC_ITR	0x00c4
#define MDLNIC_IMS	0x00d0
#define MDLNIC_IMC	0x00d8
#define MDLNIC_RCTL	0x0100
#define MDLNIC_TCTL	0x0400
#define MDLNIC_TIPG	0x0410
#define MDLNIC_RDBAL	0x2800
#define MDLNIC_RDBAH	0x2804
#define MDLNIC_RDLEN	0x2808
#define MDLNIC_RDH	0x2810
#define MDLNIC_RDT	0x2818
#define MDLNIC_RDTR	0x2820
#define MDLNIC_TDBAL	0x3800
#define MDLNIC_TDBAH	0x3804
#define MDLNIC_TDLEN	0x3808
#define MDLNIC_TDH	0x3810
#define MDLNIC_TDT	0x3818
#define MDLNIC_MPC	0x4010	/* missed packets, clears on read */
#define MDLNIC_RNBC	0x40a0	/* no rx descriptor, clears on read */
#define MDLNIC_MTA	0x5200	/* 128 words */
#define MDLNIC_RAL0	0x5400
#define MDLNIC_RAH0	0x5404

#define MDLNIC_CTRL_ASDE	BIT(5)
#define MDLNIC_CTRL_SLU		BIT(6)
#define MDLNIC_CTRL_RST		BIT(26)
#define MDLNIC_STATUS_LU	BIT(1)
#define MDLNIC_EERD_START	BIT(0)
#define MDLNIC_EERD_DONE	BIT(4)

/* Interrupt causes (ICR, IMS, IMC). */
#define MDLNIC_INT_TXDW		BIT(0)
#define MDLNIC_INT_LSC		BIT(2)
#define MDLNIC_INT_RXSEQ	BIT(3)
#define MDLNIC_INT_RXDMT0	BIT(4)
#define MDLNIC_INT_RXO		BIT(6)
#define MDLNIC_INT_RXT0		BIT(7)
/* The causes NAPI handles; masked while a poll is scheduled. */
#define MDLNIC_INT_NAPI	(MDLNIC_INT_TXDW | MDLNIC_INT_RXDMT0 | \
			 MDLNIC_INT_RXO | MDLNIC_INT_RXT0)

#define MDLNIC_RCTL_EN		BIT(1)
#define MDLNIC_RCTL_UPE		BIT(3)
#define MDLNIC_RCTL_MPE		BIT(4)
#define MDLNIC_RCTL_LPE		BIT(5)
#define MDLNIC_RCTL_BAM		BIT(15)
#define MDLNIC_RCTL_SECRC	BIT(26)
/* BSIZE 00 without BSEX: 2048-byte receive buffers. */
#define MDLNIC_RX_BUF_LEN	2048

#define MDLNIC_TCTL_EN		BIT(1)
#define MDLNIC_TCTL_PSP		BIT(3)
#define MDLNIC_TCTL_CT		(0x0f << 4)
#define MDLNIC_TCTL_COLD_FD	(0x40 << 12)
/* IPGT 10, IPGR1 8, IPGR2 6: the manual's values for copper. */
#define MDLNIC_TIPG_COPPER	(10 | (8 << 10) | (6 << 20))

/* --- Descriptors (legacy formats, section 3.2.3 and 3.3.3) ---------------- */
struct mdlnic_rx_desc {
	__le64 addr;
	__le16 length;
	__le16 csum;
	u8 status;
	u8 errors;
	__le16 special;
};

#define MDLNIC_RXD_DD	BIT(0)
#define MDLNIC_RXD_EOP	BIT(1)
/* CE, SE, SEQ, CXE, RXE: the frame is bad. */
#define MDLNIC_RXD_ERR_FRAME	(BIT(0) | BIT(1) | BIT(2) | BIT(4) | BIT(7))

struct mdlnic_tx_desc {
	__le64 addr;
	__le16 length;
	u8 cso;
	u8 cmd;
	u8 status;
	u8 css;
	__le16 special;
};

#define MDLNIC_TXD_EOP	BIT(0)
#define MDLNIC_TXD_IFCS	BIT(1)
#define MDLNIC_TXD_RS	BIT(3)
#define MDLNIC_TXD_DD	BIT(0)

/* Ring lengths: powers of two, their byte sizes multiples of 128. */
#define MDLNIC_RX_RING	256
#define MDLNIC_TX_RING	256
#define MDLNIC_MAX_MTU	9000
/* The longest frame the rings carry, and in how many 2048-byte pieces. */
#define MDLNIC_MAX_FRAME	(MDLNIC_MAX_MTU + VLAN_ETH_HLEN)
#define MDLNIC_MAX_PIECES	DIV_ROUND_UP(MDLNIC_MAX_FRAME, MDLNIC_RX_BUF_LEN)
/* Refill in batches of this many slots. */
#define MDLNIC_RX_BATCH	32
/* Room before a page_pool or map_single frame, for the stack's headers. */
#define MDLNIC_RX_HEADROOM	(NET_SKB_PAD + NET_IP_ALIGN)

/*
 * One receive slot: the buffer a descriptor names.  Which fields are used
 * depends on the back end; @dma is the device's address of byte 0.
 */
struct mdlnic_rx_slot {
	union {
		struct scatterlist *sg;	/* mdlpool */
		struct page *page;	/* page_pool */
		void *frag;		/* map_single */
	};
	void *buf;
	dma_addr_t dma;
	unsigned int len;	/* what the device wrote */
};

/*
 * One transmit slot.  mdlpool: each piece of a frame is a pool buffer (@sg)
 * the frame was copied into, freed at completion.  The others map the
 * frame's skb (@skb, on its last slot only) and unmap it at completion.
 */
struct mdlnic_tx_slot {
	struct scatterlist *sg;
	struct sk_buff *skb;
	dma_addr_t dma;
	unsigned int len;	/* this piece's bytes */
	unsigned int frame_len;	/* the frame's bytes, on its last piece */
};

struct mdlnic_ring_stats {
	u64 packets;
	u64 bytes;
	u64 dropped;
	u64 length_errors;
	u64 frame_errors;
	struct u64_stats_sync syncp;
};

struct mdlnic_rx {
	struct mdlnic_rx_desc *desc;
	dma_addr_t desc_dma;
	struct mdlnic_rx_slot slot[MDLNIC_RX_RING];
	/* Slots next_to_clean up to next_to_fill are the device's. */
	unsigned int next_to_clean;
	unsigned int next_to_fill;
	/* Re-polls a ring the back end could not fill (see mdlnic_rx_fill()). */
	struct timer_list refill_timer;
	struct page_pool *page_pool;
	/* mdlpool: buffers read and not yet given back, freed in bulk. */
	struct scatterlist *done[MDLNIC_RX_BATCH];
	unsigned int nr_done;
	struct mdlnic_ring_stats stats;
};

struct mdlnic_tx {
	struct mdlnic_tx_desc *desc;
	dma_addr_t desc_dma;
	struct mdlnic_tx_slot slot[MDLNIC_TX_RING];
	/* Written by the transmit path only, under the queue's xmit lock. */
	unsigned int next_to_use;
	/* Written by the completion (NAPI poll) only. */
	unsigned int next_to_clean;
	struct mdlnic_ring_stats stats;
};

/*
 * CPU time, for the benchmark (timing=1).  @rx_ns, @tx_xmit_ns and
 * @tx_clean_ns: what the back end and the ring code spend, without the
 * stack.  @poll_ns: whole NAPI polls, the stack's share of each frame
 * included, which is where page_pool's recycling and mdlpool's skb frees
 * land.  @mmio_ns: the part of @poll_ns spent in tail and mask register
 * writes, which QEMU answers by emulating the device on the spot (it
 * delivers queued frames when the receive tail moves): the benchmark
 * subtracts it.  Each field has one writer: the xmit path, under the
 * queue's lock, for @tx_xmit_ns, the NAPI poll for the others.
 */
struct mdlnic_timing {
	u64 rx_ns;
	u64 tx_xmit_ns;
	u64 tx_clean_ns;
	u64 poll_ns;
	u64 mmio_ns;
};

struct mdlnic {
	struct net_device *netdev;
	struct pci_dev *pdev;
	struct device *dev;
	u8 __iomem *hw;
	const struct mdlnic_backend_ops *ops;
	struct napi_struct napi;
	/* mdlpool back end: created at probe, destroyed at remove. */
	struct mdlpool *rx_pool;
	struct mdlpool *tx_pool;
	struct mdlnic_rx rx;
	struct mdlnic_tx tx;
	struct mdlnic_timing timing;
	struct dentry *debugfs;
	/* The device's clear-on-read counters, summed; under stats_lock. */
	spinlock_t stats_lock;
	u64 missed;
	u64 no_buffer;
};

static inline u32 mdlnic_rd(const struct mdlnic *nic, unsigned int reg)
{
	return readl(nic->hw + reg);
}

static inline void mdlnic_wr(const struct mdlnic *nic, unsigned int reg,
			     u32 val)
{
	writel(val, nic->hw + reg);
}

DECLARE_STATIC_KEY_FALSE(mdlnic_timing_on);

/* A start time for mdlnic_time_add(), when the benchmark asked for them. */
static __always_inline u64 mdlnic_time_start(void)
{
	return static_branch_unlikely(&mdlnic_timing_on) ? local_clock() : 0;
}

static __always_inline void mdlnic_time_add(u64 *sum, u64 start)
{
	if (static_branch_unlikely(&mdlnic_timing_on))
		WRITE_ONCE(*sum, *sum + local_clock() - start);
}

/* rx.c */
int mdlnic_rx_open(struct mdlnic *nic);
void mdlnic_rx_close(struct mdlnic *nic);
int mdlnic_rx_poll(struct mdlnic *nic, int budget);

/* tx.c */
int mdlnic_tx_open(struct mdlnic *nic);
void mdlnic_tx_close(struct mdlnic *nic);
bool mdlnic_tx_clean(struct mdlnic *nic, int budget);
netdev_tx_t mdlnic_xmit(struct sk_buff *skb, struct net_device *netdev);

/*
 * A buffer back end: where the rings' buffers come from and how a received
 * frame becomes an skb.  The ring code owns the descriptors; a back end only
 * fills and empties slots.  Called from NAPI poll, or for the receive ring's
 * first fill from ndo_open with bottom halves disabled, so each back end's
 * receive side runs in one context at a time, as page_pool requires.
 *
 * @probe/@remove: device lifetime (may be NULL).
 * @rx_open/@rx_close: ring lifetime, process context (may be NULL).
 * @rx_fill: fill @nr slots from @first on; set each slot's @buf and @dma.
 *	Returns how many it filled, from @first on.
 * @rx_frame: the frame in @pieces slots from @first on, @len bytes, each
 *	slot's @len set; returns its skb or NULL, and empties the slots.
 * @rx_drop: empty @pieces slots from @first on, their data unread.
 * @tx_pieces: how many slots a frame of @len bytes takes.
 * @tx_frame: fill slots from @first on with @skb; set each slot's @dma
 *	and @len, and @frame_len on the last.  Returns the slots used, or a
 *	negative errno with @skb left to the caller.
 * @tx_done: the device has sent @slot; release what it holds.
 */
struct mdlnic_backend_ops {
	const char *name;
	int (*probe)(struct mdlnic *nic);
	void (*remove)(struct mdlnic *nic);
	int (*rx_open)(struct mdlnic *nic);
	void (*rx_close)(struct mdlnic *nic);
	unsigned int (*rx_fill)(struct mdlnic *nic, unsigned int first,
				unsigned int nr);
	struct sk_buff *(*rx_frame)(struct mdlnic *nic, unsigned int first,
				    unsigned int pieces, unsigned int len);
	void (*rx_drop)(struct mdlnic *nic, unsigned int first,
			unsigned int pieces);
	unsigned int (*tx_pieces)(unsigned int len);
	int (*tx_frame)(struct mdlnic *nic, struct sk_buff *skb,
			unsigned int first);
	void (*tx_done)(struct mdlnic *nic, struct mdlnic_tx_slot *slot,
			int budget);
};

extern const struct mdlnic_backend_ops mdlnic_mdlpool_ops;
extern const struct mdlnic_backend_ops mdlnic_page_pool_ops;
extern const struct mdlnic_backend_ops mdlnic_map_single_ops;

/* map_single.c: the transmit side page_pool shares with it. */
unsigned int mdlnic_map_tx_pieces(unsigned int len);
int mdlnic_map_tx_frame(struct mdlnic *nic, struct sk_buff *skb,
			unsigned int first);
void mdlnic_map_tx_done(struct mdlnic *nic, struct mdlnic_tx_slot *slot,
			int budget);

static inline unsigned int mdlnic_rx_next(unsigned int i)
{
	return (i + 1) & (MDLNIC_RX_RING - 1);
}

static inline unsigned int mdlnic_tx_next(unsigned int i)
{
	return (i + 1) & (MDLNIC_TX_RING - 1);
}

#endif /* _MDLNIC_H */
