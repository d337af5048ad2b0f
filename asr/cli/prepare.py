"""`asr prepare <corpus>`: turn a corpus's native layout into manifests."""

from __future__ import annotations

import argparse
import sys

from asr.corpora.digits import DEFAULT_UTTERANCES, DEV_SPEAKER, TEST_SPEAKER, prepare_digits
from asr.data.manifest import read_manifest


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `prepare` and its corpus sub-subcommands."""
    prepare = subparsers.add_parser("prepare", help="prepare a corpus: audio and manifests")
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
