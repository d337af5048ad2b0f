#!/usr/bin/env python
"""PyTorch fp32 vs ONNX Runtime fp32 vs ONNX Runtime int8: WER, file size and speed; record them in BENCHMARKS.md.

WER comes from ``asr evaluate``'s code path (greedy, the whole manifest) for each runtime.
Speed is features + forward + greedy decoding over the first ``--utterances`` readable
utterances held in memory, at batch 1 (one utterance per call) and batched (``--batch``
utterances padded together), with 1 and 2 threads, in x real time (audio seconds per
second). Every variant runs in the same process, one after the other, so compare them
as ratios. ``--random H,L,S`` benchmarks speed only on a model of random weights with L
BiLSTM layers of H units and subsampling S (e.g. 1024,5,2: the peer's size).
The section ``## <machine> / export (<model>)`` of ``--out`` is replaced.

    python tools/benchmark_export.py exp/digits/model.pt data/digits/test.jsonl --out BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

import torch
from benchmark import machine_name, publish

from asr.audio import AudioError
from asr.data.manifest import read_manifest
from asr.decoding import GreedyDecoder
from asr.evaluation import evaluate
from asr.inference import Transcriber, open_model
from asr.model import build_recognizer
from asr.model_file import load_model, save_model
from asr.onnx_export import export_onnx, quantize_onnx


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("model", help="model.pt")
    p.add_argument("manifest", help="test manifest (WER and the speed utterances)")
    p.add_argument("--random", help="H,L,S: speed only, random weights of this size instead of MODEL's")
    p.add_argument("--utterances", type=int, default=48, help="utterances timed")
    p.add_argument("--batch", type=int, default=16, help="utterances per batched call")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--repeats", type=int, default=2, help="timed passes; the fastest counts")
    p.add_argument("--out", help="Markdown file to write the results into")
    return p.parse_args(argv)


def random_model(model_path: str, size: str, out: Path) -> Path:
    """``model_path``'s features and tokenizer with a random acoustic model of ``size`` (H,L,S)."""
    hidden, layers, subsampling = (int(x) for x in size.split(","))
    base = load_model(model_path)
    config = {**base.config, "model": {**base.config["model"], "hidden_size": hidden, "num_layers": layers}}
    config["model"]["subsampling"] = subsampling
    recognizer = build_recognizer(config["features"], config["model"], base.tokenizer.vocab_size).eval()
    recognizer.frontend.load_state_dict(base.recognizer.frontend.state_dict())
    save_model(out, recognizer, base.tokenizer, config)
    return out


def speed(recognizer, wavs: list[torch.Tensor], batch: int, repeats: int) -> float:
    """x real time of features + forward + greedy decoding over ``wavs``, ``batch`` at a time."""
    decoder = GreedyDecoder()
    seconds = sum(w.numel() for w in wavs) / 16000
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        with torch.inference_mode():
            for i in range(0, len(wavs), batch):
                group = wavs[i : i + batch]
                padded = torch.nn.utils.rnn.pad_sequence(group, batch_first=True)
                log_probs, lengths = recognizer(padded, torch.tensor([w.numel() for w in group]))
                decoder.decode(log_probs, lengths)
        best = min(best, time.perf_counter() - start)
    return seconds / best


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    load_start = os.getloadavg()
    manifest = read_manifest(args.manifest)
    with tempfile.TemporaryDirectory() as tmp:
        model_path = random_model(args.model, args.random, Path(tmp) / "random.pt") if args.random else args.model
        files = {"PyTorch fp32": Path(model_path)}
        files["ONNX fp32"] = export_onnx(model_path, Path(tmp) / "fp32.onnx")
        files["ONNX int8"] = quantize_onnx(files["ONNX fp32"], Path(tmp) / "int8.onnx")
        wer = {}
        if not args.random:
            texts = {}
            for name, path in files.items():
                transcriber = Transcriber.from_file(path, device="cpu", threads=2)
                torch.set_num_threads(2)
                report = evaluate(transcriber, manifest, Path(tmp) / "eval.jsonl")
                wer[name] = 100 * report.words.rate
                texts[name] = [line for line in open(Path(tmp) / "eval.jsonl")]
            same = texts["ONNX fp32"] == texts["PyTorch fp32"]
        wavs = []
        for utt in manifest.utterances:
            if len(wavs) == args.utterances:
                break
            try:
                wavs.append(utt.audio.load(16000))
            except AudioError as e:
                print(f"skipping {e}", file=sys.stderr)
        rows = []
        for name, path in files.items():
            for threads in args.threads:
                torch.set_num_threads(threads)
                recognizer = open_model(path, "auto", "cpu", threads).recognizer
                one = speed(recognizer, wavs, 1, args.repeats)
                many = speed(recognizer, wavs, args.batch, args.repeats)
                rows.append((name, threads, one, many, path.stat().st_size / 1e6))
    base = {t: (one, many) for name, t, one, many, _ in rows if name == "PyTorch fp32"}
    size = args.random or "the model's own"
    lines = [
        f"Model `{args.model}`" + (f" with random weights at H,L,S = {args.random}" if args.random else "") + ", "
        f"{len(wavs)} utterances of `{args.manifest}` ({sum(w.numel() for w in wavs) / 16000:.1f} s) for speed.",
        "",
        "| runtime | threads | batch 1 (x real time) | vs PyTorch | batch "
        f"{args.batch} (x real time) | vs PyTorch | file (MB) |" + (" WER % |" if wer else ""),
        "| --- | --- | --- | --- | --- | --- | --- |" + (" --- |" if wer else ""),
    ]
    for name, threads, one, many, mb in rows:
        b1, bn = base[threads]
        lines.append(
            f"| {name} | {threads} | {one:.1f} | {one / b1:.2f}x | {many:.1f} | {many / bn:.2f}x | {mb:.1f} |"
            + (f" {wer[name]:.2f} |" if wer else "")
        )
    lines += ["", f"Command: `python tools/benchmark_export.py {shlex.join(argv)}`  "]
    if wer:
        lines.append(
            f"WER: greedy, all {len(manifest.utterances)} utterances, 2 threads; ONNX fp32 transcripts "
            f"{'identical to' if same else 'DIFFERENT from'} PyTorch's.  "
        )
    lines.append(
        f"Load average {load_start[0]:.2f} before, {os.getloadavg()[0]:.2f} after; {machine_name()}; "
        f"torch {torch.__version__}, onnxruntime {__import__('onnxruntime').__version__}; size: {size}."
    )
    heading = f"{machine_name()} / export ({args.random or Path(args.model).name})"
    publish(Path(args.out) if args.out else None, heading, f"## {heading}\n\n" + "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
