"""Resumable downloads with checksums, shared by the tools/download_*.py scripts."""

from __future__ import annotations

import hashlib
import shutil
import sys
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

CHUNK = 1 << 20


class ChecksumError(OSError):
    """A file's checksum is not the published one; the message names the file and both sums."""


def md5sum(path: Path) -> str:
    """Hex MD5 of a file, read in chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def check_md5(path: Path, expected: str) -> None:
    """Raise ChecksumError unless ``path`` has the MD5 ``expected``."""
    actual = md5sum(path)
    if actual != expected:
        raise ChecksumError(f"{path}: MD5 is {actual}, expected {expected}")


def download(url: str, target: Path, md5: str | None = None) -> None:
    """Download ``url`` to ``target`` through ``target.part``, resuming a partial download with an HTTP Range request.

    With ``md5``, the finished ``.part`` is checked before it becomes ``target``;
    a mismatch deletes it (resuming a corrupt file cannot help) and raises ChecksumError.
    """
    part = target.with_name(target.name + ".part")
    done = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={done}-"} if done else {})
    try:
        response = urllib.request.urlopen(request, timeout=60)
    except urllib.error.HTTPError as e:
        if e.code != 416:  # 416: nothing left to send, the .part file is complete
            raise
    else:
        resumed = response.status == 206
        if done and not resumed:
            print("server ignored the Range request; downloading from the start", file=sys.stderr)
        initial = done if resumed else 0
        size = response.headers.get("Content-Length")
        total = initial + int(size) if size else None
        with response, part.open("ab" if resumed else "wb") as f:
            with tqdm.wrapattr(f, "write", total=total, initial=initial, desc=target.name, disable=None) as out:
                shutil.copyfileobj(response, out, CHUNK)
    if md5 is not None:
        try:
            check_md5(part, md5)
        except ChecksumError:
            part.unlink()
            raise
    part.rename(target)
