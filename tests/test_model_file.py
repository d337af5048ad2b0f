import json
from pathlib import Path

import configs
import pytest
import torch

from asr.model import build_recognizer
from asr.model_file import FORMAT_VERSION, FRAME_OFFSET, ModelFileError, load_model, save_model
from asr.text import CharTokenizer

FIXTURES = Path(__file__).parent / "fixtures"


def test_committed_model_file_still_loads_and_gives_the_same_output():
    from fixtures.make_tiny_model import probe_input

    loaded = load_model(FIXTURES / "tiny_model.pt")
    expected = torch.tensor(json.loads((FIXTURES / "tiny_model_expected.json").read_text())["log_probs"])
    with torch.no_grad():
        log_probs, _ = loaded.recognizer(probe_input(), torch.tensor([8000]))
    torch.testing.assert_close(log_probs[0], expected, atol=1e-5, rtol=1e-5)
    assert loaded.tokenizer.decode(loaded.tokenizer.encode("two one")) == "two one"


def test_round_trip_keeps_weights_stats_tokenizer_and_config(tmp_path):
    features, model = configs.features(), configs.tiny_model(subsampling=2, hidden_size=8, num_layers=2)
    tokenizer = CharTokenizer.build(["abc d"])
    recognizer = build_recognizer(features, model, tokenizer.vocab_size)
    recognizer.frontend.set_stats(torch.arange(80.0), torch.ones(80) * 2)
    save_model(tmp_path / "m.pt", recognizer, tokenizer, {"features": features, "model": model})
    loaded = load_model(tmp_path / "m.pt")
    assert loaded.tokenizer.symbols == tokenizer.symbols and loaded.config["model"] == model
    for name, value in recognizer.state_dict().items():
        torch.testing.assert_close(loaded.recognizer.state_dict()[name], value)
    assert torch.load(tmp_path / "m.pt", weights_only=True)["format_version"] == FORMAT_VERSION
    assert loaded.frame_offset == FRAME_OFFSET  # none measured: the default
    save_model(tmp_path / "m.pt", recognizer, tokenizer, {"features": features, "model": model}, frame_offset=-0.25)
    assert load_model(tmp_path / "m.pt").frame_offset == -0.25


def test_bad_model_files_give_clear_errors(tmp_path):
    with pytest.raises(ModelFileError, match="no such model file"):
        load_model(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    with pytest.raises(ModelFileError, match="junk.pt: not a readable model file"):
        load_model(tmp_path / "junk.pt")
    torch.save({"format_version": 99}, tmp_path / "future.pt")
    with pytest.raises(ModelFileError, match="version 99 is not supported"):
        load_model(tmp_path / "future.pt")
    torch.save({"weights": 1}, tmp_path / "other.pt")
    with pytest.raises(ModelFileError, match="not an asr model file"):
        load_model(tmp_path / "other.pt")


def test_loading_checks_the_stored_config_against_its_schemas(tmp_path):
    from fixtures.make_tiny_model import CONFIG

    payload = torch.load(FIXTURES / "tiny_model.pt", weights_only=True)
    for section, bad, message in [
        ("model", {**CONFIG["model"], "hidden_size": "wide"}, "model.hidden_size: Value 'wide'"),
        ("features", {**CONFIG["features"], "n_mel": 80}, "features.n_mel: unknown key"),
        ("decoder", {"type": "greedy", "lm": "x.arpa"}, "decoder.lm needs decoder=beam"),
    ]:
        torch.save({**payload, "config": {**payload["config"], section: bad}}, tmp_path / "bad.pt")
        with pytest.raises(ModelFileError, match=f"bad.pt: not a valid model file .*{message}"):
            load_model(tmp_path / "bad.pt")


def _payload():
    return torch.load(FIXTURES / "tiny_model.pt", weights_only=True)


def test_decoder_resources_stored_in_a_model_file_are_never_read(tmp_path):
    from asr.inference import Transcriber

    payload = _payload()
    secret = tmp_path / "secret.txt"
    secret.write_text("the first line of a private file\n")
    payload["config"]["decoder"] = {"type": "beam", "lm": str(secret), "lexicon": "/dev/zero", "lm_weight": 0.5}
    torch.save(payload, tmp_path / "m.pt")
    loaded = load_model(tmp_path / "m.pt")
    assert loaded.config["decoder"] == {"type": "beam", "lm_weight": 0.5}
    transcriber = Transcriber.from_file(tmp_path / "m.pt", device="cpu")  # opens neither file
    assert type(transcriber.decoder).__name__ == "BeamSearchDecoder"


def test_a_model_file_can_carry_a_word_list_as_its_default_search(tmp_path, flashlight):
    from asr.inference import Transcriber

    payload = _payload()
    payload["config"]["decoder"] = {"type": "beam", "words": ["one", "two"], "beam_size": 8}
    torch.save(payload, tmp_path / "m.pt")
    assert load_model(tmp_path / "m.pt").config["decoder"] == {"type": "beam", "words": ["one", "two"], "beam_size": 8}
    transcriber = Transcriber.from_file(tmp_path / "m.pt", device="cpu")
    assert transcriber.decoder.options.words == ["one", "two"]
    assert transcriber.decoder.spellings.keys() == {"one", "two"}


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda p: p.pop("config"), "KeyError: 'config'"),
        (lambda p: p["config"].pop("model"), "'model' is not a mapping"),
        (lambda p: p["config"]["features"].update(sample_rate=0), "features.sample_rate=0"),
        (lambda p: p["config"]["features"].update(sample_rate=10**9), "features.sample_rate 1000000000 is not from"),
        (lambda p: p["config"]["features"].update(n_mels=10**6), "n_mels"),
        (lambda p: p["config"]["model"].update(hidden_size=10**6), "acoustic.lstm"),  # refused before allocating
        (lambda p: p["config"]["model"].update(num_layers="two"), "model.num_layers"),
        (lambda p: p["state_dict"].pop("acoustic.output.weight"), "missing \\['acoustic.output.weight'\\]"),
        (lambda p: p.update(state_dict=[1, 2]), "state_dict is not a mapping"),
        (lambda p: p.update(tokenizer={"kind": "nope"}), "unknown tokenizer kind"),
        (lambda p: p.update(frame_offset=float("nan")), "frame_offset"),
    ],
)
def test_structural_problems_are_model_file_errors(tmp_path, damage, message):
    payload = _payload()
    damage(payload)
    torch.save(payload, tmp_path / "bad.pt")
    with pytest.raises(ModelFileError, match=f"bad.pt: not a valid model file .*{message}"):
        load_model(tmp_path / "bad.pt")
