# shellcheck shell=bash
# Which installed Debian kernel is which. Sourced by the other scripts, never
# run. Debian's PREEMPT_RT kernel ("6.1.0-N-rt-amd64") sorts after the stock
# one ("6.1.0-N-amd64") by version, and 6.12 from bookworm-backports
# ("6.12.N+deb12-amd64") after both 6.1 ones, so "the newest kernel" would
# silently change with every package installed. Every default therefore names
# a flavour, and the test tiers also name a series.

# kernel_images stock|rt [SERIES]: installed images of that flavour, oldest
# first; SERIES ("6.1", "6.12") keeps only versions of that series.
kernel_images() {
    local flavour=$1 series=${2:-}
    if [[ $flavour == rt ]]; then
        find /boot -maxdepth 1 -name "vmlinuz-${series:+$series.}*-rt-amd64"
    else
        find /boot -maxdepth 1 -name "vmlinuz-${series:+$series.}*-amd64" ! -name 'vmlinuz-*-rt-amd64'
    fi | sort -V
}

# newest_kernel_version stock|rt [SERIES]: the newest installed version of
# that flavour (and series) that has both an image in /boot and a build
# directory, or nothing.
newest_kernel_version() {
    local img ver i
    local -a imgs
    mapfile -t imgs < <(kernel_images "$@")
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

# newest_kernel_image stock|rt [SERIES]: like the above, but the image alone
# counts (vm-run boots it; building against it is someone else's business).
newest_kernel_image() {
    kernel_images "$@" | tail -n 1
}

# default_build_dir: the build directory `make` uses without KDIR=: the
# running kernel's if it has one, else the newest stock kernel's, else
# nothing. The Makefile asks this function, so the default lives here only.
default_build_dir() {
    local ver
    if [[ -d /lib/modules/$(uname -r)/build ]]; then
        echo "/lib/modules/$(uname -r)/build"
        return 0
    fi
    ver=$(newest_kernel_version stock)
    [[ -z $ver ]] || echo "/lib/modules/$ver/build"
}
