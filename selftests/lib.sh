# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the mdlpool selftests: KTAP output, the debugfs
# control file and the statistics files.  Sourced, never run.

DBG=/sys/kernel/debug/mdlpool
CTL=$DBG/control
PARAMS=/sys/module/mdlpool/parameters

# KTAP output: the kernel's kselftest/ktap_helpers.sh (ktap_print_header,
# ktap_set_plan, ktap_test_*, ktap_print_msg, ktap_skip_all, ktap_finished),
# from the kselftest install this directory is part of; scripts outside it
# (vm-run's /add) use the guest's /selftests.
ktap_helpers=$(dirname "$0")/../kselftest/ktap_helpers.sh
[ -r "$ktap_helpers" ] || ktap_helpers=/selftests/kselftest/ktap_helpers.sh
# shellcheck source=/dev/null
. "$ktap_helpers"

# Two of ktap_helpers.sh's functions as 6.12 has them do not fit these
# scripts, so they are redefined with the same names and results:
# ktap_test_result runs its command as $@ unquoted, which splits the
# `sh -c "..."` commands the tests give it; ktap_test_skip drops the reason
# that tells why a test could not run here.

# ktap_test_result DESCRIPTION COMMAND...: one result, from the command's
# status
ktap_test_result() {
	description=$1
	shift
	if "$@"; then
		ktap_test_pass "$description"
	else
		ktap_test_fail "$description"
	fi
}

# ktap_test_skip DESCRIPTION [REASON]
ktap_test_skip() {
	__ktap_test "ok" "$1" "SKIP${2:+ $2}"
	KTAP_CNT_SKIP=$((KTAP_CNT_SKIP + 1))
}

# ktap_skip_script DESCRIPTION REASON: the script cannot run here; a plan of
# no test says why, and the runner counts the script as skipped.
ktap_skip_script() {
	ktap_print_header
	ktap_skip_all "$1: $2"
	exit "$KSFT_SKIP"
}

# ctl COMMAND...: one write to the control file; the error text lands in
# $ctl_err (empty on success).
ctl() {
	ctl_err=$( { echo "$*" > "$CTL"; } 2>&1 )
}

# ctl_ok COMMAND...: the write must succeed.
ctl_ok() {
	ctl "$@" && return 0
	ktap_print_msg "'$*' failed: $ctl_err"
	return 1
}

# ctl_fails ERRTEXT COMMAND...: the write must fail with that strerror text.
ctl_fails() {
	want=$1
	shift
	if ctl "$@"; then
		ktap_print_msg "'$*' succeeded, expected: $want"
		return 1
	fi
	case "$ctl_err" in
	*"$want"*) return 0 ;;
	esac
	ktap_print_msg "'$*' failed with '$ctl_err', expected: $want"
	return 1
}

# drop_pools POOL...: give back what the test module holds of each POOL and
# destroy it, whatever state a failed test left it in (for EXIT traps).
drop_pools() {
	for p in "$@"; do
		printf 'free %s all\n' "$p" > "$CTL" 2>/dev/null
		printf 'destroy %s\n' "$p" > "$CTL" 2>/dev/null
	done
	return 0
}

# pool_stat POOL KEY [ROW]: a value from POOL's stats file; ROW is "total"
# (default), "cpu=N" or "pool".
pool_stat() {
	awk -v row="${3:-total}" -v key="$2" '
		$1 == row {
			for (i = 2; i <= NF; i++) {
				split($i, kv, "=")
				if (kv[1] == key) print kv[2]
			}
		}' "$DBG/$1/stats"
}

# expect_stat POOL KEY VALUE [ROW]
expect_stat() {
	got=$(pool_stat "$1" "$2" "$4")
	[ "$got" = "$3" ] && return 0
	ktap_print_msg "$1 ${4:-total} $2=$got, expected $3"
	return 1
}

# summary KEY: a value from the library-wide summary file
summary() {
	tr ' ' '\n' < "$DBG/summary" | sed -n "s/^$1=//p"
}

# stats_match_getstats POOL: the test module's "getstats POOL" line (what
# mdlpool_get_stats() returned) has the keys of the stats file's total line,
# in its order, with the same values.  For a pool nothing uses meanwhile.
stats_match_getstats() {
	want=$(sed -n 's/^total //p' "$DBG/$1/stats")
	got=$(sed -n "s/^getstats $1 //p" "$CTL")
	[ -n "$want" ] && [ "$got" = "$want" ] && return 0
	ktap_print_msg "stats total: $want"
	ktap_print_msg "getstats:    $got"
	return 1
}

# held POOL KEY: a value from this pool's line in the control file
held() {
	awk -v pool="$1" -v key="$2" '
		$1 == "pool" && $2 == pool {
			for (i = 3; i <= NF; i++) {
				split($i, kv, "=")
				if (kv[1] == key) print kv[2]
			}
		}' "$CTL"
}

# stress_field POOL KEY: a value from the last stress result of POOL
stress_field() {
	awk -v pool="$1" -v key="$2" '
		$1 == "stress" && $2 == pool {
			for (i = 3; i <= NF; i++) {
				split($i, kv, "=")
				if (kv[1] == key) print kv[2]
			}
		}' "$CTL"
}

