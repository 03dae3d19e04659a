#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs every program in TEST_PROGS the way kselftest's runner does, as one
# KTAP stream: each test's own KTAP output nested two spaces deep, then a
# result line for the test.  For guests with only busybox.  With
# arguments, only those tests of TEST_PROGS, in that order.
cd "$(dirname "$0")" || exit 1
progs=$(sed -n 's/^TEST_PROGS[[:space:]]*:=[[:space:]]*//p' Makefile)
limit=$(sed -n 's/^timeout=//p' settings)
for prog in "$@"; do
	case " $progs " in
	*" $prog "*) ;;
	*) echo "run_all.sh: $prog is not in TEST_PROGS" >&2; exit 1 ;;
	esac
done
[ $# -gt 0 ] || set -- $progs

echo "TAP version 13"
echo "1..$#"
n=0
failed=0
for prog in "$@"; do
	n=$((n + 1))
	echo "# selftests: mdlpool: $prog"
	{ timeout "${limit:-600}" "./$prog" 2>&1; echo $? > /tmp/rc.$$; } |
		sed 's/^/  /'
	rc=$(cat /tmp/rc.$$)
	case $rc in
	0) echo "ok $n selftests: mdlpool: $prog" ;;
	4) echo "ok $n selftests: mdlpool: $prog # SKIP" ;;
	*) echo "not ok $n selftests: mdlpool: $prog # exit=$rc"
	   failed=$((failed + 1)) ;;
	esac
done
rm -f /tmp/rc.$$
[ $failed -eq 0 ]
