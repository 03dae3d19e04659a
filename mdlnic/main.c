// SPDX-License-Identifier: GPL-2.0
/*
 * mdlnic: a PCI network driver for Intel's 82540EM (8086:100e, the e1000
 * QEMU emulates), written from Intel's PCI/PCI-X Family of Gigabit Ethernet
 * Controllers Software Developer's Manual as mdlpool's reference consumer,
 * and as a model of an NDIS miniport's buffer handling ported to Linux.
 *
 * One receive and one transmit ring of legacy descriptors, one interrupt
 * (INTx, possibly shared) scheduling one NAPI context that completes sends
 * and takes frames.  Where the rings' buffers come from is the back end's
 * business (backend=): mdlpool (the default), page_pool, or map_single.
 *
 * Contexts: probe, remove, ndo_open and ndo_stop run in process context
 * under RTNL (ndo_open/ndo_stop) and may sleep; ndo_start_xmit runs on any
 * CPU with bottom halves off, under the queue's xmit lock; the interrupt
 * handler only reads the cause and schedules NAPI; the rings are emptied and
 * refilled only in NAPI poll, or by ndo_open/ndo_stop while NAPI is off.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/etherdevice.h>
#include <linux/interrupt.h>
#include <linux/iopoll.h>
#include <linux/module.h>
#include <linux/seq_file.h>

#include "mdlnic.h"

static char *backend = "mdlpool";
module_param(backend, charp, 0444);
MODULE_PARM_DESC(backend,
		 "where ring buffers come from: mdlpool (default), page_pool, map_single");

static bool timing;
module_param(timing, bool, 0444);
MODULE_PARM_DESC(timing,
		 "count the driver's CPU time per frame, in debugfs mdlnic/<device>/timing (for the benchmark)");

DEFINE_STATIC_KEY_FALSE(mdlnic_timing_on);
static struct dentry *mdlnic_debugfs;

static const struct mdlnic_backend_ops *const mdlnic_backends[] = {
	&mdlnic_mdlpool_ops,
#ifdef CONFIG_PAGE_POOL
	&mdlnic_page_pool_ops,
#endif
	&mdlnic_map_single_ops,
};

static const struct mdlnic_backend_ops *mdlnic_backend_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(mdlnic_backends); i++)
		if (sysfs_streq(name, mdlnic_backends[i]->name))
			return mdlnic_backends[i];
	return NULL;
}

/* --- The device ----------------------------------------------------------- */

/* Stop all DMA and interrupts; the device forgets the rings (manual 14.9). */
static void mdlnic_hw_reset(struct mdlnic *nic)
{
	u32 ctrl;

	mdlnic_wr(nic, MDLNIC_IMC, ~0u);
	mdlnic_wr(nic, MDLNIC_RCTL, 0);
	mdlnic_wr(nic, MDLNIC_TCTL, MDLNIC_TCTL_PSP);
	mdlnic_rd(nic, MDLNIC_STATUS);	/* flush the posted writes */
	usleep_range(10000, 20000);	/* let a frame in flight finish */
	mdlnic_wr(nic, MDLNIC_CTRL, mdlnic_rd(nic, MDLNIC_CTRL) |
		  MDLNIC_CTRL_RST);
	usleep_range(1000, 2000);
	if (readl_poll_timeout(nic->hw + MDLNIC_CTRL, ctrl,
			       !(ctrl & MDLNIC_CTRL_RST), 100, 100000))
		netdev_warn(nic->netdev, "reset did not complete\n");
	mdlnic_wr(nic, MDLNIC_IMC, ~0u);
	mdlnic_rd(nic, MDLNIC_ICR);
}

static int mdlnic_eeprom_read(struct mdlnic *nic, unsigned int word, u16 *val)
{
	u32 eerd;

	mdlnic_wr(nic, MDLNIC_EERD, (word << 8) | MDLNIC_EERD_START);
	if (readl_poll_timeout(nic->hw + MDLNIC_EERD, eerd,
			       eerd & MDLNIC_EERD_DONE, 5, 10000))
		return -ETIMEDOUT;
	*val = eerd >> 16;
	return 0;
}

/* The MAC address is the EEPROM's first three words (manual 5.6.1). */
static int mdlnic_read_mac(struct mdlnic *nic, u8 *mac)
{
	unsigned int i;
	u16 word;
	int err;

	for (i = 0; i < 3; i++) {
		err = mdlnic_eeprom_read(nic, i, &word);
		if (err)
			return err;
		mac[2 * i] = word & 0xff;
		mac[2 * i + 1] = word >> 8;
	}
	return is_valid_ether_addr(mac) ? 0 : -EADDRNOTAVAIL;
}

