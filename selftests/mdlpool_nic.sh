#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# mdlnic, mdlpool's reference consumer, carrying real traffic with each of
# its buffer back ends: the e1000 QEMU emulates (mdlnic) and a virtio-net in
# a second network namespace share one QEMU hub (scripts/vm-run --nic).
# TCP both ways at MTU 1500 and 9000, every byte checked; pktgen bursts into
# and out of mdlnic, every frame checked (mdlnic_pktcheck); a CPU going
# offline and online, the link going down and up, and (mdlpool) refills
# failing, all while traffic runs; the pools empty once the link is down,
# and gone after rmmod, which runs in the middle of a transfer.
. "$(dirname "$0")/lib.sh"

E1000_PCI=0000:00:03.0
E1000_MAC=52:54:00:12:34:56
VIRTIO_MAC=52:54:00:12:34:57
HERE=10.77.0.1
THERE=10.77.0.2
PKTCHECK=$(dirname "$0")/mdlnic_pktcheck
KO=${MDLPOOL_MODDIR:-/lib/modules/mdlpool}/mdlnic.ko
WWW=/tmp/mdlnic-www
# Enough for TCP's windows to fill and the rings to turn over many times,
# small enough for a TCG guest: the heavy runs are the benchmark's.
DATA_KB=1024
PKTS=1000

require_modules
if [ "$(cat /sys/bus/pci/devices/$E1000_PCI/device 2>/dev/null)" != 0x100e ]; then
	ktap_skip_script "mdlnic" "no e1000 at $E1000_PCI (boot with scripts/vm-run --nic)"
fi
ktap_print_header
ktap_set_plan 43

# --- The wire: the virtio-net in its own namespace, a web server each side -
ns_pid=""
cleanup() {
	killall httpd wget mdlnic_pktcheck 2>/dev/null
	[ -z "$ns_pid" ] || kill "$ns_pid" 2>/dev/null
	echo 0 > "$DBG/fail_next_pages" 2>/dev/null
	rmmod mdlnic 2>/dev/null
	defer_max "$saved_defer"
	restore_params
}
save_params
trap cleanup EXIT

there() {
	nsenter -t "$ns_pid" -n "$@"
}

# ifname_by_mac MAC: the interface with that address, in this namespace
ifname_by_mac() {
	grep -l "^$1\$" /sys/class/net/*/address 2>/dev/null | cut -d/ -f5
}

modprobe virtio_net && modprobe pktgen || {
	ktap_print_msg "modprobe virtio_net pktgen failed"
	exit "$KSFT_FAIL"
}
sleep 1
unshare -n sleep 100000 &
ns_pid=$!
sleep 1
vif=$(ifname_by_mac "$VIRTIO_MAC")
/sbin/ip link set "$vif" netns "$ns_pid"
there /sbin/ip link set lo up
there /sbin/ip addr add "$THERE/24" dev "$vif"
there /sbin/ip link set "$vif" up
mkdir -p "$WWW"
head -c $((DATA_KB * 1024)) /dev/urandom > "$WWW/data"
want_sum=$(sha256sum < "$WWW/data")
httpd -p 0.0.0.0:80 -h "$WWW"
there httpd -p 0.0.0.0:80 -h "$WWW"
ktap_print_msg "virtio-net $vif in namespace $ns_pid at $THERE; mdlnic at $HERE"

# --- Helpers on mdlnic's side --------------------------------------------
eif=""
# stat NAME: a netdev statistic of mdlnic's interface
stat() {
	cat "/sys/class/net/$eif/statistics/$1"
}

# there_stat NAME: the same for the virtio-net
there_stat() {
	there cat "/sys/class/net/$vif/statistics/$1"
}

# Both ends answer: ARP resolved and one ping back.
wire_up() {
	i=0
	while [ "$(cat "/sys/class/net/$eif/carrier" 2>/dev/null)" != 1 ]; do
		i=$((i + 1))
		[ $i -le 50 ] || return 1
		sleep 0.1
	done
	ping -c 1 -W 5 "$THERE" > /dev/null || ping -c 1 -W 5 "$THERE" > /dev/null
}

# load BACKEND: insmod mdlnic with it and bring its interface up
load() {
	insmod "$KO" backend="$1" || return 1
	eif=$(ifname_by_mac "$E1000_MAC")
	[ -n "$eif" ] || return 1
	case $(readlink "/sys/bus/pci/devices/$E1000_PCI/driver") in
	*/mdlnic) ;;
	*) ktap_print_msg "$E1000_PCI is not bound to mdlnic"; return 1 ;;
	esac
	/sbin/ip addr add "$HERE/24" dev "$eif" &&
		/sbin/ip link set "$eif" up && wire_up
}

