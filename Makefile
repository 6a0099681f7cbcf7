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
#   make check-cluster   two guests, corosync + dlm_controld, glock_dlm:
#                   the cluster: scope across nodes (installs corosync
#                   and dlm-controld; see README "Cluster")
#   make demo       the SIGKILL / abandoned hand-off story in a guest
#   make bench      lock cost against flock, OFD, SysV, POSIX sem, mutex
#   make lint       checkpatch --strict and sparse on kmod/
#   make install    library, CLI, headers, glock.pc, man pages, Python
#                   package, udev rule, modules-load.d (PREFIX, DESTDIR)
#   make modules_install   the modules into /lib/modules/KVER (then depmod)
#   make dkms-install      the modules through DKMS for KVER; dkms-remove
#   make deb        the Debian packages, with dpkg-buildpackage -b
#   make check-install     DKMS and the packages, installed on this host
#                   and used in a guest, then removed

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

# One version number: lib/Makefile's, also in dkms.conf and debian/changelog.
VERSION := $(shell sed -n 's/^VERSION := //p' lib/Makefile)
# modules_install follows Kbuild: INSTALL_MOD_PATH (or DESTDIR) is the root,
# INSTALL_MOD_DIR the directory under /lib/modules/KVER (default extra/).
INSTALL_MOD_PATH ?= $(DESTDIR)
DKMS_SRC = /usr/src/glock-$(VERSION)
DKMS_FILES = Kbuild Makefile dkms.conf kmod uapi

.PHONY: all modules lib selftests deps check check-cluster check-debug check-kcsan demo bench profile lint \
	install modules_install dkms-source dkms-install dkms-remove deb \
	pkg-deps check-install clean

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

check-cluster: deps
	bash scripts/deps.sh cluster
	$(MAKE) all
	selftests/cluster/run.sh

check-debug: deps
	$(MAKE) all
	scripts/debug-kernel.sh
	selftests/vm/run.sh --debug-kernel check

# The same on a KCSAN kernel (data races; KCSAN excludes KASAN: a second tree).
check-kcsan: export DEBUG_CONFIG = selftests/vm/kcsan.config
check-kcsan: deps
	$(MAKE) all
	scripts/debug-kernel.sh
	selftests/vm/run.sh --debug-kernel check

demo: deps
	$(MAKE) all
	selftests/vm/run.sh demo

bench: deps
	$(MAKE) all
	selftests/vm/run.sh bench

profile: deps
	bash scripts/deps.sh perf
	$(MAKE) all
	selftests/vm/run.sh profile

lint: deps
	scripts/lint.sh

install:
	$(MAKE) -C lib install

# Kbuild's own depmod step needs System.map, which Debian's headers lack:
# run depmod here, for the release the modules were built for (the one in
# utsrelease.h: Debian's kernel.release file says e.g. 6.1.192).
modules_install: modules
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_PATH=$(INSTALL_MOD_PATH) \
		modules_install
	depmod $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) $$(sed -n \
		's/^#define UTS_RELEASE "\(.*\)"$$/\1/p' \
		$(KDIR)/include/generated/utsrelease.h)

# The module sources as DKMS wants them, in $(DESTDIR)/usr/src/glock-VERSION
# (also what the glock-dkms package ships; its licence is in the package's
# copyright file and on each file's SPDX line).
dkms-source:
	rm -rf $(DESTDIR)$(DKMS_SRC)
	install -d $(DESTDIR)$(DKMS_SRC)
	tar -cf - --exclude='.*' --exclude='*.o' --exclude='*.ko' \
		--exclude='*.mod' --exclude='*.mod.c' --exclude='*.symvers' \
		--exclude='modules.order' $(DKMS_FILES) | \
		tar -xf - -C $(DESTDIR)$(DKMS_SRC)

dkms-install: dkms-source
	dkms add -m glock -v $(VERSION)
	dkms install -m glock -v $(VERSION) -k $(KVER)

dkms-remove:
	dkms remove -m glock -v $(VERSION) --all
	rm -rf $(DKMS_SRC)

pkg-deps:
	scripts/pkg-deps.sh

# The packages land in build/deb/ (dpkg-buildpackage writes to ..).
deb: pkg-deps
	scripts/build-deb.sh

check-install: deps pkg-deps
	selftests/vm/install_test.sh

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C lib clean
	$(MAKE) -C selftests clean

endif
