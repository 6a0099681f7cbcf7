# SPDX-License-Identifier: LGPL-2.1-or-later
"""python3 -m glock: the state of named locks, from Python.

    python3 -m glock state NAME [--json]
    python3 -m glock run NAME [-w SECONDS] [-s] -- COMMAND...
"""

import argparse
import json
import subprocess
import sys

from . import Lock, state, GlockError, __version__


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="python3 -m glock",
        description="Named locks of /dev/glock (the Python binding's own "
        "small CLI; the full one is glock(1)).")
    p.add_argument("-V", "--version", action="version",
                   version="glock (Python) " + __version__)
    sub = p.add_subparsers(dest="cmd", required=True)
    st = sub.add_parser("state", help="show one lock")
    st.add_argument("name")
    st.add_argument("-J", "--json", action="store_true")
    run = sub.add_parser("run", help="run a command holding a lock")
    run.add_argument("-w", "--timeout", type=float, default=None,
                     help="give up after SECONDS (default: wait)")
    run.add_argument("-n", "--nonblock", action="store_true")
    run.add_argument("-s", "--shared", action="store_true")
    run.add_argument("name")
    run.add_argument("command", nargs=argparse.REMAINDER)
    a = p.parse_args(argv)
    try:
        if a.cmd == "state":
            s = state(a.name)
            if a.json:
                print(json.dumps(s._asdict()))
            else:
                print("%s: %s, holders=%d waiters=%d owner_pid=%d%s" % (
                    s.name, s.mode, s.holders, s.waiters, s.owner_pid,
                    ", abandoned mark pending" if s.abandoned else ""))
            return 0
        cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
        if not cmd:
            p.error("run: missing command")
        lk = Lock(a.name, shared=a.shared)
        timeout = 0 if a.nonblock else a.timeout
        if not lk.acquire(timeout=timeout):
            print("glock: %s: not obtained" % a.name, file=sys.stderr)
            return 1
        try:
            return subprocess.call(cmd)
        finally:
            lk.release()
            lk.close()
    except GlockError as e:
        print("glock: %s: %s" % (e.filename or a.name, e.strerror),
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