# fetch WHO URL FILE: download URL in the namespace WHO (here/there) and
# check every byte against the file served.  Returns 1 if the bytes differ,
# 2 if the download did not complete.
fetch() {
	case $1 in
	here) timeout 120 wget -q -O "$3" "$2" ;;
	there) there timeout 120 wget -q -O "$3" "$2" ;;
	esac || { ktap_print_msg "wget $2 did not complete"; rm -f "$3"; return 2; }
	got=$(sha256sum < "$3")
	rm -f "$3"
	[ "$got" = "$want_sum" ] && return 0
	ktap_print_msg "$2: sha256 $got, want $want_sum"
	return 1
}

# mdlnic receives: the client is here, the server there.
tcp_in() {
	fetch here "http://$THERE/data" /tmp/mdlnic-in
}

# mdlnic sends.
tcp_out() {
	fetch there "http://$HERE/data" /tmp/mdlnic-out
}

set_mtu() {
	/sbin/ip link set "$eif" mtu "$1" &&
		there /sbin/ip link set "$vif" mtu "$1" && wire_up
}

# pktgen_run WHERE DEV DST_IP DST_MAC SIZE: $PKTS frames from DEV (in
# namespace WHERE) with UDP checksums; prints how many pktgen sent.
pktgen_run() {
	in_ns=""
	[ "$1" = there ] && in_ns=there
	$in_ns sh -c '. "$0/lib.sh"; pktgen_send "$@"' "$(dirname "$0")" \
		"$2" "$3" "$4" "$5" "$PKTS" UDPCSUM | cut -d' ' -f2
}

# The checker has its socket bound: nothing pktgen sends is missed.
checker_ready() {
	i=0
	until grep -q '^listening' /tmp/mdlnic-check 2>/dev/null; do
		i=$((i + 1))
		[ $i -le 100 ] || return 1
		sleep 0.05
	done
}

# pktgen_into SIZE: frames from the virtio-net into mdlnic, each checked
# on arrival; what did not arrive must be in mdlnic's drop counters.
pktgen_into() {
	lost0=$(($(stat rx_missed_errors) + $(stat rx_dropped)))
	"$PKTCHECK" "$eif" "$PKTS" 5 > /tmp/mdlnic-check &
	check=$!
	checker_ready
	sent=$(pktgen_run there "$vif" "$HERE" "$E1000_MAC" "$1")
	wait $check
	check_rc=$?
	lost=$(($(stat rx_missed_errors) + $(stat rx_dropped) - lost0))
	pktgen_verdict "$1" "$lost"
}

# pktgen_out SIZE: frames from mdlnic into the virtio-net, checked there.
pktgen_out() {
	lost0=$(($(there_stat rx_missed_errors) + $(there_stat rx_dropped) + $(stat tx_dropped)))
	there "$PKTCHECK" "$vif" "$PKTS" 5 > /tmp/mdlnic-check &
	check=$!
	checker_ready
	sent=$(pktgen_run here "$eif" "$THERE" "$VIRTIO_MAC" "$1")
	wait $check
	check_rc=$?
	lost=$(($(there_stat rx_missed_errors) + $(there_stat rx_dropped) + $(stat tx_dropped) - lost0))
	pktgen_verdict "$1" "$lost"
}

