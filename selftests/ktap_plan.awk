# SPDX-License-Identifier: GPL-2.0
# The KTAP plan of a selftest script, read off its text: one test per
# result line (ktap_test_result, _pass, _fail, _skip at the start of a line).
# A result line inside a function NAME_tests() counts once per line that
# calls NAME_tests; a result line right under a "# ktap: alternative" line
# is the other branch of a test counted already, and does not count.
function is_result(l) { return l ~ /^[ \t]*ktap_test_(result|pass|fail|skip)[ \t]/ }
/^[a-z_]+_tests\(\) *\{/ { fn = $1; sub(/\(\).*/, "", fn); infn = 1; next }
infn && /^\}/ { infn = 0; next }
is_result($0) {
	if (!alt) {
		if (infn)
			inner[fn]++
		else
			n++
	}
	alt = 0
	next
}
{ alt = $0 ~ /^[ \t]*# ktap: alternative$/ }
!infn && match($0, /^[ \t]*[a-z_]+_tests([ \t]|$)/) {
	name = substr($0, RSTART, RLENGTH); gsub(/[ \t]/, "", name); calls[name]++
}
END { for (f in calls) n += calls[f] * inner[f]; print n + 0 }
