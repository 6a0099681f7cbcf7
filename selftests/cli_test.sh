#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The glock CLI against the real module: exit codes, messages, run, hold,
# --fd locking from a shell, state --json, list, trace. Prints TAP.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tap.sh
. "$here/tap.sh"
GLOCK=${GLOCK:-$here/../lib/glock}
tmp=$(mktemp -d /tmp/cli_test.XXXXXX)
bg=()

cleanup() {
	local p
	for p in "${bg[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

# Poll CMD (a string) every 0.05 s for up to $2 s (default 10).
wait_for() {
	local i limit=$(( ${2:-10} * 20 * ${GLOCK_TIME_SCALE:-1} ))
	for ((i = 0; i < limit; i++)); do
		eval "$1" && return 0
		sleep 0.05
	done
	return 1
}

# g ARGS...: the CLI, bounded; stdout/stderr in $tmp/out, $tmp/err, status in rc.
g() {
	timeout -k 5 $(( 30 * ${GLOCK_TIME_SCALE:-1} )) "$GLOCK" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

# One field of `state --json` (one line, fixed keys; "state --json parses"
# checks it is JSON): sed, since a python3 start costs seconds under TCG.
json_field() {
	"$GLOCK" state "$1" --json |
		sed -n 's/.*"'"$2"'": \("\([^"]*\)"\|\([^,}]*\)\).*/\2\3/p'
}
mode_of() { json_field "$1" mode; }
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
	[ $rc = 0 ] && grep -qx "Usage:" "$tmp/out" && grep -q "^ glock $c" "$tmp/out" ||
		{ nok "$c --help"; continue; }
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
g run "$L" --bad -- true
check "a bad option: one message, one prefix, then the hint" \
	bash -c "[ $rc = 2 ] && [ \"\$(head -1 $tmp/err)\" = \"glock: unrecognized option '--bad'\" ] &&
		 [ \"\$(sed -n 2p $tmp/err)\" = \"Try 'glock run --help'.\" ] && [ \$(wc -l <$tmp/err) = 2 ]"
diag "$tmp/err"
g run "$L" -w; check "an option without its value: exit 2" \
	bash -c "[ $rc = 2 ] && grep -q \"^glock: option '-w' requires an argument\" $tmp/err"
for v in -V --version; do
	g $v; check "glock $v" bash -c "[ $rc = 0 ] && grep -q '^glock from glock [0-9]' $tmp/out"
	g list $v; check "glock list $v" test $rc = 0
done
g lock --fd 0 "$L" </dev/null
check "lock --fd on a non-glock descriptor: exit 2" test $rc = 2

# --- run: status passthrough ----------------------------------------------
g run "$L" -- true; check "run true: exit 0" test $rc = 0
g run "$L" -- sh -c 'exit 7'; check "run passes the child's status (7)" test $rc = 7
g run "$L" -- /nonexistent/cmd; check "run of a missing command: 127" test $rc = 127
g run "$L" -- sh -c 'glock_state=$('"$GLOCK"' state '"$L"' --json); echo "$glock_state"'
check "run holds the lock while the command runs" \
	grep -q '"mode": "exclusive"' "$tmp/out"

# --- flock(1) conventions -------------------------------------------------
g "$L" sh -c 'exit 5'; check "short form 'glock NAME CMD': the command's status" test $rc = 5
g "$L" -c 'exit 6'; check "-c CMD runs through sh" test $rc = 6
g -w 1 -x "$L" -c 'readlink "/proc/$$/fd/$GLOCK_FD"'
check "the command inherits the lock's descriptor, named in \$GLOCK_FD" \
	bash -c "[ $rc = 0 ] && grep -qx /dev/glock $tmp/out"
g -o "$L" -c 'echo "${GLOCK_FD:-none}"'
check "-o: no descriptor for the command" grep -qx none "$tmp/out"
g run "$L" -- sh -c '"$0" unlock --fd "$GLOCK_FD" "$1"' "$GLOCK" "$L"
check "the command may release early; run still exits 0" test $rc = 0
check "(released)" is_mode "$L" free

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
g -n "$L" true; check "flock's -n: exit 1 on a held lock" test $rc = 1
g --nonblock --conflict-exit-code 9 "$L" -c true
check "flock's long options (--nonblock, --conflict-exit-code)" test $rc = 9
g -w 0.2 "$L" true; check "flock's -w: exit 1 after the timeout" \
	bash -c "[ $rc = 1 ] && grep -q 'timed out after 0.2 s' $tmp/err"
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
g list -J
check "list -J: {\"locks\": [...]} with the holder" python3 -c "
import json
d = [l for l in json.load(open('$tmp/out'))['locks'] if l['name'] == '$L']
assert len(d) == 1 and d[0]['mode'] == 'exclusive', d
assert d[0]['holders'] == 1 and d[0]['abandoned'] is False, d
assert d[0]['owners'].startswith('$holder/glock '), d"
g list --json -o NAME,PID,COMMAND
check "list --json -o NAME,PID,COMMAND: those keys, pid a number" python3 -c "
import json
d = [l for l in json.load(open('$tmp/out'))['locks'] if l['name'] == '$L']
assert d == [{'name': '$L', 'pid': $holder, 'command': 'glock'}], d"
g list -r -n -o NAME,MODE,PID
check "list -r -n -o: raw, no headings" grep -qx "$L exclusive $holder" "$tmp/out"
check "(no heading)" bash -c "! grep -q '^NAME' $tmp/out"
g list --output-all -J
check "list --output-all: every column" python3 -c "
import json
d = json.load(open('$tmp/out'))['locks'][0]
assert {'name', 'ns', 'acquired', 'hold-max', 'dead-pid'} <= set(d), d"
g list -o +NOSUCH; check "list -o with an unknown column: exit 2" test $rc = 2

kill -TERM "$holder"
wait "$holder"
check "hold ends on SIGTERM with status 0" test $? = 0
check "a clean release leaves no abandoned mark" \
	test "$(json_field "$L" abandoned)" = false

# --- SIGKILL of a holder: abandoned --------------------------------------
"$GLOCK" hold "$L" &
holder=$!
bg+=("$holder")
wait_for "is_mode $L exclusive"
kill -KILL "$holder"
wait "$holder" 2>/dev/null
check "SIGKILL of the holder frees the lock" is_mode "$L" free
check "and leaves an abandoned mark" test "$(json_field "$L" abandoned)" = true
g list
check "list names the dead holder" grep -Eq "^$L +free +0 +0 +yes +$holder( |$)" "$tmp/out"
diag "$tmp/out"
g list -J -o NAME,ABANDONED,DEAD-PID
check "list -J: abandoned true, dead-pid a number" python3 -c "
import json
d = [l for l in json.load(open('$tmp/out'))['locks'] if l['name'] == '$L']
assert d == [{'name': '$L', 'abandoned': True, 'dead-pid': $holder}], d"
g run "$L" -t 5 -- true
check "the next run gets it (exit 0) and says abandoned" \
	bash -c "[ $rc = 0 ] && grep -q '$L: acquired, but abandoned' $tmp/err"
diag "$tmp/err"
check "the mark is delivered once" test "$(json_field "$L" abandoned)" = false

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
	check "cleanly (no abandoned mark)" test "$(json_field "$L" abandoned)" = false
else
	nok "run's child not found"
	kill -KILL "$runner"
fi

# --- SIGKILL of run: the command never runs without the lock -------------
"$GLOCK" run "$L" -- sleep 60 &
runner=$!
bg+=("$runner")
wait_for "is_mode $L exclusive"
wait_for '[ -n "$(pgrep -P $runner)" ]'
child=$(pgrep -P "$runner" | awk '{print $1}')
bg+=($child)
kill -KILL "$runner"
wait "$runner" 2>/dev/null
check "SIGKILL of run: its command still runs" kill -0 "$child"
check "and still holds the lock (it inherited the open file)" is_mode "$L" exclusive
g run "$L" -t 0 -- true; check "so nobody else gets it" test $rc = 1
kill -KILL "$child"
check "the lock is free once the command ends too" wait_for "is_mode $L free" 5
g run "$L" -t 1 -- true	# consume the abandoned mark

"$GLOCK" run -o "$L" -- sleep 60 &
runner=$!
bg+=("$runner")
wait_for "is_mode $L exclusive"
wait_for '[ -n "$(pgrep -P $runner)" ]'
child=$(pgrep -P "$runner" | awk '{print $1}')
bg+=($child)
kill -KILL "$runner"
wait "$runner" 2>/dev/null
check "SIGKILL of run -o: its command is killed with it" \
	wait_for "! kill -0 $child 2>/dev/null" 5
check "(and the lock is free)" is_mode "$L" free
g run "$L" -t 1 -- true	# consume the abandoned mark

# --- the holder's pid: one answer for root and others, text and JSON -------
bash -c 'exec 9<>/dev/glock; "$0" lock --fd 9 "$1" || exit 1; exec sleep 60' \
	"$GLOCK" "$L" &
sh_pid=$!
bg+=("$sh_pid")
wait_for "is_mode $L exclusive"
g state "$L"; cp "$tmp/out" "$tmp/state.root"
g state --json "$L"; cp "$tmp/out" "$tmp/state.json"
check "lock --fd hold: state says the locking process has exited" \
	grep -qx "$L: exclusive, held by an open file whose locking process has exited, 0 waiters" "$tmp/state.root"
diag "$tmp/state.root"
check "and --json agrees (owner_pid 0)" python3 -c "
import json; d = json.load(open('$tmp/state.json'))
assert d['owner_pid'] == 0 and d['mode'] == 'exclusive', d"
if command -v setpriv >/dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups "$GLOCK" --version >/dev/null 2>&1; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$GLOCK" state "$L" >"$tmp/state.nobody" 2>&1
	check "uid 65534 sees the same state line as root" cmp -s "$tmp/state.root" "$tmp/state.nobody"
	diag "$tmp/state.nobody"
	"$GLOCK" hold "$L-2" & h2=$!
	bg+=("$h2")
	wait_for "is_mode $L-2 exclusive"
	"$GLOCK" state "$L-2" >"$tmp/s2.root"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$GLOCK" state "$L-2" >"$tmp/s2.nobody" 2>&1
	check "a live holder: the same pid for root and uid 65534" \
		bash -c "grep -q 'held by pid $h2, glock' $tmp/s2.root && cmp -s $tmp/s2.root $tmp/s2.nobody"
	kill -TERM "$h2"; wait "$h2"
else
	ok "uid 65534 state # SKIP no setpriv, or uid 65534 cannot run $GLOCK"
fi
kill -KILL "$sh_pid"; wait "$sh_pid" 2>/dev/null
wait_for "is_mode $L free" 5
g run "$L" -t 1 -- true	# consume the abandoned mark

# --- a deadlock is "not obtained": exit 1 ----------------------------------
bash -c 'exec 9<>/dev/glock; "$0" lock --fd 9 -s "$1" || exit 3
	"$0" lock --fd 9 -x "$1" 2>"$2"; echo $?' "$GLOCK" "$L" "$tmp/dl.err" >"$tmp/dl.out"
check "EDEADLK (the other mode while holding): exit 1, says why" \
	bash -c "grep -qx 1 $tmp/dl.out && grep -q '^glock: $L: would deadlock' $tmp/dl.err"
diag "$tmp/dl.err"

# --- list -J: valid JSON for any valid name --------------------------------
long=$(printf 'n%.0s' $(seq 255))
names=("007" "12345" 'q"uo"te' 'back\slash' '\"' '{}[],:' "$long")
pids=()
for nm in "${names[@]}"; do
	"$GLOCK" hold "$nm" & pids+=($!)
done
bg+=("${pids[@]}")
for nm in "${names[@]}"; do
	wait_for "is_mode '$nm' exclusive" || nok "hold $nm"
done
g list -J
check "list -J is valid JSON (python3 -m json.tool)" python3 -m json.tool "$tmp/out" /dev/null
printf '%s\n' "${names[@]}" >"$tmp/names"
check "every name comes back as the same JSON string" python3 -c "
import json
want = open('$tmp/names').read().split('\n')[:-1]
got = [l['name'] for l in json.load(open('$tmp/out'))['locks']]
assert all(type(n) is str for n in got), got
missing = [n for n in want if n not in got]
assert not missing, missing"
g list
check "the table keeps its columns with a 255-byte name" python3 -c "
lines = open('$tmp/out').read().splitlines()
head = lines[0]; col = head.index('MODE')
rows = [l for l in lines[1:] if l.split()[0] in open('$tmp/names').read().split()]
assert rows and all(l[col:].split()[0] == 'exclusive' for l in rows), lines"
kill -TERM "${pids[@]}"; wait "${pids[@]}"

# --- bash completion -------------------------------------------------------
comp=$here/../lib/completion/glock
"$GLOCK" hold "$L" & h=$!
bg+=("$h")
wait_for "is_mode $L exclusive"
PATH=$(dirname "$GLOCK"):$PATH bash -c '
	source "$0"
	c() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _glock; echo "${COMPREPLY[*]}"; }
	c glock st
	c glock list --out
	c glock state "${1:0:8}"
	c glock run --w' "$comp" "$L" >"$tmp/comp" 2>&1
kill -TERM "$h"; wait "$h"
check "completion: subcommands, options, held names" bash -c "
	[ \"\$(sed -n 1p $tmp/comp)\" = state ] &&
	sed -n 2p $tmp/comp | grep -q -- --output-all &&
	sed -n 3p $tmp/comp | grep -qw -- '$L' &&
	sed -n 4p $tmp/comp | grep -q -- --wait"
diag "$tmp/comp"

# --- without the module -----------------------------------------------------
if command -v unshare >/dev/null; then
	unshare -m sh -c 'mount -t tmpfs none /dev && mount -t tmpfs none /sys/module &&
		mount -t tmpfs none /sys/kernel/debug && exec "$0" list' "$GLOCK" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	check "list without the module: exit 2, says it is not loaded" \
		bash -c "[ $rc = 2 ] && grep -q 'module is not loaded' $tmp/err"
	diag "$tmp/err"
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
	test "$(json_field "$L" abandoned)" = true
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
# Every event of a burst of 100 short holds, from the tracepoints.
timeout --preserve-status -s INT 120 "$GLOCK" trace "$L" >"$tmp/trace" 2>"$tmp/trace.err" &
tracer=$!
bg+=("$tracer")
wait_for "grep -q tracing $tmp/trace.err"
# (one process taking and releasing it 100 times: fast even under TCG)
PYTHONPATH=$here/../lib/python python3 -c '
import glock, os, sys
lk = glock.Lock(sys.argv[1])
for i in range(100):
    lk.acquire()
    lk.release()
print(os.getpid())' "$L" >"$tmp/burst.pid"
"$GLOCK" run "$L-other" -- true
kill -INT "$tracer"
wait "$tracer"
check "trace exits 0 on SIGINT" test $? = 0
check "trace shows all 100 acquires and 100 releases, of NAME only" python3 -c "
ev = [l.split() for l in open('$tmp/trace')]
acq = [e for e in ev if e[1] == 'acquire' and e[2] == '$L']
rel = [e for e in ev if e[1] == 'release' and e[2] == '$L']
assert len(acq) == 100 and len(rel) == 100, (len(acq), len(rel))
assert all(e[2] == '$L' for e in ev), 'other locks shown'
assert acq[0][3] == 'mode=exclusive' and acq[0][4] == 'depth=1', acq[0]
assert rel[0][4] == 'depth=0', rel[0]
pid = 'pid=' + open('$tmp/burst.pid').read().strip()
assert all(e[6] == pid for e in acq + rel), (pid, acq[0])"
head -4 "$tmp/trace" | diag
cat "$tmp/trace.err" | diag
tracefs=/sys/kernel/tracing
[ -d $tracefs/instances ] || tracefs=/sys/kernel/debug/tracing
check "trace removed its tracefs instance" \
	bash -c "! ls $tracefs/instances | grep -q glock-trace"

timeout --preserve-status -s INT 60 "$GLOCK" trace >"$tmp/trace2" 2>"$tmp/trace2.err" &
tracer=$!
bg+=("$tracer")
wait_for "grep -q tracing $tmp/trace2.err"
"$GLOCK" hold "$L" & h=$!
wait_for "is_mode $L exclusive"
"$GLOCK" run "$L" -t 20 -- true & r=$!
bg+=("$h" "$r")
wait_for '[ "$(json_field "$L" waiters)" = 1 ]'
kill -TERM "$h"
wait "$h" "$r"
"$GLOCK" run "$L" -t 0.1 -- true	# free: no timeout
kill -INT "$tracer"
wait "$tracer"
check "trace (every lock) shows contended and the hand-off" python3 -c "
ev = [l.split()[1] for l in open('$tmp/trace2') if l.split()[2] == '$L']
assert ev.count('acquire') == 3 and ev.count('release') == 3, ev
assert 'contended' in ev, ev"
diag "$tmp/trace2"

timeout --preserve-status -s INT 8 "$GLOCK" trace --poll "$L" -u 0.05 >"$tmp/trace3" 2>&1 &
tracer=$!
bg+=("$tracer")
wait_for "[ -s $tmp/trace3 ]"	# its first line (free) is out
"$GLOCK" hold "$L" -d 0.6
wait "$tracer"
check "trace --poll NAME printed free -> exclusive -> free" python3 -c "
lines = [l.split(' ', 1)[1] for l in open('$tmp/trace3').read().splitlines()]
kinds = [l.split(': ')[1].split(',')[0] for l in lines]
assert kinds == ['free', 'exclusive', 'free'], lines"
diag "$tmp/trace3"

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
	site=$(ls -d "$dest"/usr/local/lib/python3*/*-packages)
	check "the installed Python package imports (glock, global_lock)" env \
		PYTHONPATH="$site" python3 -c "import glock.compat, global_lock
assert glock.__file__.startswith('$dest') and global_lock.global_lock"
	check "with its metadata (linux-glock) and the global_lock command" \
		bash -c "ls -d $site/linux_glock-*.dist-info >/dev/null &&
			PYTHONPATH=$site $dest/usr/local/bin/global_lock $L state | grep -q 'is currently unlocked'"
else
	ok "make install # SKIP no cc/pkg-config, or lib/ not built"
fi

check "nothing left held" is_mode "$L" free
finish
