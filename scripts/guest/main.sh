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
awk -f "$(dirname "$0")/stats-table.awk" "$DBG/demo/stats"
mismatches=$(sed -n 's/^stress demo .* mismatches=\([0-9]*\) .*/\1/p' "$CTL")
echo "destroy demo" > "$CTL"
echo "== after destroy: $(cat "$DBG/summary")"
[ "$mismatches" = 0 ]
