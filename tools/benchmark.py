#!/usr/bin/env python
"""Measure feature extraction, training and inference speed on this machine; record them in BENCHMARKS.md.

Prints a Markdown section and writes it into the ``--out`` file, replacing the
section of an earlier run on the same machine and device. Numbers only: nothing
here passes or fails. The model is the recipe's (``recipes/digits`` unless
``--recipe`` says otherwise), composed through Hydra as ``asr train`` does.

Run it on an otherwise idle machine: other work on the same cores (even one
more torch process) slows the many small step-by-step LSTM kernels far more
than its share of the CPU would suggest.

    python tools/benchmark.py --manifest data/digits/train.jsonl
    python tools/benchmark.py --manifest data/digits/train.jsonl --quick --out /tmp/BENCH.md
    python tools/benchmark.py --manifest data/digits/dev.jsonl --model exp/digits/model.pt --device cuda
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import os
import platform
import re
import resource
import shlex
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import torch
import torchaudio
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from asr.audio import AudioError
from asr.config import CONF_DIR
from asr.data.dataset import LabeledSet, UtteranceDataset, collate, select_trainable
from asr.data.manifest import Manifest, Utterance, read_manifest
from asr.data.sampler import DurationBatchSampler
from asr.features import FeatureConfig, Frontend
from asr.inference import Transcriber, resolve_device
from asr.lstm_bf16 import amx_available
from asr.model import build_recognizer
from asr.model_file import LoadedModel, load_model
from asr.module import ASRModule
from asr.schema import register
from asr.text import CharTokenizer, normalize_text

REPO = Path(__file__).resolve().parents[1]
HEADER = (
    "# Benchmarks\n\n"
    "Written by `tools/benchmark.py`; one section per machine and device, replaced when rerun there.\n"
    "Speeds are audio seconds processed per wall-clock second (× real time); higher is faster.\n"
)
WARMUP_STEPS = 2
DISTINCT_BATCHES = 16  # training cycles over this many preloaded batches, so memory stays small


@dataclass(frozen=True)
class Settings:
    """How much work each measurement does."""

    feature_utterances: int
    feature_batch: int
    feature_passes: int
    train_steps: int
    max_batch_seconds: float | None  # None: the recipe's data.max_batch_seconds
    inference_files: int


FULL = Settings(
    feature_utterances=512,
    feature_batch=16,
    feature_passes=3,
    train_steps=60,
    max_batch_seconds=None,
    inference_files=1000,
)
QUICK = Settings(
    feature_utterances=8, feature_batch=4, feature_passes=1, train_steps=2, max_batch_seconds=10.0, inference_files=8
)


@dataclass
class Row:
    """One line of the results table."""

    measurement: str
    result: str
    setting: str


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--manifest", required=True, help="JSON-lines manifest whose audio is used for every measurement")
    p.add_argument(
        "--recipe", default=str(REPO / "recipes" / "digits"), help="recipe folder whose model config is measured"
    )
    p.add_argument("--model", help="time inference with this model file instead of a freshly initialized recognizer")
    p.add_argument("--device", default="auto", help="auto (CUDA when available), cpu, cuda, cuda:1, ...")
    p.add_argument("--quick", action="store_true", help="tiny settings: a smoke test of this script, not a benchmark")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="BENCHMARKS.md", help="Markdown file to write the results into")
    return p.parse_args(argv)


def recipe_config(recipe: Path, name: str = "config", overrides: Sequence[str] = ()) -> dict[str, Any]:
    """The recipe's config (``recipe/name.yaml``) resolved by Hydra's compose API with ``overrides``, and
    ``conf/`` on the search path as in ``asr train``, its schemas registered; missing values stay ``???``."""
    register()
    with initialize_config_dir(config_dir=str(recipe.resolve()), version_base="1.3"):
        cfg = compose(name, overrides=[f"hydra.searchpath=[file://{CONF_DIR}]", *overrides])
    return OmegaConf.to_container(cfg, resolve=True)


# --- machine description --------------------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# The CPU features that decide which matmul kernels PyTorch runs (as its cpuinfo detects them).
CPU_FLAGS = ("avx2", "avx512_f", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16", "amx_int8", "amx_fp16")


def cpu_flags() -> str:
    """Those of ``CPU_FLAGS`` this CPU has, space-separated."""
    capabilities = torch.cpu.get_capabilities()
    return " ".join(flag for flag in CPU_FLAGS if capabilities.get(flag)) or "none of " + ", ".join(CPU_FLAGS)


def cpu_description() -> str:
    """The CPU model and its relevant flags, for every record."""
    return f"{cpu_model()} (flags: {cpu_flags()})"


def machine_name() -> str:
    """The machine kind, for section headings: the CPU model, whether it has AMX, and the core count."""
    amx = " with AMX" if amx_available() else ""
    return f"{cpu_model()}{amx}, {os.cpu_count()} cores"


def load_row(load_start: tuple[float, float, float]) -> Row:
    """The table row giving the load average at a run's start (``os.getloadavg()`` then) and now."""

    def text(load: tuple[float, float, float]) -> str:
        return ", ".join(f"{x:.2f}" for x in load)

    return Row(
        "load average (1, 5, 15 min, as `uptime`)",
        f"{text(load_start)} before the run, {text(os.getloadavg())} at its end",
        f"{os.cpu_count()} cores; before the run, anything above 0 is other work on them, at the end the run's "
        f"own threads count too; OMP_WAIT_POLICY="
        f"{os.environ.get('OMP_WAIT_POLICY', '(unset: threads spin while waiting)')}",
    )


