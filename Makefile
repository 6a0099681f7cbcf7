# SPDX-License-Identifier: GPL-2.0-only
# glock: everything but the modules' own Kbuild lives here.
#
#   make            modules, library, CLI and tests against the running
#                   kernel's headers, else the newest installed (KVER /
#                   KDIR override)
#   make check      install what is missing, build, run the host tests and
#                   the whole suite in a QEMU guest, print "N passed, N
#                   failed"; KVERS="6.1 6.12 6.12-rt" (or releases) runs
#                   the suite once per kernel and sums
#   make demo       the SIGKILL / abandoned hand-off story in a guest
#   make bench      lock cost against flock, OFD, SysV, POSIX sem, mutex
#   make lint       checkpatch --strict and sparse on kmod/

ifneq ($(KERNELRELEASE),)
include Kbuild
else

# The running kernel if its headers are installed, else the newest that
# has them (scripts/kernels.sh); the guest boots the same one. Not
# exported: on a fresh machine it is only known once deps.sh has run, so
# each make and script works it out again (KVER/KDIR given by the user are
# passed on by make as usual).
ifeq ($(KVER),)
KVER := $(shell $(CURDIR)/scripts/kernels.sh default 2>/dev/null)
endif
KDIR ?= /lib/modules/$(KVER)/build
CACHE ?= $(HOME)/.cache/glock
export CACHE

.PHONY: all modules lib selftests deps check check-debug demo bench lint \
	install clean

all: modules lib selftests

modules:
	@test -d "$(KDIR)" || { echo "no kernel headers in '$(KDIR)' (KVER=$(KVER)):" \
		"run 'bash scripts/deps.sh' or set KVER=/KDIR=" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

lib:
	$(MAKE) -C lib

selftests: lib
	$(MAKE) -C selftests

deps:
	bash scripts/deps.sh

# With KVERS, scripts/check.sh builds the modules per kernel out of place.
check: deps
	$(MAKE) $(if $(KVERS),lib selftests,all)
	GLOCK_STRICT=1 scripts/check.sh

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
