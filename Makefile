# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree build of mdlpool.ko and mdlpool_test.ko.
#   make                 build against KDIR (default: newest stock Debian kernel)
#   make run             the main job: boot a guest, stress a pool, print stats
#   make test            the whole test suite in QEMU guests
#   make checkpatch      checkpatch.pl --strict on the project's C files

# Debian's PREEMPT_RT kernel (*-rt-amd64) sorts after the stock one, so it is
# left out: the default stays the stock kernel once the RT one is installed.
KVER ?= $(notdir $(patsubst %/build,%,$(shell ls -d /lib/modules/*/build 2>/dev/null | grep -v -- '-rt-' | sort -V | tail -n 1)))
KDIR ?= /lib/modules/$(KVER)/build
PWD := $(CURDIR)

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(PWD) modules

clean:
	$(MAKE) -C $(KDIR) M=$(PWD) clean

run:
	scripts/run-main

test:
	scripts/run-tests

checkpatch:
	scripts/checkpatch

.PHONY: all modules clean run test checkpatch
