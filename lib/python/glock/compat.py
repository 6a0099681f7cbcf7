# SPDX-License-Identifier: LGPL-2.1-or-later
"""Drop-in replacement for the ``global_lock`` tool, on glock.

Existing code runs unchanged: this package also installs a top-level
``global_lock`` module (and a ``global_lock`` command), so both
``import global_lock; global_lock.global_lock(...)`` and
``from global_lock import global_lock`` work. Or import it from here::

    from glock.compat import global_lock
    i2c_lock = global_lock("I2C_lock")
    if i2c_lock.get_lock(1):                  # seconds; None waits forever
        ...
        i2c_lock.unget_lock()

Same constructor, methods, defaults, return values and debug messages as
global_lock (a POSIX named semaphore). What differs, on purpose: the lock
belongs to the handle that got it. Only that handle can unget it (another
process's unget_lock() returns False, "Extraneous unget, ignored", and
changes nothing); when the holder exits or crashes the kernel releases the
lock, so nothing is ever left to unget by hand, and the next get_lock()
sees ``abandoned == True``. Within one handle the lock is not recursive,
like the semaphore: threads sharing a handle exclude each other.

Lock names: global_lock names were POSIX semaphore names (any character
but '/'); glock names are 1..255 bytes 0x21..0x7e. The mapping drops the
leading '/', keeps every byte 0x21..0x7e except '%', and writes '%' and
every other byte of the UTF-8 name as %XX (upper-case hex). It is
reversible (glock_name_to_lockname()) and collision-free: "My lock" is
"My%20lock", "My%20lock" is "My%2520lock". Names without '%', space or
non-ASCII characters are unchanged, so "I2C_lock" is the glock "I2C_lock"
that ``glock run I2C_lock ...`` takes.

CLI, as global_lock.py's (errors on stderr, exit 1 when not obtained):
    global_lock LockName {get,unget,state,trace} [-t SEC] [-a [DELAY]]
        [-u SEC] [--debug]
    python3 -m glock.compat ...      (the same)
"""

import logging
import sys
import threading
import time

from . import Lock, NotAcquired, NotHeld, _abi

__version__ = "0.1.0 (glock)"
log = logging.getLogger("glock.compat")


def _glock_name(lockname):
    """global_lock name -> glock name: drop the POSIX '/', write '%' and the
    bytes glock names cannot hold (space, control, non-ASCII) as %XX. Every
    other byte stays, so the mapping is reversible and collision-free."""
    raw = lockname[1:] if lockname.startswith("/") else lockname
    return "".join(chr(b) if 0x21 <= b <= 0x7E and b != 0x25 else "%%%02X" % b
                   for b in raw.encode("utf-8"))


def glock_name_to_lockname(name):
    """The inverse of the mapping: glock name -> global_lock name ("/...")."""
    out = bytearray()
    i = 0
    while i < len(name):
        if name[i] == "%":
            out.append(int(name[i + 1:i + 3], 16))
            i += 3
        else:
            out += name[i].encode("ascii")
            i += 1
    return "/" + out.decode("utf-8")


class global_lock():
    """A handle to a system-wide named lock (see the module doc)."""

    def __init__(self, lockname, debug=False):
        if not lockname.startswith('/'):
            lockname = '/' + lockname   # as global_lock: name with its '/'
        self.lockname = lockname
        self.debug = debug
        self.glockname = _glock_name(lockname)
        self.abandoned = False          # set by each successful get_lock()
        self._lock = Lock(self.glockname)
        # The semaphore let no second get through one handle, from any
        # thread; a glock owner would recurse instead. This gate keeps the
        # semaphore's behaviour. It is released by unget_lock(), from any
        # thread, as a semaphore may be.
        self._gate = threading.Lock()
        self._held = False
        log.debug("<%s> handle on glock %r", self.lockname, self.glockname)

    def get_lock(self, timeout=None):
        """Request a resource lock
        Returns
            True:  Lock successfully acquired, no timeout
            False: Lock request failed, timed out
        """
        deadline = None
        if timeout is not None and timeout >= 0:
            deadline = time.monotonic() + timeout
        if deadline is None:
            got = self._gate.acquire()
        elif timeout == 0:
            got = self._gate.acquire(blocking=False)
        else:
            got = self._gate.acquire(timeout=timeout)
        if got:
            left = None if deadline is None else \
                max(0.0, deadline - time.monotonic())
            try:
                got = self._lock.acquire(timeout=left)
            except BaseException:
                self._gate.release()
                raise
            if not got:
                self._gate.release()
        if not got:
            log.debug("<%s> timed out after %s s", self.lockname, timeout)
            if self.debug:
                print(f"<{self.lockname}> lock request timed out  "
                      f"({self.lock_value()})")
            return False
        self._held = True
        self.abandoned = self._lock.abandoned
        log.debug("<%s> acquired%s", self.lockname,
                  " (abandoned by a dead holder)" if self.abandoned else "")
        if self.debug:
            print(f"<{self.lockname}> lock request successful (0)"
                  + (" - previous holder died holding it (abandoned)"
                     if self.abandoned else ""))
        return True

    def unget_lock(self):
        """Release a resource lock
        Returns
            True:  Lock successfully released
            False: Not held by this handle - unget ignored
        """
        if self._held:
            try:
                self._lock.release()
            except NotHeld:         # cannot happen unless the fd was shared
                pass
            self._held = False
            self._gate.release()
            log.debug("<%s> released", self.lockname)
            if self.debug:
                print(f"<{self.lockname}> lock released ({self.lock_value()})")
            return True
        log.debug("<%s> unget while not holding: ignored", self.lockname)
        if self.debug:
            print(f"<{self.lockname}> Extraneous unget, ignored "
                  f"({self.lock_value()})")
        return False

    def is_locked(self):
        """
        Returns True if currently locked, else False
        """
        _locked = self._lock.locked()
        if self.debug:
            print(f"<{self.lockname}> is currently "
                  f"{'locked' if _locked else 'unlocked'} "
                  f"({0 if _locked else 1})")
        return _locked

    def lock_value(self):
        """Get lock semaphore count
        Returns 0 (locked) or 1 (unlocked), as the semaphore did
        """
        return 0 if self._lock.locked() else 1

    def close(self):
        """Close the handle; a lock it still holds is released (abandoned)."""
        self._lock.close()


