# SPDX-License-Identifier: GPL-2.0-only
# TAP output for the shell tests, sourced: a counter, one line per check,
# and the plan at the end. finish exits 1 if any check failed.

n=0
nfail=0
ok() { n=$((n + 1)); echo "ok $n $*"; }
nok() { n=$((n + 1)); nfail=$((nfail + 1)); echo "not ok $n $*"; }
# check DESCRIPTION CMD...: one TAP line from CMD's status.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else nok "$desc"; fi
}
# diag [FILE...]: FILE (or stdin) as TAP comments.
diag() { sed 's/^/# /' "$@"; }
finish() {
	echo "1..$n"
	exit $((nfail > 0))
}
