#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The glock CLI against the real module: exit codes, messages, run, hold,
# --fd locking from a shell, state --json, list, trace. Prints TAP.
set -u

here=$(cd "$(dirname "$0")" && pwd)
GLOCK=${GLOCK:-$here/../lib/glock}
tmp=$(mktemp -d /tmp/cli_test.XXXXXX)
n=0
failures=0
bg=()

cleanup() {
	local p
	for p in "${bg[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

ok() { n=$((n + 1)); echo "ok $n $*"; }
nok() { n=$((n + 1)); failures=$((failures + 1)); echo "not ok $n $*"; }
check() {	# check DESCRIPTION CMD...: ok when CMD succeeds
	local what=$1
	shift
	if "$@"; then ok "$what"; else nok "$what"; fi
}
diag() { sed 's/^/# /' "$@"; }

# Poll CMD (a string) every 0.05 s for up to $2 s (default 10).
wait_for() {
	local i limit=$(( ${2:-10} * 20 ))
	for ((i = 0; i < limit; i++)); do
		eval "$1" && return 0
		sleep 0.05
	done
	return 1
}

# g ARGS...: the CLI, bounded; stdout/stderr in $tmp/out, $tmp/err, status in rc.
g() {
	timeout -k 5 30 "$GLOCK" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

mode_of() { "$GLOCK" state "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["mode"])'; }
json_field() { "$GLOCK" state "$1" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])"; }
is_mode() { [ "$(mode_of "$1")" = "$2" ]; }

if [ ! -e /dev/glock ] || [ ! -x "$GLOCK" ]; then
	echo "ok 1 # SKIP /dev/glock or $GLOCK missing"; echo "1..1"
	exit 0
fi
echo "TAP version 13"

L=cli-$$

# --- usage and exit status 2 ---------------------------------------------
for c in run hold lock unlock state list trace; do
	g "$c" --help
	[ $rc = 0 ] && grep -q "Usage: glock" "$tmp/out" || { nok "$c --help"; continue; }
	ok "$c --help exits 0"
done
g; check "no command: exit 2" test $rc = 2
g frobnicate; check "unknown command: exit 2, hint" \
	bash -c "[ $rc = 2 ] && grep -q \"glock --help\" $tmp/err"
g run "$L"; check "run without a command: exit 2" test $rc = 2
g run "bad name" -- true
check "invalid name: exit 2, says why" \
	bash -c "[ $rc = 2 ] && grep -q 'invalid lock name' $tmp/err"
g run "$L" -t soon -- true; check "bad timeout: exit 2" test $rc = 2
g lock --fd 0 "$L" </dev/null
check "lock --fd on a non-glock descriptor: exit 2" test $rc = 2

# --- run: status passthrough ----------------------------------------------
g run "$L" -- true; check "run true: exit 0" test $rc = 0
g run "$L" -- sh -c 'exit 7'; check "run passes the child's status (7)" test $rc = 7
g run "$L" -- /nonexistent/cmd; check "run of a missing command: 127" test $rc = 127
g run "$L" -- sh -c 'glock_state=$('"$GLOCK"' state '"$L"' --json); echo "$glock_state"'
check "run holds the lock while the command runs" \
	grep -q '"mode": "exclusive"' "$tmp/out"

# --- a holder, and the ones who do not get it ----------------------------
"$GLOCK" hold "$L" 2>"$tmp/hold.err" &
holder=$!
bg+=("$holder")
if wait_for "is_mode $L exclusive"; then ok "hold takes the lock"; else nok "hold takes the lock"; fi
check "state --json names the holder's pid" test "$(json_field "$L" owner_pid)" = "$holder"

t0=$(date +%s%N)
g run "$L" -t 0.3 -- true
dt=$(( ($(date +%s%N) - t0) / 1000000 ))
check "timeout: exit 1" test $rc = 1
check "timeout message names lock, time and holder" \
	grep -q "glock: $L: timed out after 0.3 s (held by pid $holder, glock)" "$tmp/err"
diag "$tmp/err"
check "timeout is not early (${dt} ms >= 300)" test "$dt" -ge 300
g run "$L" -t 0 -- true
check "try (-t 0) on a held lock: exit 1, busy" \
	bash -c "[ $rc = 1 ] && grep -q '$L: busy' $tmp/err"
g run "$L" -t 0 -E 42 -- true; check "-E sets the not-obtained status" test $rc = 42
g hold "$L" -t 0.1; check "hold -t on a held lock: exit 1" test $rc = 1

"$GLOCK" hold "$L" & waiter=$!
bg+=("$waiter")
wait_for '[ "$(json_field "$L" waiters)" = 1 ]'
kill -TERM "$waiter"
wait "$waiter"
st=$?
check "SIGTERM ends a waiting hold (128+15)" test "$st" = 143
check "and leaves nothing queued" test "$(json_field "$L" waiters)" = 0

g state "$L"
check "state (human) says exclusive and the pid" \
	grep -q "$L: exclusive, held by pid $holder" "$tmp/out"
g state "$L" --json
check "state --json parses" python3 -c "
import json, sys
d = json.load(open('$tmp/out'))
assert d['name'] == '$L' and d['mode'] == 'exclusive', d
assert d['holders'] == 1 and d['waiters'] == 0 and d['owner_pid'] == $holder, d
assert d['abandoned'] is False and d['kernel'] is False, d"

g list
check "list shows the held lock" grep -Eq "^$L +exclusive +1 +0 +no +$holder/glock" "$tmp/out"
diag "$tmp/out"
g list --json
check "list --json parses and has the holder" python3 -c "
import json
d = [l for l in json.load(open('$tmp/out')) if l['name'] == '$L']
assert len(d) == 1 and d[0]['mode'] == 'exclusive', d
assert d[0]['held_by'][0]['pid'] == $holder, d"

kill -TERM "$holder"
wait "$holder"
check "hold ends on SIGTERM with status 0" test $? = 0
check "a clean release leaves no abandoned mark" \
	test "$(json_field "$L" abandoned)" = False

# --- SIGKILL of a holder: abandoned --------------------------------------
"$GLOCK" hold "$L" &
holder=$!
bg+=("$holder")
wait_for "is_mode $L exclusive"
kill -KILL "$holder"
wait "$holder" 2>/dev/null
check "SIGKILL of the holder frees the lock" is_mode "$L" free
check "and leaves an abandoned mark" test "$(json_field "$L" abandoned)" = True
g list
check "list names the dead holder" grep -Eq "^$L +free .*yes +\(pid $holder died holding it\)" "$tmp/out"
diag "$tmp/out"
g run "$L" -t 5 -- true
check "the next run gets it (exit 0) and says abandoned" \
	bash -c "[ $rc = 0 ] && grep -q '$L: acquired, but abandoned' $tmp/err"
diag "$tmp/err"
check "the mark is delivered once" test "$(json_field "$L" abandoned)" = False

# --- run releases when the child is killed -------------------------------
"$GLOCK" run "$L" -- sleep 60 &
runner=$!
bg+=("$runner")
wait_for "is_mode $L exclusive"
# glock forks the command only after it holds the lock: wait for the child.
# (pgrep, not /proc/PID/task/PID/children: CONFIG_PROC_CHILDREN is optional.)
children() { pgrep -P "$runner"; }
wait_for '[ -n "$(children)" ]'
child=$(children | awk '{print $1}')
if [ -n "$child" ]; then
	kill -KILL "$child"
	wait "$runner"
	rc=$?
	check "run passes a killed child's status (128+9)" test $rc = 137
	check "and releases the lock" is_mode "$L" free
	check "cleanly (no abandoned mark)" test "$(json_field "$L" abandoned)" = False
else
	nok "run's child not found"
	kill -KILL "$runner"
fi

# --- a shell holding /dev/glock on fd 9 ----------------------------------
bash -c 'exec 9<>/dev/glock; "$0" lock --fd 9 "$1" || exit 1; exec sleep 60' \
	"$GLOCK" "$L" &
sh_pid=$!
bg+=("$sh_pid")
if wait_for "is_mode $L exclusive"; then
	ok "lock --fd: the lock outlives the glock process"
else
	nok "lock --fd: the lock outlives the glock process"
fi
# (owner_pid is the process that took it: the short-lived "glock lock".)
g run "$L" -t 0 -- true; check "others cannot take it" test $rc = 1
kill -TERM "$sh_pid"
wait "$sh_pid" 2>/dev/null
check "the lock is released when the shell exits" wait_for "is_mode $L free" 5
check "(an exclusive hold ended by exit is marked abandoned)" \
	test "$(json_field "$L" abandoned)" = True
g run "$L" -- true	# consume the mark

bash -c 'exec 9<>/dev/glock
	"$0" lock --fd 9 "$1" || exit 11
	"$0" lock --fd 9 "$1" || exit 12		# recursion: depth 2
	"$0" unlock --fd 9 "$1" || exit 13
	"$0" state "$1" | grep -q exclusive || exit 14
	"$0" unlock --fd 9 "$1" || exit 15
	"$0" state "$1" | grep -q free || exit 16
	"$0" unlock --fd 9 "$1" 2>"$2" && exit 17
	grep -q "not held" "$2" || exit 18
	exit 0' "$GLOCK" "$L" "$tmp/unlock.err"
check "lock/unlock --fd from a shell, recursion, unlock of nothing: exit 2" test $? = 0

# --- shared ---------------------------------------------------------------
"$GLOCK" hold -s "$L" & s1=$!
"$GLOCK" hold -s "$L" & s2=$!
bg+=("$s1" "$s2")
check "two shared holders coexist" wait_for "[ \"\$(json_field $L holders)\" = 2 ]"
g state "$L"; check "state: shared by 2 holders" grep -q "$L: shared by 2 holders" "$tmp/out"
g run "$L" -t 0.1 -- true; check "exclusive request times out against shared" test $rc = 1
g run "$L" -s -t 1 -- true; check "a third shared run gets it" test $rc = 0
kill -TERM "$s1" "$s2"
wait "$s1" "$s2"

# --- trace ----------------------------------------------------------------
timeout --preserve-status -s INT 8 "$GLOCK" trace "$L" -u 0.05 >"$tmp/trace" 2>&1 &
tracer=$!
bg+=("$tracer")
wait_for "[ -s $tmp/trace ]"	# its first line (free) is out
"$GLOCK" hold "$L" -d 0.6
wait "$tracer"
check "trace exits 0 on SIGINT" test $? = 0
check "trace printed free -> exclusive -> free" python3 -c "
lines = [l.split(' ', 1)[1] for l in open('$tmp/trace').read().splitlines()]
kinds = [l.split(': ')[1].split(',')[0] for l in lines]
assert kinds == ['free', 'exclusive', 'free'], lines"
diag "$tmp/trace"

timeout --preserve-status -s INT 6 "$GLOCK" trace -u 0.05 >"$tmp/trace2" 2>&1 &
tracer=$!
bg+=("$tracer")
sleep 1
"$GLOCK" hold "$L" -d 1
wait "$tracer"
check "trace (all locks, debugfs) shows the lock come and go" \
	bash -c "grep -q '$L: exclusive' $tmp/trace2 && grep -q '$L: free' $tmp/trace2"
diag "$tmp/trace2"

# --- make install DESTDIR=..., then a program built with pkg-config ------
lib=$here/../lib
if command -v cc >/dev/null && command -v pkg-config >/dev/null &&
   make -s -q -C "$lib" all 2>/dev/null; then
	dest=$tmp/inst
	if make -s -C "$lib" install DESTDIR="$dest" PREFIX=/usr/local \
		>"$tmp/install.log" 2>&1; then
		ok "make install DESTDIR=..."
	else
		nok "make install DESTDIR=..."
		diag "$tmp/install.log"
	fi
	cat >"$tmp/prog.c" <<EOF
#include <errno.h>
#include <stdio.h>
#include <glock.h>
int main(void)
{
	struct glock_dev *g = glock_open();
	unsigned int res = 0;

	if (!g || glock_lock(g, "$L", GLOCK_EXCLUSIVE, GLOCK_MSEC(500), &res) != 1)
		return fprintf(stderr, "%s\\n", glock_strerror(errno)), 1;
	printf("depth-after-unlock=%d\\n", glock_unlock(g, "$L"));
	glock_close(g);
	return 0;
}
EOF
	flags=$(PKG_CONFIG_SYSROOT_DIR=$dest \
		PKG_CONFIG_PATH=$dest/usr/local/lib/pkgconfig \
		pkg-config --cflags --libs glock)
	if cc -Wall -Wextra -o "$tmp/prog" "$tmp/prog.c" $flags 2>"$tmp/cc.err" &&
	   LD_LIBRARY_PATH=$dest/usr/local/lib "$tmp/prog" >"$tmp/prog.out" 2>&1 &&
	   grep -q "depth-after-unlock=0" "$tmp/prog.out"; then
		ok "a program built with pkg-config --cflags --libs glock works"
	else
		nok "a program built with pkg-config --cflags --libs glock works"
		diag "$tmp/cc.err" "$tmp/prog.out"
	fi
	check "the installed CLI, headers and man pages are there" \
		test -x "$dest/usr/local/bin/glock" -a \
		     -f "$dest/usr/local/share/man/man3/glock_lock.3" -a \
		     -f "$dest/usr/local/include/glock/linux/glock.h"
	check "the installed Python package imports" env \
		PYTHONPATH="$(ls -d "$dest"/usr/local/lib/python3*/*-packages)" \
		python3 -c "import glock.compat; assert glock.__file__.startswith('$dest')"
else
	ok "make install # SKIP no cc/pkg-config, or lib/ not built"
fi

check "nothing left held" is_mode "$L" free
echo "1..$n"
[ $failures = 0 ]
