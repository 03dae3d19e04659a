#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The main job, inside the guest: one pool, a stress on every CPU with half
# the frees made by another CPU, then the pool's statistics as a table.
DBG=/sys/kernel/debug/mdlpool
CTL=$DBG/control
size=${1:-1500}
ops=${2:-50000}

set -e
echo "create demo $size Demo" > "$CTL"
echo "== pool"
head -n 1 "$DBG/demo/stats"
echo "== stress: 2 threads per CPU, $ops operations each, 50% remote frees"
echo "stress demo threads=2 ops=$ops remote=50 hold=32" > "$CTL"
grep '^stress demo ' "$CTL"
echo "== statistics (/sys/kernel/debug/mdlpool/demo/stats)"
# One row per CPU and a total; one column per counter.
awk 'NR > 1 {
	row[NR] = $1
	for (i = 2; i <= NF; i++) {
		split($i, kv, "=")
		if (NR == 2) key[i] = kv[1]
		val[NR, i] = kv[2]
	}
	n = NF; last = NR
}
END {
	printf "%-20s", "counter"
	for (r = 2; r <= last; r++) printf " %10s", row[r]
	printf "\n"
	for (i = 2; i <= n; i++) {
		printf "%-20s", key[i]
		for (r = 2; r <= last; r++) printf " %10s", val[r, i]
		printf "\n"
	}
}' "$DBG/demo/stats"
mismatches=$(sed -n 's/^stress demo .* mismatches=\([0-9]*\) .*/\1/p' "$CTL")
echo "destroy demo" > "$CTL"
echo "== after destroy: $(cat "$DBG/summary")"
[ "$mismatches" = 0 ]
