# SPDX-License-Identifier: LGPL-2.1-or-later
"""glock: daemon-free named locks owned by open files of /dev/glock.

    import glock
    with glock.Lock("i2c-1", timeout=1.0) as lk:
        if lk.abandoned:
            ...  # the previous holder died holding it: re-check the device

A Lock is one owner (its own open file of /dev/glock). Whatever it holds is
released by the kernel when it is closed or the process ends, even by
SIGKILL; an exclusive hold ended that way marks the lock abandoned and the
next acquirer sees ``abandoned == True`` once.

Timeouts are seconds (float): None waits forever, 0 tries once. Errors are
OSError subclasses that keep errno; the mapping is in error_from_errno().
"""

import collections
import errno as _errno
import os
import time

from . import _abi
from ._abi import EXCLUSIVE, SHARED, DEVICE, NAME_MAX

__version__ = "0.1.0"
__all__ = ["Lock", "LockState", "state", "error_from_errno", "GlockError",
           "NotAcquired", "LockTimeout", "LockBusy", "Deadlock", "NotHeld",
           "TooManyLocks", "InvalidArgument", "DeviceMissing", "EXCLUSIVE",
           "SHARED", "DEVICE", "NAME_MAX"]


class GlockError(OSError):
    """Base class of every glock error; ``errno`` is the kernel's."""


class NotAcquired(GlockError):
    """The lock was not obtained: timed out or busy."""


class LockTimeout(NotAcquired, TimeoutError):
    """ETIMEDOUT: the wait ran out."""


class LockBusy(NotAcquired, BlockingIOError):
    """EAGAIN: a try (timeout 0) found the lock taken."""


class Deadlock(GlockError):
    """EDEADLK: the wait would close a cycle, or the other mode is held."""


class NotHeld(GlockError, PermissionError):
    """EPERM: released by an owner that does not hold it."""


class TooManyLocks(GlockError):
    """ENOLCK: the per-owner or global limit is reached."""


class AccessDenied(GlockError, PermissionError):
    """EACCES: an access rule of this IPC namespace denies it."""


class InvalidArgument(GlockError, ValueError):
    """EINVAL: bad name (1..255 bytes 0x21..0x7e) or argument."""


class DeviceMissing(GlockError, FileNotFoundError):
    """/dev/glock does not exist: glock.ko is not loaded."""


_ERRORS = {
    _errno.ETIMEDOUT: (LockTimeout, "timed out"),
    _errno.EAGAIN: (LockBusy, "busy (held by another owner)"),
    _errno.EDEADLK: (Deadlock, "would deadlock (wait cycle, or held in the "
                     "other mode)"),
    _errno.EPERM: (NotHeld, "not held by this owner"),
    _errno.ENOLCK: (TooManyLocks, "too many locks (per-owner, per-user or "
                    "global limit)"),
    _errno.EACCES: (AccessDenied, "permission denied by the access rules "
                    "(glock rules show)"),
    _errno.EOVERFLOW: (GlockError, "recursion too deep (the module's "
                       "max_depth)"),
    _errno.EINVAL: (InvalidArgument, "invalid argument (name: 1..255 bytes "
                    "0x21..0x7e; mode)"),
    _errno.ENOENT: (DeviceMissing, "no such device: is glock.ko loaded?"),
    _errno.ENODEV: (DeviceMissing, "no such device: is glock.ko loaded?"),
    _errno.ENXIO: (DeviceMissing, "no such device: is glock.ko loaded?"),
    _errno.ENOTCONN: (GlockError, "cluster not reachable (glock_dlm not "
                      "loaded, or its lockspace not up: glock cluster "
                      "status)"),
}


def error_from_errno(err, name=None, message=None):
    """The one errno -> exception mapping of this package."""
    cls, text = _ERRORS.get(err, (GlockError, os.strerror(err)))
    return cls(err, message or text, name)


def _call(fn, name, *args):
    """Run an ioctl helper, retrying on EINTR, mapping errno once."""
    while True:
        try:
            return fn(*args)
        except InterruptedError:
            continue        # signal handlers have run; PEP 475 style retry
        except OSError as e:
            raise error_from_errno(e.errno, name) from None


def _open(device):
    try:
        return _abi.open_device(device)
    except OSError as e:
        raise error_from_errno(e.errno, device) from None


_MODES = {0: "free", EXCLUSIVE: "exclusive", SHARED: "shared"}

LockState = collections.namedtuple(
    "LockState", "name mode holders waiters depth owner_pid abandoned kernel")
LockState.__doc__ = """Snapshot of one lock. mode: 'free', 'exclusive' or
'shared'; depth: held by the asking Lock; owner_pid: exclusive holder
(0 if none, shared, kernel or not visible); abandoned: a mark is pending;
kernel: the exclusive holder is a kernel owner."""


def _state(fd, name):
    s = _call(_abi.state, name, fd, name)
    return LockState(name, _MODES.get(s["mode"], "?"), s["holders"],
                     s["waiters"], s["depth"], s["owner_pid"],
                     bool(s["result"] & _abi.R_ABANDONED),
                     bool(s["result"] & _abi.R_KERNEL))


