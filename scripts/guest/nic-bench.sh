#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The NIC benchmark, inside a guest booted with scripts/vm-run --nic:
# pktgen frames into mdlnic (sent by the virtio-net in a second namespace)
# and out of it, for each buffer back end in turn, ROUNDS times with the
# back ends' order rotating, at 64, 1500 and 9000 bytes; then the in-tree
# e1000 driver on the same traffic as an outside reference (where the kernel
# has it).  One "nicraw" line per run, for scripts/nic-bench-summary:
#   nicraw backend=B dir=in|out size=S frames=N pps=N ns_per_frame=X
# pps: frames mdlnic took from the wire (in) or sent (out) per second of
# pktgen's run.  ns_per_frame: the driver's own CPU time per frame
# (mdlnic's timing=1: back end and ring code, without the stack and without
# QEMU's device emulation), "-" for the in-tree driver.
# Arguments: frames per run (default 10000), rounds (default 3).
PKTS=${1:-10000}
ROUNDS=${2:-3}
KO=${MDLPOOL_MODDIR:-/lib/modules/mdlpool}/mdlnic.ko
E1000_MAC=52:54:00:12:34:56
VIRTIO_MAC=52:54:00:12:34:57
# Frames to an address nobody has: the receiving stack drops them in IP,
# after the driver, and answers nothing.
NOBODY=10.77.0.99

echo "kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) vCPUs, command line: $(cat /proc/cmdline)"
ifname_by_mac() {
	grep -l "^$1\$" /sys/class/net/*/address 2>/dev/null | cut -d/ -f5
}
modprobe virtio_net && modprobe pktgen || exit 1
sleep 1
unshare -n sleep 100000 &
ns_pid=$!
sleep 1
vif=$(ifname_by_mac "$VIRTIO_MAC")
/sbin/ip link set "$vif" netns "$ns_pid" || exit 1
there() {
	nsenter -t "$ns_pid" -n "$@"
}
there /sbin/ip addr add 10.77.0.2/24 dev "$vif"
there /sbin/ip link set "$vif" mtu 9000 up

# up: mdlnic's (or e1000's) interface, up at MTU 9000, in $eif
up() {
	eif=$(ifname_by_mac "$E1000_MAC")
	/sbin/ip addr add 10.77.0.1/24 dev "$eif"
	/sbin/ip link set "$eif" mtu 9000 up
	i=0
	until [ "$(cat "/sys/class/net/$eif/carrier")" = 1 ] || [ $i -gt 50 ]; do
		i=$((i + 1))
		sleep 0.1
	done
	ping -c 1 -W 5 10.77.0.2 > /dev/null
}

# pktgen_usec WHERE DEV DST_MAC SIZE: PKTS frames from DEV; prints how many
# microseconds pktgen's run took
pktgen_usec() {
	in_ns=""
	[ "$1" = there ] && in_ns=there
	$in_ns sh -c '. /selftests/mdlpool/lib.sh; pktgen_send "$@"' pktgen \
		"$2" "$NOBODY" "$3" "$4" "$PKTS" | cut -d' ' -f1
}

# field FILE KEY: KEY=value out of a one-line file
field() {
	tr ' ' '\n' < "$1" | sed -n "s/^$2=//p"
}

timing() {
	cat "/sys/kernel/debug/mdlnic/0000:00:03.0/timing" 2>/dev/null
}

# d KEY: how much a timing counter moved over the run
d() {
	echo $(($(field /tmp/t1 "$1") - $(field /tmp/t0 "$1")))
}

# per NS: NS over the run's frames
per() {
	awk -v ns="$1" -v n="$frames" 'BEGIN { printf "%.1f", n ? ns / n : 0 }'
}

# run BACKEND DIR SIZE: one run, one nicraw line
run() {
	st=/sys/class/net/$eif/statistics
	timing > /tmp/t0
	rx0=$(cat "$st/rx_packets") tx0=$(cat "$st/tx_packets")
	if [ "$2" = in ]; then
		usec=$(pktgen_usec there "$vif" "$E1000_MAC" "$3")
	else
		usec=$(pktgen_usec here "$eif" "$VIRTIO_MAC" "$3")
	fi
	# The last frames' completions: the next interrupt takes them.
	sleep 0.2
	timing > /tmp/t1
	rx=$(($(cat "$st/rx_packets") - rx0)) tx=$(($(cat "$st/tx_packets") - tx0))
	frames=$rx
	[ "$2" = out ] && frames=$tx
	drv=- cpu=-
	if [ -s /tmp/t1 ]; then
		if [ "$2" = in ]; then
			drv=$(per "$(d rx_ns)")
			cpu=$(per $(($(d poll_ns) - $(d mmio_ns))))
		else
			drv=$(per $(($(d tx_xmit_ns) + $(d tx_clean_ns))))
			cpu=$(per $(($(d tx_xmit_ns) + $(d poll_ns) - $(d mmio_ns))))
		fi
	fi
	pps=$(awk -v n="$frames" -v us="${usec:-0}" 'BEGIN { printf "%d", us ? n * 1e6 / us : 0 }')
	echo "nicraw backend=$1 dir=$2 size=$3 frames=$frames pps=$pps driver_ns=$drv cpu_ns=$cpu"
}

# backend_runs BACKEND: mdlnic with it, every direction and size
backend_runs() {
	insmod "$KO" backend="$1" timing=1 || return 1
	up
	for size in 64 1500 9000; do
		for dir in in out; do
			run "$1" "$dir" "$size"
		done
	done
	rmmod mdlnic
}

backends="mdlpool page_pool map_single"
r=1
while [ $r -le "$ROUNDS" ]; do
	echo "round $r of $ROUNDS: $backends"
	for b in $backends; do
		backend_runs "$b"
	done
	# Each back end runs first, second and third in turn.
	set -- $backends
	backends="$2 $3 $1"
	r=$((r + 1))
done

if modprobe e1000 2>/dev/null; then
	sleep 1
	up
	for size in 64 1500 9000; do
		for dir in in out; do
			run e1000 "$dir" "$size"
		done
	done
	rmmod e1000
else
	echo "no in-tree e1000 module in this kernel: no reference"
fi
kill "$ns_pid"
