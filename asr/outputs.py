"""Writing output files safely: whole or not at all, and never over an input.

``atomic_write`` writes to a temporary file beside the target and renames it
over the target only once everything is written and flushed to disk, so a
killed process leaves either the previous complete file or the new complete
file, and two processes writing the same path leave one of their files whole.
``refuse_inputs`` stops a command before it opens an output that is one of
its own inputs.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


class OutputError(ValueError):
    """An output would overwrite one of the command's inputs, or another output of the same command."""


@contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """A file object for ``path`` (text, or binary with ``mode="wb"``) that becomes ``path`` only when the
    ``with`` block ends without an exception; until then the previous file, if any, is untouched."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write: mode {mode!r} (expected 'w' or 'wb')")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Beside the target, so the rename stays on one file system; the random part keeps concurrent writers apart.
    partial = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def remove_partials(folder: str | os.PathLike) -> None:
    """Delete the temporary files that writers killed mid-write left in ``folder``."""
    for path in Path(folder).glob(".*.partial"):
        path.unlink(missing_ok=True)


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths name one file (after links and ``..``), whether or not it exists yet."""
    a, b = Path(a), Path(b)
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


def refuse_inputs(output: str | os.PathLike, inputs: Iterable[str | os.PathLike], what: str = "output") -> None:
    """Raise ``OutputError`` when ``output`` is one of ``inputs``: writing it would destroy what is read."""
    for source in inputs:
        if same_file(output, source):
            raise OutputError(f"{what} {output} is also an input ({source}); choose another path")