static void mdlnic_write_mac(struct mdlnic *nic, const u8 *mac)
{
	mdlnic_wr(nic, MDLNIC_RAL0, get_unaligned_le32(mac));
	/* Bit 31, address valid. */
	mdlnic_wr(nic, MDLNIC_RAH0, get_unaligned_le16(mac + 4) | BIT(31));
}

static u32 mdlnic_rctl(const struct net_device *netdev)
{
	u32 rctl = MDLNIC_RCTL_EN | MDLNIC_RCTL_BAM | MDLNIC_RCTL_SECRC;

	if (netdev->mtu > ETH_DATA_LEN)
		rctl |= MDLNIC_RCTL_LPE;
	if (netdev->flags & IFF_PROMISC)
		rctl |= MDLNIC_RCTL_UPE | MDLNIC_RCTL_MPE;
	/* No hash filter: any multicast subscription takes all of it. */
	else if (netdev->flags & IFF_ALLMULTI || !netdev_mc_empty(netdev))
		rctl |= MDLNIC_RCTL_MPE;
	return rctl;
}

static void mdlnic_check_link(struct mdlnic *nic)
{
	if (mdlnic_rd(nic, MDLNIC_STATUS) & MDLNIC_STATUS_LU) {
		if (!netif_carrier_ok(nic->netdev)) {
			netif_carrier_on(nic->netdev);
			netif_wake_queue(nic->netdev);
		}
	} else if (netif_carrier_ok(nic->netdev)) {
		netif_carrier_off(nic->netdev);
	}
}

/* --- Interrupt and NAPI --------------------------------------------------- */

static irqreturn_t mdlnic_interrupt(int irq, void *data)
{
	struct mdlnic *nic = data;
	u32 icr = mdlnic_rd(nic, MDLNIC_ICR);

	if (!icr)
		return IRQ_NONE;	/* another device's, on a shared line */
	if (icr & MDLNIC_INT_LSC)
		mdlnic_check_link(nic);
	if (icr & MDLNIC_INT_NAPI && napi_schedule_prep(&nic->napi)) {
		/* The causes stay latched in ICR while masked. */
		mdlnic_wr(nic, MDLNIC_IMC, MDLNIC_INT_NAPI);
		__napi_schedule(&nic->napi);
	}
	return IRQ_HANDLED;
}

static int mdlnic_poll(struct napi_struct *napi, int budget)
{
	struct mdlnic *nic = container_of(napi, struct mdlnic, napi);
	u64 t = mdlnic_time_start(), t_ims;
	bool tx_clean;
	int done;

	/*
	 * netpoll polls with no budget, possibly with interrupts off, where
	 * the back ends may not free: the next real poll completes.
	 */
	if (!budget)
		return 0;
	tx_clean = mdlnic_tx_clean(nic, budget);
	done = mdlnic_rx_poll(nic, budget);
	if (!tx_clean) {
		done = budget;
	} else if (done < budget && napi_complete_done(napi, done)) {
		t_ims = mdlnic_time_start();
		/* Unmasking with a cause latched raises the interrupt again. */
		mdlnic_wr(nic, MDLNIC_IMS, MDLNIC_INT_NAPI);
		mdlnic_time_add(&nic->timing.mmio_ns, t_ims);
	}
	mdlnic_time_add(&nic->timing.poll_ns, t);
	return done;
}

/* --- net_device_ops ------------------------------------------------------- */

