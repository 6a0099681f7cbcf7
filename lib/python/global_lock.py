# SPDX-License-Identifier: LGPL-2.1-or-later
"""global_lock on glock: scripts written for the old ``global_lock`` tool run
unchanged (``import global_lock; global_lock.global_lock("I2C_lock")``,
``from global_lock import global_lock``, ``global_lock.py LockName get``).
See glock.compat for what differs and how names are mapped."""

import sys

from glock.compat import (global_lock, glock_name_to_lockname,  # noqa: F401
                          main, __version__)

__all__ = ["global_lock", "main"]


def _cli():
    """The ``global_lock`` console script."""
    sys.exit(main())


if __name__ == "__main__":
    _cli()
