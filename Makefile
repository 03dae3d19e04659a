# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree build of mdlpool.ko, nt_compat.ko, the test modules in test/ and the NT-style example
# client examples/mdlpool_ntclient.ko.
#   make                 build against KDIR (default: the running kernel's build
#                        directory, else the newest stock Debian kernel's)
#   make run             the main job: boot a guest, stress a pool, print stats
#   make test            the whole test suite in QEMU guests
#   make bench           the benchmark against SLUB, mempool and page_pool
#   make bench-nic       the NIC benchmark: mdlnic's back ends under pktgen traffic
#   make checkpatch      checkpatch.pl --strict on the project's C files
#   make nt-compat-check nt_compat.h's compile-time refusals and its documented names
#   make install         build the library (mdlpool.ko, nt_compat.ko) for KDIR, install
#                        it in /lib/modules/<release>/extra, and its sources, headers and
#                        Module.symvers under /usr/src/mdlpool-<version> (see README.md)
#   make install-src     only the sources and headers, for DKMS
#   make uninstall       remove what `make install` put there for KDIR's kernel
# DESTDIR puts the installed tree under another root.

# The default kernel is chosen in scripts/kernels.sh, for the scripts too.
TOP := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
KDIR ?= $(shell bash -c '. $(TOP)/scripts/kernels.sh && default_build_dir')
PWD := $(CURDIR)
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' $(TOP)/dkms.conf)
SRCDIR := $(DESTDIR)/usr/src/mdlpool-$(VERSION)
# What a dependent module needs, and what DKMS builds from.
LIB_SRC := dkms.conf Kbuild Makefile mdlpool.c mdlpool_checks.c mdlpool_create.c \
	mdlpool_dma.c mdlpool_fault.c mdlpool_reclaim.c mdlpool_reserve.c mdlpool_stats.c \
	mdlpool.h mdlpool_stats.h mdlpool_compat.h mdlpool_trace.h mdlpool_internal.h \
	nt_compat.c nt_mdp.c nt_mdl.c nt_mdl_pages.c nt_compat.h nt_compat_internal.h
# The release modules_install installs for (Debian's headers say 6.1.192 in
# kernel.release, and 6.1.0-N-amd64 here).
KREL = $(shell sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' $(KDIR)/include/generated/utsrelease.h)

all: modules

modules:
	scripts/check-stats-doc
	scripts/check-version
	$(MAKE) -C $(KDIR) M=$(PWD) modules

clean:
	$(MAKE) -C $(KDIR) M=$(PWD) clean

run:
	scripts/run-main

bench:
	scripts/run-bench

bench-nic:
	scripts/run-bench --nic

test:
	scripts/run-tests

checkpatch:
	scripts/checkpatch

nt-compat-check:
	scripts/nt-compat-check $(KDIR)

install-src:
	install -d $(SRCDIR)
	install -m 644 $(addprefix $(TOP)/,$(LIB_SRC)) $(SRCDIR)/
	install -m 755 $(TOP)/scripts/dkms-symvers $(SRCDIR)/

# Built in a copy of the sources, so that the tree's own build (with the
# test modules) is left as it was. Not signed: see README.md.
install: install-src
	rm -rf $(SRCDIR)/$(KREL)
	install -d $(SRCDIR)/$(KREL)
	install -m 644 $(addprefix $(TOP)/,$(LIB_SRC)) $(SRCDIR)/$(KREL)/
	$(MAKE) -C $(KDIR) M=$(SRCDIR)/$(KREL) MDLPOOL_LIB_ONLY=1 modules
	$(MAKE) -C $(KDIR) M=$(SRCDIR)/$(KREL) MDLPOOL_LIB_ONLY=1 CONFIG_MODULE_SIG_ALL= \
		INSTALL_MOD_PATH=$(DESTDIR) INSTALL_MOD_DIR=extra modules_install
	cd $(SRCDIR)/$(KREL) && find . -mindepth 1 ! -name Module.symvers -delete
	[ -n "$(DESTDIR)" ] || depmod -a $(KREL)

uninstall:
	rm -f $(DESTDIR)/lib/modules/$(KREL)/extra/mdlpool.ko* \
		$(DESTDIR)/lib/modules/$(KREL)/extra/nt_compat.ko*
	rm -rf $(SRCDIR)/$(KREL)
	[ -n "$(DESTDIR)" ] || depmod -a $(KREL)

.PHONY: all modules clean run bench bench-nic test checkpatch nt-compat-check install install-src \
	uninstall
