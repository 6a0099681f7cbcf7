#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Host side of the VM tests: boot a kernel in QEMU/TCG with virtme-ng, run
# selftests/vm/guest.sh in it, and judge the result.
#
# usage: run.sh [--debug-kernel] check|demo|bench|profile
#
# check prints the guest's output as it comes and, as its very last line,
# "N passed, N failed"; it exits non-zero on any failure, a guest crash, a
# timeout, or an Oops/BUG/WARNING on the guest console.
# --debug-kernel boots the lockdep/KASAN/kmemleak kernel of
# scripts/debug-kernel.sh, with the modules rebuilt against it out of place;
# with DEBUG_CONFIG=<fragment> (e.g. selftests/vm/kcsan.config), the kernel
# that fragment gives instead.
# Environment: KVER (Debian kernel to boot), CACHE, VM_TIMEOUT (s, 2700; 10800 for the debug kernel),
# VM_MEMORY (2G), VM_CPUS (2), GLOCK_TEST_TIMEOUT (s per test program,
# default selftests/settings),
# GLOCK_TESTS (glob: run only the test programs whose names match),
# VM_APPEND (more guest kernel command line, e.g. kcsan.skip_watch=1000),
# VM_ICOUNT=1 (QEMU -icount shift=0: guest time counts instructions, one
# per ns, so make bench and make profile give the same figures every run:
# for comparing two builds of the kernel code, not for the targets),
# GLOCK_KMOD_DIR (the modules to load; default <repo>/kmod),
# GLOCK_STRICT=1 (a skipped test fails; make check sets it).
set -uo pipefail

usage() { echo "usage: $0 [--debug-kernel] check|demo|bench|profile" >&2; exit 2; }

debug=0
mode=
for a in "$@"; do
	case $a in
	--debug-kernel) debug=1 ;;
	check|demo|bench|profile) mode=$a ;;
	*) usage ;;
	esac
done
[ -n "$mode" ] || usage

repo=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${CACHE:-$HOME/.cache/glock}
KVER=${KVER:-$("$repo/scripts/kernels.sh" default)}
VM_TIMEOUT=${VM_TIMEOUT:-$([ $debug = 1 ] && echo 10800 || echo 2700)}