# pktgen_verdict SIZE LOST_COUNTED: every frame intact and unique, every
# frame sent arrived or was counted as dropped
pktgen_verdict() {
	line=$(tail -n 1 /tmp/mdlnic-check)
	received=$(echo "$line" | sed -n 's/^received=\([0-9]*\) .*/\1/p')
	ktap_print_msg "$1 bytes: pktgen sent ${sent:-?}, $line, drops counted $2"
	[ "$check_rc" = 0 ] && [ -n "$received" ] && [ -n "$sent" ] &&
		[ "$sent" -gt 0 ] && [ $((received + $2)) -ge "$sent" ]
}

# traffic WHO URL FILE: transfers until the stop file appears, then one
# more, which starts after the disturbance is over and must complete.
# While the link is down a transfer may not complete (no route, or the
# server's side reset): only a transfer that completes with other bytes
# than were sent fails the test before that.
traffic() {
	while [ ! -e /tmp/mdlnic-stop ]; do
		fetch "$@"
		case $? in
		1) return 1 ;;
		2) sleep 0.2 ;;
		esac
	done
	fetch "$@"
}

# during_traffic COMMAND...: transfers both ways run before, during and
# after COMMAND; every one must complete intact.
during_traffic() {
	rm -f /tmp/mdlnic-stop
	traffic here "http://$THERE/data" /tmp/mdlnic-bg-in &
	bg_in=$!
	traffic there "http://$HERE/data" /tmp/mdlnic-bg-out &
	bg_out=$!
	sleep 0.3
	"$@"
	rc=$?
	touch /tmp/mdlnic-stop
	wait $bg_in || rc=1
	wait $bg_out || rc=1
	return $rc
}

# Each CPU but the first goes offline and comes back, one after the other.
cpus_cycle() {
	for c in /sys/devices/system/cpu/cpu[1-9]*/online; do
		echo 0 > "$c" && sleep 0.2 && echo 1 > "$c" || return 1
	done
}

link_cycle() {
	/sbin/ip link set "$eif" down && sleep 0.3 &&
		/sbin/ip link set "$eif" up
}

RXPOOL=mdlnic-$E1000_PCI-rx
TXPOOL=mdlnic-$E1000_PCI-tx

# wait_cpu_idle CPU: the receive pool's share on CPU has given back all
# its slabs (idle return, at twice min_page_lifetime_ms)
wait_cpu_idle() {
	i=0
	until [ "$(pool_stat "$RXPOOL" pages_in_use cpu=$1)" = 0 ]; do
		i=$((i + 1))
		[ $i -le 100 ] || return 1
		sleep 0.1
	done
}

# irq_total IRQ: the interrupts IRQ has had, over all CPUs
irq_total() {
	awk -v irq="$1:" '$1 == irq {
		for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i
	}
	END { print n + 0 }' /proc/interrupts
}

# ring_state: mdlnic's view of its rings, the device's and NAPI's, as
# messages: what a stalled receive ring still waits for.
ring_state() {
	while read -r line; do
		ktap_print_msg "ring: $line"
	done < "/sys/kernel/debug/mdlnic/$E1000_PCI/ring"
}

