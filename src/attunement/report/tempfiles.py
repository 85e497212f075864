"""Temporary files for atomic writes that a crash cannot leave behind.

A report (with the whole session in it) is written in two steps: :func:`stage` writes the
text to a temporary file in the target's folder and flushes it to disk, then
:meth:`Staged.link` gives it a name and :meth:`Staged.commit` renames it over the target.

* Linux: the temporary file is anonymous (``O_TMPFILE``) while it is written, so a
  ``kill -9`` during the write leaves nothing; it gets a name (``linkat``) only when it is
  complete, an instant before the rename.
* Elsewhere (or on a file system without ``O_TMPFILE``) it is created under its name
  ``.attunement-<host>-<pid>-<random>.tmp`` from the start.

Either way, a name can be left by a crash between link and rename (or during the write,
without ``O_TMPFILE``). The first write of a process into a folder removes such files
when they are *ours*: a regular file, owned by this user, created on this host (the host
tag is in the name), by a process id that no longer exists (on Windows, where a process
cannot be probed safely: more than :data:`LEGACY_AGE` seconds old). A file of a live
process is never touched; a file whose process id was reused by another process is kept until that
process is gone too. Temporary files of earlier versions (``.<report name>.<8
characters>.tmp``, e.g. ``.week6.html.k2j9x_1a.tmp``, no process id in the name) are
removed when they are ours and older than :data:`LEGACY_AGE` seconds — no write lasts
that long.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import logging
import os
import re
import secrets
import socket
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from attunement.errors import AttunementError

log = logging.getLogger(__name__)

PREFIX = ".attunement-"
_NAME = re.compile(r"^\.attunement-([0-9a-f]{8})-(\d+)-[A-Za-z0-9_-]+\.tmp$")
_LEGACY = re.compile(r"^\..+\.(?:html|md|json|txt)\.[a-z0-9_]{8}\.tmp$")
#: temporary files of earlier versions older than this (seconds) are stale
LEGACY_AGE = 3600
_AT_FDCWD = -100
_AT_EMPTY_PATH = 0x1000
_CHUNK = 1 << 20

#: False once O_TMPFILE or naming an anonymous file failed here: use named files
_anonymous_ok = hasattr(os, "O_TMPFILE")
#: False once naming an anonymous file through /proc/self/fd failed here
_proc_link_ok = True
#: folders already cleaned of stale temporary files by this process
_cleaned: set[str] = set()


def host_tag() -> str:
    """8 hex digits naming this host (temp files of another host are never removed)."""
    return hashlib.sha256(socket.gethostname().encode("utf-8")).hexdigest()[:8]


def temp_name() -> str:
    return f"{PREFIX}{host_tag()}-{os.getpid()}-{secrets.token_hex(6)}.tmp"


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name != "posix":
        return True  # os.kill(pid, 0) would terminate it on Windows; the age rule decides
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # someone else's live process (or a pid we cannot check): keep
    return True


def clean_stale(folder: Path) -> int:
    """Remove our temporary files in ``folder`` whose writer process is gone (once per
    folder and process); returns how many were removed."""
    key = os.path.abspath(folder)
    if key in _cleaned:
        return 0
    _cleaned.add(key)
    removed = 0
    me, host = os.geteuid() if hasattr(os, "geteuid") else None, host_tag()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    now = time.time()
    for entry in entries:
        m = _NAME.match(entry.name)
        legacy = m is None and _LEGACY.match(entry.name) is not None
        if not legacy and (m is None or m.group(1) != host):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode) or (me is not None and st.st_uid != me):
                continue
            young = now - st.st_mtime < LEGACY_AGE
            if legacy and young:
                continue
            if m is not None and _pid_alive(int(m.group(2))) and (os.name == "posix" or young):
                continue
            os.unlink(entry.path)
            removed += 1
        except OSError:
            continue
    if removed:
        log.info("removed %d stale temporary file(s) of an interrupted write", removed)
    return removed


@dataclass
class Staged:
    """A complete, flushed temporary file waiting to replace ``path``."""

    path: Path
    fd: int | None = None  # open anonymous file (O_TMPFILE), until linked
    tmp: Path | None = None  # its name, once it has one
    done: bool = field(default=False)

    def link(self) -> None:
        """Give an anonymous file its temporary name (a named one already has it)."""
        if self.fd is None:
            return
        name = self.path.parent / temp_name()
        if not _link_fd(self.fd, name):
            _copy_to(self.fd, name)
        self.tmp = name
        os.close(self.fd)
        self.fd = None

    def commit(self) -> None:
        """Rename the temporary file over the target (atomic on POSIX)."""
        assert self.tmp is not None and self.fd is None
        os.replace(self.tmp, self.path)
        self.done = True

    def discard(self) -> None:
        """Close and remove whatever is left (nothing after a commit)."""
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = None
        if self.tmp is not None and not self.done:
            with contextlib.suppress(OSError):
                os.unlink(self.tmp)
        self.tmp = None


def existing_mode(path: Path) -> int | None:
    """The permission bits of an existing target (kept on replace); None if it does not
    exist. A target that is not a regular file, or is read-only, is refused."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AttunementError(
            f"cannot check the output file ({exc.strerror or type(exc).__name__})",
            where=str(path),
        ) from None
    if not stat.S_ISREG(st.st_mode):
        raise AttunementError("output path exists and is not a regular file", where=str(path))
    if not st.st_mode & 0o222 or not os.access(path, os.W_OK):
        raise AttunementError(
            "output file is read-only; not replaced (make it writable or choose another path)",
            where=str(path),
        )
    return stat.S_IMODE(st.st_mode)


