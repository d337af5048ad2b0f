"""Every row of the README's table of common mistakes: one line on stderr, no traceback, exit code 2."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from asr.cli.main import main

REPO = Path(__file__).resolve().parents[1]
DIGITS = str(REPO / "recipes" / "digits")
MODEL = str(Path(__file__).parent / "fixtures" / "tiny_model.pt")


@pytest.fixture()
def wav(fsdd_dir):
    return str(fsdd_dir / "0_jackson_0.wav")


@pytest.fixture()
def manifests(tmp_path):
    """Manifest overrides naming files that exist (their rows are never read by these checks)."""
    for name in ("train", "dev"):
        (tmp_path / f"{name}.jsonl").write_text("")
    return [f"data.train_manifest={tmp_path / 'train.jsonl'}", f"data.val_manifest={tmp_path / 'dev.jsonl'}"]


def error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def test_bad_override_stops_before_any_manifest_is_read(tmp_path):
    """The acceptance check, as a user runs it: manifests that do not exist, a wrong type; the config error
    comes first (so nothing was read), as one line without a traceback, exit code 2, and no run folder."""
    exp = tmp_path / "exp"
    run = subprocess.run(
        [sys.executable, "-m", "asr.cli.main", "train", "recipes/digits", "model.hidden_size=abc",
         f"data.train_manifest={tmp_path / 'none.jsonl'}", f"output_dir={exp}"],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )  # fmt: skip
    assert run.returncode == 2
    assert run.stderr == "error: model.hidden_size: Value 'abc' of type 'str' could not be converted to Integer\n"
    assert not exp.exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["recipes/nope"], "error: recipe recipes/nope: no such folder or YAML file (recipes: recipes/digits, "),
        ([], "error: data.train_manifest: no value given (set data.train_manifest=...)"),
        ([DIGITS], "error: data.train_manifest: no such manifest data/digits/train.jsonl (prepare the corpus"),
        ([DIGITS, "model.hidden_size=abc"], "error: model.hidden_size: Value 'abc' of type 'str' could not be"),
        ([DIGITS, "model.hiden_size=8"], "error: model.hiden_size: unknown key (ModelConfig takes: subsampling, "),
        ([DIGITS, "decoder.lm=lm.arpa"], "error: decoder.lm=lm.arpa: no such file"),
        ([DIGITS, "decoder=beem"], "error: decoder=beem: no such decoder (available: beam, digit_words, greedy)"),
        ([DIGITS, "tokenizer.vocab_size=64"], "error: tokenizer.vocab_size: unknown key (CharTokenizerConfig takes"),
        ([DIGITS, "+loggers.comet={}"], "error: loggers.comet: unknown logger (available: tensorboard, csv, "),
        ([DIGITS, "data.sorted_epochs=-1"], "error: data.sorted_epochs=-1: expected 0 or more epochs"),
        ([DIGITS, "decoder.type=greedy"], "error: decoder.type=greedy: this is the beam schema; choose another with "),
    ],
)
def test_train_config_mistakes(args, message, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # relative manifests and recipes resolve here: none exist
    if args[:1] == ["recipes/nope"]:
        monkeypatch.chdir(REPO)
    assert main(["train", *args]) == 2
    assert error_line(capsys).startswith(message)


def test_train_unwritable_output_and_missing_gpu(manifests, capsys, tmp_path):
    (tmp_path / "file").write_text("")
    assert main(["train", DIGITS, *manifests, f"output_dir={tmp_path / 'file' / 'exp'}"]) == 2
    folder = tmp_path / "file"
    expected = f"error: output_dir={folder / 'exp'}: cannot write there ({folder} is not a writable folder)"
    assert error_line(capsys) == expected
    if not torch.cuda.is_available():
        assert main(["train", DIGITS, *manifests, "trainer.accelerator=gpu"]) == 2
        assert error_line(capsys).startswith("error: trainer.accelerator=gpu: this machine has no CUDA GPU")


@pytest.mark.parametrize("command", ["transcribe", "evaluate"])
@pytest.mark.parametrize(
    "overrides, message",
    [
        (["decoder.lm=lm.arpa"], "error: decoder.lm needs decoder=beam (decoder=greedy takes: type)"),
        (["decoder.beam_size=10"], "error: decoder.beam_size needs decoder=beam"),
        (["decoder=beam", "decoder.lm=missing.arpa"], "error: decoder.lm=missing.arpa: no such file"),
        (["decoder=beam", "decoder.beam_sise=10"], "error: decoder.beam_sise is not a decoder setting"),
        (["decoder=beam", "decoder.beam_size=wide"], "error: decoder.beam_size: Value 'wide' of type 'str'"),
    ],
)
def test_decoder_mistakes(command, overrides, message, wav, capsys, tmp_path):
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(f'{{"audio_filepath": "{wav}", "duration": 0.6, "text": "zero"}}\n')
    target = wav if command == "transcribe" else str(manifest)
    assert main([command, MODEL, target, *overrides]) == 2
    assert error_line(capsys).startswith(message)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_device_cuda_without_cuda(wav, capsys):
    assert main(["transcribe", MODEL, wav, "--device", "cuda"]) == 2
    assert error_line(capsys) == "error: device cuda: CUDA is not available on this machine (use cpu or auto)"


def test_output_path_not_writable(wav, capsys, tmp_path):
    (tmp_path / "file").write_text("")
    assert main(["transcribe", MODEL, wav, "-o", str(tmp_path / "file" / "out.txt")]) == 2
    assert "is not a writable folder" in error_line(capsys)
    assert main(["transcribe", MODEL, wav, "--output-dir", str(tmp_path / "file")]) == 2
    assert error_line(capsys) == f"error: {tmp_path / 'file'}: is a file, not a folder"
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(f'{{"audio_filepath": "{wav}", "duration": 0.6, "text": "zero"}}\n')
    assert main(["evaluate", MODEL, str(manifest), "--per-utterance", str(tmp_path / "file" / "x.jsonl")]) == 2
    assert "is not a writable folder" in error_line(capsys)


def test_model_file_of_another_format(wav, capsys, tmp_path):
    from lightning.pytorch.callbacks import ModelCheckpoint

    torch.save({"epoch": 1, "state_dict": {}, "callbacks": {"checkpoint": ModelCheckpoint()}}, tmp_path / "x.ckpt")
    assert main(["transcribe", str(tmp_path / "x.ckpt"), wav]) == 2
    assert error_line(capsys).endswith(
        "x.ckpt: not an asr model file: it holds Python objects, which are never "
        "loaded (a training checkpoint? asr train writes model.pt beside checkpoints/)"
    )
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    assert main(["transcribe", str(tmp_path / "other.pt"), wav]) == 2
    assert error_line(capsys).endswith("other.pt: not an asr model file (no format_version)")
    (tmp_path / "text.pt").write_text("hello")
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(f'{{"audio_filepath": "{wav}", "duration": 0.6, "text": "zero"}}\n')
    assert main(["evaluate", str(tmp_path / "text.pt"), str(manifest)]) == 2
    assert error_line(capsys).startswith(f"error: {tmp_path / 'text.pt'}: not a readable model file")


def test_printing_the_config_needs_no_manifests_but_still_checks_types(tmp_path):
    def cfg_job(*overrides):
        command = [sys.executable, "-m", "asr.cli.main", "train", DIGITS, *overrides, "--cfg", "job"]
        return subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=120)

    shown = cfg_job()
    assert shown.returncode == 0 and "hidden_size: 192" in shown.stdout and "num_layers: 3" in shown.stdout
    bad = cfg_job("model.hidden_size=abc")
    assert bad.returncode == 2 and bad.stderr.startswith("error: model.hidden_size: Value 'abc'")
