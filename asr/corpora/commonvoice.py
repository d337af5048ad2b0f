"""Mozilla Common Voice to one manifest per split.

Layout: ``<root>/<split>.tsv`` (``train``, ``dev``, ``test``, ``validated``,
``other``, ...), tab-separated with a header naming at least ``client_id``,
``path`` and ``sentence``, and the audio in ``<root>/clips/<path>`` (mp3).
Fields are never quoted: sentences keep their quote characters.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path

from asr.corpora.common import SPLITS, ImportResult, LayoutError, ManifestBuilder, layout_error

COLUMNS = ("client_id", "path", "sentence")
_EXPECTED = "the Common Voice layout <root>/<split>.tsv (columns client_id, path, sentence, ...) and <root>/clips/"


class _TSV(csv.excel_tab):
    """Common Voice's TSV: tabs, no quoting."""

    quoting = csv.QUOTE_NONE


def _fields(line: str) -> list[str]:
    return next(csv.reader([line], dialect=_TSV), [])


def _header(tsv: Path) -> list[str]:
    """The column names on a TSV's first line; LayoutError when a needed one is absent."""
    with tsv.open(encoding="utf-8", errors="replace") as f:
        header = _fields(f.readline().rstrip("\r\n"))
    absent = [column for column in COLUMNS if column not in header]
    if absent:
        raise LayoutError(
            f"{tsv}: header lacks column(s) {', '.join(absent)}; expected {_EXPECTED}; "
            f"found columns: {', '.join(header) or 'none'}"
        )
    return header


def prepare_commonvoice(
    root: str | os.PathLike, out_dir: str | os.PathLike, *, splits: Sequence[str] = SPLITS, language: str = "en"
) -> ImportResult:
    """Write ``out_dir/<split>.jsonl`` for each split; the speaker is the row's ``client_id``, the id the clip name.

    Numbers are spelled in the row's ``locale`` (a column of recent releases), else in ``language``.

    Durations come from the mp3 headers. Raises LayoutError when ``clips/`` or a
    split's TSV is missing, or a TSV's header lacks a needed column.
    """
    root = Path(root)
    missing = [f"{split}.tsv" for split in splits if not (root / f"{split}.tsv").is_file()]
    if not (root / "clips").is_dir():
        missing.append("clips/")
    if missing:
        raise layout_error(root, f"no {', '.join(missing)}", _EXPECTED)
    headers = {split: _header(root / f"{split}.tsv") for split in splits}  # all checked before the slow part
    builder = ManifestBuilder(splits)
    for split, header in headers.items():
        lines = builder.lines(root / f"{split}.tsv")
        next(lines, None)  # the header, checked above
        for where, line in lines:
            fields = _fields(line)
            if len(fields) != len(header):
                builder.skip(where, f"{len(fields)} tab-separated fields, the header has {len(header)}")
                continue
            row = dict(zip(header, fields))
            clip = root / "clips" / row["path"]
            locale = row.get("locale") or language
            builder.add(
                split, where, clip, row["sentence"], utt_id=clip.stem, speaker=row["client_id"], language=locale
            )
    return builder.write(out_dir)
