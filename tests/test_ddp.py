"""Two DDP processes on CPU (gloo): same weights after a step, every sample seen once per epoch."""

import subprocess
import sys
from pathlib import Path

import torch

from asr.corpora.digits import prepare_digits
from asr.data.manifest import read_manifest


def test_two_rank_ddp_on_cpu(fsdd_dir, tmp_path):
    manifests = prepare_digits(fsdd_dir, tmp_path / "data", utterances_per_speaker={"train": 6, "dev": 1, "test": 1})
    out = tmp_path / "exp"
    worker = Path(__file__).with_name("ddp_worker.py")
    run = subprocess.run(
        [sys.executable, str(worker), str(manifests["train"]), str(out)], capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    ranks = [torch.load(out / f"rank{r}.pt") for r in (0, 1)]
    for name, weight in ranks[0]["weights"].items():
        torch.testing.assert_close(weight, ranks[1]["weights"][name], rtol=0, atol=0, msg=name)
    moved = ranks[0]["weights"]["acoustic.output.weight"] - ranks[0]["initial"]["acoustic.output.weight"]
    assert moved.abs().max() > 0  # a real optimizer step happened
    seen = ranks[0]["indices"] + ranks[1]["indices"]
    assert sorted(seen) == list(range(len(read_manifest(manifests["train"]))))
    assert ranks[0]["indices"] and ranks[1]["indices"]
    assert (out / "model.pt").is_file()
