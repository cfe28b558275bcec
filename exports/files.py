"""What an export writes holds what patients answered: files readable by their owner only (0600),
whatever the umask, and new folders likewise (0700)."""
from __future__ import annotations

import os
from pathlib import Path


def private_dir(path: Path) -> None:
    """The folder, made if missing (owner-only when this makes it)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def owner_only(path: str, flags: int) -> int:
    """An `open()` opener: a new file is created 0600; one there before is narrowed to that."""
    fd = os.open(path, flags, 0o600)
    if os.fstat(fd).st_mode & 0o077:
        os.fchmod(fd, 0o600)
    return fd


def write_private(path: Path, data: bytes) -> None:
    with open(path, "wb", opener=owner_only) as out:
        out.write(data)
