"""The model learns: a tiny recognizer, configured from conf/ through Hydra's compose API as `asr train` is,
overfits a handful of real FSDD recordings until it transcribes them almost without error."""

import json

import soundfile as sf

import asr
from asr.config import CONF_DIR
from asr.metrics import corpus_errors
from asr.schema import compose
from asr.train import train

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
# Everything else (features, tokenizer, optimizer, schedule) is conf/'s default.
TINY = [
    "model.hidden_size=64",
    "model.num_layers=1",
    "model.conv_channels=8",
    "model.dropout=0.0",
    "augment.spec_augment=null",
    "optim.lr=0.005",
    "optim.warmup_steps=10",
    "data.num_workers=0",
    "trainer.accelerator=cpu",
    "trainer.max_epochs=250",
    "trainer.check_val_every_n_epoch=250",  # one validation, at the end: its checkpoint is exported
    "trainer.enable_progress_bar=false",
    "trainer.enable_model_summary=false",
    "~loggers.tensorboard",
]


def test_a_tiny_model_overfits_a_handful_of_recordings(fsdd_dir, tmp_path):
    paths = [fsdd_dir / f"{digit}_jackson_0.wav" for digit in range(8)]
    manifest = tmp_path / "handful.jsonl"
    rows = [{"audio_filepath": str(p), "duration": sf.info(p).duration, "text": WORDS[d]} for d, p in enumerate(paths)]
    manifest.write_text("".join(json.dumps(row) + "\n" for row in rows))
    data = [f"data.train_manifest={manifest}", f"data.val_manifest={manifest}"]
    config = compose(CONF_DIR, "train", [*data, *TINY, f"output_dir={tmp_path / 'exp'}"])

    model = asr.load(train(config, tmp_path / "exp"))
    hypotheses = [result.text for result in model.transcribe(paths)]
    _, chars = corpus_errors([row["text"] for row in rows], hypotheses)
    assert chars.rate < 0.05, hypotheses
