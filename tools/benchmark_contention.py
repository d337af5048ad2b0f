#!/usr/bin/env python
"""Training and batch-1 transcription speed on an idle CPU and on one shared with another process, by OpenMP setting.

PyTorch's OpenMP threads spin while they wait for each other; on a shared machine the
spinning takes the cores the other process needs and the LSTM's many small steps stall.
Sleeping at once (a passive wait policy) costs a wake-up at every one of those steps
instead. ``asr train`` therefore lets its threads spin only briefly (``GOMP_SPINCOUNT``,
``asr/runtime.py``); the inference commands keep OpenMP's default. This script measures
each choice for the digits recipe's model (``recipes/digits``):

- training: optimizer steps (forward, CTC, backward, clipping, AdamW, SpecAugment) on the
  recipe's batches of noise with random transcripts, in seconds of audio per second;
- transcription: features, forward and greedy decoding of one 3-8 s utterance at a time
  (batch 1), in seconds of audio per second (the inverse of the real-time factor).

Each measurement runs in a process of its own, since the OpenMP runtime reads its settings
once, when torch loads. ``contended`` runs one CPU-bound process (a Python busy loop) beside
it for the whole measurement. Settings compared: OpenMP's default (``OMP_WAIT_POLICY``
unset: threads spin up to 300,000 times before sleeping), a brief spin (GNU OpenMP's
``GOMP_SPINCOUNT=3000``), ``PASSIVE`` (sleep at once) and ``PASSIVE`` with one thread.

    python tools/benchmark_contention.py                 # print the table
    python tools/benchmark_contention.py --record        # and write it into BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SPIN = "spin (OpenMP default; transcription's default)"
TRAIN_DEFAULT = "brief spin (GOMP_SPINCOUNT=3000; asr train's default)"
SETTINGS = {
    SPIN: {},
    TRAIN_DEFAULT: {"GOMP_SPINCOUNT": "3000"},
    "passive (OMP_WAIT_POLICY=PASSIVE)": {"OMP_WAIT_POLICY": "PASSIVE"},
    "passive, 1 thread": {"OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": "1"},
}
BUSY_LOOP = "import time\nend = time.time() + 3600\nwhile time.time() < end:\n    pass\n"


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=12, help="timed training steps per measurement")
    p.add_argument("--utterances", type=int, default=20, help="timed batch-1 transcriptions per measurement")
    p.add_argument("--record", action="store_true", help="write the section into BENCHMARKS.md")
    p.add_argument("--child", choices=["train", "transcribe"], help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def child(job: str, args: argparse.Namespace) -> dict:
    """One measurement in this process: seconds of audio per second of the ``job``."""
    import torch  # before asr, so that this process keeps the OpenMP settings its parent gave it
    from benchmark import gradient_clip, recipe_config, train_step
    from benchmark_training import ALPHABET, batch_plans, synthetic_utterances

    from asr.data.dataset import collate
    from asr.module import ASRModule
    from asr.text import CharTokenizer

    torch.manual_seed(args.seed)
    config = recipe_config(REPO / "recipes" / "digits")
    tokenizer = CharTokenizer.build([ALPHABET])
    module = ASRModule.from_config(config, tokenizer)
    sr = config["features"]["sample_rate"]
    if job == "train":
        durations = [float(d) for d in torch.empty(400).uniform_(1.5, 6.0, generator=torch.Generator().manual_seed(0))]
        data, warmup = config["data"], 2
        plan, _ = batch_plans(durations, data["max_batch_seconds"], data["max_batch_size"], warmup + args.steps, 0)
        items = synthetic_utterances(sorted({i for b in plan for i in b}), durations, sr, tokenizer.vocab_size, 0)
        batches = [collate([items[i] for i in b]) for b in plan]
        step = train_step(module.train(), gradient_clip(config))
        for batch in batches[:warmup]:
            step(batch)
        start = time.perf_counter()
        for batch in batches[warmup:]:
            step(batch)
        seconds = time.perf_counter() - start
        audio = sum(b["wav_lengths"].sum().item() for b in batches[warmup:]) / sr
    else:
        gen = torch.Generator().manual_seed(args.seed)
        wavs = [
            0.1 * torch.randn(int(float(torch.empty(1).uniform_(3, 8, generator=gen)) * sr), generator=gen)
            for _ in range(args.utterances + 2)
        ]
        recognizer = module.recognizer.eval()

        def transcribe(wav: torch.Tensor) -> None:
            log_probs, lengths = recognizer(wav[None], torch.tensor([wav.numel()]))
            tokenizer.decode(log_probs[0, : lengths[0]].argmax(-1).unique_consecutive().tolist())

        with torch.inference_mode():
            for wav in wavs[:2]:
                transcribe(wav)
            start = time.perf_counter()
            for wav in wavs[2:]:
                transcribe(wav)
            seconds = time.perf_counter() - start
        audio = sum(w.numel() for w in wavs[2:]) / sr
    return {"speed": audio / seconds, "threads": torch.get_num_threads()}


def measure(job: str, env: dict[str, str], contended: bool, args: argparse.Namespace) -> dict:
    """Run one ``child`` measurement in a new process with ``env``, beside a busy loop when ``contended``."""
    base = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS", "GOMP_SPINCOUNT")}
    command = [
        sys.executable,
        __file__,
        "--child",
        job,
        "--steps",
        str(args.steps),
        "--utterances",
        str(args.utterances),
        "--seed",
        str(args.seed),
    ]
    competitor = subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) if contended else None
    try:
        out = subprocess.run(command, env={**base, **env}, capture_output=True, text=True, check=True).stdout
    finally:
        if competitor is not None:
            competitor.kill()
            competitor.wait()
    return json.loads(out.splitlines()[-1])


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(Path(__file__).parent))
    if args.child:
        print(json.dumps(child(args.child, args)))
        return 0
    import torch
    from benchmark import Row, publish, render_section

    load_before = os.getloadavg()[0]
    rows = []
    for job, unit in (("train", "s of audio/s trained"), ("transcribe", "s of audio/s transcribed, batch 1")):
        speeds = {}
        for name, env in SETTINGS.items():
            for contended in (False, True):
                load = "contended" if contended else "idle"
                print(f"{job} {name} {load} ...", file=sys.stderr)
                result = measure(job, env, contended, args)
                speeds[name, contended] = result["speed"]
                setting = f"{result['threads']} thread(s); " + (
                    "one busy-loop process beside it" if contended else "nothing else running"
                )
                rows.append(Row(f"{job}, {name}, {load}", f"{result['speed']:,.1f} {unit}", setting))
        for contended, load in ((False, "idle"), (True, "contended")):
            ratio = speeds[TRAIN_DEFAULT, contended] / speeds[SPIN, contended]
            rows.append(Row(f"{job}: brief spin / spin, {load}", f"{ratio:.2f}×", "ratio"))
    notes = [
        "model: recipes/digits (3×192 BiLSTM, characters); noise audio, random transcripts",
        f"load average (1 min) before / after: {load_before:.2f} / {os.getloadavg()[0]:.2f}",
    ]
    heading = "Shared CPU: OpenMP wait policy, idle and contended"
    section = render_section(heading, rows, torch.device("cpu"), notes)
    publish(REPO / "BENCHMARKS.md" if args.record else None, heading, section)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