static int mdlnic_open(struct net_device *netdev)
{
	struct mdlnic *nic = netdev_priv(netdev);
	unsigned int i;
	int err;

	mdlnic_hw_reset(nic);
	mdlnic_wr(nic, MDLNIC_CTRL, mdlnic_rd(nic, MDLNIC_CTRL) |
		  MDLNIC_CTRL_SLU | MDLNIC_CTRL_ASDE);
	mdlnic_write_mac(nic, netdev->dev_addr);
	for (i = 0; i < 128; i++)
		mdlnic_wr(nic, MDLNIC_MTA + 4 * i, 0);
	/* At most about 20000 interrupts a second (ITR counts 256 ns). */
	mdlnic_wr(nic, MDLNIC_ITR, 195);

	err = mdlnic_tx_open(nic);
	if (err)
		return err;
	err = mdlnic_rx_open(nic);
	if (err)
		goto err_tx;
	err = request_irq(nic->pdev->irq, mdlnic_interrupt, IRQF_SHARED,
			  netdev->name, nic);
	if (err)
		goto err_rx;
	napi_enable(&nic->napi);
	mdlnic_wr(nic, MDLNIC_TIPG, MDLNIC_TIPG_COPPER);
	mdlnic_wr(nic, MDLNIC_TCTL, MDLNIC_TCTL_EN | MDLNIC_TCTL_PSP |
		  MDLNIC_TCTL_CT | MDLNIC_TCTL_COLD_FD);
	mdlnic_wr(nic, MDLNIC_RCTL, mdlnic_rctl(netdev));
	mdlnic_wr(nic, MDLNIC_IMS, MDLNIC_INT_NAPI | MDLNIC_INT_LSC |
		  MDLNIC_INT_RXSEQ);
	netif_start_queue(netdev);
	mdlnic_check_link(nic);
	return 0;

err_rx:
	mdlnic_hw_reset(nic);
	mdlnic_rx_close(nic);
err_tx:
	mdlnic_tx_close(nic);
	return err;
}

static int mdlnic_stop(struct net_device *netdev)
{
	struct mdlnic *nic = netdev_priv(netdev);

	netif_carrier_off(netdev);
	netif_tx_disable(netdev);	/* waits for a running xmit */
	/*
	 * NAPI first: a poll that completes unmasks the interrupt, and
	 * once NAPI is off the handler only reads and clears the cause.
	 */
	napi_disable(&nic->napi);
	mdlnic_wr(nic, MDLNIC_IMC, ~0u);
	free_irq(nic->pdev->irq, nic);	/* waits for a running handler */
	/* No DMA after the reset: the buffers can go. */
	mdlnic_hw_reset(nic);
	mdlnic_rx_close(nic);
	mdlnic_tx_close(nic);
	return 0;
}

static void mdlnic_set_rx_mode(struct net_device *netdev)
{
	struct mdlnic *nic = netdev_priv(netdev);

	if (netif_running(netdev))
		mdlnic_wr(nic, MDLNIC_RCTL, mdlnic_rctl(netdev));
}

/* Every MTU fits the 2048-byte buffers: a jumbo frame spans several. */
static int mdlnic_change_mtu(struct net_device *netdev, int mtu)
{
	struct mdlnic *nic = netdev_priv(netdev);

	WRITE_ONCE(netdev->mtu, mtu);
	if (netif_running(netdev))
		mdlnic_wr(nic, MDLNIC_RCTL, mdlnic_rctl(netdev));
	return 0;
}

static int mdlnic_set_mac(struct net_device *netdev, void *p)
{
	struct mdlnic *nic = netdev_priv(netdev);
	int err = eth_mac_addr(netdev, p);

	if (!err)
		mdlnic_write_mac(nic, netdev->dev_addr);
	return err;
}

static void mdlnic_read_ring_stats(const struct mdlnic_ring_stats *s,
				   u64 *packets, u64 *bytes, u64 *dropped,
				   u64 *length_errors, u64 *frame_errors)
{
	unsigned int start;

	do {
		start = u64_stats_fetch_begin(&s->syncp);
		*packets = s->packets;
		*bytes = s->bytes;
		*dropped = s->dropped;
		*length_errors = s->length_errors;
		*frame_errors = s->frame_errors;
	} while (u64_stats_fetch_retry(&s->syncp, start));
}

static void mdlnic_get_stats64(struct net_device *netdev,
			       struct rtnl_link_stats64 *st)
{
	struct mdlnic *nic = netdev_priv(netdev);
	u64 unused;

	mdlnic_read_ring_stats(&nic->rx.stats, &st->rx_packets, &st->rx_bytes,
			       &st->rx_dropped, &st->rx_length_errors,
			       &st->rx_frame_errors);
	mdlnic_read_ring_stats(&nic->tx.stats, &st->tx_packets, &st->tx_bytes,
			       &st->tx_dropped, &unused, &unused);
	/* The device's counters clear when read: sum them here. */
	spin_lock_bh(&nic->stats_lock);
	nic->missed += mdlnic_rd(nic, MDLNIC_MPC);
	nic->no_buffer += mdlnic_rd(nic, MDLNIC_RNBC);
	st->rx_missed_errors = nic->missed;
	st->rx_over_errors = nic->no_buffer;
	spin_unlock_bh(&nic->stats_lock);
	st->rx_errors = st->rx_length_errors + st->rx_frame_errors;
}

