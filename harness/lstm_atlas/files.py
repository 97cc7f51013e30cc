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


def read_json_file(path: str | os.PathLike) -> dict:
    """A JSON object from ``path``; :class:`InputError` (one line) if it is missing or not JSON."""
    try:
        text = Path(path).read_text("utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: not an lstm-atlas file (a JSON {type(data).__name__}, not an object)")
    return data
