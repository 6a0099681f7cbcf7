# SPDX-License-Identifier: GPL-2.0-only
# glock: everything but the modules' own Kbuild lives here.
#
#   make            modules, library, CLI and tests against the running
#                   Debian kernel's headers (KVER / KDIR override)
#   make check      install what is missing, build, run the whole suite in
#                   a QEMU guest, print "N passed, N failed"
#   make demo       the SIGKILL / abandoned hand-off story in a guest
#   make bench      lock cost against flock, OFD, SysV, POSIX sem, mutex
#   make lint       checkpatch --strict and sparse on kmod/

ifneq ($(KERNELRELEASE),)
include Kbuild
else

# The newest installed Debian kernel, which is also the one the guest boots.
KVER ?= $(shell ls /lib/modules 2>/dev/null | grep -- '-amd64$$' | sort -V | tail -n 1)
KDIR ?= /lib/modules/$(KVER)/build
CACHE ?= $(HOME)/.cache/glock
export KVER KDIR CACHE

.PHONY: all modules lib selftests deps check check-debug demo bench lint \
	install clean

all: modules lib selftests

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

lib:
	$(MAKE) -C lib

selftests: lib
	$(MAKE) -C selftests

deps:
	scripts/deps.sh

check: deps
	$(MAKE) all
	selftests/vm/run.sh check

check-debug: deps
	$(MAKE) all
	scripts/debug-kernel.sh
	selftests/vm/run.sh --debug-kernel check

demo: deps
	$(MAKE) all
	selftests/vm/run.sh demo

bench: deps
	$(MAKE) all
	selftests/vm/run.sh bench

lint: deps
	scripts/lint.sh

install:
	$(MAKE) -C lib install

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C lib clean
	$(MAKE) -C selftests clean

endif