def device_name(device: torch.device) -> str:
    return f"{device.type} ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else device.type


def peak_rss_gib() -> float:
    """Peak resident memory of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn: Callable[[], Any], device: torch.device) -> float:
    """Wall seconds ``fn`` takes, waiting for queued GPU work before and after."""
    sync(device)
    start = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - start


# --- measurements ---------------------------------------------------------------------------------------------------


def pad_batch(wavs: list[torch.Tensor], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = torch.tensor([w.numel() for w in wavs], device=device)
    return torch.nn.utils.rnn.pad_sequence(wavs, batch_first=True).to(device), lengths


def readable_waveforms(utterances: list[Utterance], sample_rate: int) -> Iterator[torch.Tensor]:
    """Waveforms of the utterances whose audio loads; the others are named on stderr and skipped."""
    for u in utterances:
        try:
            yield u.audio.load(sample_rate)
        except AudioError as e:
            print(f"skipping {e}", file=sys.stderr)


def bench_features(manifest: Manifest, features: dict, settings: Settings, device: torch.device) -> Row:
    """Frontend (log-mel + normalization) speed on padded batches of the first utterances, loading excluded."""
    sr = features["sample_rate"]
    plain_frames = FeatureConfig(sr, features["n_mels"], features["win_ms"], features["hop_ms"])
    frontend = Frontend(plain_frames).to(device).eval()
    utts = manifest.utterances[: settings.feature_utterances]
    wavs = list(readable_waveforms(utts, sr))
    if not wavs:
        raise SystemExit("error: none of the first utterances' audio could be read")
    batches = [
        pad_batch(wavs[i : i + settings.feature_batch], device) for i in range(0, len(wavs), settings.feature_batch)
    ]
    audio_seconds = sum(w.numel() for w in wavs) / sr

    def run_passes() -> None:
        for _ in range(settings.feature_passes):
            for wav, lengths in batches:
                frontend(wav, lengths)

    with torch.inference_mode():
        frontend(*batches[0])  # warm-up
        seconds = timed(run_passes, device)
    speed = audio_seconds * settings.feature_passes / seconds
    return Row(
        "feature extraction (Frontend: log-mel + normalization)",
        f"{speed:,.0f} × real time",
        f"{len(wavs)} utterances ({audio_seconds:.1f} s of audio) in batches of {settings.feature_batch}, "
        f"{settings.feature_passes} pass(es), 1 warm-up batch; audio loading excluded",
    )


def training_batches(
    data: LabeledSet, sample_rate: int, config: dict, batch_seconds: float, count: int, seed: int
) -> list[dict]:
    """Up to ``count`` batches of a shuffled epoch, loaded into memory (unreadable files skipped, as in training)."""
    sampler = DurationBatchSampler(
        data.durations, batch_seconds, config["data"]["max_batch_size"], shuffle=True, seed=seed
    )
    dataset = UtteranceDataset(data, sample_rate)
    batches = (collate([dataset[i] for i in indices]) for indices in sampler)
    loaded = list(itertools.islice((b for b in batches if b["wav"].numel()), count))
    if not loaded:
        raise SystemExit("error: no readable training batch in the manifest")
    return loaded


def gradient_clip(config: dict) -> float | None:
    """The gradient norm training clips at: the recipe's ``trainer.gradient_clip_val``, as Lightning reads it."""
    return config.get("trainer", {}).get("gradient_clip_val")


