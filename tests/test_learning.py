"""The model learns: a tiny recognizer, configured from conf/ through Hydra's compose API as `asr train` is,
overfits a handful of real FSDD recordings until it transcribes them almost without error."""

import json

import soundfile as sf
from configs import hydra_overrides, quiet_cpu_trainer, tiny_model

import asr
from asr.config import CONF_DIR
from asr.metrics import corpus_errors
from asr.schema import compose
from asr.train import train

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
# Everything else (features, tokenizer, optimizer, schedule) is conf/'s default.
TINY = hydra_overrides(
    model=tiny_model(hidden_size=64, conv_channels=8),
    augment={"spec_augment": None},
    optim={"lr": 0.005, "warmup_steps": 10},
    data={"num_workers": 0},
    # One validation, at the end: its checkpoint is exported.
    trainer=quiet_cpu_trainer(max_epochs=250, check_val_every_n_epoch=250),
)


def test_a_tiny_model_overfits_a_handful_of_recordings(fsdd_dir, tmp_path):
    paths = [fsdd_dir / f"{digit}_jackson_0.wav" for digit in range(8)]
    manifest = tmp_path / "handful.jsonl"
    rows = [{"audio_filepath": str(p), "duration": sf.info(p).duration, "text": WORDS[d]} for d, p in enumerate(paths)]
    manifest.write_text("".join(json.dumps(row) + "\n" for row in rows))
    data = [f"data.train_manifest={manifest}", f"data.val_manifest={manifest}"]
    config = compose(CONF_DIR, "train", [*data, *TINY, "~loggers.tensorboard", f"output_dir={tmp_path / 'exp'}"])

    model = asr.load(train(config, tmp_path / "exp"))
    hypotheses = [result.text for result in model.transcribe(paths)]
    _, chars = corpus_errors([row["text"] for row in rows], hypotheses)
    assert chars.rate < 0.05, hypotheses
