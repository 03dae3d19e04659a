#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The benchmark, inside the guest: every contender, every scenario, the
# four buffer sizes, then the table.  Arguments: ops per run, runs.
CTL=/sys/kernel/debug/mdlpool/control
set -e
echo "kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) vCPUs, command line: $(cat /proc/cmdline)"
echo "bench ops=${1:-20000} reps=${2:-7}" > "$CTL"
cat /sys/kernel/debug/mdlpool/bench