static void mdlnic_tx_timeout(struct net_device *netdev, unsigned int txq)
{
	struct mdlnic *nic = netdev_priv(netdev);

	netdev_err(netdev, "transmit stalled: head %u tail %u, clean %u\n",
		   mdlnic_rd(nic, MDLNIC_TDH), mdlnic_rd(nic, MDLNIC_TDT),
		   READ_ONCE(nic->tx.next_to_clean));
}

static const struct net_device_ops mdlnic_netdev_ops = {
	.ndo_open = mdlnic_open,
	.ndo_stop = mdlnic_stop,
	.ndo_start_xmit = mdlnic_xmit,
	.ndo_set_rx_mode = mdlnic_set_rx_mode,
	.ndo_change_mtu = mdlnic_change_mtu,
	.ndo_set_mac_address = mdlnic_set_mac,
	.ndo_validate_addr = eth_validate_addr,
	.ndo_get_stats64 = mdlnic_get_stats64,
	.ndo_tx_timeout = mdlnic_tx_timeout,
};

/* --- The benchmark's timing file -------------------------------------------- */

static int mdlnic_timing_show(struct seq_file *m, void *unused)
{
	struct mdlnic *nic = m->private;
	struct rtnl_link_stats64 st;

	dev_get_stats(nic->netdev, &st);
	seq_printf(m, "backend=%s rx_packets=%llu rx_ns=%llu tx_packets=%llu tx_xmit_ns=%llu tx_clean_ns=%llu poll_ns=%llu mmio_ns=%llu\n",
		   nic->ops->name, st.rx_packets,
		   READ_ONCE(nic->timing.rx_ns), st.tx_packets,
		   READ_ONCE(nic->timing.tx_xmit_ns),
		   READ_ONCE(nic->timing.tx_clean_ns),
		   READ_ONCE(nic->timing.poll_ns),
		   READ_ONCE(nic->timing.mmio_ns));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mdlnic_timing);

/* --- The rings' state, for a device that stopped moving ------------------ */

/*
 * What the driver and the device each think of the rings, and whether
 * anything is left to restart them: the interrupt mask, NAPI's state bits
 * and the refill timer.  ICR is not read: reading clears it.  Under RTNL, so
 * that the rings are not freed meanwhile (ndo_stop).
 */
static int mdlnic_ring_show(struct seq_file *m, void *unused)
{
	struct mdlnic *nic = m->private;
	struct mdlnic_rx *rx = &nic->rx;
	struct mdlnic_tx *tx = &nic->tx;
	unsigned int clean;

	rtnl_lock();
	if (!netif_running(nic->netdev)) {
		seq_puts(m, "down\n");
		goto out;
	}
	clean = READ_ONCE(rx->next_to_clean);
	seq_printf(m, "rx next_to_clean=%u status=%#x next_to_fill=%u RDH=%u RDT=%u refill_timer=%d\n",
		   clean, READ_ONCE(rx->desc[clean].status),
		   READ_ONCE(rx->next_to_fill), mdlnic_rd(nic, MDLNIC_RDH),
		   mdlnic_rd(nic, MDLNIC_RDT), timer_pending(&rx->refill_timer));
	seq_printf(m, "tx next_to_clean=%u next_to_use=%u TDH=%u TDT=%u\n",
		   READ_ONCE(tx->next_to_clean), READ_ONCE(tx->next_to_use),
		   mdlnic_rd(nic, MDLNIC_TDH), mdlnic_rd(nic, MDLNIC_TDT));
	seq_printf(m, "CTRL=%#x STATUS=%#x RCTL=%#x IMS=%#x napi_state=%#lx carrier=%d\n",
		   mdlnic_rd(nic, MDLNIC_CTRL), mdlnic_rd(nic, MDLNIC_STATUS),
		   mdlnic_rd(nic, MDLNIC_RCTL), mdlnic_rd(nic, MDLNIC_IMS),
		   READ_ONCE(nic->napi.state), netif_carrier_ok(nic->netdev));
out:
	rtnl_unlock();
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mdlnic_ring);

static void mdlnic_debugfs_add(struct mdlnic *nic)
{
	nic->debugfs = debugfs_create_dir(pci_name(nic->pdev), mdlnic_debugfs);
	debugfs_create_file("timing", 0444, nic->debugfs, nic,
			    &mdlnic_timing_fops);
	debugfs_create_file("ring", 0444, nic->debugfs, nic,
			    &mdlnic_ring_fops);
}

