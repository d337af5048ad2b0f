"""Checking, before any work, that the files and folders a command will write can be written."""

from __future__ import annotations

import os
from pathlib import Path


def unwritable(path: str | os.PathLike, folder: bool = False) -> str | None:
    """Why ``path`` (a file, or with ``folder`` a folder; missing parent folders are to be created) cannot
    be written, in words, or None when it can."""
    target = Path(path).absolute()
    if not folder and target.is_dir():
        return f"{path}: is a folder, not a file"
    if folder and target.exists() and not target.is_dir():
        return f"{path}: is a file, not a folder"
    existing = target if folder else target.parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        return f"{path}: cannot write there ({existing} is not a writable folder)"
    return None
