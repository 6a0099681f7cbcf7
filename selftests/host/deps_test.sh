#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# scripts/deps.sh from a machine where packages are missing, with a stubbed
# package manager: dpkg-query answers from a fake status list (and exits 1
# for packages it never saw, like the real one), apt-get and apt-cache log
# their calls and "install" into that list. Runs on the build host, as
# any user; touches nothing outside a temporary directory. Prints TAP.
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
deps=$repo/scripts/deps.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/glock-deps-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n $*"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else nok "$what"; fi; }

# --- the stubs ----------------------------------------------------------------
stub=$tmp/bin
mkdir -p "$stub"
# $STATUS: "package status" lines; $LOG: one line per apt call.
cat >"$stub/dpkg-query" <<'EOF'
#!/usr/bin/env bash
# dpkg-query -W [-f=FMT] PATTERN...: exits 1 if any pattern matches nothing.
fmt='${Package}\t${Version}\n'
pats=()
for a in "$@"; do
	case $a in
	-W|--show) ;;
	-f=*|--showformat=*) fmt=${a#*=} ;;
	-*) echo "stub dpkg-query: unsupported $a" >&2; exit 2 ;;
	*) pats+=("$a") ;;
	esac
done
rc=0
for p in "${pats[@]}"; do
	hit=0
	while read -r pkg st; do
		# shellcheck disable=SC2053
		[[ $pkg == $p ]] || continue
		hit=1
		out=${fmt//'${Package}'/$pkg}
		out=${out//'${db:Status-Status}'/$st}
		out=${out//'${Version}'/1.0}
		printf '%b' "$out"
	done <"$STATUS"
	if [ $hit = 0 ]; then
		echo "dpkg-query: no packages found matching $p" >&2
		rc=1
	fi
done
exit $rc
EOF
cat >"$stub/apt-get" <<'EOF'
#!/usr/bin/env bash
args=()
for a in "$@"; do
	case $a in -*) ;; *) args+=("$a") ;; esac
done
# Options' values (-o X=Y) are not verbs or packages.
args=("${args[@]/*=*/}")
read -r -a args <<<"${args[*]}"
echo "apt-get ${args[*]}" >>"$LOG"
[ "${APT_FAIL:-}" != "${args[0]}" ] || exit 100
case ${args[0]} in
install)
	# Kernels exist only if the archive offers them.
	for p in "${args[@]:1}"; do
		case $p in linux-image-[0-9]*|linux-headers-[0-9]*)
			grep -qx -- "$p" "$AVAILABLE" ||
				{ echo "E: Unable to locate package $p" >&2; exit 100; } ;;
		esac
	done
	for p in "${args[@]:1}"; do
		grep -q "^$p " "$STATUS" && sed -i "/^$p /d" "$STATUS"
		echo "$p installed" >>"$STATUS"
	done ;;
esac
exit 0
EOF
# The archive offers $AVAILABLE (one package a line).
cat >"$stub/apt-cache" <<'EOF'
#!/usr/bin/env bash
echo "apt-cache $*" >>"$LOG"
case $1 in
search)
	re=${!#}
	grep -E -- "$re" "$AVAILABLE" | sed 's/$/ - stub package/' ;;
show)
	grep -qx -- "${!#}" "$AVAILABLE" || { echo "E: No packages found" >&2; exit 100; } ;;
