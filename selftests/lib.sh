# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the mdlpool selftests: KTAP output, the debugfs
# control file and the statistics files.  Sourced, never run.

DBG=/sys/kernel/debug/mdlpool
CTL=$DBG/control
PARAMS=/sys/module/mdlpool/parameters

KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

ktap_count=0
ktap_failed=0

ktap_plan() {
	echo "TAP version 13"
	echo "1..$1"
}

ktap_result() {	# ktap_result 0|1 description
	ktap_count=$((ktap_count + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $ktap_count $2"
	else
		echo "not ok $ktap_count $2"
		ktap_failed=$((ktap_failed + 1))
	fi
}

ktap_skip() {
	ktap_count=$((ktap_count + 1))
	echo "ok $ktap_count $1 # SKIP $2"
}

# check DESCRIPTION COMMAND...: one result, from the command's status
check() {
	desc=$1
	shift
	if "$@"; then
		ktap_result 0 "$desc"
	else
		ktap_result 1 "$desc"
	fi
}

ktap_finish() {
	echo "# $ktap_count tests, $ktap_failed failed"
	[ "$ktap_failed" -eq 0 ] && exit $KSFT_PASS
	exit $KSFT_FAIL
}

diag() {
	echo "# $*"
}

# ctl COMMAND...: one write to the control file; the error text lands in
# $ctl_err (empty on success).
ctl() {
	ctl_err=$( { echo "$*" > "$CTL"; } 2>&1 )
}

# ctl_ok COMMAND...: the write must succeed.
ctl_ok() {
	ctl "$@" && return 0
	diag "'$*' failed: $ctl_err"
	return 1
}

# ctl_fails ERRTEXT COMMAND...: the write must fail with that strerror text.
ctl_fails() {
	want=$1
	shift
	if ctl "$@"; then
		diag "'$*' succeeded, expected: $want"
		return 1
	fi
	case "$ctl_err" in
	*"$want"*) return 0 ;;
	esac
	diag "'$*' failed with '$ctl_err', expected: $want"
	return 1
}

# stat POOL KEY [ROW]: a value from POOL's stats file; ROW is "total"
# (default), "cpu=N" or "pool".
stat() {
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
	got=$(stat "$1" "$2" "$4")
	[ "$got" = "$3" ] && return 0
	diag "$1 ${4:-total} $2=$got, expected $3"
	return 1
}

# summary KEY: a value from the library-wide summary file
summary() {
	tr ' ' '\n' < "$DBG/summary" | sed -n "s/^$1=//p"
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
	trap restore_params EXIT
}

restore_params() {
	set_param scavenge_period_ms "$saved_period"
	set_param min_page_lifetime_ms "$saved_lifetime"
	set_param used_pages_threshold "$saved_threshold"
}

# The host's log scanner lets WARNINGs from [mdlpool] through only between
# these two lines; everything else in the kernel log still fails the run.
expect_warnings_begin() {
	echo "mdlpool-selftest: expect-warn begin" > /dev/kmsg
}

expect_warnings_end() {
	echo "mdlpool-selftest: expect-warn end" > /dev/kmsg
}

require_modules() {
	if [ ! -w "$CTL" ]; then
		ktap_plan 1
		ktap_skip "mdlpool" "mdlpool and mdlpool_test are not loaded"
		exit $KSFT_SKIP
	fi
}

online_cpus() {
	grep -c '^processor' /proc/cpuinfo
}