def clip_text(clip: float | None) -> str:
    return f"grad clip {clip:g}" if clip is not None else "no grad clipping"


def train_step(module: ASRModule, clip: float | None, autocast: torch.dtype | None = None) -> Callable[[dict], None]:
    """One optimizer step as training takes it: the module's forward and CTC loss (under ``autocast`` when given,
    as Lightning's mixed precision does), backward, gradient clipping at ``clip`` (None: none), its AdamW."""
    optimizer = module.optimizer()

    def step(batch: dict) -> None:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(batch["wav"].device.type, dtype=autocast, enabled=autocast is not None):
            loss, _, _ = module.loss(batch, augment=True)
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(module.parameters(), clip)
        optimizer.step()

    return step


def bench_training(
    manifest: Manifest, tokenizer: CharTokenizer, config: dict, settings: Settings, device: torch.device, seed: int
) -> list[Row]:
    """Optimizer steps (forward, CTC loss, backward, grad clipping, AdamW) on preloaded real batches, SpecAugment on."""
    module = ASRModule.from_config(config, tokenizer).to(device).train()
    recognizer = module.recognizer
    params = sum(p.numel() for p in module.parameters())
    sr = config["features"]["sample_rate"]
    batch_seconds = settings.max_batch_seconds or config["data"]["max_batch_seconds"]
    data = select_trainable(
        manifest,
        tokenizer,
        lambda seconds: recognizer.output_frames(int(seconds * sr)),
        config["data"].get("max_duration") or float("inf"),
    )
    steps = WARMUP_STEPS + settings.train_steps
    distinct = training_batches(data, sr, config, batch_seconds, min(steps, DISTINCT_BATCHES), seed)
    distinct = [{k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in b.items()} for b in distinct]
    batches = list(itertools.islice(itertools.cycle(distinct), steps))
    step = train_step(module, gradient_clip(config))
    for batch in batches[:WARMUP_STEPS]:
        step(batch)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    timed_batches = batches[WARMUP_STEPS:]
    seconds = timed(lambda: [step(b) for b in timed_batches], device)
    audio = sum(b["wav_lengths"].sum().item() for b in timed_batches) / sr
    padded = sum(b["wav"].numel() for b in timed_batches) / sr
    utts = sum(b["wav_lengths"].numel() for b in timed_batches)
    n = len(timed_batches)
    memory = f"peak RSS {peak_rss_gib():.2f} GiB (process so far)"
    if device.type == "cuda":
        memory += f"; CUDA max allocated {torch.cuda.max_memory_allocated(device) / 2**30:.2f} GiB"
    model = config["model"]
    return [
        Row(
            "training throughput",
            f"{audio / seconds:,.1f} s of audio/s ({n / seconds:.2f} steps/s)",
            f"{n} steps after {WARMUP_STEPS} warm-up, cycling {len(distinct)} preloaded batches; "
            f"max_batch_seconds {batch_seconds:g}: mean batch {audio / n:.1f} s of audio "
            f"({padded / n:.1f} s padded, {utts / n:.1f} utterances); {params:,} parameters "
            f"(BiLSTM {model['num_layers']}×{model['hidden_size']}); fp32, SpecAugment on, "
            f"{clip_text(gradient_clip(config))}, AdamW; data loading excluded",
        ),
        Row("training memory", memory, "after the timed steps"),
    ]


def inference_model(args: argparse.Namespace, tokenizer: CharTokenizer, config: dict) -> LoadedModel:
    """The ``--model`` file, or a freshly initialized recognizer of the recipe's size (weights do not change speed)."""
    if args.model:
        return load_model(args.model)
    sections = {k: config[k] for k in ("features", "model", "decoder")}
    recognizer = build_recognizer(config["features"], config["model"], tokenizer.vocab_size)
    return LoadedModel(recognizer.eval(), tokenizer, sections)


