#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# What `make check` runs once deps.sh and the build are done: the host-side
# tests (selftests/host/*_test.sh), then the guest suite once per kernel,
# and as the very last line the sum, "N passed, N failed".
#
# KVERS="a b c": kernels (releases or the aliases of scripts/kernels.sh);
# each gets its own copy of the modules under build/kmod/<release>/, since
# a module built for one release does not load in another. Without KVERS,
# the one kernel KVER (default: scripts/kernels.sh default) with the
# modules `make` built in kmod/. Per-kernel totals are printed as
# "# <release>: N passed, N failed".
#
# GLOCK_STRICT=1 (set by make check): a test that skips fails, since
# deps.sh installed everything the suite needs.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
export GLOCK_STRICT=${GLOCK_STRICT:-1}
passed=0
failed=0

say() { printf '# check: %s\n' "$*"; }

# TAP from one program: counts its top-level ok / not ok lines.
count_tap() {
	local log=$1 rc=$2 name=$3 ok nok skips
	ok=$(grep -c '^ok ' "$log")
	nok=$(grep -c '^not ok ' "$log")
	skips=$(grep -ciE '^ok [0-9]+ .*# SKIP' "$log")
	if [ "$GLOCK_STRICT" = 1 ] && [ "$skips" -gt 0 ]; then
		ok=$((ok - skips))
		nok=$((nok + skips))
		echo "not ok - check: $name skipped $skips tests (GLOCK_STRICT=1)"
	fi
	if [ "$rc" -ne 0 ] && [ "$nok" -eq 0 ]; then
		echo "not ok - check: $name exited with status $rc"
		nok=1
	fi
	passed=$((passed + ok))
	failed=$((failed + nok))
}

# --- host side ------------------------------------------------------------------
shopt -s nullglob
for t in "$repo"/selftests/host/*_test.sh; do
	name=host/$(basename "$t")
	echo "# ==== $name"
	log=$(mktemp "${TMPDIR:-/tmp}/glock-host-test.XXXXXX")
	bash "$t" 2>&1 | tee "$log"
	count_tap "$log" "${PIPESTATUS[0]}" "$name"
	rm -f "$log"
done
shopt -u nullglob

# --- guest suite, per kernel ----------------------------------------------------
if [ -n "${KVERS:-}" ]; then
	# shellcheck disable=SC2086 # a list of words
	if list=$("$repo/scripts/kernels.sh" resolve $KVERS); then
		mapfile -t kernels <<<"$list"
	else
		echo "not ok - check: every kernel in KVERS='$KVERS' is installed"
		failed=$((failed + 1))
		kernels=()
	fi
	out_of_place=1
else
	kernels=("${KVER:-$("$repo/scripts/kernels.sh" default)}")
	out_of_place=0
fi

for k in "${kernels[@]}"; do
	[ -n "$k" ] || continue
	t0=$(date +%s)
	kmod_dir=$repo/kmod
	if [ $out_of_place = 1 ]; then
		# A copy of the module sources per kernel, under the repo so
		# that the guest (which sees the host's / but not /var/tmp or
		# /tmp) finds it.
		b=$repo/build/kmod/$k
		mkdir -p "$b"
		rsync -a --delete --exclude='*.o' --exclude='*.ko' \
			--exclude='*.mod' --exclude='*.mod.c' --exclude='.*.cmd' \
			"$repo/Kbuild" "$repo/kmod" "$repo/uapi" "$b/"
		say "building the modules for $k in $b"
		if ! make -s -C "/lib/modules/$k/build" M="$b" modules \
			>"$b/kbuild.log" 2>&1 || grep -q 'warning:' "$b/kbuild.log"; then
			cat "$b/kbuild.log"
			echo "not ok - check: modules for $k build without warnings"
			failed=$((failed + 1))
			continue
		fi
		kmod_dir=$b/kmod
	fi
	log=$(mktemp "${TMPDIR:-/tmp}/glock-vm.XXXXXX")
	# run.sh's last line is its total: keep it, marked as this kernel's.
	KVER=$k GLOCK_KMOD_DIR=$kmod_dir "$repo/selftests/vm/run.sh" check 2>&1 |
		sed -u -E "s/^([0-9]+) passed, ([0-9]+) failed$/# $k: \\1 passed, \\2 failed/" |
		tee "$log"
	rc=${PIPESTATUS[0]}
	line=$(grep -F -- "# $k: " "$log" | grep -E ': [0-9]+ passed, [0-9]+ failed$' |
		tail -n 1)
	rm -f "$log"
	if [ -z "$line" ]; then
		echo "not ok - check: $k: run.sh ended (status $rc) without a total"
		failed=$((failed + 1))
		continue
	fi
	read -r p f <<<"$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/' <<<"$line")"
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - check: $k: run.sh exited with status $rc"
		failed=$((failed + 1))
	fi
	say "$k: $(($(date +%s) - t0)) s"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