/* --- PCI ------------------------------------------------------------------ */

static int mdlnic_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	const struct mdlnic_backend_ops *ops = mdlnic_backend_find(backend);
	struct net_device *netdev;
	struct mdlnic *nic;
	u8 mac[ETH_ALEN];
	int err;

	if (!ops) {
		dev_err(&pdev->dev, "unknown backend=%s (mdlpool, page_pool%s, map_single)\n",
			backend, IS_ENABLED(CONFIG_PAGE_POOL) ? "" :
			" (not in this kernel)");
		return -EINVAL;
	}
	err = pcim_enable_device(pdev);
	if (err)
		return err;
	err = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (err)
		return err;
	err = pcim_iomap_regions(pdev, BIT(0), KBUILD_MODNAME);
	if (err)
		return err;
	pci_set_master(pdev);

	netdev = devm_alloc_etherdev(&pdev->dev, sizeof(*nic));
	if (!netdev)
		return -ENOMEM;
	SET_NETDEV_DEV(netdev, &pdev->dev);
	nic = netdev_priv(netdev);
	nic->netdev = netdev;
	nic->pdev = pdev;
	nic->dev = &pdev->dev;
	nic->hw = pcim_iomap_table(pdev)[0];
	nic->ops = ops;
	spin_lock_init(&nic->stats_lock);
	u64_stats_init(&nic->rx.stats.syncp);
	u64_stats_init(&nic->tx.stats.syncp);
	pci_set_drvdata(pdev, nic);

	mdlnic_hw_reset(nic);
	err = mdlnic_read_mac(nic, mac);
	if (err) {
		dev_err(&pdev->dev, "no MAC address in the EEPROM: %d\n", err);
		return err;
	}
	eth_hw_addr_set(netdev, mac);

	netdev->netdev_ops = &mdlnic_netdev_ops;
	netdev->watchdog_timeo = 5 * HZ;
	netdev->min_mtu = ETH_MIN_MTU;
	netdev->max_mtu = MDLNIC_MAX_MTU;
	netif_napi_add(netdev, &nic->napi, mdlnic_poll);

	if (ops->probe) {
		err = ops->probe(nic);
		if (err)
			goto err_napi;
	}
	err = register_netdev(netdev);
	if (err)
		goto err_backend;
	mdlnic_debugfs_add(nic);
	netdev_info(netdev, "%s at %s, %pM, buffers from %s\n",
		    KBUILD_MODNAME, pci_name(pdev), mac, ops->name);
	return 0;

err_backend:
	if (ops->remove)
		ops->remove(nic);
err_napi:
	netif_napi_del(&nic->napi);
	return err;
}

static void mdlnic_remove(struct pci_dev *pdev)
{
	struct mdlnic *nic = pci_get_drvdata(pdev);

	debugfs_remove_recursive(nic->debugfs);
	unregister_netdev(nic->netdev);	/* stops it: the rings are empty */
	if (nic->ops->remove)
		nic->ops->remove(nic);
	netif_napi_del(&nic->napi);
	mdlnic_hw_reset(nic);
}

static const struct pci_device_id mdlnic_ids[] = {
	{ PCI_DEVICE(PCI_VENDOR_ID_INTEL, 0x100e) },	/* 82540EM */
	{ }
};
MODULE_DEVICE_TABLE(pci, mdlnic_ids);

static struct pci_driver mdlnic_driver = {
	.name = KBUILD_MODNAME,
	.id_table = mdlnic_ids,
	.probe = mdlnic_probe,
	.remove = mdlnic_remove,
};

static int __init mdlnic_init(void)
{
	int err;

	if (!mdlnic_backend_find(backend)) {
		pr_err("unknown backend=%s: mdlpool, page_pool%s, map_single\n",
		       backend, IS_ENABLED(CONFIG_PAGE_POOL) ? "" :
		       " (not in this kernel)");
		return -EINVAL;
	}
	if (timing)
		static_branch_enable(&mdlnic_timing_on);
	mdlnic_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	err = pci_register_driver(&mdlnic_driver);
	if (err)
		debugfs_remove_recursive(mdlnic_debugfs);
	return err;
}
module_init(mdlnic_init);

static void __exit mdlnic_exit(void)
{
	pci_unregister_driver(&mdlnic_driver);
	debugfs_remove_recursive(mdlnic_debugfs);
}
module_exit(mdlnic_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("82540EM (e1000) driver with mdlpool, page_pool or map_single buffers");
