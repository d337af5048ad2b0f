"""``asr shard MANIFEST OUT_DIR``: pack a manifest's audio into WebDataset tar shards and a manifest pointing into them.

Rows whose audio cannot be read are named on stderr and skipped; the exit code is then 1.
"""

from __future__ import annotations

import argparse
import sys

from asr.data.manifest import ManifestError
from asr.data.shards import FORMATS, ShardError, write_shards


def register(p: argparse.ArgumentParser) -> None:
    """The arguments of `shard`."""
    p.formatter_class = argparse.ArgumentDefaultsHelpFormatter
    p.add_argument("manifest", help="JSON-lines manifest whose audio is packed")
    p.add_argument("out_dir", help="where shard-NNNNNN.tar and <manifest name>.jsonl are written (one per manifest)")
    p.add_argument("--shard-size-mb", type=float, default=256.0, help="most megabytes a shard holds")
    p.add_argument("--format", choices=sorted(FORMATS), default="flac", help="audio format inside the shards (16-bit)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the shards; print what was written and the skipped rows; 2 on a bad manifest or setting."""
    try:
        result = write_shards(args.manifest, args.out_dir, args.shard_size_mb, args.format)
    except (ManifestError, ShardError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    size = sum(p.stat().st_size for p in result.shards) / 1e6
    print(
        f"{result.manifest} ({result.utterances} utterances, {result.seconds / 3600:.2f} h) "
        f"in {len(result.shards)} shard(s), {size:.1f} MB"
    )
    for why in result.skipped:
        print(f"skipped: {why}", file=sys.stderr)
    if result.skipped:
        print(f"skipped {len(result.skipped)} row(s)", file=sys.stderr)
    return 1 if result.skipped else 0
