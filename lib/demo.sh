#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make demo: two contenders on one named lock, the holder SIGKILLed, the
# waiter handed the lock at once and told it was abandoned; the state before
# and after from debugfs. Runs in the guest with glock.ko loaded; exits
# non-zero if the story did not happen.
set -u
repo=$(cd "$(dirname "$0")/.." && pwd)
PATH=$repo/lib:$PATH		# the glock CLI from the tree
L=i2c-demo
tmp=$(mktemp -d /tmp/glock-demo.XXXXXX)
pids=()
trap 'kill -KILL "${pids[@]}" 2>/dev/null; rm -rf "$tmp"' EXIT

say() { printf '\n### %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
wait_until() {	# CMD... for up to 10 s
	local i
	for ((i = 0; i < 200; i++)); do "$@" && return 0; sleep 0.05; done
	echo "demo: timed out waiting for: $*" >&2
	return 1
}
state_has() { glock state "$L" | grep -q "$1"; }

say "glock: named locks owned by open files of /dev/glock ($(uname -r))"
echo "Two processes share a resource (say the I2C bus 1) through the lock '$L'."

say "1. The first contender takes the lock and holds it"
echo "\$ glock hold $L &"
glock hold "$L" &
holder=$!
pids+=("$holder")
wait_until state_has exclusive || exit 1
run glock state "$L"

say "2. The second contender asks for it and waits (up to 30 s)"
echo "\$ glock run $L -t 30 -- sh -c '...' &"
glock run "$L" -t 30 -- sh -c "
	echo \"waiter: got '$L'\" | tee $tmp/got
	echo '\$ glock list    # while the waiter holds it'
	glock list
	sleep 1" 2>"$tmp/waiter.err" &
waiter=$!
pids+=("$waiter")
wait_until state_has "1 waiter" || exit 1

say "3. Before: debugfs shows one holder and one waiter"
run glock list

say "4. The holder crashes: SIGKILL to pid $holder, no chance to unlock"
run kill -KILL "$holder"
wait "$holder" 2>/dev/null
echo "Right after the kill, the lock already belongs to the waiter (pid $waiter):"
run glock state "$L" | tee "$tmp/after-kill"

wait "$waiter"
rc=$?
say "5. The kernel released the lock and handed it to the waiter"
echo "waiter's stderr:"
sed 's/^/  /' "$tmp/waiter.err"
echo "waiter's exit status: $rc"

say "6. After: nothing held, nothing stuck, nobody had to 'unget' by hand"
run glock list
run glock state "$L"

ok=1
[ "$rc" = 0 ] || ok=0
grep -q "abandoned" "$tmp/waiter.err" || ok=0
[ -s "$tmp/got" ] || ok=0
grep -q "held by pid $waiter" "$tmp/after-kill" || ok=0
glock state "$L" | grep -q "$L: free" || ok=0
if [ $ok = 1 ]; then
	say "demo: OK: the waiter got the lock at once, marked abandoned"
else
	say "demo: FAILED: the story above is not what glock promises"
	exit 1
fi
