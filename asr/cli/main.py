"""Entry point of the ``asr`` command.

Only the chosen subcommand's module is imported, and those modules import the heavy
libraries (torch, Lightning, the corpus generators) inside the functions that run them,
so ``asr --help``, the help of transcribe, evaluate and lm, and ``asr prepare --help`` answer at once.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from asr.runtime import configure_threads

# Each command: its one-line help; its module under asr.cli (the name with _ for -) has register(parser).
COMMANDS = {
    "train": "train a model: asr train RECIPE [key=value ...] (Hydra overrides)",
    "prepare": "prepare a corpus: audio and manifests",
    "shard": "pack a manifest's audio into tar shards, for corpora on slow or remote storage",
    "transcribe": "transcribe audio files with a model file",
    "evaluate": "score a model file on a manifest (WER, CER)",
    "plot": "draw a training run's curves (loss, validation WER/CER, learning rate) from its CSV logs",
    "lm": "n-gram language models for beam decoding",
    "export": "export a model file to ONNX (optionally int8) for ONNX Runtime",
    "export-run": "write a training run's model file again from its checkpoints (another --average, --dev)",
    "serve": "serve a model over HTTP (OpenAI-compatible /v1/audio/transcriptions)",
}


def _parser(command: str | None) -> argparse.ArgumentParser:
    """The ``asr`` parser: every command listed, only ``command``'s arguments defined (its module imported)."""
    parser = argparse.ArgumentParser(prog="asr", description="Train, run and evaluate BiLSTM-CTC speech recognizers.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help in COMMANDS.items():
        sub = commands.add_parser(name, help=help, add_help=name != "train")
        if name == command:
            importlib.import_module(f"asr.cli.{name.replace('-', '_')}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Dispatch ``asr <command>``; ``train`` hands its arguments to Hydra."""
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    command = argv[0] if argv and argv[0] in COMMANDS else None
    if command is not None:
        configure_threads(command)
    if command == "train":
        from asr.cli import train

        return train.main(argv[1:])
    parser = _parser(command)
    args, extra = parser.parse_known_args(argv)
    # Positionals may follow options (`asr evaluate M.pt m.jsonl --summary s.json decoder=beam`):
    # commands name the list that takes them as `trailing`.
    if extra and getattr(args, "trailing", None) and not any(e.startswith("-") for e in extra):
        getattr(args, args.trailing).extend(extra)
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
