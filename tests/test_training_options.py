"""Training options: bf16 mixed precision on CPU, torch.compile, checkpoint averaging, sorted epochs."""

import math

import pytest
import torch
from audio_utils import write_corpus
from configs import features, tiny_model
from lightning.pytorch.callbacks import Callback
from training_utils import tiny_config

from asr.features import FeatureConfig
from asr.model import ModelConfig, build_recognizer
from asr.model_file import load_model
from asr.module import ASRModule
from asr.schema import OptimConfig
from asr.text import CharTokenizer
from asr.train import train


class RecordLosses(Callback):
    def __init__(self):
        self.train: list[float] = []
        self.val: list[float] = []

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        self.train.append(float(outputs["loss"]))

    def on_validation_end(self, trainer, module):
        self.val.append(float(trainer.callback_metrics["val_loss"]))


def test_under_bf16_autocast_features_and_log_probs_stay_float32_and_the_lstm_runs_in_bf16():
    recognizer = build_recognizer(features(), tiny_model(num_layers=2), vocab_size=12)
    wav, lengths = torch.randn(2, 16000), torch.tensor([16000, 12000])
    with torch.autocast("cpu", dtype=torch.bfloat16):
        feats, frames = recognizer.frontend(wav, lengths)
        acoustic = recognizer.acoustic
        hidden = acoustic.lstm(acoustic.subsampling(feats), acoustic.output_lengths(frames))
        log_probs, _ = recognizer.acoustic(feats, frames)
    assert feats.dtype == log_probs.dtype == torch.float32
    assert hidden.dtype == torch.bfloat16


def test_bf16_mixed_training_and_validation_on_cpu(tmp_path):
    manifest = write_corpus(tmp_path / "data", 6)
    losses = RecordLosses()
    model = train(tiny_config(manifest, precision="bf16-mixed"), tmp_path / "exp", callbacks=[losses])
    assert len(losses.train) >= 2 and losses.val
    assert all(math.isfinite(x) for x in losses.train + losses.val)
    assert model.is_file()


def test_compile_keeps_parameter_names(tmp_path):
    config = tiny_config(tmp_path / "unused.jsonl")
    tokenizer = CharTokenizer.build(["ab c"])
    features, model = FeatureConfig(**config["features"]), ModelConfig(**config["model"])
    plain = ASRModule(features, model, tokenizer, compile=False)
    compiled = ASRModule(features, model, tokenizer, compile=True)
    assert compiled.state_dict().keys() == plain.state_dict().keys()


def test_average_best_exports_the_mean_of_the_best_checkpoints(tmp_path):
    manifest = write_corpus(tmp_path / "data", 6)
    config = {**tiny_config(manifest, max_epochs=3), "average_best": 2}
    model_path = train(config, tmp_path / "exp")
    best = sorted((tmp_path / "exp" / "checkpoints").glob("best-*.ckpt"))
    assert len(best) == 2
    states = [torch.load(path, map_location="cpu", weights_only=False)["state_dict"] for path in best]
    exported = load_model(model_path).recognizer.state_dict()
    name = "acoustic.output.weight"
    assert not torch.equal(states[0][f"recognizer.{name}"], states[1][f"recognizer.{name}"])
    for name, value in exported.items():
        mean = (states[0][f"recognizer.{name}"] + states[1][f"recognizer.{name}"]) / 2
        assert torch.allclose(value, mean if value.is_floating_point() else states[0][f"recognizer.{name}"])


def test_average_best_must_be_a_positive_count(tmp_path):
    manifest = write_corpus(tmp_path / "data", 6)
    with pytest.raises(ValueError, match="average_best=0"):
        train({**tiny_config(manifest), "average_best": 0}, tmp_path / "exp")


def test_the_module_owns_its_loss_and_optimizer_from_typed_sections():
    tokenizer = CharTokenizer.build(["ab c"])
    optim = OptimConfig(lr=0.003, betas=[0.8, 0.9], weight_decay=0.5)
    module = ASRModule(FeatureConfig(**features()), ModelConfig(**tiny_model()), tokenizer, optim)
    (group,) = module.optimizer().param_groups
    assert (group["lr"], group["betas"], group["weight_decay"]) == (0.003, (0.8, 0.9), 0.5)
    assert module.hparams["config"]["optim"]["lr"] == 0.003  # checkpoints carry plain values
    wav = torch.randn(2, 16000)
    batch = {
        "wav": wav,
        "wav_lengths": torch.tensor([16000, 12000]),
        "targets": torch.tensor([[2, 3], [4, 0]]),
        "target_lengths": torch.tensor([2, 1]),
    }
    loss, log_probs, lengths = module.eval().loss(batch, augment=False)
    expected, expected_lengths = module.recognizer(wav, batch["wav_lengths"])
    assert torch.equal(log_probs, expected) and torch.equal(lengths, expected_lengths)
    ctc = torch.nn.functional.ctc_loss(expected.transpose(0, 1), batch["targets"], lengths, batch["target_lengths"])
    assert loss.item() == pytest.approx(ctc.item())


class RecordBatchLengths(Callback):
    def __init__(self):
        self.longest: dict[int, list[int]] = {}

    def on_train_batch_start(self, trainer, module, batch, batch_idx):
        self.longest.setdefault(trainer.current_epoch, []).append(int(batch["wav_lengths"].max()))


def test_sorted_epochs_train_shortest_utterances_first(tmp_path):
    """``data.sorted_epochs=1`` (SortaGrad) reaches the sampler: epoch 0 in order of length, epoch 1 shuffled."""
    manifest = write_corpus(tmp_path / "data", 12)
    config = tiny_config(manifest, max_epochs=2)
    config["data"].update(sorted_epochs=1, max_batch_seconds=2.0)
    lengths = RecordBatchLengths()
    train(config, tmp_path / "exp", callbacks=[lengths])
    assert len(lengths.longest[0]) >= 6
    assert lengths.longest[0] == sorted(lengths.longest[0])
    assert lengths.longest[1] != sorted(lengths.longest[1])