say() { printf '# run.sh: %s\n' "$*"; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

command -v vng >/dev/null || die "vng not found: run scripts/deps.sh (make deps)"

# Results: under the repo's build/ (gitignored) when writable, else /tmp.
# One directory per run, so that runs from several shells do not mix.
# The debug kernel's name is its fragment's: check-debug, check-kcsan.
dname=$(basename "${DEBUG_CONFIG:-debug.config}" .config)
tag=$mode$([ $debug = 1 ] && echo "-$dname")
if mkdir -p "$repo/build/vm" 2>/dev/null && [ -w "$repo/build/vm" ]; then
	results=$(mktemp -d "$repo/build/vm/$tag.XXXXXX")
	ln -sfn "$(basename "$results")" "$repo/build/vm/$tag-latest"
	# Keep the last few runs only.
	ls -dt "$repo/build/vm/$tag".?????? 2>/dev/null | tail -n +6 |
		while read -r old; do
			[ -n "$(find "$old" -maxdepth 0 -mmin +60)" ] && rm -rf "$old"
		done
else
	results=$(mktemp -d "/tmp/glock-vm-$tag.XXXXXX")
fi
chmod 0777 "$results"

if [ $debug = 1 ]; then
	tree=$("$repo/scripts/debug-kernel.sh") || die "debug kernel build failed"
	# Build the modules against the debug tree in a scratch copy, so the
	# tree's kmod/*.ko for the Debian kernel stay as they are; one scratch
	# copy per debug kernel.
	scratch=$CACHE/debug-build$([ "$dname" = debug ] || echo "-$dname")
	mkdir -p "$scratch"
	exec 8>"$scratch.lock"
	flock 8
	rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='*.mod' \
		--exclude='*.mod.c' --exclude='.*.cmd' --exclude='Module.symvers' \
		--exclude='modules.order' \
		"$repo/Kbuild" "$repo/kmod" "$repo/uapi" "$scratch/" ||
		die "copying sources to $scratch failed"
	say "building the modules against $tree"
	make -s -C "$tree" M="$scratch" modules >"$results/kbuild.log" 2>&1 ||
		{ cat "$results/kbuild.log" >&2; die "module build against the debug kernel failed"; }
	kernel=$tree
	kmod_dir=$scratch/kmod
else
	kernel=/boot/vmlinuz-$KVER
	kmod_dir=${GLOCK_KMOD_DIR:-$repo/kmod}
	[ -r "$kernel" ] || die "no $kernel (KVER=$KVER)"
fi
[ -f "$kmod_dir/glock.ko" ] || say "warning: $kmod_dir/glock.ko is missing (make modules)"

# vng mounts a --rwdir only inside one of its guest overlays (/tmp, ...),
# so the results directory has a fixed guest path of its own.
guest_results=/tmp/glock-results
# A KASAN/lockdep kernel runs several times slower: its time limits scale.
[ $debug = 1 ] && : "${GLOCK_TIME_SCALE:=4}"
guest_cmd=$(printf 'GLOCK_KMOD_DIR=%q GLOCK_TEST_TIMEOUT=%q GLOCK_TESTS=%q GLOCK_STRICT=%q GLOCK_TIME_SCALE=%q %q %q %q' \
	"$kmod_dir" "${GLOCK_TEST_TIMEOUT:-}" "${GLOCK_TESTS:-*}" "${GLOCK_STRICT:-0}" "${GLOCK_TIME_SCALE:-1}" \
	"$repo/selftests/vm/guest.sh" "$mode" "$guest_results")

# One guest at a time on this machine: TCG guests share two cores, and
# several at once only make each one's timings meaningless.
mkdir -p "$CACHE"
exec 9>"$CACHE/vm.lock"
if ! flock -n 9; then
	say "waiting for another guest on this machine to finish ($CACHE/vm.lock)"
	flock 9
fi

t0=$(date +%s)
# The guest's cwd is the host's: start from the repo. Its console (-v: boot
# log, oops traces) goes to vng's stderr, kept in console.log.
cd "$repo" || exit 1
# On a slow boot (a debug kernel on a busy host) virtme-init's "udevadm
# settle" can time out before udev has made /dev/virtio-ports/virtme.*,
# and the guest powers off without running anything: boot once more.
for attempt in 1 2 3; do
	say "booting $kernel (TCG, ${VM_CPUS:-2} CPUs, ${VM_MEMORY:-2G}); results in $results"
	# timeout puts the VM in a process group of its own, out of reach of
	# the terminal's ^C: pass INT/TERM/HUP on to it.
	timeout -k 30 "$VM_TIMEOUT" \
		vng --run "$kernel" --disable-kvm --force-9p \
		-m "${VM_MEMORY:-2G}" --cpus "${VM_CPUS:-2}" \
		--rwdir "$guest_results=$results" -v --exec "$guest_cmd" \
		${VM_APPEND:+--append "$VM_APPEND"} \
		${VM_ICOUNT:+--qemu-opts "-icount shift=0,sleep=off"} \
		</dev/null 2>"$results/console.log" > >(tee "$results/output.log") &
	vm=$!
	interrupted=0
	trap 'kill -TERM "$vm" 2>/dev/null; interrupted=1' INT TERM HUP
	wait "$vm"
	rc=$?
	# A trapped signal ends the wait early: wait for the VM to be gone.
	while kill -0 "$vm" 2>/dev/null; do
		wait "$vm"
		rc=$?
	done
	trap - INT TERM HUP
	wait	# for tee
	[ $interrupted = 1 ] && { say "interrupted"; exit 130; }
	[ -f "$results/counts" ] && break
	grep -q 'cannot find script I/O ports' "$results/console.log" || break
	say "the guest's udev never made the script's ports (boot $attempt of 3)"
done
secs=$(( $(date +%s) - t0 ))
[ $debug = 1 ] && exec 8>&-

passed=0 failed=0 done=0
# Only "name=digits" lines of the guest's counts become assignments.
[ -f "$results/counts" ] &&
	eval "$(grep -E '^(passed|failed|done)=[0-9]+$' "$results/counts")"

# The console survives a panic, the guest's own dmesg check does not.
splat_re='WARNING:|BUG:|Oops|lockdep|possible circular|KASAN|UBSAN|general protection|Call Trace|Kernel panic|unreferenced object'
benign_re='kmemleak: (Kernel memory leak detector initialized|Automatic memory scanning thread started)|RCU lockdep checking is enabled|BUG: KCSAN: '
splats=$(grep -aE -- "$splat_re" "$results/console.log" 2>/dev/null |
	grep -avE -- "$benign_re")

case $rc in
124|137)
	say "the guest timed out after $VM_TIMEOUT s"
	failed=$((failed + 1))
	;;
255)
	say "the guest crashed (vng status 255); console: $results/console.log"
	failed=$((failed + 1))
	;;
*)
	if [ "$done" != 1 ]; then
		say "the guest ended (status $rc) before the runner finished"
		failed=$((failed + 1))
	elif [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
		say "the guest exited with status $rc"
		failed=$((failed + 1))
	fi
	;;
esac
if [ -n "$splats" ]; then
	# The whole report, from the first suspicious console line on.
	echo "# ---- guest console from the first kernel problem on ($results/console.log)"
	grep -avE -- "$benign_re" "$results/console.log" |
		awk -v re="$splat_re" 'n == 0 && $0 ~ re { n = 1 }
			n && n++ <= 150 { print "# " $0 }'
	# The guest's dmesg check normally counts these already.
	if [ "$done" = 1 ] && [ "$failed" -eq 0 ]; then
		say "kernel problems on the console that the guest did not see"
		failed=$((failed + 1))
	fi
fi
# KCSAN reports come by the dozen and from all over the kernel: each
# distinct one once, those with a glock frame first, kept in kcsan.txt.
# One whose racing access is in glock's code (a top frame in a glock
# module) fails the run; races glock only calls into, and the core
# kernel's own (e.g. __d_add over 9p at boot), are listed only.
if grep -aq 'BUG: KCSAN: ' "$results/console.log" 2>/dev/null; then
	echo "# ---- KCSAN reports ($results/kcsan.txt)"
	python3 "$repo/selftests/vm/kcsan-reports.py" "$results/console.log" \
		>"$results/kcsan.txt" 2>&1
	kcsan_rc=$?
	sed 's/^/# /' "$results/kcsan.txt"
	if [ "$kcsan_rc" -ne 0 ]; then
		say "KCSAN reports of races in glock's code (or an unreadable log)"
		failed=$((failed + 1))
	fi
fi
if [ "$done" != 1 ]; then
	echo "# ---- last guest console lines ($results/console.log)"
	tail -n 40 "$results/console.log" | sed 's/^/# /'
fi

say "$tag: $secs s from boot to power-off; logs in $results"
if [ "$mode" = check ]; then
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
