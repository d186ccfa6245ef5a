"""The one writer of output files. Reports, exports, saved reports, the record of
processing, ledgers and draft catalogs may hold personal data (GDPR Art. 32: security
of processing), so every file is created readable by its owner only (mode 0600), a
symlink in its place is never followed, and any OSError becomes one clear line and a
non-zero exit."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import BinaryIO, Iterator

from pgdpr.db import PgdprError

MODE = 0o600


def check_writable(path: Path, overwrite: bool = True) -> None:
    """Refuse early (before anything is read, audited or erased) a file that cannot be
    written or must not be overwritten."""
    if not path.parent.is_dir():
        raise PgdprError(f"cannot write {path}: folder {path.parent} does not exist")
    if path.is_dir():
        raise PgdprError(f"cannot write {path}: it is a folder")
    if not overwrite and (path.exists() or path.is_symlink()):
        raise PgdprError(f"{path} already exists: not overwritten (choose another file name)")


@contextlib.contextmanager
def open_private(path: Path, overwrite: bool = True) -> Iterator[BinaryIO]:
    """A new binary file of mode 0600 at `path`. Without `overwrite` an existing file
    (or symlink) is never replaced (O_EXCL); with it, an existing file is truncated and
    its mode set to 0600 too."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, MODE)
    except FileExistsError as exc:
        raise PgdprError(f"{path} already exists: not overwritten (choose another file name)") from exc
    except OSError as exc:
        raise PgdprError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        os.fchmod(fd, MODE)  # an existing file keeps its old mode through O_TRUNC
        handle = os.fdopen(fd, "wb")
    except OSError as exc:
        os.close(fd)
        raise PgdprError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        with handle:
            yield handle
    except OSError as exc:
        raise PgdprError(f"cannot write {path}: {exc.strerror or exc}") from exc


def write_private(path: Path, data: bytes | str, overwrite: bool = True, encoding: str = "utf-8") -> None:
    """Write `data` (text is encoded) to a file of mode 0600."""
    with open_private(path, overwrite) as handle:
        handle.write(data.encode(encoding) if isinstance(data, str) else data)
