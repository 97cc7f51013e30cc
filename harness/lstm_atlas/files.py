"""Files the project writes and reads: atomically, and as plain JSON objects with one-line errors.

Every committed or shared file (results, reports, the cache, the explain index, the fuzz
map) is written through :func:`write_bytes_atomic`, so a reader sees the old file or the
whole new one, never a torn one.
"""

from __future__ import annotations

import datetime as _dt
import errno
import json
import os
import stat
import sys
import tempfile
from pathlib import Path

from lstm_atlas.errors import InputError


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def write_json_atomic(path: str | os.PathLike, data, durable: bool = True) -> None:
    """Write JSON so that readers see the old file or the whole new one, never a torn one."""
    text = data if isinstance(data, str) else json.dumps(data, indent=1, sort_keys=False, default=str) + "\n"
    write_bytes_atomic(path, text.encode("utf-8"), durable=durable)  # encoding fails before any file exists


def write_or_check_generated(path: str | os.PathLike, text: str, remedy: str, check: bool = False) -> int:
    """Write a committed, generated file (atomically), or with ``check`` only say whether it is current.

    The exit status of the command that generates it: 1 when ``check`` finds it stale.
    """
    target = Path(path)
    if check:
        current = target.read_text("utf-8") if target.exists() else ""
        if current != text:
            print(f"{target} is stale: run `{remedy}` and commit it", file=sys.stderr)
            return 1
        print(f"{target} is current")
        return 0
    write_bytes_atomic(target, text.encode("utf-8"))
    print(f"wrote {target}")
    return 0


class WriteError(InputError):
    """A file could not be written (full disk, no permission, read-only folder): one line naming it.

    An :class:`InputError`, so every command reports it as one line with exit status 2; the
    target is untouched (the old file or none) and no temporary file is left behind.
    """

    def __init__(self, path, exc: OSError):
        reason = getattr(exc, "strerror", None) or str(exc)
        super().__init__(f"cannot write {path}: {reason}")
        self.path = str(path)
        self.errno = getattr(exc, "errno", None)


def write_bytes_atomic(path: str | os.PathLike, content: bytes, durable: bool = True) -> None:
    """Temporary file in the target's folder, fsynced, then renamed over the target.

    ``durable=False`` skips the fsync: still atomic for readers and for a crash of this
    process (the rename is), only not across a power cut; used for the per-item rewrites.
    Any ``OSError`` becomes :class:`WriteError` (one line naming the target).
    """
    target = Path(path)
    try:
        _write_bytes_atomic(target, content, durable)
    except WriteError:
        raise
    except OSError as exc:
        raise WriteError(target, exc) from None


def _write_bytes_atomic(target: Path, content: bytes, durable: bool) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # a file where a folder should be: say that, not "File exists"
        raise NotADirectoryError(errno.ENOTDIR, f"{os.strerror(errno.ENOTDIR)} (a file is in the way)") from None
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes 0600; results are meant to be shared
        try:
            handle = os.fdopen(fd, "wb")
        except BaseException:
            os.close(fd)  # not yet owned by a file object
            raise
        with handle:
            handle.write(content)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


class LockHeld(InputError):
    """Another process holds the lock: a second run on one results path stops at its start."""


def hold_lock(path: str | os.PathLike, what: str):
    """An exclusive lock on ``path`` (created if needed), held until the returned file is closed.

    ``flock``-based, so the kernel releases it when the holder dies (a crash leaves no stale
    lock); a second holder gets :class:`LockHeld` at once instead of waiting.
    """
    import fcntl

    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle = open(target, "a+b")  # held open for the run; the caller closes it
    except OSError as exc:
        raise WriteError(target, exc) from None
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise LockHeld(f"{what} is in use by another run (lock {target} is held); "
                       "give each run its own results path") from None
    except OSError as exc:
        handle.close()
        raise WriteError(target, exc) from None
    return handle


#: Largest results, merged or index file read: the committed merged matrix is about 2 MB.
MAX_JSON_BYTES = 256 * 1024 * 1024


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):g} MiB" if n >= 1024 * 1024 else f"{n} bytes"


def read_bounded(path: str | os.PathLike, cap: int, truncate: bool = False) -> bytes:
    """At most ``cap`` bytes of the regular file ``path``, its size checked before anything is read.

    Opened non-blocking, so a FIFO named like a case never blocks; FIFOs, devices (``/dev/zero``)
    and folders are refused. Over ``cap``: :class:`InputError`, or with ``truncate`` the first
    ``cap`` bytes (a pasted log whose head is enough). Every error is one line naming ``path``.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        kind = ("a folder" if stat.S_ISDIR(info.st_mode) else "a FIFO" if stat.S_ISFIFO(info.st_mode)
                else "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else "a socket")
        raise InputError(f"{path}: not a regular file ({kind}); only regular files are read")
    if info.st_size > cap and not truncate:
        os.close(fd)
        raise InputError(f"{path}: larger than {_mib(cap)} ({info.st_size} bytes); refused before reading")
    try:  # plain os.read on the descriptor: reading shares nothing with the writers' file objects
        chunks, left = [], cap + 1  # +1: a file that grew after fstat is still caught
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > cap:
        if not truncate:
            raise InputError(f"{path}: larger than {_mib(cap)}; refused")
        data = data[:cap]
    return data


def read_stream_bounded(stream, cap: int) -> bytes:
    """At most ``cap`` bytes of a binary stream (stdin, a pipe): never the whole of ``/dev/zero``."""
    chunks, left = [], cap
    while left > 0:
        chunk = stream.read(min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def loads_json(raw: bytes, where: str):
    """JSON from bytes; :class:`InputError` (one line) for bad UTF-8, bad JSON or nesting Python cannot hold."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{where}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise InputError(f"{where}: JSON nested too deeply to read") from None


def read_json_file(path: str | os.PathLike, cap: int = MAX_JSON_BYTES) -> dict:
    """A JSON object from ``path``; :class:`InputError` (one line) if it is missing, too big, not a file or not JSON."""
    data = loads_json(read_bounded(path, cap), str(path))
    if not isinstance(data, dict):
        raise InputError(f"{path}: not an lstm-atlas file (a JSON {type(data).__name__}, not an object)")
    return data
