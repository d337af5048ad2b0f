"""The leave-one-speaker-out table of recipes/digits/cross_speaker.sh: WER and CER per fold, greedy and
beam + LM, each also with VTLN (``asr evaluate --vtln``), on the test and dev speakers, with the mean and
the worst fold, as Markdown.

Reads each fold folder's ``fold.json`` (speakers, wall time) and the ``{dev,test}-{greedy,beam-lm}[-vtln].json``
summaries that ``asr evaluate --summary`` wrote there.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

COLUMNS = [
    ("test", "greedy", "wer"),
    ("test", "greedy-vtln", "wer"),
    ("test", "beam-lm", "wer"),
    ("test", "beam-lm-vtln", "wer"),
    ("test", "greedy", "cer"),
    ("test", "beam-lm-vtln", "cer"),
    ("dev", "greedy", "wer"),
    ("dev", "greedy-vtln", "wer"),
    ("dev", "beam-lm-vtln", "wer"),
]


def fold_row(folder: Path) -> tuple[dict, list[float]]:
    """A fold's ``fold.json`` and its numbers in COLUMNS order (percent); ValueError naming the file that is
    missing, not JSON or without a key the table needs."""
    fold = _read(folder / "fold.json", ("test_speaker", "dev_speaker", "wall_seconds"))
    values = [100 * _read(folder / f"{split}-{decoder}.json", (rate,))[rate] for split, decoder, rate in COLUMNS]
    return fold, values


def _read(path: Path, keys: tuple[str, ...]) -> dict:
    """The JSON object in ``path``, which must have ``keys``."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: {e.strerror if isinstance(e, OSError) else e}") from e
    missing = [key for key in keys if not isinstance(data, dict) or key not in data]
    if missing:
        raise ValueError(f"{path}: no {', '.join(missing)}")
    return data


def table(folders: list[Path]) -> str:
    """The Markdown table, one row per fold, then the mean and the worst fold of each column, the worst named by
    the speaker scored in that column (the test speaker in test columns, the dev speaker in dev columns)."""
    header = "| test speaker | dev speaker | " + " | ".join(f"{s} {r.upper()} {d}" for s, d, r in COLUMNS)
    lines = [header + " | minutes | error reports |", "|" + " --- |" * (len(COLUMNS) + 4)]
    rows = [fold_row(f) for f in folders]
    for folder, (fold, values) in zip(folders, rows):
        cells = " | ".join(f"{v:.2f} %" for v in values)
        minutes = fold["wall_seconds"] / 60
        speakers = f"{fold['test_speaker']} | {fold['dev_speaker']}"
        lines.append(f"| {speakers} | {cells} | {minutes:.1f} | {_reports(folder)} |")
    columns = list(zip(*(values for _, values in rows)))
    mean = " | ".join(f"**{sum(c) / len(c):.2f} %**" for c in columns)
    scored = [f"{split}_speaker" for split, _, _ in COLUMNS]  # who each column's error rate is of
    worst = " | ".join(
        f"{max(c):.2f} % ({rows[c.index(max(c))][0][who]})" for c, who in zip(columns, scored, strict=True)
    )
    minutes = sum(fold["wall_seconds"] for fold, _ in rows) / 60
    lines += [f"| mean of {len(rows)} | | {mean} | {minutes:.1f} in all | |", f"| worst | | {worst} | | |"]
    return "\n".join(lines)


def _reports(folder: Path) -> str:
    """Links to the fold's ``asr evaluate --report`` pages (beam + LM, VTLN), relative to the table beside the folds."""
    links = []
    for split in ("test", "dev"):
        page = folder / f"report-{split}-beam-lm-vtln" / "report.md"
        if page.is_file():
            links.append(f"[{split}]({folder.name}/{page.parent.name}/report.md)")
    return ", ".join(links)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="exp/digits_loso: one folder per fold")
    args = parser.parse_args(argv)
    folders = sorted(p.parent for p in args.out_dir.glob("*/fold.json"))
    if not folders:
        print(f"error: {args.out_dir}: no finished fold (*/fold.json)", file=sys.stderr)
        return 2
    try:
        print(table(folders))
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