# NAPI leaves the last CPU until that CPU has given all its receive slabs
# back, then returns to it while every page the pools ask for fails, and a
# pktgen burst empties the ring: the refills find no buffer, what the
# device cannot place it counts, and the ring fills again once pages can be
# had.
starve_refills() {
	irq=$(cat "/sys/bus/pci/devices/$E1000_PCI/irq")
	last=$(($(online_cpus) - 1))
	set_param min_page_lifetime_ms 100
	echo 0 > "/proc/irq/$irq/smp_affinity_list"
	wait_cpu_idle "$last" || {
		ktap_print_msg "CPU $last kept receive slabs with NAPI on CPU 0"
		return 1
	}
	fail0=$(pool_stat "$RXPOOL" alloc_failures)
	missed0=$(stat rx_missed_errors)
	echo 1000000 > "$DBG/fail_next_pages"
	irqs0=$(irq_total "$irq")
	echo "$last" > "/proc/irq/$irq/smp_affinity_list"
	# In the background: with the ring empty QEMU holds frames back, and
	# pktgen waits on the virtio-net's queue until pages come back.
	: > /tmp/mdlnic-sent
	pktgen_run there "$vif" "$HERE" "$E1000_MAC" 64 >> /tmp/mdlnic-sent &
	burst=$!
	bursts=1
	# Pages come back once a refill has failed (or after 60 s): how soon
	# NAPI reaches the CPU depends on the guest's speed, not on a clock.
	# NAPI polls on where it was scheduled for as long as frames keep
	# coming, so a burst may all be taken on CPU 0, where the slabs are,
	# and refill from them: no refill fails, the ring stays full, and the
	# failing transmit buffers stall TCP meanwhile. Seen 6 times in 127
	# runs on the 6.1 debug kernel with the IOMMU (mdlnic's ring file:
	# over 230 buffers posted, NAPI idle, a few interrupts on CPU 3). Once
	# such a burst is over NAPI has completed, and the next burst starts
	# where the interrupt now goes.
	i=0
	while [ "$(pool_stat "$RXPOOL" alloc_failures)" = "$fail0" ] && [ $i -lt 600 ]; do
		if ! kill -0 "$burst" 2>/dev/null; then
			wait "$burst"
			pktgen_run there "$vif" "$HERE" "$E1000_MAC" 64 >> /tmp/mdlnic-sent &
			burst=$!
			bursts=$((bursts + 1))
		fi
		i=$((i + 1))
		sleep 0.1
	done
	# What the device's interrupt did meanwhile (none at all would be an
	# interrupt lost on its way) and, if no refill failed, the rings as
	# they are then.
	irqs=$(($(irq_total "$irq") - irqs0))
	[ "$(pool_stat "$RXPOOL" alloc_failures)" != "$fail0" ] || ring_state
	sleep 0.2
	echo 0 > "$DBG/fail_next_pages"
	wait $burst
	sent=$(awk '{ n += $1 } END { print n + 0 }' /tmp/mdlnic-sent)
	fails=$(($(pool_stat "$RXPOOL" alloc_failures) - fail0))
	ktap_print_msg "NAPI on CPU $last, $bursts burst(s), $sent frames: $fails refills failed, the device missed $(($(stat rx_missed_errors) - missed0)) frames"
	ktap_print_msg "while waiting $((i / 10)) s for a refill to fail: $irqs interrupts, delivered to CPU $(cat "/proc/irq/$irq/effective_affinity_list" 2>/dev/null)"
	echo "0-$last" > "/proc/irq/$irq/smp_affinity_list"
	restore_params
	[ "$fails" -gt 0 ]
}

pools_idle() {
	ktap_print_msg "transmit buffers freed on another CPU than their sender's: $(pool_stat "$TXPOOL" remote_frees) of $(pool_stat "$TXPOOL" frees)"
	/sbin/ip link set "$eif" down &&
		expect_stat "$RXPOOL" in_use 0 && expect_stat "$TXPOOL" in_use 0
}

# rmmod_midway BACKEND: rmmod in the middle of transfers must succeed and
# leave no pool.  Both ways, except for page_pool: in the kernels tested
# here a page it lent the stack stays mapped for the device until the
# stack frees it, even once the pool is destroyed, so a frame waiting in a
# socket's queue when the driver goes is a DMA mapping left behind, which
# DMA-API debugging reports.  page_pool's transfer only goes out of mdlnic (what
# comes in is ACKs, which TCP frees as it reads them).
rmmod_midway() {
	bg_in=""
	if [ "$1" != page_pool ]; then
		fetch here "http://$THERE/data" /tmp/mdlnic-bg-in > /dev/null &
		bg_in=$!
	fi
	fetch there "http://$HERE/data" /tmp/mdlnic-bg-out > /dev/null &
	bg_out=$!
	sleep 0.5
	rmmod mdlnic || return 1
	killall wget 2>/dev/null
	# Not a bare wait: the namespace's holder is a child of ours too.
	wait $bg_in $bg_out
	for p in "$DBG"/mdlnic-*; do
		[ -e "$p" ] || continue
		ktap_print_msg "pool ${p##*/} left after rmmod"
		return 1
	done
}

