# shellcheck shell=bash
# Which installed Debian kernel is which. Sourced by the other scripts, never
# run. Debian's PREEMPT_RT kernel ("6.1.0-N-rt-amd64") sorts after the stock
# one ("6.1.0-N-amd64") by version, so "the newest kernel" would silently
# become the RT one once linux-image-rt-amd64 is installed. Every default
# therefore picks a flavour explicitly.

# newest_kernel_version stock|rt: the newest installed version of that
# flavour that has both an image in /boot and a build directory, or nothing.
newest_kernel_version() {
    local flavour=$1 img ver i
    local -a imgs
    if [[ $flavour == rt ]]; then
        mapfile -t imgs < <(find /boot -maxdepth 1 -name 'vmlinuz-*-rt-amd64' | sort -V)
    else
        mapfile -t imgs < <(find /boot -maxdepth 1 -name 'vmlinuz-*-amd64' ! -name 'vmlinuz-*-rt-amd64' | sort -V)
    fi
    for ((i = ${#imgs[@]} - 1; i >= 0; i--)); do
        img=${imgs[i]}
        ver=${img#/boot/vmlinuz-}
        if [[ -d /lib/modules/$ver/build ]]; then
            echo "$ver"
            return 0
        fi
    done
    return 0
}

# newest_kernel_image stock|rt: like the above, but the image alone counts
# (vm-run boots it; building against it is someone else's business).
newest_kernel_image() {
    if [[ $1 == rt ]]; then
        find /boot -maxdepth 1 -name 'vmlinuz-*-rt-amd64' | sort -V | tail -n 1
    else
        find /boot -maxdepth 1 -name 'vmlinuz-*-amd64' ! -name 'vmlinuz-*-rt-amd64' | sort -V | tail -n 1
    fi
}

# default_build_dir: the build directory `make` uses without KDIR=: the
# newest stock kernel's, or nothing. The Makefile asks this function, so
# the default lives here only.
default_build_dir() {
    local d
    d=$(find /lib/modules -mindepth 2 -maxdepth 2 -name build 2>/dev/null |
        grep -v -- '-rt-' | sort -V | tail -n 1)
    [[ -z $d ]] || echo "$d"
}
