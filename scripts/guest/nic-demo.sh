#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The main job's NIC form, inside a guest booted with vm-run --nic: mdlnic
# with buffers from BACKEND (default mdlpool) carries MB megabytes each way
# over TCP to the virtio-net in a second namespace, every byte checked;
# then mdlnic's netdev statistics and, for mdlpool, both pools' statistics.
backend=${1:-mdlpool}
mb=${2:-16}
set -e
modprobe virtio_net
insmod "${MDLPOOL_MODDIR:-/lib/modules/mdlpool}/mdlnic.ko" backend="$backend"
sleep 1
eif=$(grep -l '^52:54:00:12:34:56$' /sys/class/net/*/address | cut -d/ -f5)
vif=$(grep -l '^52:54:00:12:34:57$' /sys/class/net/*/address | cut -d/ -f5)
unshare -n sleep 100000 &
ns=$!
sleep 1
/sbin/ip link set "$vif" netns "$ns"
nsenter -t "$ns" -n /sbin/ip addr add 10.77.0.2/24 dev "$vif"
nsenter -t "$ns" -n /sbin/ip link set "$vif" up
/sbin/ip addr add 10.77.0.1/24 dev "$eif"
/sbin/ip link set "$eif" up
sleep 2
ping -c 1 -W 5 10.77.0.2 > /dev/null
mkdir -p /tmp/www
head -c $((mb << 20)) /dev/urandom > /tmp/www/data
want=$(sha256sum < /tmp/www/data)
httpd -p 0.0.0.0:80 -h /tmp/www
nsenter -t "$ns" -n httpd -p 0.0.0.0:80 -h /tmp/www
echo "== $eif (mdlnic, buffers from $backend): $mb MiB received, then $mb MiB sent, over TCP"
wget -q -O /tmp/in http://10.77.0.2/data
nsenter -t "$ns" -n wget -q -O /tmp/out http://10.77.0.1/data
for f in /tmp/in /tmp/out; do
	if [ "$(sha256sum < $f)" = "$want" ]; then
		echo "$f: sha256 matches"
	else
		echo "$f: sha256 DIFFERS"
		exit 1
	fi
done
echo "== netdev statistics (/sys/class/net/$eif/statistics)"
/sbin/ip -s link show "$eif"
for pool in /sys/kernel/debug/mdlpool/mdlnic-*; do
	[ -e "$pool/stats" ] || continue
	echo "== ${pool##*/} ($pool/stats)"
	head -n 1 "$pool/stats"
	awk -f "$(dirname "$0")/stats-table.awk" "$pool/stats"
done
/sbin/ip link set "$eif" down
rmmod mdlnic
kill "$ns"
echo "== after rmmod: $(cat /sys/kernel/debug/mdlpool/summary)"