# snapshot POOL: everything a command could change about POOL and the
# library, less the scavenge count that idle reclaim moves on its own
snapshot() {
	cat "$DBG/$1/stats" "$CTL" "$DBG/summary" | sed 's/ scavenges=[0-9]*//'
}

set_param() {
	echo "$2" > "$PARAMS/$1"
}

# Saves the tunables and restores them when the test exits.
save_params() {
	saved_period=$(cat "$PARAMS/scavenge_period_ms")
	saved_lifetime=$(cat "$PARAMS/min_page_lifetime_ms")
	saved_threshold=$(cat "$PARAMS/used_pages_threshold")
	saved_fail_percent=$(cat "$PARAMS/fail_page_percent")
	saved_fail_order=$(cat "$PARAMS/fail_page_min_order")
	trap restore_params EXIT
}

restore_params() {
	set_param scavenge_period_ms "$saved_period"
	set_param min_page_lifetime_ms "$saved_lifetime"
	set_param used_pages_threshold "$saved_threshold"
	set_param fail_page_percent "$saved_fail_percent"
	set_param fail_page_min_order "$saved_fail_order"
}

# The host's log scanner lets WARNINGs from [mdlpool] through only between
# these two lines; everything else in the kernel log still fails the run.
expect_warnings_begin() {
	echo "mdlpool-selftest: expect-warn begin" > /dev/kmsg
}

expect_warnings_end() {
	echo "mdlpool-selftest: expect-warn end" > /dev/kmsg
}

# Between these two lines a test injects slab allocation failures; the
# host's scanner then lets kmemleak's note that it could not record a scan
# area through (scripts/kernel-reports.awk).
failslab_begin() {
	echo "mdlpool-selftest: failslab begin" > /dev/kmsg
}

failslab_end() {
	echo "mdlpool-selftest: failslab end" > /dev/kmsg
}

require_modules() {
	if [ ! -w "$CTL" ]; then
		ktap_skip_script "mdlpool" "mdlpool and mdlpool_test are not loaded"
	fi
}

online_cpus() {
	grep -c '^processor' /proc/cpuinfo
}

# kernel_at_least MAJOR MINOR: the running kernel is MAJOR.MINOR or newer.
kernel_at_least() {
	set -- "$1" "$2" "$(uname -r)"
	major=${3%%.*}
	minor=${3#*.}
	minor=${minor%%[!0-9]*}
	[ "$major" -gt "$1" ] || { [ "$major" -eq "$1" ] && [ "$minor" -ge "$2" ]; }
}

# pktgen_idle: no device left on pktgen's thread of CPU 0.  pktgen acts
# on "rem_device_all" in its own thread, whenever that thread next looks
# (every 100 ms when idle), and handles a pending "start" before it: a
# removal still pending when the next run starts stops that run and
# removes its device ("WARNING: trying to remove a running interface"), as
# seen on the debug tiers.  So the removal is asked for only when there is
# a device to remove, and waited for: the thread's list empty, and 0.1 s
# for the thread to clear its request right after emptying it.  30 s at
# most.
pktgen_idle() {
	t=/proc/net/pktgen/kpktgend_0
	grep -Eq '^(Running|Stopped): [^ ]' $t || return 0
	echo rem_device_all > $t
	i=0
	while grep -Eq '^(Running|Stopped): [^ ]' $t; do
		i=$((i + 1))
		[ $i -le 300 ] || return 1
		sleep 0.1
	done
	sleep 0.1
}

# pktgen_run_over DEV: DEV's last run has ended.  Every setting written
# to a device leaves "OK: <setting>" as its result too, so only the
# result of a finished run, "OK: <usec>(c<usec>+d<usec>) usec, ...", says
# the run is over.
pktgen_run_over() {
	grep -Eq '^Result: OK: [0-9]+\(c[0-9]+\+d[0-9]+\) usec' "/proc/net/pktgen/$1"
}

# pktgen_send DEV DST_IP DST_MAC SIZE COUNT [FLAG]: COUNT frames of SIZE
# bytes from DEV, in the caller's network namespace, on pktgen's thread of
# CPU 0, with pktgen's FLAG if given (UDPCSUM, say); prints "USEC SENT":
# how long pktgen's run took and how many frames it sent.  pktgen's
# "start" returns early when its thread has not picked the run up within
# 125 ms, which a TCG guest can take: so the run is waited for until
# pktgen_run_over.  A run not over in 60 s is stopped (and prints no time)
# before its device is removed.
pktgen_send() {
	pg=/proc/net/pktgen
	pktgen_idle || return 1
	echo "add_device $1" > $pg/kpktgend_0
	for c in "count $5" "pkt_size $4" "clone_skb 0" "delay 0" "dst $2" \
		 "dst_mac $3" "udp_dst_min 9" "udp_dst_max 9" ${6:+"flag $6"}; do
		echo "$c" > "$pg/$1"
	done
	echo start > $pg/pgctrl
	i=0
	while ! pktgen_run_over "$1"; do
		i=$((i + 1))
		if [ $i -gt 600 ]; then
			echo stop > $pg/pgctrl
			break
		fi
		sleep 0.1
	done
	sed -n 's/^Result: OK: \([0-9]*\)(.*/\1/p' "$pg/$1" | tr '\n' ' '
	sed -n 's/.*pkts-sofar: \([0-9]*\).*/\1/p' "$pg/$1"
	pktgen_idle
}
