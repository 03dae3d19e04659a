# SPDX-License-Identifier: GPL-2.0
# A pool's stats file (/sys/kernel/debug/mdlpool/POOL/stats) as a table:
# one column per CPU and the total, one row per counter.
NR > 1 {
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
}
