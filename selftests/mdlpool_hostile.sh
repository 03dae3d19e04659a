#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Hostile input on the control file: random bytes, overlong lines, numeric
# overflow, unknown pools, wrong arity, names with '/', and two writers
# creating and destroying one name at once.  Every bad write must fail with
# an errno, warn about nothing, and leave the pools as they were.
. "$(dirname "$0")/lib.sh"

require_modules
ktap_print_header
ktap_set_plan 9

ctl_ok create keep 64
ctl_ok alloc keep 5 cpu=0
before=$(snapshot keep)
warns0=$(dmesg | grep -c 'WARNING:')
errnos="Invalid argument|No such file or directory|File exists|Device or resource busy|Cannot allocate memory"

total=0
# hostile COMMAND: one write that must fail with one of our errnos
hostile() {
	total=$((total + 1))
	ctl "$1" && { ktap_print_msg "accepted: $1"; return 1; }
	echo "$ctl_err" | grep -Eq "$errnos" && return 0
	ktap_print_msg "'$1' failed with '$ctl_err'"
	return 1
}

# class_tests NAME GENERATOR: feeds every line the generator prints to hostile
class_tests() {
	bad=0
	n0=$total
	while IFS= read -r line; do
		hostile "$line" || bad=$((bad + 1))
	done <<EOF2
$($2)
EOF2
	ktap_test_result "$1: $((total - n0)) writes, each refused with an errno" [ $bad -eq 0 ]
}

gen_overflow() {
	for v in 4294967296 4294967297 18446744073709551615 18446744073709551616 \
		 99999999999999999999999 0x100000000 0xffffffffffffffffff -1 -4294967295 \
		 1e9 0x 0b101 08 " " +-1 1.5 12abc; do
		echo "create ovf $v"
		echo "alloc keep $v"
		echo "free keep $v"
		echo "alloc keep 1 cpu=$v"
		echo "alloc keep 1 len=$v"
		echo "stress keep ops=$v"
		echo "stress keep threads=$v"
		echo "stress keep remote=$v"
		echo "stress keep hold=$v"
		echo "stress keep secs=$v"
	done
}

gen_unknown() {
	for i in $(seq 1 12); do
		echo "destroy ghost$i"
		echo "alloc ghost$i 1"
		echo "free ghost$i all"
		echo "scavenge ghost$i"
		echo "stress ghost$i ops=1"
	done
	for w in CREATE Create alloc_ x free, "" ''; do
		echo "$w keep 1"
	done
}

gen_arity() {
	for c in create destroy alloc free scavenge badfree corrupt stress; do
		echo "$c"
	done
	for c in create alloc free badfree corrupt; do
		echo "$c keep"
	done
	echo "create a 1 TAG extra"
	echo "destroy keep keep"
	echo "scavenge keep keep"
	echo "badfree keep double extra"
	echo "corrupt keep uaf extra"
	echo "alloc keep 1 2"
	echo "free keep 1 2"
	echo "stress keep 1"
	echo "stress keep ops"
	echo "stress keep =1"
	echo "stress keep ops="
	echo "a b c d e f g h i j k"
	echo "create x 64 a b c d e f g h"
}

gen_slash() {
	for n in a/b /a a/ / // ./x ../x x/.. . .. a/b/c; do
		echo "create $n 64"
		echo "destroy $n"
		echo "alloc $n 1"
	done
}

gen_overlong() {
	for len in 257 300 512 1000 4095 4096 5000 16384; do
		echo "create $(printf '%0*d' $len 0) 64"
		echo "alloc keep $(printf '%0*d' $len 1)"
	done
	for len in 32 33 40 64 100 200; do
		echo "create $(printf '%*s' $len '' | tr ' ' n) 64"
	done
}

class_tests "numeric overflow and junk numbers" gen_overflow
class_tests "unknown pools and commands" gen_unknown
class_tests "wrong arity" gen_arity
class_tests "names with / and dot names" gen_slash
class_tests "overlong lines and names" gen_overlong

# Random bytes, each write a fresh length up to 400.
bad=0
for i in $(seq 1 200); do
	len=$(( $(od -An -N2 -tu2 /dev/urandom) % 400 + 1 ))
	dd if=/dev/urandom of=/tmp/junk bs=$len count=1 2>/dev/null
	total=$((total + 1))
	if err=$( { cat /tmp/junk > "$CTL"; } 2>&1 ); then
		ktap_print_msg "random bytes accepted (length $len)"
		bad=$((bad + 1))
	elif ! echo "$err" | grep -Eq "$errnos"; then
		ktap_print_msg "random bytes failed with '$err'"
		bad=$((bad + 1))
	fi
done
ktap_test_result "random bytes: 200 writes, each refused with an errno" [ $bad -eq 0 ]

# Two writers racing to create and destroy one name: each write either
# succeeds or fails with EEXIST/ENOENT, and the name ends consistent.
racer() {
	for i in $(seq 1 100); do
		for cmd in "create racer 64" "destroy racer"; do
			err=$( { echo "$cmd" > "$CTL"; } 2>&1 ) && continue
			case "$err" in
			*"File exists"* | *"No such file"*) ;;
			*) echo "$cmd: $err" ;;
			esac
		done
	done > "/tmp/racer.$1"
}
racer 1 &
racer 2 &
wait
total=$((total + 400))
ctl destroy racer
ktap_test_result "concurrent create/destroy of one name: 400 writes, only EEXIST/ENOENT" \
	sh -c "[ ! -s /tmp/racer.1 ] && [ ! -s /tmp/racer.2 ] && [ ! -e $DBG/racer ]"

ktap_print_msg "$total hostile writes in all"
after=$(snapshot keep)
ktap_test_result "the pools, buffers and counters are as they were" [ "$before" = "$after" ]
ktap_test_result "and the kernel logged no warning" \
	sh -c "[ $(dmesg | grep -c 'WARNING:') -eq $warns0 ] && [ $total -ge 500 ]"
ctl_ok free keep all
ctl_ok destroy keep

ktap_finished