def state(name, device=DEVICE):
    """Snapshot of lock ``name`` (a LockState)."""
    fd = _open(device)
    try:
        return _state(fd, name)
    finally:
        os.close(fd)


def _timeout_ns(timeout):
    if timeout is None or timeout < 0:
        return -1
    if timeout == 0:
        return 0
    return max(1, int(round(timeout * 1e9)))


class Lock:
    """A named glock, and the owner that takes it.

    Lock(name, timeout=None, shared=False): ``timeout`` (seconds; None:
    wait forever, 0: try once) is what ``with`` and acquire() without a
    timeout use. acquire(blocking=True, timeout=-1) has the signature of
    threading.Lock.acquire(). The Lock may be
    acquired again while held (depth + 1); each release() drops one level.
    Threads that must exclude each other use one Lock object each.
    With ``handle`` (the default) waits without a deadline and tries go
    through a kernel handle made at the first of them: no name is copied
    or hashed again (timed waits go by name).
    """

    def __init__(self, name, timeout=None, shared=False, device=DEVICE,
                 handle=True):
        try:
            _abi.encode_name(name)
        except OSError as e:
            raise error_from_errno(e.errno, name, e.strerror) from None
        self.name = name
        self.timeout = timeout
        self.shared = bool(shared)
        self.mode = SHARED if shared else EXCLUSIVE
        self.abandoned = False  # set by each successful acquire()
        self.depth = 0
        self._fd = _open(device)
        self._use_handle = bool(handle)
        self._handle = None

    def _get_handle(self):
        if self._handle is None and self._use_handle:
            try:
                self._handle = _call(_abi.get_handle, self.name, self._fd,
                                     self.name)
            except InvalidArgument:
                self._use_handle = False    # a module without handles
            except GlockError as e:
                if e.errno != _errno.EOPNOTSUPP:
                    raise
                self._use_handle = False    # "cluster:" names: by name
        return self._handle

    def fileno(self):
        return self._fd

    def acquire(self, blocking=True, timeout=-1):
        """Take the lock; True if obtained, False on timeout or busy.

        The arguments are those of threading.Lock.acquire(): with
        ``blocking`` false, try once; else wait at most ``timeout`` seconds,
        where -1 means the Lock's own timeout (given to the constructor;
        None by default: wait forever). None also waits forever.
        ``abandoned`` tells whether the previous exclusive holder died
        holding it. Other failures raise a GlockError.
        """
        if not blocking:
            if timeout is not None and timeout != -1:
                raise ValueError("can't specify a timeout for a non-blocking "
                                 "call")
            timeout = 0
        elif timeout == -1:
            timeout = self.timeout
        elif timeout is not None and timeout < 0:
            raise ValueError("timeout value must be a non-negative number")
        ns = _timeout_ns(timeout)
        flags = 0
        if ns <= 0 and self._get_handle() is not None:
            try:
                result = _call(_abi.hlock, self.name, self._fd, self._handle,
                               self.mode, ns == 0)
            except NotAcquired:
                return False
            self.abandoned = bool(result & _abi.R_ABANDONED)
            self.depth += 1
            return True
        if ns > 0:
            # an absolute deadline survives EINTR retries unchanged
            ns += time.clock_gettime_ns(time.CLOCK_MONOTONIC)
            flags = _abi.F_ABSTIME
        try:
            result, depth = _call(_abi.lock, self.name, self._fd, self.name,
                                  self.mode, ns, flags)
        except NotAcquired:
            return False
        self.abandoned = bool(result & _abi.R_ABANDONED)
        self.depth = depth
        return True

    def release(self):
        """Drop one level; NotHeld (EPERM) if this Lock does not hold it."""
        if self._handle is not None:
            self.depth = _call(_abi.hunlock, self.name, self._fd,
                               self._handle)
        else:
            self.depth = _call(_abi.unlock, self.name, self._fd, self.name)

    def locked(self):
        """True if anyone holds the lock (as threading.Lock.locked())."""
        return self.state().mode != "free"

    def held(self):
        """True if this Lock holds it."""
        return self.state().depth > 0

    def state(self):
        """Snapshot of the lock (a LockState)."""
        return _state(self._fd, self.name)

    def close(self):
        """Close the owner: the kernel releases what it still holds (an
        exclusive hold released this way is marked abandoned)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self):
        if not self.acquire():
            t = self.timeout
            if t is not None and t > 0:
                raise LockTimeout(_errno.ETIMEDOUT,
                                  "timed out after %g s" % t, self.name)
            raise LockBusy(_errno.EAGAIN, "busy (held by another owner)",
                           self.name)
        return self

    def __exit__(self, *exc):
        self.release()

    def __del__(self):
        fd = getattr(self, "_fd", None)
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    def __repr__(self):
        return "<glock.Lock %r %s depth=%d>" % (
            self.name, "shared" if self.shared else "exclusive", self.depth)
