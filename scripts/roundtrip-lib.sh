# shellcheck shell=bash
# What scripts/deb-roundtrip and scripts/dkms-roundtrip share: KTAP results,
# and the checks of a library DKMS built and installed for one kernel.
# Sourced from the tree's top directory, with $ver (dkms.conf's version) and
# $src (/usr/src/mdlpool-$ver) set.
: "${ver:?}" "${src:?}"

n=0 failed=0
# result DESCRIPTION COMMAND...: one KTAP line for COMMAND, and its output's
# last lines as comments when it fails.
result() {
	local desc=$1 log
	shift
	n=$((n + 1))
	if log=$("$@" 2>&1); then
		echo "ok $n $desc"
	else
		echo "not ok $n $desc"
		sed 's/^/# /' <<<"$log" | tail -n 20
		failed=$((failed + 1))
	fi
}

# skip_all WHAT REASON: a plan of one skipped result, and the end.
skip_all() {
	echo "1..1"
	echo "ok 1 $1 # SKIP $2"
	exit 0
}

# modprobe resolves both to DKMS's copies for RELEASE, of dkms.conf's version.
installed_right() {
	local rel=$1 m f files=()
	for m in mdlpool nt_compat; do
		f=$(modinfo -k "$rel" -F filename "$m") || return 1
		[[ $f == "/lib/modules/$rel/updates/dkms/$m.ko"* ]] || { echo "$m resolves to $f"; return 1; }
		files+=("$f")
	done
	scripts/check-version "${files[@]}"
}

# DKMS signs with its machine owner key, made on first use.
signed_by_mok() {
	local rel=$1 m signer subject
	subject=$(openssl x509 -inform DER -in /var/lib/dkms/mok.pub -noout -subject) || return 1
	for m in mdlpool nt_compat; do
		signer=$(modinfo -F signer "/lib/modules/$rel/updates/dkms/$m.ko"*)
		[[ -n $signer && $subject == *"CN = $signer"* ]] ||
			{ echo "$m: signer '$signer', MOK '$subject'"; return 1; }
	done
}

# What DKMS linked for RELEASE, from its build log (it keeps only
# BUILT_MODULE_NAME's modules).
only_library_built() {
	local log got
	log=/var/lib/dkms/mdlpool/$ver/$1/$(uname -m)/log/make.log
	got=$(sed -n 's|.*LD \[M\] *.*/\([^/]*\)\.ko$|\1|p' "$log" | sort | paste -sd' ')
	[[ $got == "mdlpool nt_compat" ]] || { echo "linked: '$got'"; return 1; }
}

# DKMS's POST_BUILD step (scripts/dkms-symvers) kept RELEASE's symbols.
symvers_kept() {
	local f=$src/$1/Module.symvers
	if ! grep -q '[[:space:]]mdlpool_create[[:space:]]' "$f" ||
	   ! grep -q '[[:space:]]nt_status_to_errno[[:space:]]' "$f"; then
		echo "$f: missing, or without the library's exports"
		return 1
	fi
}

# example_builds RELEASE HEADERS SYMVERS: examples/mdlpool_example.c built
# alone against an installed library, as README.md's "Building a module
# against mdlpool" says. modpost only warns of an undefined symbol, so its
# output is read too.
example_builds() {
	local rel=$1 dir log
	dir=$(mktemp -d) || return 1
	cp examples/mdlpool_example.c "$dir/" &&
		printf 'obj-m += mdlpool_example.o\nccflags-y += -I%s\n' "$2" >"$dir/Kbuild" &&
		log=$(make -C "/lib/modules/$rel/build" M="$dir" KBUILD_EXTRA_SYMBOLS="$3" modules 2>&1) &&
		! grep -i 'undefined' <<<"$log" && [[ -f $dir/mdlpool_example.ko ]]
	local rc=$?
	((rc == 0)) || tail -n 20 <<<"$log"
	rm -rf "$dir"
	return $rc
}
