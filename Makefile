# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree build of mdlpool.ko, nt_compat.ko, the test modules in test/ and the NT-style example
# client examples/mdlpool_ntclient.ko.
#   make                 build against KDIR (default: the running kernel's build
#                        directory, else the newest stock Debian kernel's)
#   make run             the main job: boot a guest, stress a pool, print stats
#   make test            the whole test suite in QEMU guests
#   make bench           the benchmark against SLUB, mempool and page_pool
#   make checkpatch      checkpatch.pl --strict on the project's C files
#   make nt-compat-check nt_compat.h's compile-time refusals and its documented names

# The default kernel is chosen in scripts/kernels.sh, for the scripts too.
TOP := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
KDIR ?= $(shell bash -c '. $(TOP)/scripts/kernels.sh && default_build_dir')
PWD := $(CURDIR)

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(PWD) modules

clean:
	$(MAKE) -C $(KDIR) M=$(PWD) clean

run:
	scripts/run-main

bench:
	scripts/run-bench

test:
	scripts/run-tests

checkpatch:
	scripts/checkpatch

nt-compat-check:
	scripts/nt-compat-check $(KDIR)

.PHONY: all modules clean run bench test checkpatch nt-compat-check
