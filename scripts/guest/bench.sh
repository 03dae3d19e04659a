#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The benchmark, inside the guest: every contender, every scenario, the
# buffer sizes, then the table.  Arguments: ops per run, runs.
BENCH=/sys/kernel/debug/mdlpool_bench
set -e
echo "kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) vCPUs, command line: $(cat /proc/cmdline)"
insmod "${MDLPOOL_MODDIR:-/lib/modules/mdlpool}/mdlpool_bench.ko"
echo "run ops=${1:-20000} reps=${2:-7}" > "$BENCH/control"
cat "$BENCH/results"
rmmod mdlpool_bench
