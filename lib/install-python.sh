#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Install the pure-Python glock package under DESTDIR+PREFIX with no network
# and no pip: build the wheel with the in-tree backend, unpack it into the
# interpreter's site directory for PREFIX (Debian: .../dist-packages).
# Usage: install-python.sh PYTHON DESTDIR PREFIX
set -eu
PYTHON=${1:-python3}
DESTDIR=${2:-}
PREFIX=${3:-/usr/local}
cd "$(dirname "$0")/python"
"$PYTHON" - "$DESTDIR" "$PREFIX" <<'PY'
import os, sys, sysconfig, tempfile, zipfile
sys.path.insert(0, ".")
import glock_build

destdir, prefix = sys.argv[1], sys.argv[2]
ver = "%d.%d" % sys.version_info[:2]
# Debian's python3 reads /usr/local/lib/python3.X/dist-packages and
# /usr/lib/python3/dist-packages; others use the posix_prefix scheme.
if "dist-packages" in sysconfig.get_path("purelib"):
    site = ("/usr/lib/python3/dist-packages" if prefix == "/usr"
            else "%s/lib/python%s/dist-packages" % (prefix, ver))
else:
    site = sysconfig.get_path("purelib", "posix_prefix",
                              vars={"base": prefix, "platbase": prefix})
target = destdir + site
os.makedirs(target, exist_ok=True)
with tempfile.TemporaryDirectory() as tmp:
    wheel = glock_build.build_wheel(tmp)
    with zipfile.ZipFile(os.path.join(tmp, wheel)) as z:
        z.extractall(target)
with open(os.path.join(target, glock_build.DIST_INFO, "INSTALLER"), "w") as f:
    f.write("glock-make-install\n")
print("installed the glock Python package in", target)
PY
