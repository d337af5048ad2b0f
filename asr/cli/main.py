"""Entry point of the ``asr`` command."""

from __future__ import annotations

import argparse
import logging
import sys

from asr.cli import evaluate, lm, prepare, shard, train, transcribe


def main(argv: list[str] | None = None) -> int:
    """Dispatch ``asr <command>``; ``train`` hands its arguments to Hydra."""
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if argv and argv[0] == "train":
        return train.main(argv[1:])
    parser = argparse.ArgumentParser(prog="asr", description="Train, run and evaluate BiLSTM-CTC speech recognizers.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    train.register(commands)
    prepare.register(commands)
    shard.register(commands)
    transcribe.register(commands)
    evaluate.register(commands)
    lm.register(commands)
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
