#!/usr/bin/env python
"""Data-loading throughput: a manifest's audio read from its files and from tar shards, through the training loader.

The manifest is sharded into a temporary folder with ``asr shard`` (timed too), then
each source (files, shards) is read for one epoch by the training DataLoader
(``ASRDataModule``'s: duration-bucketed batches of the recipe's size, ``collate``),
with each number of worker processes, after one untimed epoch of each. The result is
the best of ``--repeats`` epochs in seconds of audio delivered per wall-clock second,
worker start-up included; speed perturbation and gain are off,
since they cost the same whatever the audio is read from. ``--cold`` also measures
with the files evicted from the page cache first (``posix_fadvise``), as on storage
that caches nothing; by default the audio is read warm, from memory, which
measures the decoding and per-file overhead only.

    python tools/benchmark_loading.py --manifest data/digits/train.jsonl
    python tools/benchmark_loading.py --manifest data/digits/train.jsonl --cold --record
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch
from benchmark import REPO, Row, machine_name, publish, recipe_config, render_section

from asr.data.datamodule import ASRDataModule
from asr.data.dataset import select_trainable
from asr.data.manifest import Manifest, read_manifest
from asr.data.shards import FORMATS, write_shards
from asr.text import CharTokenizer, normalize_text


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--manifest", required=True, help="JSON-lines manifest whose audio is read")
    p.add_argument("--recipe", default=str(REPO / "recipes" / "digits"), help="recipe whose batch settings are used")
    p.add_argument("--workers", type=int, nargs="+", default=[0, 2], help="DataLoader worker counts to measure")
    p.add_argument("--shard-size-mb", type=float, default=256.0)
    p.add_argument("--format", choices=sorted(FORMATS), default="flac", help="audio format inside the shards")
    p.add_argument(
        "--threads", type=int, default=1, help="torch threads of the main process (workers have 1 each, as always)"
    )
    p.add_argument("--repeats", type=int, default=3, help="epochs per measurement; the fastest counts")
    p.add_argument("--cold", action="store_true", help="also measure with the audio evicted from the page cache")
    p.add_argument("--note", action="append", default=[], help="a line for the recorded section (repeatable)")
    p.add_argument("--record", action="store_true", help="write the results into --out as well as printing them")
    p.add_argument("--out", default=str(REPO / "BENCHMARKS.md"), help="Markdown file --record writes into")
    return p.parse_args(argv)


def evict(paths: set[str]) -> None:
    """Drop these files' pages from the page cache, so the next read comes from the storage."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)  # only clean pages can be dropped
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def epoch_throughput(manifest: Manifest, data_config: dict, sample_rate: int, workers: int) -> tuple[float, int]:
    """Seconds of audio one epoch of the training loader delivers per wall second, and the utterances it failed."""
    tokenizer = CharTokenizer.build(normalize_text(u.text) for u in manifest.utterances)
    labeled = select_trainable(manifest, tokenizer, lambda seconds: 10**9)  # keep every row: loading is measured
    module = ASRDataModule(
        labeled, labeled, sample_rate, data_config["max_batch_seconds"], data_config["max_batch_size"], workers
    )
    start = time.perf_counter()
    samples = failed = 0
    for batch in module.train_dataloader():
        samples += int(batch["wav_lengths"].sum())
        failed += batch["failed"]
    return samples / sample_rate / (time.perf_counter() - start), failed


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    config = recipe_config(Path(args.recipe))
    data_config, sample_rate = config["data"], config["features"]["sample_rate"]
    files = read_manifest(args.manifest)
    if not files.utterances:
        raise SystemExit(f"error: {args.manifest}: no usable utterances")
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        print("sharding ...", file=sys.stderr)
        start = time.perf_counter()
        result = write_shards(args.manifest, tmp, args.shard_size_mb, args.format)
        shard_seconds = time.perf_counter() - start
        shards = read_manifest(result.manifest)
        sizes = {
            name: sum(os.path.getsize(p) for p in {u.audio_filepath for u in m.utterances}) / 1e6
            for name, m in (("files", files), ("shards", shards))
        }
        rows = [
            Row(
                "asr shard",
                f"{result.seconds / shard_seconds:,.0f} × real time",
                f"{result.utterances} utterances ({result.seconds / 3600:.2f} h) in {shard_seconds:.1f} s: "
                f"{len({u.audio_filepath for u in files.utterances})} files, {sizes['files']:.0f} MB, to "
                f"{len(result.shards)} {args.format.upper()} shard(s), {sizes['shards']:.0f} MB",
            )
        ]
        sources = (("files", files), ("shards", shards))
        for _, manifest in sources:  # untimed: one-time costs, and the audio into the page cache
            epoch_throughput(manifest, data_config, sample_rate, 0)
        for cache in ("warm", "cold") if args.cold else ("warm",):
            for workers in args.workers:
                for name, manifest in sources:
                    print(f"{name}, {workers} worker(s), {cache} ...", file=sys.stderr)
                    speeds = []
                    for _ in range(args.repeats):
                        if cache == "cold":
                            evict({u.audio_filepath for u in manifest.utterances})
                        speed, failed = epoch_throughput(manifest, data_config, sample_rate, workers)
                        speeds.append(speed)
                    speed = max(speeds)
                    rows.append(
                        Row(
                            f"{name}, {workers} worker{'s' * (workers != 1)}, {cache} page cache",
                            f"{speed:,.0f} s of audio/s",
                            f"best of {args.repeats} epochs ({', '.join(f'{s:,.0f}' for s in speeds)}), "
                            f"{len(manifest)} utterances{f', {failed} unreadable' if failed else ''}",
                        )
                    )
    rows.append(
        Row(
            "load average (1 min)",
            f"{load_start:.2f} before the run, {os.getloadavg()[0]:.2f} at its end",
            f"{os.cpu_count()} cores; before the run, anything above 0 is other work on them",
        )
    )
    notes = [
        f"loader: `ASRDataModule.train_dataloader()` with the batch settings of `{Path(args.recipe).name}` "
        f"(max_batch_seconds {data_config['max_batch_seconds']:g}, max_batch_size {data_config['max_batch_size']}), "
        f"audio resampled to {sample_rate} Hz where needed, speed perturbation and gain off; "
        f"torch threads: {torch.get_num_threads()} in the main process, 1 in each worker (with more threads and "
        f"0 workers, OpenMP threads spinning between the many small operations measured up to 20× slower here)",
        "warm: the audio is in the page cache (decoding and per-file overhead only); cold: evicted before the epoch "
        "with posix_fadvise, read from the local disk",
        *args.note,
    ]
    heading = f"{machine_name()} / data loading, files vs shards"
    section = render_section(heading, rows, torch.device("cpu"), notes)
    publish(Path(args.out) if args.record else None, heading, section)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
