"""Two DDP processes on CPU (gloo): same weights after a step, every utterance trained exactly once per epoch."""

import subprocess
import sys
from collections import Counter
from pathlib import Path

import torch
from audio_utils import write_corpus

from asr.data.manifest import read_manifest


def test_two_rank_ddp_on_cpu(tmp_path):
    manifest = write_corpus(tmp_path / "data", 15)
    out = tmp_path / "exp"
    worker = Path(__file__).with_name("ddp_worker.py")
    run = subprocess.run(
        [sys.executable, str(worker), str(manifest), str(out)], capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    ranks = [torch.load(out / f"rank{r}.pt") for r in (0, 1)]
    for name, weight in ranks[0]["weights"].items():
        torch.testing.assert_close(weight, ranks[1]["weights"][name], rtol=0, atol=0, msg=name)
    moved = ranks[0]["weights"]["acoustic.output.weight"] - ranks[0]["initial"]["acoustic.output.weight"]
    assert moved.abs().max() > 0  # a real optimizer step happened
    assert len(ranks[0]["batches"]) == len(ranks[1]["batches"]) > 1  # duration-bucketed, equal steps per rank
    seen = Counter(i for rank in ranks for batch in rank["batches"] for i in batch)
    assert seen == Counter(u.id for u in read_manifest(manifest).utterances)  # each id exactly once
    assert (out / "model.pt").is_file()
