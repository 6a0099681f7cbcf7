#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The glock Python package against the real module: Lock, errors, the
abandoned flag, and glock.compat.global_lock case by case. Prints TAP."""

import errno
import io
import os
import signal
import subprocess
import sys
import time
import traceback
from contextlib import redirect_stdout

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib", "python"))

import glock                                    # noqa: E402
from glock.compat import global_lock            # noqa: E402

PY = sys.executable
ENV = dict(os.environ, PYTHONPATH=os.path.join(HERE, "..", "lib", "python"))
NAME = "pytest-%d" % os.getpid()
# A debug kernel runs several times slower: process time limits scale.
SCALE = int(os.environ.get("GLOCK_TIME_SCALE", "1"))
tests = []
children = []


def test(fn):
    tests.append(fn)
    return fn


def wait_for(cond, limit=10.0 * SCALE):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.02)
    return False


def spawn_holder(name, code="", shared=False):
    """A child process that takes `name`, prints 'held', then sleeps."""
    src = ("import glock, sys, time\n"
           "lk = glock.Lock(%r, shared=%r)\n"
           "lk.acquire()\n%s\n"
           "print('held', flush=True)\n"
           "time.sleep(60)\n" % (name, shared, code))
    p = subprocess.Popen([PY, "-c", src], env=ENV, stdout=subprocess.PIPE)
    children.append(p)
    line = p.stdout.readline()
    assert line.strip() == b"held", line
    return p


def kill9(p):
    p.kill()
    p.wait(timeout=10 * SCALE)


@test
def context_manager():
    with glock.Lock(NAME) as lk:
        st = lk.state()
        assert st.mode == "exclusive" and st.depth == 1, st
        assert st.owner_pid == os.getpid(), st
        assert lk.locked() and lk.held()
        assert lk.abandoned is False
    assert glock.state(NAME).mode == "free"
    lk.close()


@test
def recursion_and_release_errors():
    lk = glock.Lock(NAME)
    assert lk.acquire() and lk.acquire() and lk.depth == 2
    lk.release()
    assert lk.depth == 1
    lk.release()
    assert lk.depth == 0
    try:
        lk.release()
    except glock.NotHeld as e:
        assert e.errno == errno.EPERM and isinstance(e, PermissionError)
    else:
        raise AssertionError("release of nothing did not raise")
    lk.close()


@test
def timeout_returns_false_within_tolerance():
    p = spawn_holder(NAME)
    lk = glock.Lock(NAME)
    t0 = time.monotonic()
    assert lk.acquire(timeout=0.3) is False
    dt = time.monotonic() - t0
    assert 0.3 <= dt < 10.0, dt
    assert lk.acquire(timeout=0) is False
    assert lk.acquire(blocking=False) is False
    kill9(p)
    lk.close()
    with glock.Lock(NAME, timeout=5) as lk:    # consume the abandoned mark
        assert lk.abandoned


@test
def context_manager_raises_timeouterror():
    p = spawn_holder(NAME)
    t0 = time.monotonic()
    try:
        with glock.Lock(NAME, timeout=0.2):
            raise AssertionError("got a held lock")
    except TimeoutError as e:
        assert isinstance(e, glock.LockTimeout) and isinstance(e, OSError)
        assert e.errno == errno.ETIMEDOUT, e
        assert e.filename == NAME
    dt = time.monotonic() - t0
    assert 0.2 <= dt < 10.0, dt
    try:
        with glock.Lock(NAME, timeout=0):
            raise AssertionError("got a held lock")
    except glock.LockBusy as e:
        assert e.errno == errno.EAGAIN and isinstance(e, glock.NotAcquired)
    p.terminate()       # SIGTERM: Python dies, the kernel releases
    p.wait(timeout=10 * SCALE)
    with glock.Lock(NAME, timeout=5):
        pass


@test
def abandoned_after_sigkill():
    p = spawn_holder(NAME)
    assert glock.state(NAME).owner_pid == p.pid
    kill9(p)
    st = glock.state(NAME)
    assert st.mode == "free" and st.abandoned, st
    t0 = time.monotonic()
    with glock.Lock(NAME, timeout=5) as lk:
        assert lk.abandoned is True
    assert time.monotonic() - t0 < 5.0
    with glock.Lock(NAME, timeout=5) as lk:
        assert lk.abandoned is False, "the mark was delivered twice"


@test
def shared_locks_coexist():
    a = glock.Lock(NAME, shared=True)
    b = glock.Lock(NAME, shared=True)
    x = glock.Lock(NAME)
    assert a.acquire(0) and b.acquire(0)
    st = a.state()
    assert st.mode == "shared" and st.holders == 2, st
    assert x.acquire(0) is False
    a.release()
    b.release()
    assert x.acquire(0)
    x.release()
    for lk in (a, b, x):
        lk.close()


@test
def errors_map_to_exceptions():
    for bad in ("", "a b", "x" * 256, "caf\u00e9"):
        try:
            glock.Lock(bad)
        except glock.InvalidArgument as e:
            assert e.errno == errno.EINVAL and isinstance(e, ValueError)
        else:
            raise AssertionError("accepted %r" % bad)
    lk = glock.Lock(NAME, shared=True)
    lk.acquire()
    lk.mode = glock.EXCLUSIVE          # ask the other mode while holding
    try:
        lk.acquire()
    except glock.Deadlock as e:
        assert e.errno == errno.EDEADLK
    else:
        raise AssertionError("mode change allowed")
    lk.mode = glock.SHARED
    lk.release()
    lk.close()
    e = glock.error_from_errno(errno.ETIMEDOUT, "n")
    assert type(e) is glock.LockTimeout and e.errno == errno.ETIMEDOUT
    e = glock.error_from_errno(errno.EIO, "n")
    assert type(e) is glock.GlockError and e.errno == errno.EIO
    try:
        glock.Lock(NAME, device="/nonexistent/glock")
    except glock.DeviceMissing as e:
        assert e.errno == errno.ENOENT and "glock.ko" in e.strerror
    else:
        raise AssertionError("no DeviceMissing")


def quiet(fn, *args):
    buf = io.StringIO()
    with redirect_stdout(buf):
        r = fn(*args)
    return r, buf.getvalue()


@test
def compat_api_case_by_case():
    a = global_lock(NAME)
    b = global_lock("/" + NAME)             # the POSIX '/' is optional
    assert a.lockname == "/" + NAME and b.lockname == "/" + NAME
    assert a.is_locked() is False and a.lock_value() == 1
    assert a.get_lock() is True              # default: wait forever
    assert a.is_locked() is True and a.lock_value() == 0
    assert b.is_locked() is True and b.lock_value() == 0
    t0 = time.monotonic()
    assert b.get_lock(0.3) is False          # timeout in seconds
    assert 0.3 <= time.monotonic() - t0 < 10.0
    assert b.get_lock(0) is False
    # Only the holder can unget: b's unget is extraneous and changes nothing.
    assert b.unget_lock() is False
    assert a.is_locked() is True
    # Within one handle the lock is not recursive (as the semaphore).
    t0 = time.monotonic()
    assert a.get_lock(0.2) is False
    assert time.monotonic() - t0 >= 0.2
    assert a.unget_lock() is True
    assert a.unget_lock() is False          # extraneous
    assert a.is_locked() is False and a.lock_value() == 1
    assert b.get_lock(1) is True and b.unget_lock() is True
    a.close()
    b.close()


@test
def compat_debug_messages():
    a = global_lock(NAME, debug=True)
    r, out = quiet(a.get_lock, 1)
    assert r is True and out == "<%s> lock request successful (0)\n" % a.lockname, out
    r, out = quiet(a.is_locked)
    assert r is True and out == "<%s> is currently locked (0)\n" % a.lockname, out
    b = global_lock(NAME, debug=True)
    r, out = quiet(b.get_lock, 0.1)
    assert r is False and out == "<%s> lock request timed out  (0)\n" % b.lockname, out
    r, out = quiet(b.unget_lock)
    assert r is False and out == "<%s> Extraneous unget, ignored (0)\n" % b.lockname, out
    r, out = quiet(a.unget_lock)
    assert r is True and out == "<%s> lock released (1)\n" % a.lockname, out
    r, out = quiet(a.is_locked)
    assert r is False and out == "<%s> is currently unlocked (1)\n" % a.lockname, out
    r, out = quiet(a.unget_lock)
    assert r is False and "Extraneous unget, ignored" in out, out
    silent = global_lock(NAME)
    r, out = quiet(silent.get_lock, 1)
    assert r is True and out == "", out
    quiet(silent.unget_lock)
    for h in (a, b, silent):
        h.close()


@test
def compat_threads_share_a_handle():
    import threading
    h = global_lock(NAME)
    assert h.get_lock(1)
    got = []
    t = threading.Thread(target=lambda: got.append(h.get_lock(5)))
    t.start()
    time.sleep(0.3)
    assert got == [], "a second thread got a held handle"
    assert h.unget_lock() is True
    t.join(10)
    assert got == [True], got
    assert h.unget_lock() is True       # any thread may unget, as before
    h.close()


@test
def compat_crash_case():
    """The old tool's failure: the holder dies, the lock stays taken until
    someone runs 'unget' by hand. Here the next get_lock succeeds at once."""
    src = ("from glock.compat import global_lock\nimport time\n"
           "l = global_lock(%r)\nassert l.get_lock(1)\n"
           "print('held', flush=True)\ntime.sleep(60)\n" % NAME)
    p = subprocess.Popen([PY, "-c", src], env=ENV, stdout=subprocess.PIPE)
    children.append(p)
    assert p.stdout.readline().strip() == b"held"
    h = global_lock(NAME)
    assert h.is_locked() is True
    assert h.get_lock(0.1) is False
    kill9(p)                                # crash while holding
    assert h.is_locked() is False, "still locked after the holder died"
    t0 = time.monotonic()
    assert h.get_lock(1) is True
    assert time.monotonic() - t0 < 5.0
    assert h.abandoned is True
    assert h.unget_lock() is True
    h.close()


@test
def compat_cli_verbs():
    def cli(*args, timeout=20 * SCALE):
        return subprocess.run([PY, "-m", "glock.compat", NAME] + list(args),
                              env=ENV, capture_output=True, text=True,
                              timeout=timeout)
    r = cli("state")
    assert r.returncode == 0 and "is currently unlocked (1)" in r.stdout, r
    r = cli("get", "-a", "0.2")
    assert r.returncode == 0 and "lock request successful" in r.stdout, r
    assert "Release lock after <0.2> sec delay" in r.stdout, r
    assert "lock released" in r.stdout, r
    r = cli("get", "-a")
    assert r.returncode == 0 and "lock released" in r.stdout, r
    # get without -a holds until SIGTERM/Ctrl-C
    p = subprocess.Popen([PY, "-m", "glock.compat", NAME, "get"], env=ENV,
                         stdout=subprocess.PIPE, text=True)
    children.append(p)
    assert "lock request successful" in p.stdout.readline()
    assert wait_for(lambda: glock.state(NAME).mode == "exclusive")
    r = cli("state")
    assert "is currently locked (0)" in r.stdout, r
    r = cli("get", "-t", "0.2")
    assert r.returncode == 1 and "lock request timed out" in r.stdout, r
    r = cli("unget")
    assert "Extraneous unget, ignored" in r.stdout, r
    assert "only the holder can unget" in r.stderr, r
    assert glock.state(NAME).mode == "exclusive"
    p.send_signal(signal.SIGINT)
    assert p.wait(timeout=10 * SCALE) == 0
    st = glock.state(NAME)
    assert st.mode == "free" and not st.abandoned, st
    tr = subprocess.Popen([PY, "-m", "glock.compat", NAME, "trace", "-u",
                           "0.1"], env=ENV, stdout=subprocess.PIPE, text=True)
    children.append(tr)
    lines = [tr.stdout.readline() for _ in range(3)]    # bounded by alarm()
    assert all("is currently unlocked (1)" in l for l in lines), lines
    tr.send_signal(signal.SIGINT)
    tr.communicate(timeout=10 * SCALE)
    assert tr.returncode == 0, tr.returncode
    r = cli("get", "--debug", "-a", "0")
    assert r.returncode == 0 and "glock.compat DEBUG" in r.stderr, r


@test
def acquire_has_threading_lock_signature():
    """acquire(blocking=True, timeout=-1), as threading.Lock: acquire(True)
    waits for as long as it takes (it once meant a 1 s timeout)."""
    import threading
    p = spawn_holder(NAME)
    lk = glock.Lock(NAME)
    got = []
    t = threading.Thread(target=lambda: got.append(lk.acquire(True)))
    t.start()
    t.join(1.8)
    assert t.is_alive() and got == [], "acquire(True) gave up: %r" % got
    kill9(p)
    t.join(10)
    assert got == [True] and lk.abandoned, got
    lk.release()
    assert lk.acquire(False) is True    # blocking=False: a try
    lk.release()
    t0 = time.monotonic()
    assert lk.acquire(True, 0.2) is True and time.monotonic() - t0 < 5
    lk.release()
    assert lk.acquire(blocking=True, timeout=-1) is True
    lk.release()
    for bad in (dict(blocking=False, timeout=1), dict(timeout=-2)):
        try:
            lk.acquire(**bad)
        except ValueError:
            pass
        else:
            raise AssertionError("accepted %r" % bad)
    import inspect      # (threading.Lock's is a builtin without one)
    sig = inspect.signature(lk.acquire)
    assert [(p.name, p.default) for p in sig.parameters.values()] == \
        [("blocking", True), ("timeout", -1)], sig
    lk.close()


@test
def compat_names_are_not_merged():
    """"My lock" and "My%20lock" are two locks; the mapping is reversible."""
    from glock.compat import _glock_name, glock_name_to_lockname
    a = global_lock(NAME + " x")
    b = global_lock(NAME + "%20x")
    assert a.glockname != b.glockname, (a.glockname, b.glockname)
    assert a.get_lock(1) is True
    assert b.get_lock(0) is True, "one lock for two names"
    assert b.unget_lock() and a.unget_lock()
    for n in ("/I2C_lock", "/My lock", "/My%20lock", "/caf\u00e9", "/%", "/a%25"):
        g = _glock_name(n)
        assert all(0x21 <= ord(c) <= 0x7e for c in g), g
        assert glock_name_to_lockname(g) == n, (n, g)
    assert _glock_name("/I2C_lock") == "I2C_lock"   # same lock as glock's
    a.close()
    b.close()


@test
def old_global_lock_script_runs_unchanged():
    """The seed's idiom: import global_lock; global_lock.global_lock(...),
    and the global_lock command with its verbs."""
    src = ("import global_lock\n"
           "l = global_lock.global_lock(%r)\n"
           "assert l.get_lock(1)\n"
           "assert l.is_locked() and l.lock_value() == 0\n"
           "assert l.unget_lock()\n"
           "from global_lock import global_lock as gl\n"
           "assert gl(%r).get_lock(0)\n"
           "print('fine')\n" % (NAME, NAME))
    r = subprocess.run([PY, "-c", src], env=ENV, capture_output=True,
                       text=True, timeout=30 * SCALE)
    assert r.returncode == 0 and r.stdout == "fine\n", r
    cmd = [PY, os.path.join(HERE, "..", "lib", "python", "global_lock.py")]
    r = subprocess.run(cmd + [NAME, "get", "-a", "0"], env=ENV,
                       capture_output=True, text=True, timeout=30 * SCALE)
    assert r.returncode == 0 and "lock request successful" in r.stdout, r
    r = subprocess.run(cmd + [NAME, "state"], env=ENV, capture_output=True,
                       text=True, timeout=30 * SCALE)
    assert r.returncode == 0 and "is currently unlocked (1)" in r.stdout, r


@test
def compat_cli_errors_go_to_stderr():
    r = subprocess.run([PY, "-m", "glock.compat", "x" * 300, "state"],
                       env=ENV, capture_output=True, text=True, timeout=30 * SCALE)
    assert r.returncode == 2 and r.stdout == "", r
    assert r.stderr.startswith("global_lock: "), r


@test
def compat_sigterm_while_waiting_exits_cleanly():
    p = spawn_holder(NAME)
    w = subprocess.Popen([PY, "-m", "glock.compat", NAME, "get", "-t", "-1"],
                         env=ENV, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    children.append(w)
    assert wait_for(lambda: glock.state(NAME).waiters == 1)
    w.terminate()
    out, err = w.communicate(timeout=10 * SCALE)
    assert w.returncode == 128 + signal.SIGTERM, (w.returncode, out, err)
    assert "Traceback" not in err and "Traceback" not in out, err
    st = glock.state(NAME)
    assert st.waiters == 0 and st.owner_pid == p.pid, st
    kill9(p)
    with glock.Lock(NAME, timeout=5):
        pass                            # consume the abandoned mark


@test
def python_m_glock():
    r = subprocess.run([PY, "-m", "glock", "state", "--json", NAME], env=ENV,
                       capture_output=True, text=True, timeout=30 * SCALE)
    assert r.returncode == 0, r
    import json
    d = json.loads(r.stdout)
    assert d["name"] == NAME and d["mode"] == "free", d
    r = subprocess.run([PY, "-m", "glock", "run", NAME, "--", PY, "-c",
                        "import glock, sys; sys.exit(3 if glock.state(%r)"
                        ".mode == 'exclusive' else 4)" % NAME],
                       env=ENV, capture_output=True, text=True, timeout=30 * SCALE)
    assert r.returncode == 3, r


@test
def nothing_left_held():
    st = glock.state(NAME)
    assert st.mode == "free" and st.waiters == 0, st


@test
def handles_by_default_names_when_timed():
    """Lock's untimed and try acquires go through a kernel handle."""
    name = NAME + "-h"
    lk = glock.Lock(name)
    assert lk.acquire() and lk._handle is not None, lk._handle
    st = lk.state()
    assert st.mode == "exclusive" and st.depth == 1, st
    assert lk.acquire(blocking=False) and lk.state().depth == 2
    lk.release()
    lk.release()
    assert glock.state(name).mode == "free"
    # A timed acquire goes by name; release through the handle still works.
    assert lk.acquire(timeout=1.0) and lk.state().depth == 1
    lk.release()
    # Busy through the handle: False, as threading.Lock.
    p = spawn_holder(name)
    assert lk.acquire(blocking=False) is False
    kill9(p)
    assert lk.acquire() and lk.abandoned is True
    lk.release()
    # The name path alone still works (handle=False).
    nl = glock.Lock(name, handle=False)
    assert nl.acquire() and nl._handle is None and nl.abandoned is False
    nl.release()
    nl.close()
    lk.close()


@test
def rules_deny_with_access_denied():
    """EACCES maps to AccessDenied, a PermissionError."""
    e = glock.error_from_errno(errno.EACCES, "x")
    assert isinstance(e, glock.AccessDenied) and isinstance(e, PermissionError)


def main():
    if not os.path.exists(glock.DEVICE):
        print("ok 1 # SKIP %s missing (glock.ko not loaded)\n1..1" % glock.DEVICE)
        return 0
    print("TAP version 13")
    print("1..%d" % len(tests), flush=True)
    failed = 0
    for i, fn in enumerate(tests, 1):
        try:
            fn()
            print("ok %d %s" % (i, fn.__name__), flush=True)
        except Exception:
            failed += 1
            for line in traceback.format_exc().splitlines():
                print("# " + line)
            print("not ok %d %s" % (i, fn.__name__), flush=True)
        finally:
            for p in children:
                if p.poll() is None:
                    p.kill()
                    p.wait()
            children.clear()
    return 1 if failed else 0


if __name__ == "__main__":
    signal.alarm(300)       # a bug must fail the suite, never hang it
    sys.exit(main())
