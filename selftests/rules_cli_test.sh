#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# glock rules load|show|clear and the Python binding's rules, against the
# real module: a whole file or nothing, line numbers in errors, show prints
# what load accepts, and the rules then decide for uid 65534. Prints TAP.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tap.sh
. "$here/tap.sh"
GLOCK=${GLOCK:-$here/../lib/glock}
PY=$here/../lib/python
tmp=$(mktemp -d /tmp/rules_cli_test.XXXXXX)
chmod 0755 "$tmp"

cleanup() {
	"$GLOCK" rules clear >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT

g() {
	timeout -k 5 $(( 30 * ${GLOCK_TIME_SCALE:-1} )) "$GLOCK" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}
# as_nobody CMD...: run as uid/gid 65534 without supplementary groups.
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }

if [ ! -e /dev/glock ] || [ ! -x "$GLOCK" ]; then
	echo "ok 1 # SKIP /dev/glock or $GLOCK missing"; echo "1..1"
	exit 0
fi
echo "TAP version 13"
L=rules-$$

g rules clear
check "rules clear as root: exit 0" [ "$rc" = 0 ]

cat >"$tmp/good" <<EOT
# a comment, then blank lines

$L-i2c-*   root   0   0660    # trailing comment
$L-exact   65534  nogroup  0640
EOT
g rules load "$tmp/good"
check "rules load of a good file: exit 0" [ "$rc" = 0 ]
g rules show -n
check "rules show lists both rules in order" \
	grep -qzE "$L-i2c-\*[[:space:]]+0[[:space:]]+0[[:space:]]+0660.*$L-exact[[:space:]]+65534[[:space:]]+65534[[:space:]]+0640" "$tmp/out"

# show's output is a file load accepts, and loads to the same table.
cp "$tmp/out" "$tmp/shown"
g rules load "$tmp/shown"
check "show's output loads back" [ "$rc" = 0 ]
g rules show -n
check "and gives the same table" cmp -s "$tmp/out" "$tmp/shown"

# A bad line anywhere: exit 2, a line number, nothing applied.
printf '%s\n' "$L-new root 0 0600" "$L-bad root 0 0755" >"$tmp/bad"
g rules load "$tmp/bad"
check "x bits refused: exit 2" [ "$rc" = 2 ]
check "the message names line 2" grep -q "line 2" "$tmp/err"
g rules show -n
check "nothing of the bad file applied" cmp -s "$tmp/out" "$tmp/shown"
for bad in "$L-x nosuchuser 0 0600" "$L-x root nosuchgroup 0600" \
	   "$L-x root 0" "$L-x root 0 0600 extra" "$L-x root 0 999"; do
	printf '%s\n' "$bad" >"$tmp/bad1"
	g rules load "$tmp/bad1"
	check "refused: '$bad'" [ "$rc" = 2 ] && grep -q "line 1" "$tmp/err"
done
g rules load "$tmp/nonexistent"
check "a missing file: exit 2" [ "$rc" = 2 ]

# The rules decide: uid 65534 may not take $L-i2c-1, root may.
as_nobody "$GLOCK" run -n "$L-i2c-1" true >"$tmp/out" 2>"$tmp/err"
rc=$?
check "uid 65534 denied $L-i2c-1: exit 2" [ "$rc" = 2 ]
check "with a permission message" grep -qi "permission\|denied\|access" "$tmp/err"
as_nobody "$GLOCK" run -n "$L-open" true
check "uid 65534 takes an unruled name" [ $? = 0 ]
g run -n "$L-i2c-1" true
check "root takes $L-i2c-1" [ "$rc" = 0 ]

# Only CAP_SYS_ADMIN loads or clears; anyone may show.
as_nobody "$GLOCK" rules clear >"$tmp/out" 2>"$tmp/err"
check "uid 65534 cannot clear: exit 2" [ $? = 2 ]
check "saying CAP_SYS_ADMIN" grep -q CAP_SYS_ADMIN "$tmp/err"
as_nobody "$GLOCK" rules show -n >"$tmp/out" 2>&1
check "uid 65534 may show" grep -q "$L-exact" "$tmp/out"

# The shipped example loads (the i2c group comes with i2c-tools).
if getent group i2c >/dev/null; then
	g rules load "$here/../lib/etc/rules"
	check "the shipped /etc/glock/rules example loads" [ "$rc" = 0 ]
else
	nok "the shipped example needs group i2c (i2c-tools is installed by deps.sh)"
fi

# Python: parse, load, get, clear.
out=$(PYTHONPATH=$PY python3 - "$tmp/good" <<'EOT' 2>&1
import sys
from glock import rules
r = rules.load(sys.argv[1])
got = rules.get()
assert got == r, (got, r)
try:
    rules.parse("x root 0 0755\n")
except rules.RulesError as e:
    assert "line 1" in str(e), e
else:
    raise SystemExit("bad mode accepted")
rules.clear()
assert rules.get() == []
print("py-ok", len(r))
EOT
)
check "python: load, get, parse errors, clear ($out)" [ "$out" = "py-ok 2" ]

g rules clear
check "cleared at the end" [ "$rc" = 0 ]
finish
