"""``asr lm build``: an n-gram language model (ARPA) from text files and manifest transcripts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(lm: argparse.ArgumentParser) -> None:
    """The `build` sub-subcommand of `lm`."""
    commands = lm.add_subparsers(dest="lm_command", required=True, metavar="COMMAND")
    build = commands.add_parser(
        "build",
        help="build an ARPA model (interpolated modified Kneser-Ney) from text",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    build.add_argument("--text", nargs="+", default=[], metavar="FILE", help="plain text files, one sentence a line")
    build.add_argument(
        "--manifest", nargs="+", default=[], metavar="FILE", help="JSON-lines manifests whose text fields are used"
    )
    build.add_argument(
        "--order", type=int, default=3, help="n-gram order, 2 to 6 (what the beam decoder's KenLM loads)"
    )
    build.add_argument("--out", required=True, metavar="PATH.arpa", help="ARPA file to write")
    build.add_argument(
        "--lexicon",
        metavar="PATH",
        help="also write a lexicon of the text's words spelled in characters (for decoder.lexicon)",
    )
    build.add_argument(
        "--lmplz",
        choices=["auto", "never", "always"],
        default="auto",
        help="use KenLM's lmplz: when on PATH (auto), never (pure Python), or always (fail without it)",
    )
    build.set_defaults(func=run_build)


def _read_text(paths: list[str]) -> list[str]:
    lines = []
    for path in paths:
        try:
            lines += Path(path).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as e:
            why = e.strerror if isinstance(e, OSError) and e.strerror else e
            raise ValueError(f"{path}: cannot read text file: {why}") from e
    return lines


def _read_manifests(paths: list[str]) -> tuple[list[str], int]:
    """Transcripts of the manifests' good rows, and how many bad rows were skipped."""
    from asr.data.manifest import read_manifest  # reads audio spans: torch, imported once the command runs

    lines, skipped = [], 0
    for path in paths:
        manifest = read_manifest(path)
        lines += [u.text for u in manifest.utterances]
        skipped += len(manifest.skipped)
    return lines, skipped


def run_build(args: argparse.Namespace) -> int:
    """Build the model and print a one-line summary; 2 when nothing can be built, 1 when manifest rows were bad."""
    from asr.decoding import write_lexicon
    from asr.lm import build_lm
    from asr.lm.ngram import normalized_sentences
    from asr.text import CharTokenizer

    if not args.text and not args.manifest:
        print("error: give --text and/or --manifest", file=sys.stderr)
        return 2
    try:
        transcripts, bad_rows = _read_manifests(args.manifest)
        lines = _read_text(args.text) + transcripts
        summary = build_lm(lines, args.out, order=args.order, use_lmplz=args.lmplz)
    except (OSError, ValueError) as e:  # unwritable output; ManifestError and LMBuildError are ValueErrors
        print(f"error: {e}", file=sys.stderr)
        return 2
    bad = f"; {bad_rows} bad manifest rows skipped" if bad_rows else ""
    print(f"{args.out}: {summary}{bad}")
    if args.lexicon:
        words = sorted({w for sentence in normalized_sentences(lines)[0] for w in sentence})
        write_lexicon(words, CharTokenizer.build(words), args.lexicon)
        print(f"{args.lexicon}: {len(words)} words")
    return 1 if bad_rows else 0
