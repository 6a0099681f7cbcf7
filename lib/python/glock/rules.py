# SPDX-License-Identifier: LGPL-2.1-or-later
"""Access rules of glock names: who may lock or look at which names.

The rules of an IPC namespace are an ordered table, first match wins: a
pattern (an exact name, or a prefix ending in '*'), a uid, a gid and a mode
read like a file's (4 = may ask STATE, 2 = may LOCK). The file format of
/etc/glock/rules is one rule a line, ``PATTERN USER GROUP MODE`` (names or
numbers, octal mode), with '#' comments.
"""

import grp
import os
import pwd

from . import _abi

DEFAULT_FILE = "/etc/glock/rules"


class RulesError(ValueError):
    """A rules file that cannot be loaded; the message names the line."""


def _id(field, group):
    if field.isdigit():
        return int(field)
    try:
        return grp.getgrnam(field).gr_gid if group else \
            pwd.getpwnam(field).pw_uid
    except KeyError:
        raise RulesError("unknown %s '%s'" % ("group" if group else "user",
                                               field)) from None


def parse(text):
    """Rules file text -> [(pattern, uid, gid, mode), ...]; RulesError."""
    rules = []
    for lineno, line in enumerate(text.splitlines(), 1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        try:
            if len(fields) != 4:
                raise RulesError("expected PATTERN USER GROUP MODE")
            pattern, user, group, mode = fields
            try:
                _abi.encode_name(pattern)
            except OSError:
                raise RulesError("bad pattern '%s' (1..255 bytes, "
                                 "0x21..0x7e)" % pattern) from None
            try:
                m = int(mode, 8)
            except ValueError:
                m = -1
            if not 0 <= m <= 0o777 or m & 0o111:
                raise RulesError("bad mode '%s' (octal, 0..0666, no x bits)"
                                 % mode)
            rules.append((pattern, _id(user, False), _id(group, True), m))
        except RulesError as e:
            raise RulesError("line %d: %s" % (lineno, e)) from None
    return rules


def get(fd=None):
    """The rules of this IPC namespace, as (pattern, uid, gid, mode)."""
    own = fd is None
    fd = _abi.open_device() if own else fd
    try:
        return _abi.get_rules(fd)
    finally:
        if own:
            os.close(fd)


def set(rules, fd=None):  # pylint: disable=redefined-builtin
    """Replace this IPC namespace's rules (needs CAP_SYS_ADMIN)."""
    own = fd is None
    fd = _abi.open_device() if own else fd
    try:
        _abi.set_rules(fd, list(rules))
    finally:
        if own:
            os.close(fd)


def load(path=DEFAULT_FILE, fd=None):
    """Parse a rules file and apply it whole; nothing changes on error."""
    with open(path, encoding="ascii", errors="replace") as f:
        rules = parse(f.read())
    set(rules, fd)
    return rules


def clear(fd=None):
    """Remove every rule: every name is open to all again."""
    set([], fd)
