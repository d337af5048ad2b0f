"""Config schemas: every recipe composes into a checked TrainConfig, defaults live in the schemas, and
mistakes name the key."""

from pathlib import Path

import pytest
import yaml

from asr.config import ConfigError, decoder_config
from asr.decoding import BeamSearchOptions, GreedyConfig
from asr.features import FeatureConfig
from asr.model import ModelConfig
from asr.run_record import versions, write_run_record
from asr.schema import TrainConfig, compose, train_config
from asr.text.tokenizer import SentencePieceConfig

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "recipe, name", [("digits", "config"), ("synthetic", "config"), ("librispeech", "config"), ("librispeech", "960h")]
)
def test_every_recipe_composes_into_a_checked_config(recipe, name):
    config = compose(REPO / "recipes" / recipe, name)
    assert isinstance(config, TrainConfig) and isinstance(config.model, ModelConfig)
    assert isinstance(config.features, FeatureConfig)
    if recipe == "digits":  # model.pt decodes with a search that can only output the digit words
        assert isinstance(config.decoder, BeamSearchOptions) and len(config.decoder.words) == 10
    else:
        assert isinstance(config.decoder, GreedyConfig)
    if recipe == "librispeech":
        assert isinstance(config.tokenizer, SentencePieceConfig)
        assert config.tokenizer.vocab_size == (1024 if name == "960h" else 256)


def test_a_recipe_key_the_chosen_decoder_lacks_is_one_line_naming_it(tmp_path):
    (tmp_path / "config.yaml").write_text("defaults:\n  - train\n  - _self_\ndecoder:\n  words: [one]\n")
    with pytest.raises(ConfigError) as error:
        compose(tmp_path, "config")
    assert str(error.value) == "decoder.words needs decoder=beam (decoder=greedy takes: type)"


def test_the_digits_model_decodes_to_digit_words_unless_another_decoder_is_chosen():
    assert compose(REPO / "recipes" / "digits", "config").decoder.words[-1] == "nine"
    assert isinstance(compose(REPO / "recipes" / "digits", "config", ["decoder=greedy"]).decoder, GreedyConfig)


def test_recipes_change_values_and_the_schema_fills_in_the_rest():
    config = compose(REPO / "recipes" / "digits", "config", ["decoder=beam", "decoder.beam_size=8"])
    assert config.model.hidden_size == 192 and config.model.dropout == ModelConfig().dropout
    assert config.features.norm_gate_db == 40 and config.features.n_mels == FeatureConfig().n_mels
    assert config.decoder == BeamSearchOptions(beam_size=8)  # the group choice replaces the recipe's decoder


def test_group_files_hold_no_values():
    """Defaults live in one place: the YAML group files name their schema, the schemas hold the values."""
    for path in (REPO / "conf").glob("*/*.yaml"):
        if path.parent.name == "trainer":  # passed to Lightning as it is: no schema of ours
            continue
        loaded = yaml.safe_load(path.read_text()) or {}
        assert set(loaded) <= {"defaults"}, path


def test_a_python_dict_is_checked_and_completed():
    config = train_config({"data": {"train_manifest": "a.jsonl", "val_manifest": ["b.jsonl", "c.jsonl"]}})
    assert config.loggers == {"tensorboard": {}, "csv": {}} and config.augment.spec_augment.freq_masks == 2
    assert train_config({"data": config.data.__dict__, "loggers": {"csv": {}}}).loggers == {"csv": {}}
    with pytest.raises(ConfigError, match=r"^data.train_manifest: no value given"):
        train_config({})
    with pytest.raises(ConfigError, match=r"^data.val_manifest=3: expected a manifest path or a list of them"):
        train_config({"data": {"train_manifest": "a", "val_manifest": 3}})
    with pytest.raises(ConfigError, match=r"^augment.noise.snr: unknown key \(NoiseConfig takes: prob, snr_db\)"):
        train_config({"data": config.data.__dict__, "augment": {"noise": {"snr": [1, 2]}}})
    with pytest.raises(ConfigError, match=r"^data.test_manifest: unknown key"):  # nothing read it: a test set is
        train_config({"data": {**config.data.__dict__, "test_manifest": "t.jsonl"}})  # named to asr evaluate
    with pytest.raises(ConfigError, match=r"^resume=.*nope.ckpt: no such checkpoint"):
        train_config({"data": config.data.__dict__, "resume": "nope.ckpt"})


def test_loggers_come_from_the_config():
    data = ["data.train_manifest=a", "data.val_manifest=b"]
    assert compose(REPO / "conf", "train", [*data, "~loggers.tensorboard"]).loggers == {"csv": {}}
    with pytest.raises(ConfigError, match=r"^loggers.comet: unknown logger \(available: tensorboard, csv, wandb, "):
        compose(REPO / "conf", "train", [*data, "+loggers.comet={}"])


def test_decoder_overrides_are_checked_against_the_chosen_decoder(tmp_path):
    assert decoder_config({"type": "greedy"}, []) == GreedyConfig()
    lm = tmp_path / "lm.arpa"
    lm.write_text("\\data\\\n")
    assert decoder_config({}, ["decoder=beam", f"decoder.lm={lm}"]).lm == str(lm)
    with pytest.raises(ConfigError, match=r"^decoder.lm needs decoder=beam"):
        decoder_config({"type": "greedy"}, [f"decoder.lm={lm}"])
    with pytest.raises(ConfigError, match=r"^'beam': expected decoder=NAME or decoder.KEY=VALUE"):
        decoder_config({}, ["beam"])


def test_run_record(tmp_path):
    write_run_record(tmp_path / "run", {"model": {"hidden_size": 8}})
    assert yaml.safe_load((tmp_path / "run" / "config.yaml").read_text()) == {"model": {"hidden_size": 8}}
    recorded = yaml.safe_load((tmp_path / "run" / "versions.yaml").read_text())
    assert recorded == versions() and recorded["packages"]["num2words"] and recorded["python"].count(".") == 2
