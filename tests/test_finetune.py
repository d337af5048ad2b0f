"""Fine-tuning (init_from=MODEL.pt): weights, statistics and tokenizer come from the model file; another
tokenizer re-initializes only the output layer; another architecture is refused by name."""

import json
import logging

import pytest
import torch
from audio_utils import write_corpus
from training_utils import tiny_config

from asr.model_file import load_model
from asr.train import train


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    folder = tmp_path_factory.mktemp("base")
    return train(tiny_config(write_corpus(folder / "data", 4)), folder / "exp")


def frozen(config: dict, base_path) -> dict:
    """Fine-tuning with a learning rate of 0: what training starts from is what it exports."""
    return {**config, "init_from": str(base_path), "optim": {**config["optim"], "lr": 0.0}}


def test_starts_from_the_model_files_weights_statistics_and_tokenizer(base, tmp_path):
    manifest = write_corpus(tmp_path / "data", 4, seed=1)  # other audio and text, the same letters
    tuned = load_model(train(frozen(tiny_config(manifest), base), tmp_path / "exp"))
    original = load_model(base)
    assert tuned.tokenizer.to_dict() == original.tokenizer.to_dict()
    for name, value in original.recognizer.state_dict().items():
        assert torch.equal(tuned.recognizer.state_dict()[name], value), name  # frontend.mean/std included


def test_another_tokenizer_reinitializes_the_output_layer_only(base, tmp_path, caplog):
    manifest = write_corpus(tmp_path / "data", 4, seed=1)
    rows = [json.loads(line) for line in manifest.read_text().splitlines()]
    manifest.write_text("".join(json.dumps({**row, "text": row["text"] + " xyz"}) + "\n" for row in rows))
    with caplog.at_level(logging.WARNING, logger="asr.train"):
        tuned = load_model(train(frozen(tiny_config(manifest), base), tmp_path / "exp"))
    assert "output layer is re-initialized" in caplog.text
    original = load_model(base)
    assert tuned.tokenizer.vocab_size == original.tokenizer.vocab_size + 3
    state, before = tuned.recognizer.state_dict(), original.recognizer.state_dict()
    assert state["acoustic.output.weight"].shape[0] == tuned.tokenizer.vocab_size
    for name, value in before.items():
        if not name.startswith("acoustic.output."):
            assert torch.equal(state[name], value), name


def test_another_architecture_is_refused(base, tmp_path):
    config = tiny_config(write_corpus(tmp_path / "data", 4, seed=1))
    config["model"] = {**config["model"], "hidden_size": 24}
    with pytest.raises(ValueError, match="init_from .*architecture differs"):
        train({**config, "init_from": str(base)}, tmp_path / "exp")
