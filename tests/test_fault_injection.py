"""Kill training (SIGKILL) at random points, resume: nothing is lost and nothing is torn.

An uninterrupted run of a tiny model on a few FSDD recordings gives the reference
optimizer step count. A second run is killed while it writes a checkpoint (after a
random time) and at a random moment, resuming from checkpoints/last.ckpt after each
kill, then finishes: it must end with the same step count, and every checkpoint and
model.pt left behind must load. It is then continued for a third epoch and killed
while it exports model.pt over the previous one, which must stay whole. Every
torch.save in these runs is slowed to about 0.1 s so that kills land inside writes.
"""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import soundfile as sf
import torch

from asr.model_file import load_model

REPO = Path(__file__).resolve().parents[1]
STARTED = "Seed set to"  # the first line train() logs, once the imports are done
# `asr` with every torch.save slowed to about 0.1 s, written in pieces, so that a kill can land inside a write.
SLOW_WRITES = """
import io, os, sys, time
import torch
save = torch.save
def slow_save(obj, f, *args, **kwargs):
    buffer = io.BytesIO()
    save(obj, buffer, *args, **kwargs)
    data = buffer.getvalue()
    out = open(f, "wb") if isinstance(f, (str, os.PathLike)) else f
    for k in range(10):
        out.write(data[k * len(data) // 10 : (k + 1) * len(data) // 10])
        out.flush()
        time.sleep(0.01)
    if out is not f:
        out.close()
torch.save = slow_save
from asr.cli.main import main
sys.exit(main(sys.argv[1:]))
"""
WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TINY = [
    "model.hidden_size=8",
    "model.num_layers=1",
    "model.conv_channels=2",
    "data.num_workers=0",
    "data.max_batch_size=2",
    "features.stats_max_utterances=4",
    "trainer.accelerator=cpu",
    "trainer.enable_progress_bar=false",
    "trainer.enable_model_summary=false",
    "trainer.log_every_n_steps=1",
    "checkpoint_every_n_steps=1",
]


def _manifest(path: Path, recordings: Path, names: list[str]) -> Path:
    rows = [
        {
            "audio_filepath": str(recordings / name),
            "duration": sf.info(recordings / name).duration,
            "text": WORDS[int(name[0])],
            "id": name,
        }
        for name in names
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def _start(out: Path, data: list[str], epochs: int, log: Path) -> subprocess.Popen:
    resume = (out / "checkpoints" / "last.ckpt").is_file()
    start = [f"resume={out / 'checkpoints' / 'last.ckpt'}"] if resume else ["overwrite=true"]
    command = [sys.executable, "-c", SLOW_WRITES, "train", f"output_dir={out}", *data, *TINY]
    command += [f"trainer.max_epochs={epochs}", *start]
    with log.open("a") as f:
        env = {**os.environ, "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"}
        return subprocess.Popen(command, cwd=REPO, stdout=f, stderr=subprocess.STDOUT, env=env)


def _runs_started(out: Path) -> int:
    log = out / "train.log"
    return log.read_text().count(STARTED) if log.is_file() else 0


def _written_since(folder: Path, name: str, since_ns: int) -> bool:
    """Whether ``name``, or a temporary file named after it, has been written to since ``since_ns``."""
    for path in folder.glob(f"*{name}*") if folder.is_dir() else []:
        try:
            if path.stat().st_mtime_ns > since_ns:
                return True
        except FileNotFoundError:  # a temporary file renamed meanwhile
            return True
    return False


class Kill:
    """When to SIGKILL a run, polled while it trains: ``after`` seconds into training, then, for
    ``writing=NAME``, at the first write of NAME (or its temporary file) seen after that."""

    def __init__(self, after: float, writing: str | None = None):
        self.after, self.writing = after, writing
        self.since_ns: int | None = None

    def due(self, out: Path, seconds: float) -> bool:
        if seconds < self.after:
            return False
        if self.writing is None:
            return True
        if self.since_ns is None:
            self.since_ns = time.time_ns()
        folder = out / "checkpoints" if self.writing.endswith(".ckpt") else out
        return _written_since(folder, self.writing, self.since_ns)


def _run(out: Path, data: list[str], epochs: int, log: Path, kill: Kill | None = None) -> float | None:
    """Run training to its end and return how many seconds it trained, or SIGKILL it when ``kill`` says
    (None); the run's imports are not counted, only what follows the first line train() logs."""
    runs_before = _runs_started(out)
    process = _start(out, data, epochs, log)
    begin = None
    while process.poll() is None:
        if begin is None and _runs_started(out) > runs_before:
            begin = time.monotonic()
        if begin is not None and kill is not None and kill.due(out, time.monotonic() - begin):
            process.send_signal(signal.SIGKILL)
            process.wait()
            return None
        time.sleep(0.005)
    assert process.returncode == 0, log.read_text()[-3000:]
    return time.monotonic() - (begin or time.monotonic())


def _step(out: Path) -> int:
    return torch.load(out / "checkpoints" / "last.ckpt", weights_only=True)["global_step"]


def _check_left_whole(out: Path) -> None:
    """Whatever a killed run left is complete: model.pt loads, and so does every checkpoint (a killed
    write leaves a hidden temporary file beside its target, which the next run removes)."""
    for checkpoint in (out / "checkpoints").glob("*.ckpt") if (out / "checkpoints").is_dir() else []:
        torch.load(checkpoint, weights_only=True)
    model = out / "model.pt"
    if model.exists():
        load_model(model)


def test_training_killed_at_random_points_resumes_to_the_same_steps_and_never_tears_model_pt(fsdd_dir, tmp_path):
    names = sorted(os.listdir(fsdd_dir))
    train_names = [f"{d}_george_{k}.wav" for d in (1, 2, 3) for k in (0, 1)] + ["4_jackson_0.wav", "5_jackson_0.wav"]
    assert set(train_names) <= set(names)
    data = [
        f"data.train_manifest={_manifest(tmp_path / 'train.jsonl', fsdd_dir, train_names)}",
        f"data.val_manifest={_manifest(tmp_path / 'dev.jsonl', fsdd_dir, ['1_jackson_0.wav', '2_jackson_0.wav'])}",
    ]
    log = tmp_path / "train.log"

    reference = tmp_path / "reference"
    seconds = _run(reference, data, 2, log)
    steps = _step(reference)
    assert steps >= 2 * 4  # 8 utterances in batches of at most 2, two epochs

    rng = random.Random(14)
    out, kills = tmp_path / "killed", 0
    # Round 1 trains two epochs, killed while a checkpoint is written and at a random moment; round 2
    # continues the run for a third epoch and is killed while it exports model.pt over round 1's.
    rounds = [
        (2, [Kill(rng.uniform(0.1, 0.6) * seconds, "last.ckpt"), Kill(rng.uniform(0.1, 0.9) * seconds)]),
        (3, [Kill(0.0, "model.pt")]),
    ]
    for epochs, kill_points in rounds:
        for kill in kill_points:
            kills += _run(out, data, epochs, log, kill) is None
            _check_left_whole(out)
        _run(out, data, epochs, log)
        _check_left_whole(out)
        assert (out / "model.pt").is_file() and _step(out) == steps * epochs // 2
        assert not list(out.rglob("*.partial"))
    assert kills == 3
