#!/usr/bin/env python
"""Load test of `asr serve` on localhost: throughput and latency at several concurrencies, peak server memory.

Starts `asr serve MODEL` on a free 127.0.0.1 port (never another host), then for each
concurrency sends ``--requests`` good requests (FSDD-style files from ``--manifest``,
cycled) from that many concurrent clients, with a bad request (not audio, empty,
unknown response_format) after every ``--bad-every`` good ones, stopping a level
after ``--max-seconds``. Every good answer is checked against the transcript the same
model gives the file alone in this process (``Transcriber``); every bad one must be a
4xx JSON error. An int8 model's answers can differ from that when the server batched
the file with others: its activations are quantized with one scale per batch.
Reports requests/s, audio x real time and p50/p95/p99 latency of the good requests,
and the server's peak resident memory (VmHWM, Linux). The section
``## <machine> / serve (<model>)`` of ``--out`` is replaced.

    python tools/load_test_serve.py exp/digits/model.pt data/digits/test.jsonl --out BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
from benchmark import machine_name, publish

from asr.data.manifest import read_manifest
from asr.inference import Transcriber

BAD = [
    ({"file": ("notes.txt", b"plain text, not audio")}, {}),
    ({"file": ("empty.wav", b"")}, {}),
    (None, {"response_format": "xml"}),  # a good file with an unknown format
]


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("model")
    p.add_argument("manifest", help="utterances to send")
    p.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    p.add_argument("--requests", type=int, default=96, help="good requests per concurrency level")
    p.add_argument("--files", type=int, default=32, help="distinct files cycled through")
    p.add_argument("--bad-every", type=int, default=8)
    p.add_argument("--max-seconds", type=float, default=120.0, help="time bound per level")
    p.add_argument("--server-args", default="", help="extra arguments for asr serve, e.g. '--runtime onnx'")
    p.add_argument("--out")
    return p.parse_args(argv)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def level(url: str, files: list[tuple[str, bytes, str, float]], args, concurrency: int) -> dict:
    """One concurrency level: latencies of good requests, counts of wrong, busy and bad answers."""
    latencies, wrong, busy, bad_ok, bad_sent, audio = [], 0, 0, 0, 0, 0.0
    jobs = asyncio.Queue()
    for i in range(args.requests):
        jobs.put_nowait(("good", files[i % len(files)]))
        if (i + 1) % args.bad_every == 0:
            jobs.put_nowait(("bad", BAD[(i // args.bad_every) % len(BAD)]))
    deadline = time.monotonic() + args.max_seconds

    async def client() -> None:
        nonlocal wrong, busy, bad_ok, bad_sent, audio
        async with httpx.AsyncClient(base_url=url, timeout=300) as http:
            while not jobs.empty() and time.monotonic() < deadline:
                kind, item = jobs.get_nowait()
                if kind == "good":
                    name, data, expected, seconds = item
                    start = time.perf_counter()
                    answer = await http.post("/v1/audio/transcriptions", files={"file": (name, data)})
                    if answer.status_code == 503:
                        busy += 1
                        continue
                    latencies.append(time.perf_counter() - start)
                    audio += seconds
                    wrong += answer.status_code != 200 or answer.json().get("text") != expected
                else:
                    upload, form = item
                    upload = upload or {"file": (files[0][0], files[0][1])}
                    answer = await http.post("/v1/audio/transcriptions", files=upload, data=form)
                    bad_sent += 1
                    bad_ok += 400 <= answer.status_code < 500 and "error" in answer.json()

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    wall = time.perf_counter() - start
    ms = np.array(latencies) * 1000
    return {
        "concurrency": concurrency,
        "good": len(latencies),
        "wall": wall,
        "rps": len(latencies) / wall,
        "xrt": audio / wall,
        "p50": np.percentile(ms, 50),
        "p95": np.percentile(ms, 95),
        "p99": np.percentile(ms, 99),
        "wrong": wrong,
        "busy": busy,
        "bad": f"{bad_ok}/{bad_sent}",
    }


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    load_start = os.getloadavg()
    utterances = read_manifest(args.manifest).utterances[: args.files]
    transcriber = Transcriber.from_file(args.model, device="cpu", max_batch_seconds=0.0)  # each file alone
    expected = [t.text for t in transcriber.transcribe([u.audio for u in utterances])]
    files = [
        (Path(u.audio_filepath).name, Path(u.audio_filepath).read_bytes(), text, u.duration)
        for u, text in zip(utterances, expected)
    ]
    port = free_port()
    command = [sys.executable, "-m", "asr.cli.main", "serve", args.model, "--port", str(port), "--device", "cpu"]
    command += shlex.split(args.server_args)
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise SystemExit("the server did not come up")
        rows = [asyncio.run(level(url, files, args, c)) for c in args.concurrency]
        peak = peak_rss_mib(server.pid)
    finally:
        server.terminate()
        server.wait(10)
    lines = [
        f"`asr serve {args.model} {args.server_args}`".replace(" `", "`") + f" on 127.0.0.1, clients in the same "
        f"machine; {len(files)} files of `{args.manifest}` cycled, {args.requests} good requests per level "
        f"(bounded to {args.max_seconds:g} s), a bad request after every {args.bad_every}.",
        "",
        "| concurrency | good requests | requests/s | audio x real time | p50 ms | p95 ms | p99 ms "
        "| answers unlike the file alone | 503 busy | bad requests answered 4xx |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['concurrency']} | {r['good']} | {r['rps']:.1f} | {r['xrt']:.1f} | {r['p50']:.0f} | {r['p95']:.0f} "
            f"| {r['p99']:.0f} | {r['wrong']} | {r['busy']} | {r['bad']} |"
        )
    lines += [
        "",
        f"Server peak memory (VmHWM): {peak:.0f} MiB.  ",
        f"Command: `python tools/load_test_serve.py {shlex.join(argv)}`  ",
        f"Load average {load_start[0]:.2f} before, {os.getloadavg()[0]:.2f} after; {machine_name()}.",
    ]
    heading = f"{machine_name()} / serve ({Path(args.model).name}{' ' + args.server_args if args.server_args else ''})"
    publish(Path(args.out) if args.out else None, heading, f"## {heading}\n\n" + "\n".join(lines) + "\n")
    return 1 if any(r["wrong"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
