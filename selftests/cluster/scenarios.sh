#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The two-node scenarios, run on node 2 ("B") by node.sh; node 1 ("A")
# runs what remote() hands it. Prints TAP-like "ok -"/"not ok -" lines and
# writes $S/counts (passed, failed, done) and $S/figures.
# Environment from node.sh: S (shared dir), repo.
set -uo pipefail

H=$repo/selftests/cluster_helper
ROUNDS=${CLUSTER_ROUNDS:-1000}
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; counts 0; }
nok() { failed=$((failed + 1)); echo "not ok - $*"; counts 0; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else nok "$what"; fi; }
counts() {
	printf 'passed=%d\nfailed=%d\ndone=%d\n' "$passed" "$failed" "$1" >"$S/counts.tmp" &&
		mv "$S/counts.tmp" "$S/counts"
}
figure() { echo "$*" >>"$S/figures"; echo "# figure: $*"; }
log() { echo "# B $(cut -d' ' -f1 /proc/uptime): $*"; }

# remote CMD...: have A run CMD (bash; 'exec' it to get its pid); R=its id.
rn=0
remote() {
	R=$rn
	rn=$((rn + 1))
	printf '%s\n' "$*" >"$S/cmd.1.$R.tmp" && mv "$S/cmd.1.$R.tmp" "$S/cmd.1.$R"
}
# rwait ID [SECONDS]: wait for A's command ID; its output on stdout.
rwait() {
	local i rc
	for ((i = 0; i < ${2:-120} * 10; i++)); do
		if [ -f "$S/rc.1.$1" ]; then
			cat "$S/out.1.$1"
			read -r rc <"$S/rc.1.$1"
			return "$rc"
		fi
		snooze 0.1
	done
	echo "# remote command $1 did not finish"
	return 124
}
# rgrep ID PATTERN [SECONDS]: wait until A's command ID printed PATTERN.
rgrep() {
	local i text
	for ((i = 0; i < ${3:-60} * 10; i++)); do
		text=
		[ -f "$S/out.1.$1" ] && read -r -d '' text <"$S/out.1.$1"
		[[ $text == *"$2"* ]] && return 0
		snooze 0.1
	done
	return 1
}
# poll SECONDS CMD...: until CMD succeeds.
poll() {
	local i t=$1
	shift
	for ((i = 0; i < t * 10; i++)); do
		"$@" && return 0
		snooze 0.1
	done
	return 1
}
rpid() { cat "$S/pid.1.$1"; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" | head -n 1; }

# ---- basics on B alone
out=$($H lock cluster:smoke -H 0)
check "B takes and releases a cluster: lock ($out)" grep -q 'rc=0 .*result=0 depth=1' <<<"$out"
out=$(python3 -c 'import sys; sys.path.insert(0, "'"$repo"'/lib/python")
import glock
with glock.Lock("cluster:py", timeout=5) as lk:
    print("python held", lk.depth)' 2>&1)
check "Python glock.Lock(\"cluster:py\") works by name ($out)" grep -q 'python held 1' <<<"$out"
out=$("$repo/lib/glock" run cluster:cli -- echo cli-ran 2>&1)
check "glock run cluster:cli ($out)" grep -q cli-ran <<<"$out"

out=$("$repo/lib/glock" cluster status 2>&1)
check "glock cluster status: up, members 1 and 2 ($(tr '\n' ' ' <<<"$out"))" \
	eval 'grep -q "^state: up" <<<"$out" && grep -q "^members: 1 2" <<<"$out"'

# ---- exclusion both ways: a counter in a shared file
echo 0 >"$S/counter"
t0=$(date +%s.%N)
remote "exec $H count cluster:counter $S/counter $ROUNDS"
$H count cluster:counter "$S/counter" "$ROUNDS"
rwait "$R" 1800 >/dev/null
t1=$(date +%s.%N)
v=$(cat "$S/counter")
check "exclusion: 2 x $ROUNDS increments under cluster:counter give $v" [ "$v" = $((2 * ROUNDS)) ]
figure "exclusion_rounds=$((2 * ROUNDS)) exclusion_s=$(echo "$t1 - $t0" | bc)"
# The negative control: the same without the lock must lose updates.
echo 0 >"$S/counter2"
remote "exec $H count cluster:nolock $S/counter2 300 -n"
$H count cluster:nolock "$S/counter2" 300 -n
rwait "$R" 600 >/dev/null
v=$(cat "$S/counter2")
check "negative control: without the lock 2 x 300 increments give $v < 600" [ "$v" -lt 600 ]

# ---- shared with shared; try; timeout
remote "exec $H lock cluster:sh -s -H 6000"
rgrep "$R" 'rc=0' 60
out=$($H lock cluster:sh -s -t 3000 -H 0)
check "shared on A and shared on B at once ($out)" grep -q 'rc=0' <<<"$out"
out=$($H lock cluster:sh -t 0)
check "exclusive try on B while A holds shared: EAGAIN ($out)" grep -q 'errno=EAGAIN' <<<"$out"
rwait "$R" 60 >/dev/null

remote "exec $H lock cluster:ex -H -1"
rh=$R
rgrep "$rh" 'rc=0' 60
out=$($H state cluster:ex)
check "STATE on B: held exclusive on another node, from the LVB ($out)" \
	grep -q 'mode=1 holders=1 waiters=0 depth=0 owner_pid=0 result=0' <<<"$out"
out=$($H lock cluster:ex -t 0)
check "try on B while A holds: EAGAIN ($out)" grep -q 'errno=EAGAIN' <<<"$out"
out=$($H lock cluster:ex -s -t 0)
check "shared try on B while A holds exclusive: EAGAIN ($out)" grep -q 'errno=EAGAIN' <<<"$out"
out=$($H lock cluster:ex -t 1500)
ms=$(field ms <<<"$out")
check "timeout 1.5 s on B while A holds: ETIMEDOUT after ${ms} ms ($out)" \
	eval 'grep -q "errno=ETIMEDOUT" <<<"$out" && [ "$ms" -ge 1490 ] && [ "$ms" -lt 6000 ]'
out=$($H state cluster:ex)
check "STATE on B after the timeout: no waiter left, still held on A ($out)" \
	grep -q 'mode=1 holders=1 waiters=0 depth=0 owner_pid=0' <<<"$out"
nothing_left() { ! grep -q "name=cluster:ex " /sys/kernel/debug/glock_dlm/locks; }
check "debugfs on B after the timeout: nothing left" nothing_left

# ---- holder SIGKILL on A: B gets it, abandoned
$H lock cluster:ex -H 8000 >"$S/b.kill" 2>&1 &
bp=$!
waiting() { grep -q 'name=cluster:ex node=2 .*state=waiting' /sys/kernel/debug/glock_dlm/locks; }
poll 60 waiting
check "debugfs lists B's waiting request ($(grep 'cluster:ex' /sys/kernel/debug/glock_dlm/locks | head -1))" waiting
remote "exec kill -KILL $(rpid "$rh")"
rwait "$R" 30 >/dev/null
held() { grep -q 'name=cluster:ex node=2 .*mode=exclusive state=held' /sys/kernel/debug/glock_dlm/locks; }
poll 60 held
check "debugfs: B holds it, node=2 ($(grep 'cluster:ex' /sys/kernel/debug/glock_dlm/locks | head -1))" held
wait "$bp"
out=$(cat "$S/b.kill")
check "A's holder SIGKILLed: B granted with GLOCK_R_ABANDONED ($out)" grep -q 'rc=0 .*result=1 ' <<<"$out"
out=$($H lock cluster:ex -H 0)
check "after B's clean release the notice is gone ($out)" grep -q 'rc=0 .*result=0 ' <<<"$out"
remote "exec $H lock cluster:ex -t 5000 -H 0"
out=$(rwait "$R" 60)
check "and A takes it again, no notice ($out)" grep -q 'rc=0 .*result=0 ' <<<"$out"

# ---- holder SIGKILL on A with nobody waiting: the notice waits in the LVB
remote "exec $H lock cluster:idle -H -1"
rgrep "$R" 'rc=0' 60
remote "exec kill -KILL $(rpid "$R")"
rwait "$R" 30 >/dev/null
remote "grep 'name=cluster:idle ' /sys/kernel/debug/glock_dlm/locks"
out=$(rwait "$R" 30)
check "A keeps an NL mark for the notice ($out)" grep -q 'state=mark' <<<"$out"
out=$($H state cluster:idle)
check "STATE on B after A's holder died alone: free, abandoned pending ($out)" \
	grep -q 'mode=0 holders=0 .*result=1' <<<"$out"
out=$($H lock cluster:idle -t 5000 -H 0)
check "B takes it later: GLOCK_R_ABANDONED ($out)" grep -q 'rc=0 .*result=1 ' <<<"$out"

# ---- FIFO of waiters over two nodes: each request is queued at the
# master (its conversion is out: debugfs state=waiting) before the next
# one is made, on the other node.
rm -f "$S/fifo" "$S/fifo.go"
fifo_waiting() {	# fifo_waiting local|remote N
	local n
	if [ "$1" = local ]; then
		n=$(grep -c 'name=cluster:fifo .*state=waiting' /sys/kernel/debug/glock_dlm/locks)
	else
		remote "grep -c 'name=cluster:fifo .*state=waiting' /sys/kernel/debug/glock_dlm/locks"
		n=$(rwait "$R" 30)
	fi
	[ "$n" = "$2" ]
}
remote "exec $H lock cluster:fifo -W $S/fifo.go -a $S/fifo -T A0"
rf=$R
rgrep "$rf" 'rc=0' 60
$H lock cluster:fifo -H 300 -a "$S/fifo" -T B1 >/dev/null &
p1=$!
poll 60 fifo_waiting local 1
remote "exec $H lock cluster:fifo -H 300 -a $S/fifo -T A2"
r2=$R
poll 60 fifo_waiting remote 1
$H lock cluster:fifo -H 300 -a "$S/fifo" -T B3 >/dev/null &
p3=$!
poll 60 fifo_waiting local 2
remote "exec $H lock cluster:fifo -H 300 -a $S/fifo -T A4"
r4=$R
poll 60 fifo_waiting remote 2
touch "$S/fifo.go"
wait "$p1" "$p3"
rwait "$rf" 60 >/dev/null
rwait "$r2" 60 >/dev/null
rwait "$r4" 60 >/dev/null
order=$(tr '\n' ' ' <"$S/fifo")
check "FIFO over two nodes: grants in arrival order ($order)" [ "$order" = "A0 B1 A2 B3 A4 " ]

# ---- cost: glock against raw dlm_lock, resource mastered here and there
B=/sys/kernel/debug/glock_dlm/bench
echo "hold g:benchL" >"$B"
remote "echo 'hold g:benchR' > $B"
rwait "$R" 60 >/dev/null
out=$($H bench cluster:benchL 500)
gl=$(field ns_per_round <<<"$out")
echo "run g:benchL 500" >"$B"
rl=$(field ns_per_round <"$B")
out=$($H bench cluster:benchR 100)
gr=$(field ns_per_round <<<"$out")
echo "run g:benchR 100" >"$B"
rr=$(field ns_per_round <"$B")
figure "cost_local_master glock_ns=$gl raw_dlm_ns=$rl"
figure "cost_remote_master glock_ns=$gr raw_dlm_ns=$rr"
check "cost measured (local $gl/$rl ns, remote $gr/$rr ns)" [ -n "$gl" ] && [ -n "$rl" ] && [ -n "$gr" ] && [ -n "$rr" ]

# ---- node A reset while holding: B gets it, abandoned
remote "exec $H lock cluster:crash -H -1"
rgrep "$R" 'rc=0' 60
$H lock cluster:crash -H 0 >"$S/b.crash" 2>&1 &
bp=$!
sleep 1
log "resetting A"
remote "echo b > /proc/sysrq-trigger"
t0=$(date +%s.%N)
for ((i = 0; i < 1800; i++)); do
	kill -0 "$bp" 2>/dev/null || break
	snooze 0.1
done
t1=$(date +%s.%N)
kill "$bp" 2>/dev/null
wait "$bp"
out=$(cat "$S/b.crash")
secs=$(echo "$t1 - $t0" | bc)
figure "crash_to_grant_s=$secs token_ms=$(sed -n 's/.*token: *\([0-9]*\).*/\1/p' /etc/corosync/corosync.conf)"
check "A reset: B granted with GLOCK_R_ABANDONED after $secs s ($out)" grep -q 'rc=0 .*result=1 ' <<<"$out"
check "lockspace up again on B ($(cat /sys/kernel/debug/glock_dlm/status))" \
	grep -q 'state=up .*last_failed=1' /sys/kernel/debug/glock_dlm/status
out=$($H lock cluster:after -t 5000 -H 0)
check "B locks after the recovery ($out)" grep -q 'rc=0' <<<"$out"
touch "$S/stop"

# ---- clean unload, clean log
out=$(rmmod glock_dlm 2>&1)
check "rmmod glock_dlm after all that ($out)" [ ! -d /sys/module/glock_dlm ]
rmmod glock
bad=$(dmesg | grep -E 'WARNING:|BUG:|Oops|general protection|Call Trace|KASAN|UBSAN' )
check "B's kernel log has no splat" [ -z "$bad" ]
[ -z "$bad" ] || printf '# %s\n' "$bad"

counts 1
echo "# B: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