def stage(path: Path, text: str) -> Staged:
    """Write ``text`` (UTF-8) to a temporary file beside ``path`` and flush it to disk."""
    mode = existing_mode(path)
    folder = path.parent
    clean_stale(folder)
    staged = Staged(path)
    try:
        fd = _open_anonymous(folder)
        if fd is not None:
            staged.fd = fd
        else:
            staged.tmp = folder / temp_name()
            fd = os.open(staged.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _CLOEXEC, 0o600)
            staged.fd = fd
        _write_all(fd, text.encode("utf-8"))
        if mode is not None and hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        os.fsync(fd)
        if staged.tmp is not None:  # named from the start: nothing left to link
            os.close(fd)
            staged.fd = None
    except BaseException:
        staged.discard()
        raise
    return staged


_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def _open_anonymous(folder: Path) -> int | None:
    global _anonymous_ok
    if not _anonymous_ok:
        return None
    try:
        return os.open(folder, os.O_TMPFILE | os.O_RDWR | _CLOEXEC, 0o600)
    except OSError as exc:
        if exc.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOSYS):
            _anonymous_ok = False  # file system or kernel without O_TMPFILE
            return None
        raise


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view[:_CHUNK])
        view = view[n:]


def _link_fd(fd: int, name: Path) -> bool:
    """Name the anonymous file ``fd``: ``linkat`` through /proc, else with AT_EMPTY_PATH
    (some sandboxes refuse the /proc route with EXDEV)."""
    global _proc_link_ok
    if _proc_link_ok:
        try:
            os.link(f"/proc/self/fd/{fd}", name, follow_symlinks=True)
            return True
        except OSError as exc:
            if exc.errno == errno.EEXIST:
                raise
            _proc_link_ok = False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        rc = libc.linkat(fd, b"", _AT_FDCWD, os.fsencode(name), _AT_EMPTY_PATH)
    except (OSError, AttributeError):
        return False
    return bool(rc == 0)


def _copy_to(fd: int, name: Path) -> None:
    """Last resort when an anonymous file cannot be named: copy it to a named file."""
    global _anonymous_ok
    _anonymous_ok = False
    out = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _CLOEXEC, 0o600)
    try:
        os.fchmod(out, stat.S_IMODE(os.fstat(fd).st_mode))
        offset = 0
        while chunk := os.pread(fd, _CHUNK, offset):
            _write_all(out, chunk)
            offset += len(chunk)
        os.fsync(out)
    except BaseException:
        os.close(out)
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    os.close(out)
