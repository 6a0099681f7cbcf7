# SPDX-License-Identifier: LGPL-2.1-or-later
"""The /dev/glock ABI (uapi/linux/glock.h) in pure Python: structs, ioctls."""

import array
import fcntl
import os
import struct

DEVICE = "/dev/glock"
NAME_MAX = 255

EXCLUSIVE = 1
SHARED = 2

F_ABSTIME = 1 << 0
R_ABANDONED = 1 << 0
R_KERNEL = 1 << 1

# struct glock_lock: name, name_len, mode, timeout_ns, flags, result, depth,
# padding[7]; struct glock_state: name, name_len, flags, mode, holders,
# waiters, depth, owner_pid, result, padding[6]. Both 64 bytes, no implicit
# padding, native byte order.
LOCK_FMT = "=QIIqIII7I"
STATE_FMT = "=QIIIIIIiI6I"
assert struct.calcsize(LOCK_FMT) == 64
assert struct.calcsize(STATE_FMT) == 64


def _iowr(nr, size, magic=0xC4):
    # _IOC(_IOC_READ | _IOC_WRITE, magic, nr, size) on the asm-generic layout
    return (3 << 30) | (size << 16) | (magic << 8) | nr


IOC_LOCK = _iowr(1, 64)
IOC_UNLOCK = _iowr(2, 64)
IOC_STATE = _iowr(3, 64)


def encode_name(name):
    """Lock name -> (bytes buffer kept alive by the caller, address, length)."""
    if isinstance(name, str):
        try:
            raw = name.encode("ascii")
        except UnicodeEncodeError:
            raw = b""           # rejected below with EINVAL
    else:
        raw = bytes(name)
    if not 1 <= len(raw) <= NAME_MAX or any(b < 0x21 or b > 0x7E for b in raw):
        raise OSError(22, "invalid lock name %r: 1..255 printable bytes, "
                      "no space" % (name,))
    buf = array.array("B", raw)
    return buf, buf.buffer_info()[0], len(raw)


def open_device(path=DEVICE):
    # os.open gives a non-inheritable (O_CLOEXEC) descriptor
    return os.open(path, os.O_RDWR | os.O_CLOEXEC)


def lock(fd, name, mode, timeout_ns, flags=0):
    """GLOCK_IOC_LOCK; returns (result, depth); raises OSError."""
    keep, addr, n = encode_name(name)
    buf = bytearray(struct.pack(LOCK_FMT, addr, n, mode, timeout_ns, flags,
                                0, 0, *([0] * 7)))
    fcntl.ioctl(fd, IOC_LOCK, buf, True)
    del keep
    f = struct.unpack(LOCK_FMT, buf)
    return f[5], f[6]


def unlock(fd, name, mode=0):
    """GLOCK_IOC_UNLOCK; returns the depth still held; raises OSError."""
    keep, addr, n = encode_name(name)
    buf = bytearray(struct.pack(LOCK_FMT, addr, n, mode, 0, 0, 0, 0,
                                *([0] * 7)))
    fcntl.ioctl(fd, IOC_UNLOCK, buf, True)
    del keep
    return struct.unpack(LOCK_FMT, buf)[6]


def state(fd, name):
    """GLOCK_IOC_STATE; returns a dict of the output fields."""
    keep, addr, n = encode_name(name)
    buf = bytearray(struct.pack(STATE_FMT, addr, n, 0, 0, 0, 0, 0, 0, 0,
                                *([0] * 6)))
    fcntl.ioctl(fd, IOC_STATE, buf, True)
    del keep
    f = struct.unpack(STATE_FMT, buf)
    return {"mode": f[3], "holders": f[4], "waiters": f[5], "depth": f[6],
            "owner_pid": f[7], "result": f[8]}


# struct glock_rule: pattern, pattern_len, uid, gid, mode, flags,
# padding[9]; struct glock_rules: rules, count, flags, padding[12].
RULE_FMT = "=QIIIII9I"
RULES_FMT = "=QII12I"
assert struct.calcsize(RULE_FMT) == 64
assert struct.calcsize(RULES_FMT) == 64


def _iow(nr, size, magic=0xC4):
    return (1 << 30) | (size << 16) | (magic << 8) | nr


IOC_SET_RULES = _iow(4, 64)
IOC_GET_RULES = _iowr(5, 64)


def set_rules(fd, rules):
    """GLOCK_IOC_SET_RULES with [(pattern, uid, gid, mode), ...]."""
    keep = []
    table = bytearray()
    for pattern, uid, gid, mode in rules:
        buf, addr, n = encode_name(pattern)
        keep.append(buf)
        table += struct.pack(RULE_FMT, addr, n, uid, gid, mode, 0,
                             *([0] * 9))
    arr = array.array("B", bytes(table) or b"\0")
    addr = arr.buffer_info()[0] if rules else 0
    req = bytearray(struct.pack(RULES_FMT, addr, len(rules), 0, *([0] * 12)))
    fcntl.ioctl(fd, IOC_SET_RULES, req, True)
    del keep, arr


def get_rules(fd, capacity=256):
    """GLOCK_IOC_GET_RULES: [(pattern, uid, gid, mode), ...] (all of them)."""
    while True:
        bufs = [array.array("B", bytes(NAME_MAX)) for _ in range(capacity)]
        table = array.array("B", b"".join(
            struct.pack(RULE_FMT, b.buffer_info()[0], 0, 0, 0, 0, 0,
                        *([0] * 9)) for b in bufs) or b"\0")
        req = bytearray(struct.pack(RULES_FMT, table.buffer_info()[0],
                                    capacity, 0, *([0] * 12)))
        fcntl.ioctl(fd, IOC_GET_RULES, req, True)
        count = struct.unpack(RULES_FMT, req)[1]
        if count <= capacity:
            break
        capacity = count
    out = []
    raw = table.tobytes()
    for i in range(count):
        f = struct.unpack_from(RULE_FMT, raw, i * 64)
        out.append((bufs[i].tobytes()[:f[1]].decode("ascii"), f[2], f[3],
                    f[4]))
    return out


# struct glock_handle: name, name_len, flags, handle, padding[11].
HANDLE_FMT = "=QIII11I"
assert struct.calcsize(HANDLE_FMT) == 64


def _io(nr, magic=0xC4):
    return (magic << 8) | nr


IOC_GET_HANDLE = _iowr(6, 64)
IOC_PUT_HANDLE = _io(7)
IOC_HLOCK = _io(8)
IOC_HUNLOCK = _io(9)
H_MODE_SHIFT = 16
H_TRY = 1 << 20


def get_handle(fd, name):
    """GLOCK_IOC_GET_HANDLE: a handle (1..65535) for name in this file."""
    keep, addr, n = encode_name(name)
    buf = bytearray(struct.pack(HANDLE_FMT, addr, n, 0, 0, *([0] * 11)))
    fcntl.ioctl(fd, IOC_GET_HANDLE, buf, True)
    del keep
    return struct.unpack(HANDLE_FMT, buf)[3]


def put_handle(fd, handle):
    fcntl.ioctl(fd, IOC_PUT_HANDLE, handle)


def hlock(fd, handle, mode, try_=False):
    """GLOCK_IOC_HLOCK: waits forever (or tries); returns the result bits."""
    return fcntl.ioctl(fd, IOC_HLOCK,
                       handle | mode << H_MODE_SHIFT | (H_TRY if try_ else 0))


def hunlock(fd, handle):
    """GLOCK_IOC_HUNLOCK: returns the depth still held."""
    return fcntl.ioctl(fd, IOC_HUNLOCK, handle)
