"""The LibriSpeech recipe end to end on a tiny corpus in LibriSpeech's own layout (real FSDD speech as FLAC)."""

import json
import subprocess
import sys
from pathlib import Path

import soundfile as sf

from asr.audio import AudioSource

REPO = Path(__file__).resolve().parents[1]
WORDS = ["ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE"]
SUBSETS = {"train-clean-100": ["george", "nicolas", "yweweler"], "dev-clean": ["lucas"], "test-clean": ["jackson"]}
CPU_TINY = [
    "trainer.accelerator=cpu",
    "trainer.devices=1",
    "trainer.strategy=auto",
    "trainer.max_steps=2",
    "trainer.enable_progress_bar=false",
    "trainer.enable_model_summary=false",
    "trainer.log_every_n_steps=1",
    "model.hidden_size=16",
    "model.num_layers=2",
    "model.conv_channels=4",
    "tokenizer.vocab_size=12",
    "data.num_workers=0",
    "data.max_batch_seconds=10",
    "optim.warmup_steps=1",
]


def _librispeech(fsdd_dir: Path, root: Path) -> None:
    """Each speaker reads one 'chapter' of four single-digit utterances, as <subset>/<spk>/<chapter>/ FLAC files."""
    for subset, speakers in SUBSETS.items():
        for spk_num, speaker in enumerate(speakers, start=1):
            chapter = root / "LibriSpeech" / subset / str(spk_num) / "100"
            chapter.mkdir(parents=True)
            lines = []
            for utt, digit in enumerate((3, 7, 1, 9)):
                utt_id = f"{spk_num}-100-{utt:04d}"
                wav = AudioSource(str(fsdd_dir / f"{digit}_{speaker}_0.wav")).load(16000)
                sf.write(chapter / f"{utt_id}.flac", wav.numpy(), 16000)
                lines.append(f"{utt_id} {WORDS[digit]}\n")
            (chapter / f"{spk_num}-100.trans.txt").write_text("".join(lines))


def asr(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "asr.cli.main", *args], capture_output=True, text=True, cwd=REPO, timeout=300
    )


def test_recipe_prepares_trains_with_subwords_in_bf16_and_evaluates(fsdd_dir, tmp_path):
    _librispeech(fsdd_dir, tmp_path / "corpus")
    data = tmp_path / "data"
    prep = asr("prepare", "librispeech", "--root", str(tmp_path / "corpus"), "--out-dir", str(data))
    assert prep.returncode == 0, prep.stderr
    assert {p.name for p in data.glob("*.jsonl")} == {f"{s}.jsonl" for s in SUBSETS}

    exp = tmp_path / "exp"
    manifests = [
        f"data.{key}_manifest={data / subset}.jsonl"
        for key, subset in (("train", "train-clean-100"), ("val", "dev-clean"))
    ]
    run = asr(
        "train", "recipes/librispeech", f"output_dir={exp}", *manifests, *CPU_TINY, "trainer.precision=bf16-mixed"
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    resolved = (exp / ".hydra" / "config.yaml").read_text()
    assert "type: sentencepiece" in resolved and "precision: bf16-mixed" in resolved

    per_utt = tmp_path / "eval.jsonl"
    evaluation = asr("evaluate", str(exp / "model.pt"), str(data / "test-clean.jsonl"), "--per-utterance", str(per_utt))
    assert evaluation.returncode == 0, evaluation.stderr
    assert "WER" in evaluation.stdout
    rows = [json.loads(line) for line in per_utt.read_text().splitlines()]
    assert sorted(r["reference"] for r in rows) == ["nine", "one", "seven", "three"]