esac
EOF
printf '#!/bin/sh\nexit 0\n' >"$stub/sudo"
chmod +x "$stub"/*

# A configured source, where apt-config will look for it.
mkdir -p "$tmp/etc/sources.list.d"
printf 'Types: deb\nURIs: http://mirror.invalid/debian\nSuites: bookworm\nComponents: main\n' \
	>"$tmp/etc/sources.list.d/test.sources"
printf 'Dir::Etc::sourcelist "%s/etc/none.list";\nDir::Etc::sourceparts "%s/etc/sources.list.d";\n' \
	"$tmp" "$tmp" >"$tmp/apt.conf"

export LOG=$tmp/apt.log STATUS=$tmp/status AVAILABLE=$tmp/available
export APT_CONFIG=$tmp/apt.conf CACHE=$tmp/cache
export PATH=$stub:$PATH
unset KVER KVERS APT_FAIL

# Every package deps.sh would ask for, as it names them.
all_pkgs() { sed -n '/^PKGS=(/,/)/p' "$deps" | tr -d '()' | sed 's/PKGS=//' | tr -s ' \t\n' '\n' | grep .; }

# run [ENV=VAL...]: deps.sh packages from the current fake state.
run() {
	: >"$LOG"
	env "$@" bash "$deps" packages >"$tmp/out" 2>&1
}
# failed_saying STATUS TEXT: the run failed and said TEXT.
failed_saying() { [ "$1" != 0 ] && grep -q -- "$2" "$tmp/out"; }
installs() { grep '^apt-get install ' "$LOG" | head -n 1 | cut -d' ' -f3- | tr ' ' '\n' | sort; }

echo "TAP version 13"
echo "1..12"

# 1-3: nothing installed, dpkg never saw any package.
: >"$STATUS"
: >"$AVAILABLE"
run
check "deps: with no package known to dpkg, deps.sh succeeds" [ $? = 0 ]
check "deps: ... and installs every package it needs" \
	diff <(all_pkgs | sort) <(installs)
check "deps: ... including systemd-sysv (poweroff), pkgconf, iproute2 and make" \
	[ "$(installs | grep -cxE 'systemd-sysv|pkgconf|iproute2|make')" = 4 ]

# 4: half installed, one of them removed with its config files kept.
all_pkgs | awk 'NR % 2 { print $1 " installed" }' >"$STATUS"
first=$(head -n 1 "$STATUS" | cut -d' ' -f1)
sed -i "s/^$first installed/$first config-files/" "$STATUS"
expect=$( (all_pkgs | awk 'NR % 2 == 0'; echo "$first") | sort)
run
check "deps: installs exactly what is missing or only half-removed" \
	diff <(echo "$expect") <(installs)

# 5: all installed: no apt call at all, not even update.
run
check "deps: with everything installed, apt is not called" [ ! -s "$LOG" ]

# 6-8: kernels by alias: the newest release that has headers.
printf '%s\n' linux-image-6.12.110+deb12-amd64 linux-headers-6.12.110+deb12-amd64 \
	linux-image-6.12.117+deb12-amd64 linux-headers-6.12.117+deb12-amd64 \
	linux-image-6.12.120+deb12-amd64 \
	linux-image-6.12.117+deb12-rt-amd64 linux-headers-6.12.117+deb12-rt-amd64 \
	>"$AVAILABLE"
run KVERS="6.12 6.12-rt"
check "deps: KVERS='6.12 6.12-rt' succeeds" [ $? = 0 ]
check "deps: ... and installs the newest 6.12 with headers and its rt twin" \
	diff <(printf '%s\n' linux-headers-6.12.117+deb12-amd64 linux-headers-6.12.117+deb12-rt-amd64 \
		linux-image-6.12.117+deb12-amd64 linux-image-6.12.117+deb12-rt-amd64) <(installs)
run KVERS="6.12 6.12-rt"
check "deps: ... and not again once they are installed" [ ! -s "$LOG" ]

# 9: a release by name that is neither installed nor offered.
run KVER=6.99.0-1-amd64
check "deps: an unknown kernel release fails, naming the packages" \
	failed_saying $? 'error: .*linux-image-6.99.0-1-amd64'

# 10: apt-get update failing is reported as such.
sed -i '/^make /d' "$STATUS"
run APT_FAIL=update
check "deps: a failing apt-get update fails with a message saying so" \
	failed_saying $? "error: apt-get update failed"

# 11: no sources configured: a clear error, no mirror made up.
rm "$tmp/etc/sources.list.d/test.sources"
run
check "deps: with no apt sources configured it fails and says so" \
	failed_saying $? "no apt sources are configured"

# 12: no script, Makefile or CI file names a package mirror host.
check "deps: no script names a mirror host" \
	test -z "$(grep -rnE 'https?://|ftp://' "$repo/scripts" "$repo/.ci" \
		"$repo/Makefile" "$repo/selftests/vm")"

if [ "$failed" -ne 0 ]; then
	echo "# deps.sh output of the last run:"
	sed 's/^/# /' "$tmp/out"
	exit 1
fi
exit 0