def bench_inference(
    manifest: Manifest, model: LoadedModel, settings: Settings, device: torch.device, label: str
) -> Row:
    """``Transcriber.transcribe`` (greedy) over the first files of the manifest, audio loading included."""
    transcriber = Transcriber(model, device=str(device))
    sources = [u.audio for u in manifest.utterances]
    list(transcriber.transcribe(sources[:2]))  # warm-up
    files = sources[: settings.inference_files]
    results: list = []
    seconds = timed(lambda: results.extend(transcriber.transcribe(files)), device)
    audio = sum(r.duration for r in results if r.error is None)
    failed = sum(r.error is not None for r in results)
    return Row(
        f"inference (Transcriber, {model.config.get('decoder', {}).get('type', 'greedy')} decoding)",
        f"{audio / seconds:,.0f} × real time",
        f"{len(files)} files ({audio:.1f} s of audio{f', {failed} unreadable' if failed else ''}), "
        f"batches of up to {transcriber.max_batch_seconds:g} s; {label}; audio loading and decoding included",
    )


# --- report ---------------------------------------------------------------------------------------------------------


def render_section(heading: str, rows: list[Row], device: torch.device, notes: Sequence[str] = ()) -> str:
    """A ``## machine / device`` section: how the numbers were taken (with ``notes``), then the table."""
    versions = f"torch {torch.__version__}, torchaudio {torchaudio.__version__}, lightning {L.__version__}"
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else "none used"
    lines = [
        f"## {heading}",
        "",
        f"- date: {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
        f"- machine: {cpu_description()}; {os.cpu_count()} cores; torch threads {torch.get_num_threads()}; GPU: {gpu}",
        f"- versions: Python {platform.python_version()}, {versions}",
        f"- command: `python {shlex.join(sys.argv)}`",
        *(f"- {note}" for note in notes),
        "",
        "| measurement | result | setting |",
        "| --- | --- | --- |",
        *(f"| {r.measurement} | {r.result} | {r.setting} |" for r in rows),
    ]
    return "\n".join(lines) + "\n"


def publish(path: Path | None, heading: str, section: str) -> None:
    """Print a section and, given a ``path``, write it into that benchmarks file."""
    print(section)
    if path is not None:
        write_section(path, heading, section)
        print(f"wrote {path}", file=sys.stderr)


def write_section(path: Path, heading: str, section: str) -> None:
    """Put ``section`` into ``path``, replacing the section with the same heading or appending it."""
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    header, *sections = re.split(r"^(?=## )", text, flags=re.MULTILINE)
    kept = [s.rstrip("\n") + "\n" for s in sections if s.splitlines()[0] != f"## {heading}"]
    path.write_text("\n".join([(header or HEADER).rstrip("\n") + "\n", *kept, section]), encoding="utf-8")


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    settings = QUICK if args.quick else FULL
    L.seed_everything(args.seed, verbose=False)
    device = resolve_device(args.device)
    config = recipe_config(Path(args.recipe))
    manifest = read_manifest(args.manifest)
    if not manifest.utterances:
        raise SystemExit(f"error: {args.manifest}: no usable utterances")
    tokenizer = CharTokenizer.build(normalize_text(u.text) for u in manifest.utterances)
    label = f"model file {args.model}" if args.model else "freshly initialized recognizer of the recipe's size"

    print(f"feature extraction on {device} ...", file=sys.stderr)
    rows = [bench_features(manifest, config["features"], settings, device)]
    print("training ...", file=sys.stderr)
    rows += bench_training(manifest, tokenizer, config, settings, device, args.seed)
    print("inference ...", file=sys.stderr)
    rows.append(bench_inference(manifest, inference_model(args, tokenizer, config), settings, device, label))
    rows.append(Row("peak memory (whole run)", f"RSS {peak_rss_gib():.2f} GiB", "ru_maxrss of this process"))

    heading = f"{machine_name()} / {device_name(device)}"
    publish(Path(args.out), heading, render_section(heading, rows, device))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