class _Stop(BaseException):
    """SIGTERM/SIGHUP while the CLI runs: end it cleanly."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def _error(msg):
    print("global_lock: " + msg, file=sys.stderr)


def main(argv=None, prog=None):
    """The global_lock command line. Returns the exit status."""
    import argparse
    import signal

    docplus = """
    Demo/testing commands:
        get:    Get/set the lock named LockName.  '-a' specifies a automatic timed unget (only applied if the get was successful).
                With glock the lock lives as long as this process: without '-a', get holds it until Ctrl-C.
        unget:  Release LockName (only its holder can; a dead holder's lock is already released).
        state:  Print the current state of LockName.
        trace:  Continuously print the state of LockName.  '-u' specifies update interval (default 0.5 sec).  Ctrl-C to exit.
    """
    TESTING_GET_TIMEOUT = 0.5
    TESTING_TRACE_PERIOD = 0.5
    LOCK_DEBUG = True

    parser = argparse.ArgumentParser(
        prog=prog or "global_lock",
        description="Inter-process lock mechanism (glock)\n" + __version__
        + docplus, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('LockName',
                        help="Name of the system-wide lock to access")
    parser.add_argument('Cmd', choices=['get', 'unget', 'state', 'trace'],
                        help="Command choices")
    parser.add_argument('-t', '--get-timeout', type=float,
                        default=TESTING_GET_TIMEOUT,
                        help=f"timeout value for a get call (default "
                        f"{TESTING_GET_TIMEOUT} sec, -1 for no timeout)")
    parser.add_argument('-a', '--auto-unget', type=float, nargs='?',
                        const=0.0,
                        help="unget the lock after a get (optional delay in "
                        "(float) sec, for use with get)")
    parser.add_argument('-u', '--update', type=float,
                        default=TESTING_TRACE_PERIOD,
                        help=f"trace update period (default "
                        f"{TESTING_TRACE_PERIOD} sec)")
    parser.add_argument('--debug', action='store_true',
                        help="log each lock step (logging, DEBUG level)")
    args = parser.parse_args(argv)
    if args.debug:
        logging.basicConfig(level=logging.DEBUG,
                            format="%(name)s %(levelname)s: %(message)s")

    def _stop(signum, frame):
        raise _Stop(signum)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGHUP, _stop)

    try:
        lock = global_lock(args.LockName, LOCK_DEBUG)
    except OSError as e:
        _error(f"{args.LockName}: {e.strerror}")
        return 2
    try:
        return _run(lock, args)
    except _Stop as e:
        # SIGTERM: while waiting nothing is held; while holding, unget
        # below releases cleanly (no abandoned mark).
        return 128 + e.signum
    except KeyboardInterrupt:
        return 128 + signal.SIGINT
    except OSError as e:
        _error(f"{args.LockName}: {e.strerror}")
        return 2
    finally:
        if lock._held:
            lock.unget_lock()
        lock.close()


def _run(lock, args):
    if args.Cmd == "get":
        _timeout = args.get_timeout
        if _timeout == -1:
            _timeout = None
        if not lock.get_lock(timeout=_timeout):
            return 1
        try:
            if args.auto_unget is not None:
                print(f"Release lock after <{args.auto_unget}> sec delay",
                      flush=True)
                time.sleep(args.auto_unget)
            else:
                print(f"<{lock.lockname}> held until Ctrl-C "
                      f"(glock releases it when this process ends)",
                      flush=True)
                while True:
                    time.sleep(3600)
        except (KeyboardInterrupt, _Stop):
            pass
        lock.unget_lock()
    elif args.Cmd == "unget":
        if not lock.unget_lock():
            st = lock._lock.state()
            if st.mode != "free":
                who = f"pid {st.owner_pid}" if st.owner_pid else "its owner"
                _error(f"<{lock.lockname}> is held by {who}: only the "
                       f"holder can unget; glock releases it when the "
                       f"holder exits")
    elif args.Cmd == "state":
        lock.is_locked()
    elif args.Cmd == "trace":
        try:
            while True:
                lock.is_locked()
                sys.stdout.flush()
                time.sleep(args.update)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == '__main__':
    sys.exit(main(prog="python3 -m glock.compat"))