# TCP frees a received skb on the CPU that allocated it (skb_defer_max,
# 6.1 and 6.12): it waits in that CPU's list until the CPU runs its network
# softirq again.  A page_pool page in such an skb stays mapped for the device
# meanwhile, and when mdlnic goes, no softirq may come: DMA-API debugging
# reported 2 such pages at unbind, and page_pool waited for them for minutes
# ("stalled pool shutdown").  page_pool's run frees them at once.
DEFER=/proc/sys/net/core/skb_defer_max
saved_defer=$(cat "$DEFER" 2>/dev/null)
defer_max() {
	[ -z "$saved_defer" ] || echo "$1" > "$DEFER"
}

backend_tests() {
	b=$1
	ktap_print_msg "--- backend=$b"
	if [ "$b" = page_pool ]; then
		defer_max 0
	else
		defer_max "$saved_defer"
	fi
	ktap_test_result "$b: mdlnic binds $E1000_PCI and the link comes up" \
		load "$b"
	ktap_test_result "$b: TCP at MTU 1500, $DATA_KB KiB received by mdlnic, sha256 matches" \
		tcp_in
	ktap_test_result "$b: TCP at MTU 1500, $DATA_KB KiB sent by mdlnic, sha256 matches" \
		tcp_out
	set_mtu 9000
	ktap_test_result "$b: TCP at MTU 9000, $DATA_KB KiB received by mdlnic, sha256 matches" \
		tcp_in
	ktap_test_result "$b: TCP at MTU 9000, $DATA_KB KiB sent by mdlnic, sha256 matches" \
		tcp_out
	set_mtu 1500
	ktap_test_result "$b: pktgen, $PKTS frames of 64 bytes into mdlnic: intact, unique, losses counted" \
		pktgen_into 64
	ktap_test_result "$b: pktgen, $PKTS frames of 1500 bytes into mdlnic: intact, unique, losses counted" \
		pktgen_into 1500
	ktap_test_result "$b: pktgen, $PKTS frames of 64 bytes out of mdlnic: intact, unique, losses counted" \
		pktgen_out 64
	ktap_test_result "$b: pktgen, $PKTS frames of 1500 bytes out of mdlnic: intact, unique, losses counted" \
		pktgen_out 1500
	ktap_test_result "$b: CPUs offline and online during transfers both ways: intact" \
		during_traffic cpus_cycle
	ktap_test_result "$b: link down and up during transfers both ways: intact" \
		during_traffic link_cycle
	if [ "$b" = mdlpool ]; then
		ktap_test_result "$b: refills failing during transfers (fail_next_pages): counted, the ring recovers, intact" \
			during_traffic starve_refills
		ktap_test_result "$b: link down: both pools have in_use 0" \
			pools_idle
		/sbin/ip link set "$eif" up && wire_up
	else
		ktap_test_skip "$b: refills failing during transfers" "fail_next_pages fails mdlpool's pages only"
		ktap_test_skip "$b: link down: both pools have in_use 0" "the pools are mdlpool's"
	fi
	ktap_test_result "$b: rmmod during transfers succeeds and leaves no pool" \
		rmmod_midway "$b"
}

# pktgen_waits_for_its_run: a device whose settings are written and whose
# run has not started is not taken for one whose run is over (pktgen_send
# would otherwise remove it as its run starts).
pktgen_waits_for_its_run() {
	there sh -c '. "$0/lib.sh"
		pktgen_idle || exit 1
		echo "add_device $1" > /proc/net/pktgen/kpktgend_0
		echo "count 1" > "/proc/net/pktgen/$1"
		if pktgen_run_over "$1"; then rc=1; else rc=0; fi
		pktgen_idle && exit $rc' "$(dirname "$0")" "$vif"
}

ktap_test_result "pktgen: a device set up but not started is not a finished run" \
	pktgen_waits_for_its_run

backend_tests mdlpool
backend_tests page_pool
backend_tests map_single

ktap_finished
