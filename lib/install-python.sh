#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Install the pure-Python glock package (distribution linux-glock: modules
# glock and global_lock, console script global_lock) under DESTDIR+PREFIX
# with no network and no pip: build the wheel with setuptools' PEP 517
# backend (Debian's python3-setuptools) in a scratch copy of lib/python,
# unpack it into the interpreter's site directory for PREFIX (Debian:
# .../dist-packages), and write its console scripts into PREFIX/bin.
# Usage: install-python.sh PYTHON DESTDIR PREFIX
set -eu
PYTHON=${1:-python3}
DESTDIR=${2:-}
PREFIX=${3:-/usr/local}
src=$(cd "$(dirname "$0")/python" && pwd)
# The backend needs setuptools and wheel (python3-setuptools, python3-wheel);
# a private interpreter without them (pyenv, a venv) defers to Debian's.
if ! "$PYTHON" -c 'import setuptools.build_meta, wheel' 2>/dev/null; then
	if [ -x /usr/bin/python3 ] &&
	   /usr/bin/python3 -c 'import setuptools.build_meta, wheel' 2>/dev/null; then
		PYTHON=/usr/bin/python3
	else
		echo "install-python.sh: $PYTHON lacks setuptools/wheel" \
		     "(python3-setuptools, python3-wheel)" >&2
		exit 1
	fi
fi
"$PYTHON" - "$src" "$DESTDIR" "$PREFIX" <<'PY'
import configparser, os, shutil, sys, sysconfig, tempfile, zipfile

src, destdir, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
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
bindir = destdir + prefix + "/bin"
os.makedirs(target, exist_ok=True)
with tempfile.TemporaryDirectory() as tmp:
    # setuptools writes build/ and *.egg-info next to the sources: build in
    # a copy, so a read-only tree (the test guest's) works too.
    work = os.path.join(tmp, "src")
    shutil.copytree(src, work, ignore=shutil.ignore_patterns(
        "build", "*.egg-info", "__pycache__"))
    cwd = os.getcwd()
    os.chdir(work)
    sys.path.insert(0, work)
    import setuptools.build_meta as backend
    old = sys.stdout
    sys.stdout = sys.stderr         # setuptools is chatty
    try:
        wheel = backend.build_wheel(tmp)
    finally:
        sys.stdout = old
        os.chdir(cwd)
    with zipfile.ZipFile(os.path.join(tmp, wheel)) as z:
        z.extractall(target)
        info = [n for n in z.namelist()
                if n.endswith(".dist-info/entry_points.txt")]
        dist_info = [n.split("/")[0] for n in z.namelist()
                     if n.endswith(".dist-info/METADATA")][0]
        eps = configparser.ConfigParser()
        if info:
            eps.read_string(z.read(info[0]).decode())
with open(os.path.join(target, dist_info, "INSTALLER"), "w") as f:
    f.write("glock-make-install\n")
if eps.has_section("console_scripts"):
    os.makedirs(bindir, exist_ok=True)
    for name, ref in eps.items("console_scripts"):
        mod, func = ref.split(":")
        path = os.path.join(bindir, name)
        with open(path, "w") as f:
            f.write("#!%s\nimport sys\nfrom %s import %s\n"
                    "sys.exit(%s())\n" % (sys.executable, mod, func, func))
        os.chmod(path, 0o755)
print("installed the glock Python package in", target)
PY
