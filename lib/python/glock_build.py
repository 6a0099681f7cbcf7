# SPDX-License-Identifier: LGPL-2.1-or-later
"""Minimal PEP 517 backend for the pure-Python glock package: builds a
wheel (and an sdist) with the standard library only, offline."""

import base64
import hashlib
import io
import os
import tarfile
import zipfile

NAME = "glock"
VERSION = "0.1.0"
HERE = os.path.dirname(os.path.abspath(__file__))
DIST_INFO = "%s-%s.dist-info" % (NAME, VERSION)
SUMMARY = ("Daemon-free named locks owned by open files of /dev/glock; "
           "drop-in for global_lock")


def _metadata():
    return ("Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: %s\n"
            "License: LGPL-2.1-or-later\nRequires-Python: >=3.7\n"
            % (NAME, VERSION, SUMMARY))


def _package_files():
    for root, dirs, files in os.walk(os.path.join(HERE, NAME)):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for f in sorted(files):
            if f.endswith(".py"):
                full = os.path.join(root, f)
                yield full, os.path.relpath(full, HERE).replace(os.sep, "/")


def _hash(data):
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    d = os.path.join(metadata_directory, DIST_INFO)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "METADATA"), "w") as f:
        f.write(_metadata())
    return DIST_INFO


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    wheel = "%s-%s-py3-none-any.whl" % (NAME, VERSION)
    records = []
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel), "w",
                         zipfile.ZIP_DEFLATED) as z:
        def add(arcname, data):
            z.writestr(arcname, data)
            records.append("%s,%s,%d" % (arcname, _hash(data), len(data)))
        for full, rel in _package_files():
            with open(full, "rb") as f:
                add(rel, f.read())
        add(DIST_INFO + "/METADATA", _metadata().encode())
        add(DIST_INFO + "/WHEEL", b"Wheel-Version: 1.0\nGenerator: glock_build"
            b"\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        records.append(DIST_INFO + "/RECORD,,")
        z.writestr(DIST_INFO + "/RECORD", "\n".join(records) + "\n")
    return wheel


def build_sdist(sdist_directory, config_settings=None):
    base = "%s-%s" % (NAME, VERSION)
    path = os.path.join(sdist_directory, base + ".tar.gz")
    with tarfile.open(path, "w:gz") as t:
        for rel in ["pyproject.toml", "README.md", "glock_build.py"]:
            t.add(os.path.join(HERE, rel), base + "/" + rel)
        for full, rel in _package_files():
            t.add(full, base + "/" + rel)
        info = tarfile.TarInfo(base + "/PKG-INFO")
        data = _metadata().encode()
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return os.path.basename(path)
