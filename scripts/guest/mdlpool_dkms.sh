#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The library as DKMS built, signed and installed it on the host from the
# Debian package (scripts/deb-roundtrip, which hands the modules over in
# $ADD_DIR) loads in place of the tree's build and serves the tree's test and
# NT client modules: a check of what the host built, not a kselftest of the
# kernel, so it is kept out of the selftests/ collection. scripts/run-tests
# hands it to its guests (vm-run --add) with the modules and runs it after
# mdlpool_module.sh; it leaves the tree's modules loaded again.
. /selftests/mdlpool/lib.sh

moddir=${MDLPOOL_MODDIR:-/lib/modules/mdlpool}
dkms=${ADD_DIR:-/add}
require_modules
if [ ! -f "$dkms/dkms-mdlpool.ko" ]; then
	ktap_skip_script "the DKMS-built library" \
		"no DKMS build handed over: DKMS builds for installed kernels, and this one is not"
fi
ver=$(cat "$dkms/dkms-version")
ktap_print_header
ktap_set_plan 11

unload_all() {
	for m in mdlpool_ntclient nt_compat mdlpool_example mdlpool_test mdlpool; do
		if grep -q "^$m " /proc/modules; then
			rmmod "$m" || return 1
		fi
	done
}

# The tree's build is not signed; DKMS signs what it installs.
both_signed() {
	for m in mdlpool nt_compat; do
		tail -c 28 "$dkms/dkms-$m.ko" | grep -q '~Module signature appended~' ||
			return 1
	done
}

ktap_test_result "the files handed over are signed modules (the tree's build is not)" \
	both_signed
ktap_test_result "the tree's modules unload" unload_all
ktap_test_result "the DKMS-built mdlpool loads" insmod "$dkms/dkms-mdlpool.ko"
ktap_test_result "... and says it is version $ver" \
	sh -c "[ \"\$(cat /sys/module/mdlpool/version)\" = '$ver' ]"
ktap_test_result "the DKMS-built nt_compat loads on it" insmod "$dkms/dkms-nt_compat.ko"
ktap_test_result "the tree's test module links against the DKMS-built library" \
	insmod "$moddir/mdlpool_test.ko"
ktap_test_result "a 1500-byte pool on it stresses every CPU without a mismatch" \
	sh -c "printf 'create dkms 1500\n' > $CTL &&
	       printf 'stress dkms ops=4000\n' > $CTL &&
	       grep -q '^stress dkms .* mismatches=0 ' $CTL"
ktap_test_result "... and is destroyed with no page left" \
	sh -c "printf 'destroy dkms\n' > $CTL && grep -q 'pools=0 pages_held=0 ' $DBG/summary"
ktap_test_result "the NT-style client loads and unloads on the DKMS-built nt_compat" \
	sh -c "insmod $moddir/mdlpool_ntclient.ko && rmmod mdlpool_ntclient"
ktap_test_result "the DKMS-built modules unload" unload_all
ktap_test_result "the tree's modules load again" \
	sh -c "insmod $moddir/mdlpool.ko && insmod $moddir/mdlpool_test.ko"

ktap_finished
